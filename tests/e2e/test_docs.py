"""`fduck docs generate` and `docs serve`: the catalog the site draws, the column lineage
kept in manifest.json, and the site served over loopback. The page itself is driven in
a real browser in tests/integration/browser/."""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO_ROOT, copy_example_project, docs_server, fduck

PROJECT = "featureduck_example"
DAILY = f"model.{PROJECT}.user_activity_daily"

EXPOSURE = """
exposures:
  - name: churn_dashboard
    type: dashboard
    owner: {name: Growth team}
    depends_on: ["ref('user_activity_daily')", "source('app', 'users')"]
    description: Weekly churn review.
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = copy_example_project(tmp_path / "example")
    (root / "models" / "exposures.yml").write_text(EXPOSURE)
    return root


def catalog_of(root: Path) -> dict:
    return json.loads((root / "target" / "docs" / "catalog.json").read_text())


def test_generate_writes_a_site_with_every_kind_of_node(project: Path) -> None:
    assert fduck("run", cwd=project).returncode == 0
    generated = fduck("docs", "generate", cwd=project)
    assert generated.returncode == 0, generated.stderr
    assert re.search(r"Wrote the docs site \(15 nodes, 27 columns traced\)", generated.stdout), generated.stdout
    site = project / "target" / "docs"
    catalog = catalog_of(project)
    kinds = {node["resource_type"] for node in catalog["nodes"].values()}
    assert kinds == {"model", "source", "test", "macro", "entity", "feature_view", "serving", "exposure"}
    daily = catalog["nodes"][DAILY]
    assert daily["materialized"] == "table" and daily["last_build"]["rows"] == 319
    assert daily["description"].startswith("One row per user and active day")
    columns = {c["name"]: c for c in daily["columns"]}
    assert columns["revenue_7d"]["data_type"] == "DECIMAL(38,2)" and columns["revenue_7d"]["type_from"] == "database"
    assert sorted(map(tuple, columns["revenue_7d"]["upstream"])) == [
        (f"model.{PROJECT}.stg_events", "amount"), (f"model.{PROJECT}.stg_events", "event_ts"), (f"model.{PROJECT}.stg_events", "user_id")]
    assert columns["user_id"]["tests"] == [f"test.{PROJECT}.not_null_user_activity_daily_user_id"]
    assert daily["compiled"]["dev"]["sql"].lstrip().lower().startswith("with")
    # the lineage graph: sources to models to the feature view, served online; the exposure beside it
    edges = {tuple(edge) for edge in catalog["edges"]}
    view = f"feature_view.{PROJECT}.user_activity@1"
    assert {(DAILY, view), (view, "serving.online"), (f"entity.{PROJECT}.user", view),
            (DAILY, f"exposure.{PROJECT}.churn_dashboard"), (f"source.{PROJECT}.app.users", f"exposure.{PROJECT}.churn_dashboard"),
            (f"source.{PROJECT}.app.events", f"model.{PROJECT}.stg_events")} <= edges
    assert catalog["nodes"][f"exposure.{PROJECT}.churn_dashboard"]["owner"] == "Growth team"
    # offline: every script and stylesheet is a file of the site, nothing from the network
    page = (site / "index.html").read_text()
    assets = re.findall(r'(?:src|href)="([^"#]+)"', page)
    assert assets and all(not a.startswith(("http:", "https:", "//")) and (site / a).is_file() for a in assets)
    assert "http" not in (site / "app.js").read_text().replace('location.protocol.startsWith("http")', "")
    assert (site / "catalog.js").read_text().startswith("window.FDUCK_CATALOG = {")


def test_types_come_from_the_database_only_once_built(project: Path) -> None:
    assert fduck("docs", "generate", cwd=project).returncode == 0
    daily = catalog_of(project)["nodes"][DAILY]
    assert daily["last_build"] is None
    columns = {c["name"]: c for c in daily["columns"]}
    assert columns["feature_ts"]["type_from"] is None and columns["feature_ts"]["data_type"] is None
    assert columns["plan"]["upstream"] == [[f"model.{PROJECT}.stg_users", "plan"]]  # traced from the SQL, nothing built


def test_last_test_results_are_kept_across_commands(project: Path) -> None:
    assert fduck("build", cwd=project).returncode == 0
    assert fduck("run", cwd=project).returncode == 0  # run_results.json is now the run's
    assert fduck("docs", "generate", cwd=project).returncode == 0
    test = catalog_of(project)["nodes"][f"test.{PROJECT}.unique_user_purchases_event_id"]
    assert test["last_result"]["status"] == "pass" and test["attached_to"] == f"model.{PROJECT}.user_purchases"


def test_manifest_keeps_column_lineage_only_while_the_project_is_unchanged(project: Path) -> None:
    assert fduck("docs", "generate", cwd=project).returncode == 0
    manifest = project / "target" / "manifest.json"
    lineage = json.loads(manifest.read_text())["column_lineage"]
    assert lineage["nodes"][DAILY]["plan"] == [{"node": f"model.{PROJECT}.stg_users", "column": "plan"}]
    assert fduck("compile", "--no-cache", cwd=project).returncode == 0
    assert json.loads(manifest.read_text())["column_lineage"] == lineage  # recompiled, same files: still true
    model = project / "models" / "staging" / "stg_users.sql"
    model.write_text(model.read_text().replace("plan", "upper(plan) as plan", 1))
    assert fduck("compile", cwd=project).returncode == 0
    assert "column_lineage" not in json.loads(manifest.read_text())  # it could describe the old SQL: dropped


def test_serve_serves_the_site_and_each_new_generate(project: Path) -> None:
    assert fduck("docs", "serve", cwd=project).stderr.count("run `fduck docs generate` first") == 1
    assert fduck("docs", "generate", cwd=project).returncode == 0
    with docs_server(project) as base:
        with urllib.request.urlopen(f"{base}/") as response:
            assert response.status == 200 and response.headers["Cache-Control"] == "no-cache"
            assert b'<script src="catalog.js">' in response.read()
        version = urllib.request.urlopen(f"{base}/version.txt").read()
        assert fduck("docs", "generate", cwd=project).returncode == 0
        assert urllib.request.urlopen(f"{base}/version.txt").read() != version
        port = base.rsplit(":", 1)[1]
        taken = fduck("docs", "serve", "--port", port, cwd=project)
        assert taken.returncode != 0 and f"cannot serve on 127.0.0.1:{port}" in taken.stderr


@pytest.mark.parametrize("fixture", ["dbt_snapshots", "dbt_features", "dbt_parity"])
def test_dbt_projects_get_every_kind_of_node(fixture: str, tmp_path: Path) -> None:
    root = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, root)
    if (root / "packages.yml").exists():
        assert fduck("deps", cwd=root).returncode == 0
    generated = fduck("docs", "generate", cwd=root)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    nodes = catalog_of(root)["nodes"]
    kinds = {node["resource_type"] for node in nodes.values()}
    expected = {"dbt_snapshots": {"snapshot", "seed", "test"}, "dbt_features": {"unit_test", "seed", "model", "macro"},
                "dbt_parity": {"model", "seed", "test", "macro"}}[fixture]
    assert expected <= kinds, kinds
    if fixture == "dbt_parity":  # {{ doc() }} blocks rendered into descriptions
        seed = next(n for n in nodes.values() if n["resource_type"] == "seed" and n["name"] == "countries")
        assert seed["description"] and "{{" not in seed["description"]


def test_compiled_sql_is_kept_per_target(project: Path) -> None:
    shutil.copy(REPO_ROOT / "profiles.yml", project / "profiles.yml")
    assert fduck("compile", "--target", "pg", cwd=project).returncode == 0  # no server needed
    assert fduck("docs", "generate", cwd=project).returncode == 0
    compiled = catalog_of(project)["nodes"][DAILY]["compiled"]
    assert set(compiled) == {"dev", "pg"} and compiled["pg"]["dialect"] == "postgres"
