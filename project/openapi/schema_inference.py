"""JSON Schema for DuckDB result columns, matching how Sluice encodes values as JSON (SPEC §3.4).

Used to document an API's response when its `openapi:` block gives no `response_schema`. Type names are
read as `str(duckdb_type)` prints them: `BIGINT`, `DECIMAL(18,3)`, `INTEGER[]`, `STRUCT(a INTEGER)`, ...
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

_INT32 = {"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT"}
_INT64 = {"BIGINT", "UINTEGER"}
_WIDE_INTEGERS = {"HUGEINT", "UBIGINT", "UHUGEINT", "BIGNUM", "VARINT"}
_DATE_TIMES = {
    "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE",
    "TIMESTAMP_S",
    "TIMESTAMP_MS",
    "TIMESTAMP_NS",
    "DATETIME",
    "TIMESTAMPTZ",
}

_SCALARS: dict[str, dict] = {
    **{name: {"type": "integer", "format": "int32"} for name in _INT32},
    **{name: {"type": "integer", "format": "int64"} for name in _INT64},
    **{name: {"type": "integer"} for name in _WIDE_INTEGERS},
    **{name: {"type": "string", "format": "date-time"} for name in _DATE_TIMES},
    "FLOAT": {"type": "number", "format": "float"},
    "DOUBLE": {"type": "number", "format": "double"},
    "BOOLEAN": {"type": "boolean"},
    "VARCHAR": {"type": "string"},
    "BIT": {"type": "string"},
    "DATE": {"type": "string", "format": "date"},
    "TIME": {"type": "string", "format": "date-time"},
    "TIME_NS": {"type": "string", "format": "date-time"},
    "TIME WITH TIME ZONE": {"type": "string", "format": "date-time"},
    "UUID": {"type": "string", "format": "uuid"},
    "BLOB": {"type": "string", "format": "byte"},
    "INTERVAL": {"type": "integer", "format": "int64", "description": "milliseconds (a month is 30 days)"},
}

_LIST = re.compile(r"^(?P<element>.+)\[\d*\]$", re.DOTALL)
_CALL = re.compile(r"^(?P<name>[A-Z_]+)\s*\((?P<inside>.*)\)$", re.DOTALL)
_QUOTED_NAME = re.compile(r'^"((?:[^"]|"")*)"\s+(.+)$', re.DOTALL)


def json_schema_for_duckdb_type(type_string: str) -> dict:
    """The JSON Schema of values of one DuckDB type as Sluice writes them; `{}` for a type it does not know."""
    text = type_string.strip()
    if text.upper() in _SCALARS:
        return dict(_SCALARS[text.upper()])
    if match := _LIST.match(text):
        return {"type": "array", "items": json_schema_for_duckdb_type(match["element"])}
    if match := _CALL.match(text):
        return _schema_for_call(match["name"].upper(), match["inside"])
    return {}


def response_schema_for_columns(names: Sequence[str], types: Sequence[str]) -> dict:
    """The schema of one result row: an object with one property per column, in column order."""
    properties = {name: json_schema_for_duckdb_type(type_) for name, type_ in zip(names, types, strict=True)}
    return {"type": "object", "properties": properties}


def _schema_for_call(name: str, inside: str) -> dict:
    """Schema for a parameterised type: DECIMAL(p,s), STRUCT(...), MAP(k, v), ENUM(...), UNION(...)."""
    if name in ("DECIMAL", "NUMERIC"):
        return {"type": "number"}
    if name == "STRUCT":
        return {"type": "object", "properties": dict(_struct_fields(inside))}
    if name == "MAP":
        _, value_type = _split_top_level(inside)
        return {"type": "object", "additionalProperties": json_schema_for_duckdb_type(value_type)}
    if name == "ENUM":
        return {"type": "string", "enum": [_unquote(member, "'") for member in _split_top_level(inside)]}
    if name == "UNION":
        return {"anyOf": [schema for _, schema in _struct_fields(inside)]}
    return {}


def _struct_fields(inside: str) -> Iterator[tuple[str, dict]]:
    """(name, schema) for each `name TYPE` of a STRUCT or UNION; names may be double-quoted."""
    for field in _split_top_level(inside):
        if match := _QUOTED_NAME.match(field):
            name, type_string = match[1].replace('""', '"'), match[2]
        else:
            name, _, type_string = field.partition(" ")
        yield name, json_schema_for_duckdb_type(type_string)


def _split_top_level(text: str) -> list[str]:
    """Split at commas that are outside parentheses and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def _unquote(text: str, quote: str) -> str:
    """Remove SQL quotes around an enum member, undoing doubled quotes."""
    if len(text) >= 2 and text[0] == text[-1] == quote:
        return text[1:-1].replace(quote * 2, quote)
    return text
