"""Whether a model is a row-wise projection of one relation, and that projection over
another relation: what a stream feature view over a model runs on each batch.

Row-wise means each output row comes from one input row alone: a single SELECT
from one table, with expressions and a WHERE, and no join, aggregate, window,
GROUP BY, DISTINCT, LIMIT, set operation, CTE or subquery. Such a model gives,
over a batch of new rows, exactly the rows it would give for them over the
whole table, so the stream and a build of the model agree.
"""

from __future__ import annotations

from sqlglot import exp

_NOT_ROW_WISE: tuple[tuple[type[exp.Expr], str], ...] = (
    (exp.Join, "a join"), (exp.AggFunc, "an aggregate"), (exp.Window, "a window function"), (exp.Group, "GROUP BY"),
    (exp.Distinct, "DISTINCT"), (exp.Limit, "LIMIT"), (exp.SetOperation, "a set operation"), (exp.With, "a CTE"),
    (exp.Subquery, "a subquery"), (exp.Having, "HAVING"), (exp.Qualify, "QUALIFY"), (exp.Unnest, "UNNEST"),
)


def row_wise_table(tree: exp.Expr) -> tuple[exp.Table | None, str | None]:
    """The one table a row-wise projection reads, or None and what makes it not one."""
    if not isinstance(tree, exp.Select):
        return None, "it is not a single SELECT"
    for kind, what in _NOT_ROW_WISE:
        if tree.find(kind) is not None:
            return None, f"it has {what}"
    if any(isinstance(e, exp.Star) for e in tree.selects):
        return None, "it selects *: name its columns"
    tables = list(tree.find_all(exp.Table))
    if len(tables) != 1:
        return None, f"it reads {len(tables)} relations"
    return tables[0], None


def over(tree: exp.Select, table: exp.Table, replacement: str) -> exp.Select:
    """The projection reading `replacement` where it read `table`."""
    projected = tree.copy()
    for found in projected.find_all(exp.Table):
        if found.name == table.name and found.db == table.db:
            alias = found.args.get("alias")
            found.replace(exp.Table(this=exp.to_identifier(replacement), alias=alias.copy() if alias else None))
    return projected
