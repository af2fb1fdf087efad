"""Declared feature dtypes against the model: at compile time where the SQL fixes
the type, and before every build against what the engine describes."""

from __future__ import annotations

import pytest

from featureduck.api import Project
from tests.conftest import ENGINE_TARGETS, ProjectFactory, fduck, write_engine_profile

VIEW = """entities:
  - {name: user, join_keys: [user_id]}
feature_views:
  - name: v
    entity: user
    model: feats
    timestamp_field: ts
    features:
      - {name: clicks, dtype: bigint}
      - {name: ratio, dtype: double}
"""


@pytest.mark.slow
def test_dtypes_checked_at_compile_time(make_project: ProjectFactory) -> None:
    root = make_project({
        "features/f.yml": VIEW.replace("dtype: double", "dtype: dubble"),
        "models/feats.sql": "select 1 as user_id, now() as ts, count(*) as clicks, cast(1 as varchar) as ratio",
    })
    result = fduck("compile", "--project-dir", str(root))
    assert result.returncode == 1
    assert "features/f.yml:10: feature 'ratio' of view 'v': dtype 'dubble' is not a duckdb type" in result.stderr

    # a cast fixes the type whatever the data: a mismatch is an error at the feature's line
    (root / "features" / "f.yml").write_text(VIEW)
    result = fduck("compile", "--project-dir", str(root))
    assert result.returncode == 1
    assert ("features/f.yml:10: feature 'ratio' of view 'v' is declared double, "
            "but model models/feats.sql outputs it as TEXT") in result.stderr
    assert "clicks" not in result.stderr  # count(*) is a bigint

    # the model's declared data_type counts as fixed too
    (root / "models" / "feats.sql").write_text("select 1 as user_id, now() as ts, count(*) as clicks, sum(x) as ratio from t")
    (root / "models" / "feats.yml").write_text("models:\n  - name: feats\n    columns:\n      - {name: ratio, data_type: date}\n")
    result = fduck("compile", "--project-dir", str(root))
    assert result.returncode == 1 and "outputs it as DATE" in result.stderr

    # a type that depends on the data is left to the build
    (root / "models" / "feats.yml").unlink()
    assert fduck("compile", "--project-dir", str(root)).returncode == 0


@pytest.mark.parametrize("target", ENGINE_TARGETS)
def test_built_types_checked_before_the_relation_is_replaced(
    make_project: ProjectFactory, request: pytest.FixtureRequest, target: str
) -> None:
    """The raw model's types flow into the feature model; when they drift, the
    feature model fails before building, and the previous relation still serves."""
    raw = "{{ config(materialized='table') }} select 1 as user_id, timestamp '2024-01-01' as ts, 3 as clicks, 7 as views"
    root = make_project({
        "features/f.yml": VIEW,
        "models/raw.sql": raw,
        "models/feats.sql": "{{ config(materialized='table') }} select user_id, ts, clicks, clicks / views as ratio from {{ ref('raw') }}",
    })
    write_engine_profile(target, root, request, "fd_types")
    assert not Project.load(root, target=target).run().failed

    (root / "models" / "raw.sql").write_text(raw.replace("3 as clicks", "3.5 as clicks"))
    results = Project.load(root, target=target).run()
    by_name = {r.name: r for r in results.results}
    assert by_name["raw"].status == "success" and by_name["feats"].status == "error"
    message = by_name["feats"].message or ""
    declared = "features/f.yml:9: feature 'clicks' of view 'v' is declared bigint"
    assert message.startswith(f"{declared}, but model models/feats.sql outputs it as ")
    engine = {"dev": "duckdb", "pg": "postgres", "spark": "spark"}[target]
    assert message.split(" outputs it as ")[1].lower().startswith(("decimal(2,1) on ", "numeric on ")), message
    assert f" on {engine}\n" in message

    entities = root / "e.csv"
    entities.write_text("user_id,event_timestamp\n1,2024-01-02\n")
    out = root / "out.csv"
    Project.load(root, target=target).write_training_set(entities, ["v:clicks", "v:ratio"], out)
    user, _, clicks, ratio = out.read_text().splitlines()[1].split(",")
    assert (user, clicks) == ("1", "3") and abs(float(ratio) - 3 / 7) < 1e-9  # the previous build, a double on every engine
