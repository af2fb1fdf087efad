"""`fduck profile`: column statistics on every engine, history in the state store, anomalies, HTML."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from featureduck.api import Project
from tests.conftest import ENGINE_TARGETS, ProjectFactory, fduck, write_engine_profile

# ids 1..n; amount null on every 10th row, else id * 2; kind a, a, b, c by id % 4
EVENTS = """{{ config(materialized='table') }}
select id, case when id % 10 = 0 then null else id * 2 end as amount,
       case id % 4 when 0 then 'c' when 1 then 'a' when 2 then 'a' else 'b' end as kind
from (values {% for i in range(1, var('n', 100) + 1) %}({{ i }}){{ ', ' if not loop.last }}{% endfor %}) as t(id)
"""


def _profile(root: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = fduck("profile", "events", "--project-dir", str(root), "--output", "json", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)[0]  # type: ignore[no-any-return]


@pytest.mark.slow
def test_statistics_history_and_anomalies(make_project: ProjectFactory) -> None:
    root = make_project({"models/events.sql": EVENTS})
    assert fduck("run", "--project-dir", str(root)).returncode == 0
    first = _profile(root)
    columns = {c["name"]: c for c in first["columns"]}
    assert first["rows"] == 100 and first["anomalies"] == []
    amount = columns["amount"]
    assert (amount["nulls"], amount["null_rate"], amount["distinct"], amount["min"], amount["max"]) == (10, 0.1, 90, 2, 198)
    assert amount["mean"] == pytest.approx(sum(i * 2 for i in range(1, 101) if i % 10) / 90)
    assert amount["quantiles"]["p50"] == pytest.approx(100.0)
    assert columns["kind"]["top_values"] == [{"value": "a", "count": 50}, {"value": "b", "count": 25}, {"value": "c", "count": 25}]
    assert columns["id"]["top_values"] == []  # all distinct: nothing to rank
    _profile(root)
    assert fduck("run", "--project-dir", str(root), "--vars", "{n: 300}").returncode == 0
    moved = _profile(root, "--vars", "{n: 300}")
    messages = [a["message"] for a in moved["anomalies"]]
    assert "row count is 300, 200% above its average of 100 over 2 profiles" in messages
    assert any(m.startswith("mean of amount is 300, 200% above its average of 100") for m in messages), messages
    assert not any("null rate" in m for m in messages)  # still 10%

    report = root / "profile.html"
    text = fduck("profile", "events", "--project-dir", str(root), "--vars", "{n: 300}", "--html", str(report), "--no-store")
    assert text.returncode == 0 and "anomaly: row count is 300" in text.stdout
    page = report.read_text()
    assert "<svg" in page and "<polyline" in page and "Anomalies" in page and "kind" in page
    # the row-count sparkline: its range on the axis (100 to 300), each profile's value on hover
    assert re.search(r"<text [^>]*>300</text><text [^>]*>100</text>", page)
    assert len(re.findall(r"<title>\d{4}-\d\d-\d\d \d\d:\d\d UTC: 100</title>", page)) >= 2 and " UTC: 300</title>" in page
    assert "compared with 3 earlier profiles" in fduck("profile", "events", "--project-dir", str(root), "--vars", "{n: 300}").stdout
    missing = fduck("profile", "nope", "--project-dir", str(root))
    assert missing.returncode == 2 and "no model 'nope' to profile" in missing.stderr


@pytest.mark.parametrize("target", ENGINE_TARGETS[1:])
def test_the_same_statistics_on_postgres_and_spark(make_project: ProjectFactory, request: pytest.FixtureRequest, target: str) -> None:
    duckdb_root = make_project({"models/events.sql": EVENTS}, name="on_duckdb")
    assert not Project.load(duckdb_root).run().failed
    root = make_project({"models/events.sql": EVENTS})
    write_engine_profile(target, root, request, "fd_profile")
    engine = Project.load(root, target=target)
    assert not engine.run().failed
    (duck,), (other,) = Project.load(duckdb_root).profile(["events"], keep=False), engine.profile(["events"])
    assert other[0].rows == duck[0].rows == 100
    for mine, theirs in zip(duck[0].columns, other[0].columns, strict=True):
        assert (theirs.name, theirs.nulls, theirs.distinct, theirs.top_values) == (mine.name, mine.nulls, mine.distinct, mine.top_values)
        assert theirs.mean == pytest.approx(mine.mean) and theirs.quantiles == pytest.approx(mine.quantiles)
    ((_, found, past),) = engine.profile(["events"])  # read back from the engine's state store
    assert len(past) == 1 and found == [] and next(iter(past.values()))[("", "rows")] == 100
