"""The floor of a run as one process: import duckdb, execute the statements of a
JSON list in order on one connection, exit (bench_run_floor.py times it whole).

    python benchmarks/floor_statements.py STATEMENTS.json DATABASE
"""

import json
import sys

import duckdb

statements = json.loads(open(sys.argv[1]).read())
with duckdb.connect(sys.argv[2]) as con:
    for statement in statements:
        con.execute(statement)
