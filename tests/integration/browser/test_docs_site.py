"""The docs site in a real browser (Debian's Chromium through Playwright): the lineage
graph draws the project's nodes, focusing, filtering, searching and column lineage
work, and the screenshots taken are not blank. Screenshots are kept in the test's
tmp folder (pytest --basetemp=DIR keeps them where you can look)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import copy_example_project, docs_server, fduck

PROJECT = "featureduck_example"
DAILY = f"model.{PROJECT}.user_activity_daily"
GRAPH_KINDS = {"model", "snapshot", "seed", "source", "feature_view", "entity", "serving", "exposure"}
SEED = "user_id,segment\n1,gold\n2,silver\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example project with a seed added, built and documented."""
    root = copy_example_project(tmp_path_factory.mktemp("docs") / "example")
    (root / "seeds").mkdir()
    (root / "seeds" / "segments.csv").write_text(SEED)
    assert fduck("build", cwd=root).returncode == 0
    generated = fduck("docs", "generate", cwd=root)
    assert generated.returncode == 0, generated.stderr
    return root


@pytest.fixture
def page(browser: Any, site: Path) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    page.close()
    assert not errors, errors  # a script error anywhere fails the test


def catalog(site: Path) -> dict[str, Any]:
    return json.loads((site / "target" / "docs" / "catalog.json").read_text())


def open_graph(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_function("window.fduck && window.fduck.cy && window.fduck.cy.nodes().length > 0")
    page.wait_for_timeout(400)  # the fit animation


def graph_ids(page: Any) -> set[str]:
    return set(page.evaluate("window.fduck.cy.nodes().map(n => n.id())"))


def assert_not_blank(path: Path, minimum_colors: int) -> None:
    """A drawn page has many colours; a blank or failed one has a handful."""
    with Image.open(path) as image:
        colors = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) >= minimum_colors, f"{path} looks blank: {len(colors or [])} colours"


def test_graph_draws_every_node_and_focuses_on_a_click(page: Any, site: Path, tmp_path: Path) -> None:
    nodes = catalog(site)["nodes"]
    expected = {uid for uid, node in nodes.items() if node["resource_type"] in GRAPH_KINDS}
    assert {f"seed.{PROJECT}.segments", "serving.online", f"feature_view.{PROJECT}.user_activity@1"} <= expected
    open_graph(page, (site / "target" / "docs" / "index.html").as_uri() + "#!/graph")
    assert graph_ids(page) == expected
    # laid out by dagre, left to right: every source left of every model it feeds
    x = page.evaluate("Object.fromEntries(window.fduck.cy.nodes().map(n => [n.id(), n.position('x')]))")
    assert x[f"source.{PROJECT}.app.events"] < x[f"model.{PROJECT}.stg_events"] < x[DAILY] < x["serving.online"]
    shot = tmp_path / "graph.png"
    page.screenshot(path=str(shot))
    assert_not_blank(shot, 200)
    # a real click on the node as drawn focuses it with its parents and children
    box = page.locator("#cy").bounding_box()
    spot = page.evaluate(f"window.fduck.cy.getElementById('{DAILY}').renderedPosition()")
    page.mouse.click(box["x"] + spot["x"], box["y"] + spot["y"])
    page.wait_for_function(f"window.fduck.focused === '{DAILY}'")
    faded = set(page.evaluate("window.fduck.cy.nodes('.faded').map(n => n.id())"))
    # neither ancestors nor descendants of it (the entity is a parent of its feature view only)
    assert faded == {f"model.{PROJECT}.user_purchases", f"seed.{PROJECT}.segments", f"entity.{PROJECT}.user"}
    panel = page.inner_text("#node-panel")
    assert "stg_users" in panel and "user_activity@1" in panel
    page.screenshot(path=str(tmp_path / "focused.png"))
    assert_not_blank(tmp_path / "focused.png", 200)


def test_selector_filters_the_graph(page: Any, site: Path) -> None:
    open_graph(page, (site / "target" / "docs" / "index.html").as_uri() + "#!/graph")
    page.fill("#selector", "+user_activity_daily")
    page.press("#selector", "Enter")
    page.wait_for_function("window.fduck.cy && window.fduck.cy.nodes().length === 6")
    assert graph_ids(page) == {DAILY, f"model.{PROJECT}.int_user_days", f"model.{PROJECT}.stg_events",
                               f"model.{PROJECT}.stg_users", f"source.{PROJECT}.app.events", f"source.{PROJECT}.app.users"}
    page.fill("#selector", "resource_type:seed tag:features")
    page.press("#selector", "Enter")
    page.wait_for_function("window.fduck.cy && window.fduck.cy.nodes().length === 3")
    assert graph_ids(page) == {f"seed.{PROJECT}.segments", DAILY, f"model.{PROJECT}.user_purchases"}


def test_search_finds_names_descriptions_and_columns(page: Any, site: Path, tmp_path: Path) -> None:
    page.goto((site / "target" / "docs" / "index.html").as_uri())
    page.fill("#search", "click_through")  # a column's name
    results = page.inner_text("#search-results")
    assert "user_activity_daily" in results and "column: click_through_rate" in results
    page.fill("#search", "trailing 7")  # words of a description
    assert "user_activity@1" in page.inner_text("#search-results")
    page.fill("#search", "user_activity_daily")
    page.press("#search", "Enter")
    page.wait_for_function("document.querySelector('h1') && document.querySelector('h1').innerText.includes('user_activity_daily')")
    page.click(".column-name[data-column=revenue_7d]")
    tree = page.inner_text("#column-lineage")
    assert "stg_events.amount" in tree and "app.events.amount" in tree  # through the staging model to the source
    assert "user_activity@1.revenue_7d" in tree  # and down to the feature view
    page.screenshot(path=str(tmp_path / "model.png"), full_page=True)
    assert_not_blank(tmp_path / "model.png", 50)


def test_served_page_reloads_after_a_new_generate(page: Any, site: Path) -> None:
    with docs_server(site) as base:
        open_graph(page, base + "/#!/graph")
        page.evaluate("window.loadedBefore = true")
        page.wait_for_timeout(2500)  # the page has read version.txt once
        assert fduck("docs", "generate", cwd=site).returncode == 0
        page.wait_for_function("window.loadedBefore === undefined", timeout=10_000)
        assert graph_ids(page) >= {DAILY}
