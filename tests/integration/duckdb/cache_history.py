"""A seeded random history of project changes, run twice: once with the run cache
and once with `--no-cache`, every relation compared after each step.

The project has what caching must see through: views and an ephemeral model
between sources and tables, a seed, a macro and a var, source tables in the
DuckDB database and a glob of CSV files, an incremental model, tags and
folders to select by. Each step applies up to two random changes to both
copies alike (rows inserted, updated or deleted; a column retyped, or two
renamed into each other's place; model SQL, a macro, a var, the seed file, a
materialization rewritten; CSV files added, rewritten or removed; `fduck seed`
run or not), then runs a random selection on both. Any difference in a
relation's columns, types or rows, or in which models failed, is a stale
answer of the cache. Used by the bounded test beside it and by
benchmarks/cache_differential.py for long runs.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from featureduck.api import Project

MODELS = ("stg_customers", "stg_orders", "stg_events", "stg_regions", "customer_orders", "customer_events",
          "region_summary", "order_view", "top_customers", "orders_merged")
SELECTIONS = (None, "tag:daily", "tag:staging", "path:models/marts", "path:models/staging")


@dataclass
class Step:
    """What one step did and what differed afterwards."""

    number: int
    changes: list[str]
    command: str
    differences: list[str]
    cached: int  # models the cached copy did not build


@dataclass
class ProjectState:
    """Everything the project's files are written from, so both copies get the same bytes."""

    thresholds: dict[str, int] = field(default_factory=lambda: {"customer_orders": 0, "top_customers": 0, "customer_events": 0})
    factor: int = 1
    macro_offset: int = 0
    materialized: dict[str, str] = field(default_factory=lambda: {"stg_orders": "view", "order_view": "view", "stg_events": "view"})
    regions: list[tuple[str, str]] = field(default_factory=lambda: [("north", "North"), ("south", "South")])
    event_files: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)
    next_id: int = 1000

    def files(self) -> dict[str, str]:
        m, t = self.materialized, self.thresholds
        files = {
            "featureduck_project.yml": (
                "name: history\n"
                f"vars: {{factor: {self.factor}}}\n"
                "models:\n  staging: {+tags: [staging]}\n  marts: {+materialized: table, +tags: [daily]}\n"
            ),
            "macros/scaled.sql": f"{{% macro scaled(x) %}}({{{{ x }}}} * {{{{ var('factor') }}}} + {self.macro_offset}){{% endmacro %}}\n",
            "sources/raw.yml": (
                "sources:\n  - name: raw\n    tables:\n      - name: customers\n      - name: orders\n"
                "  - name: files\n    tables:\n      - {name: events, path: data/events/*.csv}\n"
            ),
            "seeds/regions.csv": "region,region_name\n" + "".join(f"{r},{n}\n" for r, n in self.regions),
            "models/staging/stg_customers.sql": "select customer_id, region, score, bonus from {{ source('raw', 'customers') }}\n",
            "models/staging/stg_orders.sql": (
                f"{{{{ config(materialized='{m['stg_orders']}') }}}}\n"
                "select order_id, customer_id, amount from {{ source('raw', 'orders') }}\n"
            ),
            "models/staging/stg_events.sql": (
                f"{{{{ config(materialized='{m['stg_events']}') }}}}\n"
                "select event_id, customer_id, kind from {{ source('files', 'events') }}\n"
            ),
            "models/staging/stg_regions.sql": (
                "{{ config(materialized='ephemeral') }}\nselect region, upper(region_name) as name from {{ ref('regions') }}\n"
            ),
            "models/marts/customer_orders.sql": (
                "select c.customer_id, c.region, c.score, c.bonus, count(o.order_id) as orders,\n"
                "       coalesce(sum({{ scaled('o.amount') }}), 0) as total\n"
                "from {{ ref('stg_customers') }} c left join {{ ref('stg_orders') }} o using (customer_id)\n"
                f"where c.score >= {t['customer_orders']}\ngroup by all\n"
            ),
            "models/marts/customer_events.sql": (
                "select customer_id, kind, count(*) as events from {{ ref('stg_events') }}\n"
                f"where event_id >= {t['customer_events']}\ngroup by all\n"
            ),
            "models/marts/region_summary.sql": (
                "select r.name, count(*) as customers, sum(o.total) as total\n"
                "from {{ ref('customer_orders') }} o join {{ ref('stg_regions') }} r using (region)\ngroup by all\n"
            ),
            "models/marts/order_view.sql": (
                f"{{{{ config(materialized='{m['order_view']}', tags=['weekly']) }}}}\n"
                "select customer_id, total, orders from {{ ref('customer_orders') }}\n"
            ),
            "models/marts/top_customers.sql": (
                f"select customer_id, total from {{{{ ref('order_view') }}}} where total > {t['top_customers']}\n"
            ),
            "models/marts/orders_merged.sql": (
                "{{ config(materialized='incremental', unique_key='order_id') }}\n"
                "select order_id, customer_id, amount from {{ ref('stg_orders') }}\n"
            ),
        }
        for name, rows in self.event_files.items():
            files[f"data/events/{name}.csv"] = "event_id,customer_id,kind\n" + "".join(f"{e},{c},{k}\n" for e, c, k in rows)
        return files


class History:
    """Two copies of one project (`cached`, `uncached`) driven through the same random steps."""

    def __init__(self, workdir: Path, seed: int) -> None:
        self.rng = random.Random(seed)
        self.state = ProjectState()
        self.roots = (workdir / "cached", workdir / "uncached")
        self.steps: list[Step] = []
        self.customers = 0
        self.orders = 0
        self.score_type = "INTEGER"
        for root in self.roots:
            if root.exists():
                shutil.rmtree(root)
            (root / "target").mkdir(parents=True)
        for _ in range(2):
            self._add_event_file()
        self._write()
        self._sql(
            "CREATE SCHEMA raw; CREATE TABLE raw.customers (customer_id INTEGER, region VARCHAR, score INTEGER, bonus INTEGER);"
            "CREATE TABLE raw.orders (order_id INTEGER, customer_id INTEGER, amount INTEGER)"
        )
        for _ in range(6):
            self._insert_customer()
        for _ in range(12):
            self._insert_order()
        self._command("seed", None)
        self._command("run", None)

    # --- driving both copies alike ---------------------------------------------------

    def _write(self) -> None:
        files = self.state.files()
        for root in self.roots:
            for path in (root / "data" / "events").glob("*.csv"):
                if f"data/events/{path.name}" not in files:
                    path.unlink()
            for relative, text in files.items():
                path = root / relative
                if not path.exists() or path.read_text() != text:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(text)

    def _sql(self, sql: str, params: list[Any] | None = None) -> None:
        for root in self.roots:
            with duckdb.connect(str(root / "target" / "dev.duckdb")) as con:
                con.execute(sql, params)

    def _command(self, command: str, select: str | None) -> dict[str, list[str]]:
        """Run `command` on both copies; per copy, the models of each status."""
        statuses: dict[str, list[str]] = {}
        for root in self.roots:
            project = Project.load(root)
            if command == "seed":
                results = project.seed()
            else:
                results = project.run(select=select, use_cache=root == self.roots[0]).results
            statuses[root.name] = sorted(f"{r.status} {r.name}" for r in results)
        return statuses

    # --- the changes --------------------------------------------------------------------

    def _insert_customer(self) -> None:
        self.customers += 1
        region = self.rng.choice(["north", "south", "east"])
        self._sql("INSERT INTO raw.customers VALUES (?, ?, ?, ?)",
                  [self.customers, region, self.rng.randint(0, 9), self.rng.randint(0, 9)])

    def _insert_order(self) -> None:
        self.orders += 1
        self._sql("INSERT INTO raw.orders VALUES (?, ?, ?)",
                  [self.orders, self.rng.randint(1, max(self.customers, 1) + 1), self.rng.randint(1, 50)])

    def _add_event_file(self) -> None:
        name = f"part{self.state.next_id}"
        rows = []
        for _ in range(self.rng.randint(1, 4)):
            self.state.next_id += 1
            rows.append((self.state.next_id, self.rng.randint(1, 8), self.rng.choice(["view", "click"])))
        self.state.event_files[name] = rows

    def change(self) -> str:
        """Apply one random change to both copies; what it was."""
        rng, state = self.rng, self.state
        kind = rng.choice([
            "insert", "insert", "update", "delete", "retype", "swap_columns", "model_sql", "macro", "var",
            "seed_file", "materialized", "add_file", "rewrite_file", "remove_file",
        ])
        if kind == "insert":
            for _ in range(rng.randint(1, 3)):
                self._insert_customer() if rng.random() < 0.3 else self._insert_order()
        elif kind == "update":
            self._sql(f"UPDATE raw.orders SET amount = amount + {rng.randint(1, 5)} WHERE order_id % 4 = {rng.randint(0, 3)}")
        elif kind == "delete":
            self._sql(f"DELETE FROM raw.orders WHERE order_id % 7 = {rng.randint(0, 6)}")
        elif kind == "retype":
            self.score_type = rng.choice([t for t in ("INTEGER", "BIGINT", "DECIMAL(10,2)", "SMALLINT") if t != self.score_type])
            self._sql(f"ALTER TABLE raw.customers ALTER score TYPE {self.score_type}")
            kind += f" {self.score_type}"
        elif kind == "swap_columns":
            self._sql("ALTER TABLE raw.customers RENAME score TO swapped; ALTER TABLE raw.customers RENAME bonus TO score;"
                      "ALTER TABLE raw.customers RENAME swapped TO bonus")
            self._sql("ALTER TABLE raw.customers ALTER score TYPE INTEGER; ALTER TABLE raw.customers ALTER bonus TYPE INTEGER")
            self.score_type = "INTEGER"
        elif kind == "model_sql":
            model = rng.choice(sorted(state.thresholds))
            state.thresholds[model] = rng.randint(0, {"top_customers": 40, "customer_events": 1010}.get(model, 5))
            kind += f" {model}"
        elif kind == "macro":
            state.macro_offset = rng.randint(0, 3)
        elif kind == "var":
            state.factor = rng.randint(1, 3)
        elif kind == "seed_file":
            if rng.random() < 0.5 or len(state.regions) < 2:
                state.regions.append((rng.choice(["east", "west", "north"]), f"Region{rng.randint(0, 99)}"))
            else:
                state.regions.pop(rng.randrange(len(state.regions)))
        elif kind == "materialized":
            model = rng.choice(sorted(state.materialized))
            choices = ["view", "table", "ephemeral"] if model != "order_view" else ["view", "table"]
            state.materialized[model] = rng.choice([c for c in choices if c != state.materialized[model]])
            kind += f" {model} {state.materialized[model]}"
        elif kind == "add_file":
            self._add_event_file()
        elif kind == "rewrite_file" and state.event_files:
            name = rng.choice(sorted(state.event_files))
            state.event_files[name] = [(e, rng.randint(1, 8), k) for e, _, k in state.event_files[name]]
        elif kind == "remove_file" and len(state.event_files) > 1:
            state.event_files.pop(rng.choice(sorted(state.event_files)))
        self._write()
        return kind

    def selection(self) -> str | None:
        rng = self.rng
        form = rng.random()
        if form < 0.25:
            return rng.choice(SELECTIONS)
        if form < 0.8:
            model = rng.choice(MODELS)
            return rng.choice([model, f"+{model}", f"{model}+"])
        return " ".join(rng.sample(MODELS, 2))

    def step(self) -> Step:
        changes = [self.change() for _ in range(self.rng.randint(0, 2))]
        if self.rng.random() < 0.2:
            command, select = "seed", None
        else:
            command, select = "run", self.selection()
        statuses = self._command(command, select)
        differences = compare(self.roots)
        failed = {copy: [s for s in found if s.startswith("error")] for copy, found in statuses.items()}
        if failed["cached"] != failed["uncached"]:
            differences.append(f"failed with the cache: {failed['cached']}, without: {failed['uncached']}")
        cached = sum(1 for s in statuses["cached"] if s.startswith("cached"))
        step = Step(len(self.steps) + 1, changes, f"{command} -s {select}" if select else command, differences, cached)
        self.steps.append(step)
        return step


def relations(database: Path) -> dict[str, Any]:
    """Every relation of the project's schema: its columns with types and its rows
    (sorted, numbers rounded), or the error that reading it raises."""
    found: dict[str, Any] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
        for name in names:
            try:
                columns = con.execute(f'DESCRIBE main."{name}"').fetchall()
                rows = con.execute(f'SELECT * FROM main."{name}"').fetchall()
            except duckdb.Error as err:
                found[name] = f"error: {str(err).splitlines()[0]}"
                continue
            rounded = sorted((tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows), key=repr)
            found[name] = ([(c[0], c[1]) for c in columns], rounded)
    return found


def compare(roots: tuple[Path, Path]) -> list[str]:
    """How the cached copy's relations differ from the uncached one's."""
    cached, uncached = (relations(root / "target" / "dev.duckdb") for root in roots)
    differences = []
    for name in sorted(set(cached) | set(uncached)):
        if cached.get(name) != uncached.get(name):
            differences.append(f"{name}: with the cache {str(cached.get(name))[:300]}, without {str(uncached.get(name))[:300]}")
    return differences
