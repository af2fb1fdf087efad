"""`fduck lineage MODEL.COLUMN`: a column's upstream columns through every model to seeds
and sources, from the compiled SQL, with no database; stars expanded where the columns are known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ProjectFactory, fduck


@pytest.fixture
def project(make_project: ProjectFactory) -> Path:
    return make_project({
        "seeds/people.csv": "id,name,age\n1,ann,30\n2,bob,12\n",
        "models/stg_people.sql": "select * from {{ ref('people') }}",  # a star over a seed: its CSV header
        "models/adults.sql": "with grown as (select * from {{ ref('stg_people') }} where age > 17)\n"
                             "select id, upper(name) as shout, age + 1 as next_age, 'x' as constant from grown",
        "models/joined.sql": "select a.shout, e.kind from {{ ref('adults') }} a join {{ source('raw', 'events') }} e on e.id = a.id",
        "models/sources.yml": "sources:\n  - name: raw\n    tables:\n      - name: events\n"
                              "        columns: [{name: id}, {name: kind}]\n",
    })


def test_lineage_follows_a_column_to_its_seed_through_stars_and_ctes(project: Path) -> None:
    traced = fduck("lineage", "adults.shout", cwd=project)
    assert traced.returncode == 0, traced.stderr
    assert traced.stdout.splitlines() == ["adults.shout", "  <- stg_people.name", "    <- people.name (seed)"]
    data = json.loads(fduck("lineage", "joined.kind", "--output", "json", cwd=project).stdout)
    assert data == {"node": "model.proj.joined", "column": "kind",
                    "upstream": [{"node": "source.proj.raw.events", "column": "kind", "upstream": []}]}
    assert fduck("lineage", "adults.constant", cwd=project).stdout.splitlines() == ["adults.constant"]  # from nothing


@pytest.mark.parametrize(("column", "message"), [
    ("adults", "'adults' is not MODEL.COLUMN"),
    ("nope.x", "no model 'nope' to trace"),
    ("adults.missing", "lineage of adults.missing"),
])
def test_lineage_names_what_it_cannot_trace(project: Path, column: str, message: str) -> None:
    result = fduck("lineage", column, cwd=project)
    assert result.returncode != 0 and message in result.stderr, result.stderr
