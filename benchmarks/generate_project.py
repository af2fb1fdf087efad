"""Generate a synthetic dbt-compatible project of N models (a layered DAG).

Every model uses a macro and `ref`/`source`, with CTEs, joins and window
functions, so both featureduck and dbt (dbt-core + dbt-duckdb) can build it.
Raw data lives as tables in the target DuckDB file (schema `raw`), written by
`load_raw_data`, so sources need no tool-specific file syntax.

    python benchmarks/generate_project.py OUT_DIR --models 1000
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

SOURCE_TABLES = 4
LAYER_WIDTH_RATIO = 0.1  # each layer holds about 10% of the models
RAW_ROWS = 8_000

MACRO = """
{% macro amount_bucket(column) -%}
case when {{ column }} < 10 then 'small' when {{ column }} < 100 then 'medium' else 'large' end
{%- endmacro %}
"""

STAGING = """
{{{{ config(materialized='{materialized}') }}}}
with source_rows as (
    select * from {{{{ source('raw', 'events_{source}') }}}}
),
cleaned as (
    select
        user_id,
        event_ts,
        amount,
        category
    from source_rows
    where amount >= 0
)
select
    user_id,
    event_ts,
    amount,
    {{{{ amount_bucket('amount') }}}} as bucket,
    category
from cleaned
"""

LAYERED = """
{{{{ config(materialized='{materialized}', tags=['layer_{layer}']) }}}}
with left_rows as (
    select user_id, event_ts, amount, category
    from {{{{ ref('{left}') }}}}
),
right_totals as (
    select user_id, sum(amount) as total_amount, count(*) as events
    from {{{{ ref('{right}') }}}}
    group by user_id
),
features as (
    select
        l.user_id,
        l.event_ts,
        l.amount,
        l.category,
        r.total_amount,
        r.events,
        row_number() over (partition by l.user_id order by l.event_ts desc) as recency_rank,
        sum(l.amount) over (partition by l.user_id order by l.event_ts rows between 6 preceding and current row) as amount_7
    from left_rows as l
    left join right_totals as r on r.user_id = l.user_id
)
select
    user_id,
    event_ts,
    amount + {offset} as amount,
    {{{{ amount_bucket('amount') }}}} as bucket,
    category
from features
where recency_rank <= 50 and coalesce(amount_7, 0) >= 0
"""


def generate(out: Path, models: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    (out / "models" / "staging").mkdir(parents=True)
    (out / "macros").mkdir()
    (out / "macros" / "buckets.sql").write_text(MACRO.lstrip())
    (out / "dbt_project.yml").write_text(
        "name: bench\nversion: '1.0'\nconfig-version: 2\nprofile: bench\n"
        "model-paths: ['models']\nmacro-paths: ['macros']\n"
    )
    (out / "profiles.yml").write_text(
        "bench:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: target/bench.duckdb\n      threads: 4\n"
    )
    tables = "\n".join(f"      - name: events_{i}" for i in range(SOURCE_TABLES))
    (out / "models" / "sources.yml").write_text(f"version: 2\nsources:\n  - name: raw\n    schema: raw\n    tables:\n{tables}\n")

    layer_size = max(1, int(models * LAYER_WIDTH_RATIO))
    layers: list[list[str]] = [[]]
    for i in range(min(layer_size, models)):
        name = f"stg_{i:05d}"
        layers[0].append(name)
        materialized = "view"
        staging_sql = STAGING.format(materialized=materialized, source=i % SOURCE_TABLES)
        (out / "models" / "staging" / f"{name}.sql").write_text(staging_sql.lstrip())
    made = len(layers[0])
    layer = 1
    while made < models:
        folder = out / "models" / f"layer_{layer:02d}"
        folder.mkdir()
        current: list[str] = []
        for _ in range(min(layer_size, models - made)):
            name = f"m_{made:05d}"
            previous = layers[-1]
            left = rng.choice(previous)
            right = rng.choice(layers[rng.randrange(len(layers))])
            materialized = "table" if made % 2 == 0 else "view"
            (folder / f"{name}.sql").write_text(
                LAYERED.format(materialized=materialized, layer=layer, left=left, right=right, offset=made % 7).lstrip()
            )
            current.append(name)
            made += 1
        layers.append(current)
        layer += 1


def load_raw_data(database: Path, seed: int = 1) -> None:
    """Create the raw.events_* tables the sources name."""
    import duckdb

    database.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(database)) as con:
        con.execute("create schema if not exists raw")
        for i in range(SOURCE_TABLES):
            con.execute(
                f"""
                create or replace table raw.events_{i} as
                select (hash(range * {seed + i}) % 2000)::int as user_id,
                       timestamp '2024-01-01' + to_seconds(range * 37) as event_ts,
                       ((hash(range + {i}) % 20000) / 100.0)::double as amount,
                       ['a', 'b', 'c', 'd'][1 + (range % 4)::int] as category
                from range({RAW_ROWS})
                """
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--models", type=int, default=1000)
    args = parser.parse_args()
    generate(args.out, args.models)
    load_raw_data(args.out / "target" / "bench.duckdb")
    print(f"generated {args.models} models in {args.out}")


if __name__ == "__main__":
    main()
