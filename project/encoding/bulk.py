"""DuckDB result columns -> one JSON object per row, produced by DuckDB itself (SPEC §3.4).

Encoding in Python costs far more than the query; DuckDB writes JSON in bulk. Each column gets a SQL
expression that turns its type into the JSON Sluice promises (RFC 3339 timestamps, null for NaN, base64
blobs, times and intervals as Rill writes them), recursing through lists, structs and maps; the row becomes `json_object(...)`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from project.sql.quoting import quote_identifier, quote_literal

INTEGERS = frozenset(
    {
        "tinyint",
        "smallint",
        "integer",
        "bigint",
        "hugeint",
        "utinyint",
        "usmallint",
        "uinteger",
        "ubigint",
        "uhugeint",
    }
)
PASS_THROUGH = INTEGERS | frozenset(
    {
        "decimal",
        "boolean",
        "varchar",
        "date",
        "uuid",
        "enum",
        "null",
        "sqlnull",
        "json",
    }
)
TIMESTAMPS = frozenset({"timestamp", "timestamp_s", "timestamp_ms", "timestamp with time zone"})
TIMES = frozenset({"time", "time_ns", "time with time zone"})
MILLIS_PER_DAY = 86_400_000
FLOATS = frozenset({"float", "double"})


def json_rows_sql(inner_sql: str, names: Sequence[str], types: Sequence[Any]) -> str:
    """A query over `inner_sql` whose one column is each row as JSON text, keys in column order."""
    return f"SELECT {_row_sql(names, types)} FROM (\n{inner_sql}\n) AS _sluice_rows"


def json_text_sql(inner_sql: str, names: Sequence[str], types: Sequence[Any], lines: bool) -> str:
    """Like `json_rows_sql`, each row's text as it goes out: followed by a newline (NDJSON, `lines`) or
    preceded by a comma (an array's elements), so the rows of a batch laid end to end are its text."""
    row = _row_sql(names, types)
    text = f"{row} || chr(10)" if lines else f"',' || {row}"
    return f"SELECT {text} FROM (\n{inner_sql}\n) AS _sluice_rows"


def text_of_batch(batch: pa.RecordBatch) -> bytes:
    """The string data of a one-column Arrow batch: its values laid end to end, read from the column's
    buffers (one copy of the bytes, no Python object per value)."""
    column = batch.column(0)
    if column.null_count:  # the projection never gives NULL; kept right anyway
        column = pc.fill_null(column, "")
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = column.cast(pa.large_string())  # a string view: offsets give the bytes in order
    _, offsets, data = column.buffers()
    if data is None or len(column) == 0:
        return b""
    offset_format = "<q" if pa.types.is_large_string(column.type) else "<i"
    width = struct.calcsize(offset_format)
    (start,) = struct.unpack_from(offset_format, offsets, column.offset * width)
    (end,) = struct.unpack_from(offset_format, offsets, (column.offset + len(column)) * width)
    return data[start:end].to_pybytes()


def _row_sql(names: Sequence[str], types: Sequence[Any]) -> str:
    fields = ", ".join(
        f"{quote_literal(name)}, {value_sql(f'#{position}', column_type, 0)}"
        for position, (name, column_type) in enumerate(zip(names, types), start=1)
    )
    return f"json_object({fields})::VARCHAR"


def value_sql(expression: str, column_type: Any, depth: int) -> str:
    """SQL turning `expression` of a DuckDB type into a value whose JSON form is Sluice's."""
    type_id = column_type.id
    if type_id in PASS_THROUGH:
        return expression
    if type_id in FLOATS:
        widened = f"{expression}::DOUBLE" if type_id == "float" else expression
        return f"CASE WHEN isfinite({expression}) THEN {widened} END"
    if type_id in TIMESTAMPS or type_id == "timestamp_ns":
        return _timestamp_sql(expression, type_id)
    if type_id in TIMES:
        return _time_sql(expression, type_id)
    if type_id == "interval":
        return _interval_sql(expression)
    if type_id == "blob":
        return f"base64({expression})"
    if type_id in ("list", "array"):
        return _list_sql(expression, column_type, depth)
    if type_id == "struct":
        return _struct_sql(expression, column_type, depth)
    if type_id == "map":
        return _map_sql(expression, column_type, depth)
    if type_id == "union":
        return expression
    return f"{expression}::VARCHAR"


def needs_conversion(column_type: Any) -> bool:
    """False when DuckDB's own JSON for the type is already Sluice's JSON."""
    type_id = column_type.id
    if type_id in PASS_THROUGH or type_id == "union":
        return False
    if type_id in ("list", "array", "struct", "map"):
        return any(needs_conversion(child) for _, child in _children(column_type))
    return True


def _children(column_type: Any) -> list[tuple[str, Any]]:
    return [(name, child) for name, child in column_type.children if not isinstance(child, (int, str))]


def _timestamp_sql(expression: str, type_id: str) -> str:
    """DuckDB's text for a timestamp already drops trailing zeros of the fraction: only `T` and `Z` are
    missing. (Cheaper to plan than strftime: this projection is planned on every request.)"""
    if type_id == "timestamp with time zone":
        expression = f"({expression} AT TIME ZONE 'UTC')"
    return f"replace({expression}::VARCHAR, ' ', 'T') || 'Z'"


def _time_sql(expression: str, type_id: str) -> str:
    """A time of day as Rill writes it: a timestamp on 0001-01-01 in UTC (`0001-01-01T12:34:56Z`), fraction
    kept without trailing zeros (DuckDB's text already drops them)."""
    if type_id == "time with time zone":
        expression = f"timezone('UTC', {expression})"
    return f"'0001-01-01T' || {expression}::TIME::VARCHAR || 'Z'"


def _interval_sql(expression: str) -> str:
    """An interval as Rill writes it: whole milliseconds, a month counted as 30 days, a year as 12 months;
    the division truncates toward zero, as Go's does."""
    months = f"(datepart('year', {expression}) * 12 + datepart('month', {expression}))"
    micros = (
        f"(datepart('hour', {expression}) * 3600000000 + datepart('minute', {expression}) * 60000000"
        f" + datepart('microseconds', {expression}))"
    )
    days = f"({months} * 30 + datepart('day', {expression}))::HUGEINT"
    return f"(({days} * {MILLIS_PER_DAY * 1000} + {micros}) // 1000)::BIGINT"


def _list_sql(expression: str, column_type: Any, depth: int) -> str:
    child = _children(column_type)[0][1]
    if not needs_conversion(child):
        return expression
    element = f"_sluice_e{depth}"
    return f"list_transform({expression}, lambda {element}: {value_sql(element, child, depth + 1)})"


def _struct_sql(expression: str, column_type: Any, depth: int) -> str:
    """Rebuilt field by field when a field needs converting; a NULL struct stays NULL (struct_pack of its
    NULL fields would be an object of nulls)."""
    if not needs_conversion(column_type):
        return expression
    fields = ", ".join(
        f"{quote_identifier(name)} := {value_sql(f'struct_extract({expression}, {quote_literal(name)})', child, depth)}"
        for name, child in _children(column_type)
    )
    return f"CASE WHEN {expression} IS NOT NULL THEN struct_pack({fields}) END"


def _map_sql(expression: str, column_type: Any, depth: int) -> str:
    if not needs_conversion(column_type):
        return expression
    children = dict(_children(column_type))
    entry = f"_sluice_m{depth}"
    key = value_sql(f"{entry}.key", children["key"], depth + 1)
    value = value_sql(f"{entry}.value", children["value"], depth + 1)
    return (
        f"map_from_entries(list_transform(map_entries({expression}), "
        f"lambda {entry}: {{'key': {key}, 'value': {value}}}))"
    )
