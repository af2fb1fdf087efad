"""Python UDFs from functions/*.py: registered on DuckDB and Spark, refused on Postgres at compile time."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb
import pytest

from featureduck.api import Project
from tests.conftest import OFFLINE_PROFILES, ProjectFactory, fduck, write_engine_profile

FUNCTIONS = '''import math

import featureduck


@featureduck.udf(returns="DOUBLE")
def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


@featureduck.udf(returns="VARCHAR", params=["VARCHAR"], vectorized=True)
def normalize(texts):
    import pyarrow.compute as pc

    return pc.utf8_lower(pc.utf8_trim_whitespace(texts))


@featureduck.udf(returns="BIGINT", name="word_count")
def count_words(text: str) -> int:
    return len(text.split())
'''
MODEL = """{{ config(materialized='table') }}
select id, haversine_km(lat, lon, 48.8566, 2.3522) as km_to_paris, normalize(label) as label, word_count(label) as words
from (values (1, 51.5074, -0.1278, '  Big  Ben '), (2, 48.8566, 2.3522, 'TOUR Eiffel'), (3, null, 0.0, null)) as t(id, lat, lon, label)
"""


def _expected_london() -> float:
    p1, p2 = math.radians(51.5074), math.radians(48.8566)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(2.3522 + 0.1278) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def _check(rows: list[tuple[Any, ...]]) -> None:
    (one, two, three) = sorted(rows, key=lambda r: r[0])
    assert one[1] == pytest.approx(_expected_london()) and 340 < one[1] < 345
    assert (one[2], one[3]) == ("big  ben", 2)
    assert (two[1], two[2], two[3]) == (0.0, "tour eiffel", 2)
    assert (three[1], three[2], three[3]) == (None, None, None)  # a NULL argument: NULL, the function not called


@pytest.fixture
def project(make_project: ProjectFactory) -> Path:
    return make_project({"functions/geo.py": FUNCTIONS, "models/places.sql": MODEL})


@pytest.mark.slow
def test_functions_run_on_duckdb(project: Path) -> None:
    result = fduck("run", "--project-dir", str(project))
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(project / "target" / "dev.duckdb"), read_only=True) as con:
        _check(con.execute("SELECT id, km_to_paris, label, words FROM main.places").fetchall())
    assert "1 cached" in fduck("run", "--project-dir", str(project)).stdout
    functions = project / "functions" / "geo.py"
    functions.write_text(functions.read_text().replace("return len(text.split())", "return len(text.split()) * 10"))
    assert "1 ok" in fduck("run", "--project-dir", str(project)).stdout  # the code it calls changed
    with duckdb.connect(str(project / "target" / "dev.duckdb"), read_only=True) as con:
        assert con.execute("SELECT words FROM main.places WHERE id = 1").fetchall() == [(20,)]


def test_postgres_refuses_them_at_compile_time(project: Path) -> None:
    (project / "profiles.yml").write_text(OFFLINE_PROFILES)
    result = fduck("compile", "--project-dir", str(project), "--target", "pg")
    assert result.returncode == 1
    assert "models/places.sql:2:23" in result.stderr
    assert "haversine_km() is a Python function (functions/geo.py:7); postgres cannot run Python" in result.stdout + result.stderr
    assert fduck("compile", "--project-dir", str(project), "--target", "spark").returncode == 0


def test_a_broken_functions_file_names_its_line(project: Path) -> None:
    (project / "functions" / "broken.py").write_text(
        "import featureduck\n\n@featureduck.udf(returns='DOUBLE')\ndef twice(x: float) -> float:\n    return 2 * x\n\nVALUE = 1 / 0\n")
    assert fduck("compile", "--project-dir", str(project)).returncode == 0  # compiling never runs project code
    result = fduck("run", "--project-dir", str(project))
    assert result.returncode == 2 and "functions/broken.py:7: importing it failed: ZeroDivisionError" in result.stderr
    (project / "functions" / "broken.py").write_text("import featureduck\n\n@featureduck.udf(returns='DOUBLE')\ndef normalize(x):\n")
    result = fduck("compile", "--project-dir", str(project))
    assert result.returncode == 2 and "functions/broken.py:4" in result.stderr and "invalid Python" in result.stderr


@pytest.mark.spark
def test_functions_run_on_spark(project: Path, request: pytest.FixtureRequest) -> None:
    write_engine_profile("spark", project, request, "fd_udf")
    spark = Project.load(project, target="spark")
    results = spark.run()
    assert not results.failed, [r.message for r in results.results]
    with spark.session() as session:
        adapter = session.adapter
        relation = spark.compile().models["places"].relation.sql("spark")
        _check(adapter.execute(f"SELECT id, km_to_paris, label, words FROM {relation}"))
