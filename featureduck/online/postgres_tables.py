"""The Postgres online store's tables, built as sqlglot trees.

`<schema>.online_<view>` (versions after the first `online_<view>_v<n>`)
holds `entity_key` (the primary key, in the "C" collation: bytewise
comparisons build its index several times faster), one native column per
feature, `feature_ts` and `updated_at`; `fduck_online_views` holds each
view's table, key types, watermark and row count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from featureduck.online.base import OnlineView

VIEWS = "fduck_online_views"
FIXED_COLUMNS = ("entity_key", "feature_ts", "updated_at")


def postgres_type(arrow_type: Any) -> str:
    """The native column type for an Arrow type (lists and structs as jsonb), as
    Postgres' format_type spells it, so a column's type compares with it."""
    import pyarrow

    if pyarrow.types.is_boolean(arrow_type):
        return "boolean"
    if pyarrow.types.is_integer(arrow_type):
        return "bigint" if arrow_type.bit_width > 32 or pyarrow.types.is_unsigned_integer(arrow_type) else "integer"
    if pyarrow.types.is_floating(arrow_type):
        return "double precision" if arrow_type.bit_width == 64 else "real"
    if pyarrow.types.is_decimal(arrow_type):
        return f"numeric({arrow_type.precision},{arrow_type.scale})"
    if pyarrow.types.is_timestamp(arrow_type):
        return "timestamp with time zone" if arrow_type.tz else "timestamp without time zone"
    if pyarrow.types.is_date(arrow_type):
        return "date"
    if pyarrow.types.is_binary(arrow_type) or pyarrow.types.is_large_binary(arrow_type):
        return "bytea"
    if pyarrow.types.is_string(arrow_type) or pyarrow.types.is_large_string(arrow_type):
        return "text"
    return "jsonb"


def declared_type(dtype: str | None, dialect: str) -> str:
    """A feature's declared dtype (in the project's dialect) as a Postgres type; jsonb when none."""
    if dtype is None:
        return "jsonb"
    return exp.DataType.build(dtype, dialect=dialect).sql("postgres")


def in_parameter(column: exp.Column) -> exp.EQ:
    """`column = ANY(%s)`: the one parameter is a list of values."""
    return column.eq(exp.Any(this=exp.paren(exp.Placeholder())))


def _type(kind: str) -> exp.DataType:
    return exp.DataType.build(kind, dialect="postgres")


def _not_null() -> exp.ColumnConstraint:
    return exp.ColumnConstraint(kind=exp.NotNullColumnConstraint())


def _column(name: str, kind: str, *constraints: exp.ColumnConstraint) -> exp.ColumnDef:
    return exp.ColumnDef(this=exp.to_identifier(name, quoted=True), kind=_type(kind), constraints=list(constraints))


@dataclass(frozen=True)
class StoreTables:
    """The tables of one store schema."""

    schema: str

    def table(self, name: str) -> exp.Table:
        return exp.Table(this=exp.to_identifier(name, quoted=True), db=exp.to_identifier(self.schema, quoted=True))

    @property
    def views(self) -> exp.Table:
        return self.table(VIEWS)

    def create_schema(self) -> exp.Create:
        return exp.Create(kind="SCHEMA", exists=True, this=exp.Table(db=exp.to_identifier(self.schema, quoted=True)))

    def create_views_table(self) -> exp.Create:
        columns = [
            _column("view_key", "text", exp.ColumnConstraint(kind=exp.PrimaryKeyColumnConstraint())),
            _column("table_name", "text", _not_null()),
            _column("key_types", "jsonb", _not_null()),
            _column("watermark", "text"),
            _column("row_count", "bigint", _not_null()),
            _column("materialized_at", "timestamptz", _not_null()),
        ]
        return exp.Create(kind="TABLE", exists=True, this=exp.Schema(this=self.views, expressions=columns))

    def create_feature_table(self, name: str, features: dict[str, str], unlogged: bool = False) -> exp.Create:
        """A view's table: the key, `features` (name -> Postgres type), the stamps."""
        collated = exp.ColumnConstraint(kind=exp.CollateColumnConstraint(this=exp.to_identifier("C", quoted=True)))
        key = _column("entity_key", "text", collated, _not_null())
        columns = [key, *(_column(f, kind) for f, kind in features.items()), _column("feature_ts", "timestamp", _not_null()),
                   _column("updated_at", "timestamptz", _not_null(),
                           exp.ColumnConstraint(kind=exp.DefaultColumnConstraint(this=exp.CurrentTimestamp())))]
        properties = exp.Properties(expressions=[exp.UnloggedProperty()]) if unlogged else None
        return exp.Create(kind="TABLE", this=exp.Schema(this=self.table(name), expressions=columns), properties=properties)

    def drop(self, name: str) -> exp.Drop:
        return exp.Drop(kind="TABLE", exists=True, tables=[self.table(name)])

    def rename(self, name: str, new_name: str) -> exp.Alter:
        return exp.Alter(this=self.table(name), kind="TABLE",
                         actions=[exp.AlterRename(this=exp.Table(this=exp.to_identifier(new_name, quoted=True)))])

    def add_primary_key(self, name: str) -> exp.Alter:
        key = exp.Constraint(this=exp.to_identifier(name + "_pkey", quoted=True),
                             expressions=[exp.PrimaryKey(expressions=[exp.to_identifier("entity_key")])])
        return exp.Alter(this=self.table(name), kind="TABLE", actions=[exp.AddConstraint(expressions=[key])])

    def align(self, name: str, existing: dict[str, str], wanted: dict[str, str]) -> list[exp.Alter]:
        """The statements making a table's feature columns `wanted`: added, retyped (through
        their text), dropped."""
        actions: list[exp.Expr] = []
        for feature, kind in wanted.items():
            column = exp.to_identifier(feature, quoted=True)
            if feature not in existing:
                actions.append(_column(feature, kind))
            elif existing[feature] != kind:
                through_text = exp.cast(exp.cast(exp.column(column), "text"), _type(kind))
                actions.append(exp.AlterColumn(this=column, dtype=_type(kind), using=through_text))
        actions += [exp.Drop(kind="COLUMN", tables=[exp.column(c, quoted=True)])
                    for c in existing if c not in wanted and c not in FIXED_COLUMNS]
        return [exp.Alter(this=self.table(name), kind="TABLE", actions=[action]) for action in actions]

    def upsert(self, view: OnlineView, stage: str, kinds: dict[str, str]) -> exp.Insert:
        """The staged rows into the view's table in one statement, by the stores' rule
        (OnlineStore.write): a stored row stays unless the incoming one is stamped later,
        or as late with greater features; `kinds` are the features' column types."""
        names = ["entity_key", *view.features, "feature_ts"]
        excluded = [exp.Column(this=exp.to_identifier(n, quoted=True), table=exp.to_identifier("EXCLUDED")) for n in names[1:]]
        updates = [exp.column(n, quoted=True).eq(value) for n, value in zip(names[1:], excluded, strict=True)]
        updates.append(exp.column("updated_at").eq(exp.CurrentTimestamp()))
        stored, incoming = exp.column("feature_ts", "t"), exp.column("feature_ts", "EXCLUDED")
        later = exp.or_(exp.LT(this=stored, expression=incoming),
                        exp.and_(exp.EQ(this=stored.copy(), expression=incoming.copy()), _greater_features(view.features, kinds)))
        conflict = exp.OnConflict(conflict_keys=[exp.to_identifier("entity_key")], action=exp.var("DO UPDATE"), expressions=updates,
                                  where=exp.Where(this=later))
        rows = exp.select(*[exp.column(n, quoted=True) for n in names]).from_(self.table(stage))
        into = exp.Schema(this=exp.alias_(self.table(view.table), "t", table=True),
                          expressions=[exp.to_identifier(n, quoted=True) for n in names])
        return exp.Insert(this=into, expression=rows, conflict=conflict)

    def record_view(self, view: OnlineView, key_types: str, watermark: str | None, rows: int) -> exp.Insert:
        """The view's row in the views table, replaced."""
        values = exp.tuple_(exp.Literal.string(view.key), exp.Literal.string(view.table), exp.cast(exp.Literal.string(key_types), "jsonb"),
                            exp.Literal.string(watermark) if watermark is not None else exp.null(), exp.convert(rows),
                            exp.CurrentTimestamp())
        replaced = ["table_name", "key_types", "watermark", "row_count", "materialized_at"]
        conflict = exp.OnConflict(conflict_keys=[exp.to_identifier("view_key")], action=exp.var("DO UPDATE"),
                                  expressions=[exp.column(c).eq(exp.column(c, "EXCLUDED")) for c in replaced])
        return exp.Insert(this=self.views, expression=exp.Values(expressions=[values]), conflict=conflict)

    def notify(self, channel: str, view: OnlineView) -> exp.Select:
        """A NOTIFY of the view's new values, delivered when the transaction commits."""
        return exp.select(exp.func("pg_notify", exp.Literal.string(channel), exp.Literal.string(view.key)))


def _greater_features(features: tuple[str, ...], kinds: dict[str, str]) -> exp.Expr:
    """EXCLUDED's features greater than the stored ones in declared order, NULL lowest
    (online.base.feature_order): text compared byte by byte (COLLATE "C", as DuckDB and
    Python order it, not the database's locale), jsonb as its text."""
    greater: exp.Expr = exp.false()
    for feature in reversed(features):
        def side(table: str, name: str = feature) -> exp.Expr:
            column: exp.Expr = exp.Column(this=exp.to_identifier(name, quoted=True), table=exp.to_identifier(table))
            if kinds.get(name) == "jsonb":
                column = exp.cast(column, "text")
            if kinds.get(name) in ("text", "jsonb"):
                column = exp.Collate(this=column, expression=exp.to_identifier("C", quoted=True))
            return column

        held, new = side("t"), side("EXCLUDED")
        above = exp.and_(new.copy().is_(exp.null()).not_(),
                         exp.paren(exp.or_(held.copy().is_(exp.null()), exp.GT(this=new, expression=held))))
        same = exp.NullSafeEQ(this=side("EXCLUDED"), expression=side("t"))
        greater = exp.or_(exp.paren(above), exp.paren(exp.and_(same, exp.paren(greater))))
    return exp.paren(greater)

