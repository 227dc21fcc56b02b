"""The columns DuckDB hands to pyarrow for CSV, Parquet and Arrow: native where the format holds the type.

Arrow IPC holds nearly every DuckDB type exactly (decimals, HUGEINT as decimal128(38, 0)). Parquet lacks
intervals and unions; CSV holds only scalars, so nested values become their JSON text and timestamps the
RFC 3339 text of the JSON answers. Unsigned HUGEINT does not fit decimal128 and becomes text everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from project.encoding.bulk import INTEGERS, TIMESTAMPS, value_sql
from project.sql.quoting import quote_identifier

CSV_NATIVE = (INTEGERS - {"uhugeint"}) | frozenset(
    {
        "decimal",
        "boolean",
        "varchar",
        "date",
        "double",
        "float",
        "uuid",
    }
)
JSON_TEXT = frozenset({"list", "array", "struct", "map", "union", "interval"})
NOT_IN_PARQUET = frozenset({"interval", "union"})


def column_sql(expression: str, column_type: Any, format_name: str) -> str | None:
    """SQL giving the column a type the format holds, or None when it holds the column as it is."""
    type_id = column_type.id
    if type_id == "uhugeint":
        return f"{expression}::VARCHAR"
    if format_name == "arrow" or (format_name == "parquet" and not _contains(column_type, NOT_IN_PARQUET)):
        return None
    if format_name == "parquet" or type_id in JSON_TEXT:
        return f"to_json({value_sql(expression, column_type, 0)})::VARCHAR"
    if type_id in CSV_NATIVE:
        return None
    if type_id in TIMESTAMPS or type_id == "timestamp_ns":
        return value_sql(expression, column_type, 0)
    return f"({value_sql(expression, column_type, 0)})::VARCHAR"


def arrow_columns_sql(inner_sql: str, names: Sequence[str], types: Sequence[Any], format_name: str) -> str:
    """The query with its columns converted for the format; the query itself when none needs it."""
    converted = [column_sql(f"#{position}", type_, format_name) for position, type_ in enumerate(types, 1)]
    if all(expression is None for expression in converted):
        return inner_sql
    columns = ", ".join(
        f"{expression or f'#{position}'} AS {quote_identifier(name)}"
        for position, (name, expression) in enumerate(zip(names, converted), 1)
    )
    return f"SELECT {columns} FROM (\n{inner_sql}\n) AS _sluice_rows"


def _contains(column_type: Any, type_ids: frozenset[str]) -> bool:
    if column_type.id in type_ids:
        return True
    children = getattr(column_type, "children", None) if column_type.id in JSON_TEXT else None
    return any(_contains(child, type_ids) for _, child in children or () if not isinstance(child, (int, str)))
