"""DuckDB type strings, as `str(duckdb_type)` prints them, to the JSON Schema of Sluice's JSON encoding."""

from __future__ import annotations

import json

import duckdb
import jsonschema
import pytest

from project.encoding.bulk import json_rows_sql
from project.openapi.schema_inference import json_schema_for_duckdb_type, response_schema_for_columns

INTERVAL = {"type": "integer", "format": "int64", "description": "milliseconds (a month is 30 days)"}

TYPES = [
    ("TINYINT", {"type": "integer", "format": "int32"}),
    ("SMALLINT", {"type": "integer", "format": "int32"}),
    ("INTEGER", {"type": "integer", "format": "int32"}),
    ("UINTEGER", {"type": "integer", "format": "int64"}),
    ("BIGINT", {"type": "integer", "format": "int64"}),
    ("UBIGINT", {"type": "integer"}),
    ("HUGEINT", {"type": "integer"}),
    ("UHUGEINT", {"type": "integer"}),
    ("BIGNUM", {"type": "integer"}),
    ("DECIMAL(18,3)", {"type": "number"}),
    ("DECIMAL(38,10)", {"type": "number"}),
    ("DOUBLE", {"type": "number", "format": "double"}),
    ("FLOAT", {"type": "number", "format": "float"}),
    ("BOOLEAN", {"type": "boolean"}),
    ("VARCHAR", {"type": "string"}),
    ("DATE", {"type": "string", "format": "date"}),
    ("TIMESTAMP", {"type": "string", "format": "date-time"}),
    ("TIMESTAMP WITH TIME ZONE", {"type": "string", "format": "date-time"}),
    ("TIMESTAMP_S", {"type": "string", "format": "date-time"}),
    ("TIMESTAMP_MS", {"type": "string", "format": "date-time"}),
    ("TIMESTAMP_NS", {"type": "string", "format": "date-time"}),
    ("TIME", {"type": "string", "format": "date-time"}),
    ("TIME WITH TIME ZONE", {"type": "string", "format": "date-time"}),
    ("UUID", {"type": "string", "format": "uuid"}),
    ("INTERVAL", INTERVAL),
    ("BLOB", {"type": "string", "format": "byte"}),
    ("BIT", {"type": "string"}),
    ("INTEGER[]", {"type": "array", "items": {"type": "integer", "format": "int32"}}),
    ("VARCHAR[3]", {"type": "array", "items": {"type": "string"}}),
    (
        "DOUBLE[][]",
        {"type": "array", "items": {"type": "array", "items": {"type": "number", "format": "double"}}},
    ),
    (
        "STRUCT(a INTEGER, b VARCHAR)",
        {
            "type": "object",
            "properties": {"a": {"type": "integer", "format": "int32"}, "b": {"type": "string"}},
        },
    ),
    (
        'STRUCT("a b" DATE[], """q""" DECIMAL(9,2))',
        {
            "type": "object",
            "properties": {
                "a b": {"type": "array", "items": {"type": "string", "format": "date"}},
                '"q"': {"type": "number"},
            },
        },
    ),
    (
        "STRUCT(s STRUCT(x BOOLEAN))[]",
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"s": {"type": "object", "properties": {"x": {"type": "boolean"}}}},
            },
        },
    ),
    (
        "MAP(VARCHAR, INTEGER)",
        {"type": "object", "additionalProperties": {"type": "integer", "format": "int32"}},
    ),
    (
        "MAP(VARCHAR, STRUCT(a INTEGER, b DOUBLE))",
        {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "a": {"type": "integer", "format": "int32"},
                    "b": {"type": "number", "format": "double"},
                },
            },
        },
    ),
    ("ENUM('a', 'b c', 'it''s, ok')", {"type": "string", "enum": ["a", "b c", "it's, ok"]}),
    ("UNION(k INTEGER, s VARCHAR)", {"anyOf": [{"type": "integer", "format": "int32"}, {"type": "string"}]}),
    ("JSON", {}),
    ('"NULL"', {}),
    ("GEOMETRY", {}),
]


@pytest.mark.parametrize(("type_string", "expected"), TYPES)
def test_json_schema_for_duckdb_type(type_string, expected):
    assert json_schema_for_duckdb_type(type_string) == expected
    jsonschema.Draft202012Validator.check_schema(expected)


# SQL expressions: the inferred schema must accept the value exactly as Sluice's encoder writes it.
ENCODED = [
    "42::HUGEINT",
    "1.5::DECIMAL(18,3)",
    "DATE '1983-03-08'",
    "TIMESTAMP '2022-01-01 14:49:50.459'",
    "TIMESTAMPTZ '2022-01-01 14:49:50.459+02'",
    "TIME '12:34:56.789'",
    "TIMETZ '12:34:56+02'",
    "INTERVAL 1 DAY",
    "'ab'::BLOB",
    "[1, 2]",
    "{'a': 1, 'b': 'x', 'i': INTERVAL 2 HOURS}",
    "MAP {'k': 1}",
]


@pytest.mark.parametrize("expression", ENCODED)
def test_schema_of_real_duckdb_type_accepts_encoded_value(expression):
    connection = duckdb.connect()
    relation = connection.sql(f"SELECT {expression} AS v")
    encoded = json.loads(
        connection.execute(
            json_rows_sql(f"SELECT {expression} AS v", relation.columns, relation.types)
        ).fetchone()[0]
    )["v"]
    schema = json_schema_for_duckdb_type(str(relation.types[0]))
    assert schema != {}
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(encoded)


def test_real_type_strings_are_all_known():
    sql = "SELECT 1::BIGINT, 1.5::DECIMAL(18,3), TIMESTAMPTZ '2020-01-01', uuid(), 'x'::BLOB, [1]::INTEGER[2]"
    types = [str(type_) for type_ in duckdb.connect().sql(sql).types]
    assert all(json_schema_for_duckdb_type(type_) for type_ in types), types


def test_response_schema_for_columns_keeps_column_order():
    schema = response_schema_for_columns(["publisher", "total"], ["VARCHAR", "BIGINT"])
    assert schema == {
        "type": "object",
        "properties": {"publisher": {"type": "string"}, "total": {"type": "integer", "format": "int64"}},
    }
    assert list(schema["properties"]) == ["publisher", "total"]


def test_response_schema_for_columns_needs_one_type_per_name():
    with pytest.raises(ValueError):
        response_schema_for_columns(["a", "b"], ["VARCHAR"])
