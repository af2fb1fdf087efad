"""Feature dtypes: SQL type names in the project's dialect, compared by family.

A declared `bigint` accepts an engine's INTEGER or BIGINT and `double` a
REAL or DOUBLE: the same model gives different widths on different engines
(Postgres' sum of integers is bigint where DuckDB's is HUGEINT), so what a
feature view fixes is the kind of value, not its width. Timestamps with and
without a time zone are one family too: Spark's TIMESTAMP is the zoned kind
that DuckDB and Postgres spell TIMESTAMPTZ.
"""

from __future__ import annotations

import functools

from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.expressions.datatypes import DType

_T = DType
_FAMILIES: dict[str, set[DType]] = {
    "integer": set(exp.DataType.INTEGER_TYPES) | {_T.UBIGINT, _T.UINT, _T.USMALLINT, _T.UTINYINT, _T.UINT128, _T.UINT256},
    "float": set(exp.DataType.FLOAT_TYPES) | {_T.UDOUBLE},
    "decimal": {_T.DECIMAL, _T.DECIMAL32, _T.DECIMAL64, _T.DECIMAL128, _T.DECIMAL256, _T.UDECIMAL, _T.BIGDECIMAL, _T.MONEY},
    "string": set(exp.DataType.TEXT_TYPES) | {_T.CHAR, _T.NCHAR, _T.UUID},
    "boolean": {_T.BOOLEAN},
    "date": {_T.DATE, _T.DATE32},
    "timestamp": {
        _T.TIMESTAMP, _T.TIMESTAMPTZ, _T.TIMESTAMPLTZ, _T.TIMESTAMPNTZ, _T.DATETIME, _T.DATETIME64,
        _T.TIMESTAMP_S, _T.TIMESTAMP_MS, _T.TIMESTAMP_NS,
    },
    "binary": {_T.BINARY, _T.VARBINARY, _T.BLOB},
    "json": {_T.JSON, _T.JSONB},
}
_FAMILY_OF = {member: name for name, members in _FAMILIES.items() for member in members}


def parse_dtype(text: str, dialect: str) -> exp.DataType:
    """The declared type; ValueError when it names no type of the dialect."""
    return _parsed_dtype(text, dialect).copy()


@functools.lru_cache(maxsize=1024)
def _parsed_dtype(text: str, dialect: str) -> exp.DataType:
    """Parsed once per process: a run checks every feature's and contract column's type
    against what the engine built, and the same few type names recur."""
    try:
        dtype = exp.DataType.build(text, dialect=dialect)
    except (ParseError, ValueError):
        raise ValueError(f"'{text}' is not a {dialect} type") from None
    if dtype.this in (_T.USERDEFINED, _T.UNKNOWN):
        raise ValueError(f"'{text}' is not a {dialect} type")
    return dtype


def family(dtype: exp.DataType) -> str:
    """The kind of value a type holds, with element kinds for lists."""
    if dtype.this in (_T.ARRAY, _T.LIST) and dtype.expressions:
        element = dtype.expressions[0]
        return f"list of {family(element) if isinstance(element, exp.DataType) else 'unknown'}"
    return _FAMILY_OF.get(dtype.this, dtype.this.value.lower())


def is_known(dtype: exp.DataType) -> bool:
    return dtype.this not in (_T.UNKNOWN, _T.NULL, _T.USERDEFINED)


def decimal_digits(kind: exp.DataType) -> tuple[int, int]:
    """A DECIMAL's precision and scale; DuckDB's default DECIMAL(18, 3) when not written."""
    written = [int(param.this.name) for param in kind.expressions]
    if not written:
        return 18, 3
    return written[0], written[1] if len(written) > 1 else 0
