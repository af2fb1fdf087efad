"""The feature-engineering macros shipped with featureduck compute what they document
(the cross-engine suite runs them on Postgres and Spark: fixtures/feature_sql/models/engineered.sql)."""

from __future__ import annotations

import datetime

import duckdb
import pytest

from tests.conftest import ProjectFactory, fduck

EVENTS = """select * from (values
    (1, 'a', timestamp '2024-01-01 00:00:00', 5.0, 'view'),
    (2, 'a', timestamp '2024-01-03 00:00:00', 50.0, 'purchase'),
    (3, 'a', timestamp '2024-01-20 00:00:00', 500.0, 'purchase'),
    (4, 'b', timestamp '2024-01-02 00:00:00', null, 'add to cart')
) as t(id, user_id, ts, amount, kind)
"""
FEATURES = """{{ config(materialized='table') }}
select id,
    {{ featureduck.rolling('amount', 'user_id', 'ts', windows=['7 days'], aggs=['sum', 'count']) }},
    {{ lags('amount', 'user_id', 'ts', periods=[1, 2]) }},
    {{ seconds_since_previous('ts', 'user_id') }} as since_previous,
    {{ zscore('amount', 'user_id') }} as amount_z,
    {{ bucketize('amount', [10, 100]) }} as bucket,
    {{ one_hot('kind', ['view', 'purchase', 'add to cart']) }},
    {{ featureduck.zscore('amount') }} as overall_z
from {{ ref('events') }}
"""


def test_each_macro(make_project: ProjectFactory) -> None:
    root = make_project({
        "models/events.sql": EVENTS, "models/features.sql": FEATURES,
        # a project macro may take a built-in's name; featureduck.<name> is still the built-in
        "macros/mine.sql": "{% macro zscore(column, partition_by=none) %}0{% endmacro %}",
    })
    result = fduck("run", "--project-dir", str(root))
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(root / "target" / "dev.duckdb"), read_only=True) as con:
        cursor = con.execute("SELECT * FROM main.features ORDER BY id")
        names = [d[0] for d in cursor.description]
        rows = {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
    assert names[1:5] == ["amount_sum_7d", "amount_count_7d", "amount_lag_1", "amount_lag_2"]
    assert [rows[i]["amount_sum_7d"] for i in (1, 2, 3, 4)] == [5.0, 55.0, 500.0, None]  # id 3 is 17 days later
    assert [rows[i]["amount_count_7d"] for i in (1, 2, 3, 4)] == [1, 2, 1, 0]
    assert (rows[3]["amount_lag_1"], rows[3]["amount_lag_2"], rows[1]["amount_lag_1"]) == (50.0, 5.0, None)
    assert rows[2]["since_previous"] == datetime.timedelta(days=2).total_seconds() and rows[1]["since_previous"] is None
    assert rows[1]["amount_z"] == 0 and rows[4]["amount_z"] == 0  # the project's zscore: its bare name is the project's
    mean, spread = 185.0, (sum((x - 185.0) ** 2 for x in (5.0, 50.0, 500.0)) / 2) ** 0.5
    assert rows[3]["overall_z"] == pytest.approx((500.0 - mean) / spread)
    assert [rows[i]["bucket"] for i in (1, 2, 3, 4)] == [0, 1, 2, None]
    assert [(rows[i]["kind_view"], rows[i]["kind_purchase"], rows[i]["kind_add_to_cart"]) for i in (1, 2, 4)] == [
        (1, 0, 0), (0, 1, 0), (0, 0, 1)]
