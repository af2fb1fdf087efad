"""Tree rewrites: placeholders to relations, ephemeral models to CTEs."""

from __future__ import annotations

import re

from sqlglot import exp

from featureduck.compiler.relations import ephemeral_cte_name

# placeholder identifier -> (what replaces the table, the name column qualifiers use)
Replacements = dict[str, tuple[exp.Expr, str]]


def ephemeral_reference(model_name: str) -> exp.Table:
    """A reference to an inlined ephemeral model, aliased as the model is named."""
    return exp.Table(
        this=exp.to_identifier(ephemeral_cte_name(model_name)),
        alias=exp.TableAlias(this=exp.to_identifier(model_name)),
    )


def replace_placeholders(tree: exp.Expr, replacements: Replacements) -> None:
    """Swap placeholder tables (keeping the user's alias) and column qualifiers, in place."""
    for table in list(tree.find_all(exp.Table)):
        if table.args.get("db") is None and table.name in replacements:
            new = replacements[table.name][0].copy()
            if table.args.get("alias") is not None:
                new.set("alias", table.args["alias"].copy())
            table.replace(new)
    for column in tree.find_all(exp.Column):
        if column.args.get("table") is not None and column.table in replacements:
            column.set("table", exp.to_identifier(replacements[column.table][1]))


def replace_in_strings(tree: exp.Expr, texts: dict[str, str]) -> None:
    """`'{{ this }}'` and `'{{ ref(...) }}'` inside SQL strings: each placeholder in a
    string literal becomes the relation's name as text, as dbt renders it there."""
    pattern = re.compile("|".join(re.escape(name) for name in sorted(texts, key=len, reverse=True)))
    for literal in tree.find_all(exp.Literal):
        if literal.is_string and pattern.search(literal.this):
            literal.set("this", pattern.sub(lambda m: texts[m.group(0)], literal.this))


def relation_text(expression: exp.Expr, database: str | None, dialect: str) -> str:
    """A relation as dbt prints it: every part quoted, the database included when given."""
    if isinstance(expression, exp.Table) and isinstance(expression.this, exp.Identifier):
        table = expression.copy()
        table.set("alias", None)
        if database and table.args.get("catalog") is None and table.args.get("db") is not None:
            table.set("catalog", exp.to_identifier(database))
        return table.sql(dialect=dialect, identify=True)
    return expression.sql(dialect=dialect)


# Table functions that make rows rather than read them.
_GENERATORS = (exp.GenerateSeries, exp.Unnest, exp.Explode)


def reads_unmanaged(tree: exp.Expr, replacements: Replacements) -> bool:
    """Whether the query (before placeholders are replaced) reads a table or file that is
    not a ref, a source or one of its own CTEs: run caching cannot see that data change."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if isinstance(table.this, exp.Identifier):
            if table.args.get("db") is None and (table.name in replacements or table.name.lower() in ctes):
                continue
            return True
        if not isinstance(table.this, _GENERATORS):
            return True  # read_parquet(...), a scan of another database
    return False


def prepend_ctes(tree: exp.Expr, ctes: list[tuple[str, exp.Expr]]) -> exp.Expr:
    """Put (name, query) CTEs before the model's own, which may refer to them."""
    new = [exp.CTE(this=query, alias=exp.TableAlias(this=exp.to_identifier(name))) for name, query in ctes]
    existing = tree.args.get("with_")
    if existing is not None:
        existing.set("expressions", [*new, *existing.expressions])
    else:
        tree.set("with_", exp.With(expressions=new))
    return tree
