"""`fduck explain` (plans with timings and advice) and `fduck runs` (timings kept per run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from featureduck.api import Project
from tests.conftest import ENGINE_TARGETS, ProjectFactory, fduck, write_engine_profile

FILES = {
    "models/events.sql": "{{ config(materialized='table') }}\n"
                         "select i as id, i % 50 as user_id, timestamp '2024-01-01' + i * interval '1 hour' as ts\n"
                         "from range({{ var('n', 2000) }}) as r(i)\n",
    "models/recent.sql": "select * from {{ ref('events') }}",  # a view, read by the three below
    "models/by_user.sql": "{{ config(materialized='table') }}\nselect user_id, count(*) as n from {{ ref('recent') }}\n"
                          "where year(ts) = 2024 group by user_id",
    "models/appended.sql": "{{ config(materialized='incremental') }}\nselect id, ts from {{ ref('recent') }}",
    "models/pairs.sql": "{{ config(materialized='table') }}\nselect a.id, b.id as other from {{ ref('recent') }} as a\n"
                        "join {{ ref('recent') }} as b on a.id < b.id and b.id < 50 and a.id < 50",
}


def _explain(root: Path, model: str, *args: str) -> dict:  # type: ignore[type-arg]
    result = fduck("explain", model, "--project-dir", str(root), "--output", "json", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.slow
def test_plans_and_advice(make_project: ProjectFactory) -> None:
    root = make_project(FILES)
    assert fduck("run", "--project-dir", str(root)).returncode == 0
    by_user = _explain(root, "by_user")
    rules = {s["rule"]: s["message"] for s in by_user["suggestions"]}
    assert "view 'recent' is read by 3 models (appended, by_user, pairs)" in rules["view-read-by-many"]
    assert "wraps column ts in `YEAR(ts)`" in rules["filter-prevents-pruning"]
    operators = [n["operator"] for n in by_user["slowest"]]
    seconds = [n["seconds"] for n in by_user["slowest"]]
    assert any(o.endswith("HASH_GROUP_BY") for o in operators)
    assert seconds == sorted(seconds, reverse=True) and seconds[0] > 0 and sum(seconds) <= by_user["seconds"]
    assert by_user["plan"]["rows"] == 50 and by_user["seconds"] > 0
    appended = {s["rule"] for s in _explain(root, "appended")["suggestions"]}
    assert "incremental-without-unique-key" in appended
    pairs = {s["rule"]: s["message"] for s in _explain(root, "pairs")["suggestions"]}
    assert "the plan joins with" in pairs["nested-loop-join"]
    text = fduck("explain", "by_user", "--project-dir", str(root))
    assert "Slowest operators" in text.stdout and "suggestion (filter-prevents-pruning)" in text.stdout
    assert "no model 'nope' to explain" in fduck("explain", "nope", "--project-dir", str(root)).stderr


@pytest.mark.slow
def test_run_timings_show_the_slowest_and_regressions(make_project: ProjectFactory) -> None:
    root = make_project({"models/events.sql": FILES["models/events.sql"]})
    for _ in range(3):
        assert fduck("run", "--project-dir", str(root), "--no-cache").returncode == 0
    assert fduck("run", "--project-dir", str(root), "--vars", "{n: 60000000}").returncode == 0
    assert fduck("run", "--project-dir", str(root), "--vars", "{n: 60000000}").returncode == 0  # all cached
    listed = json.loads(fduck("runs", "--project-dir", str(root), "--output", "json").stdout)
    assert [(r["built"], r["cached"]) for r in listed] == [(0, 1), (1, 0), (1, 0), (1, 0), (1, 0)]
    (slow,) = json.loads(fduck("runs", "--slowest", "1", "--project-dir", str(root), "--output", "json").stdout)
    assert slow["name"] == "events" and slow["runs"] == 3 and slow["seconds"] > slow["median"]
    assert slow["regressed"] is (slow["seconds"] > 1.5 * slow["median"] and slow["seconds"] - slow["median"] > 0.5)
    assert slow["regressed"], slow  # 60 million rows against 2,000
    assert "regressed" in fduck("runs", "--slowest", "1", "--project-dir", str(root)).stdout


@pytest.mark.parametrize("target", ENGINE_TARGETS[1:])
def test_plans_on_postgres_and_spark(make_project: ProjectFactory, request: pytest.FixtureRequest, target: str) -> None:
    files = {name: text.replace("range({{ var('n', 2000) }}) as r(i)", "(values (1), (2), (3), (4)) as r(i)")
             for name, text in FILES.items()}
    root = make_project(files)
    write_engine_profile(target, root, request, "fd_explain")
    project = Project.load(root, target=target)
    assert not project.run().failed
    plan, suggestions = project.explain("by_user")
    rules = {s.rule for s in suggestions}
    assert {"view-read-by-many", "filter-prevents-pruning"} <= rules
    if target == "pg":
        assert plan.root is not None and any(n.operator == "Seq Scan" for n in plan.root.walk())
        assert plan.slowest() and plan.seconds > 0
        assert "nested-loop-join" in {s.rule for s in project.explain("pairs")[1]}
    else:
        assert plan.root is None and "Physical Plan" in plan.text and plan.seconds > 0
