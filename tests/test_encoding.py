"""DuckDB values -> Sluice's JSON (SPEC §3.4), produced by DuckDB from the generated expressions."""

import json
import math

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from project.encoding import json_rows_sql

CASES = [
    # (SQL expression, the JSON text of its value)
    ("NULL::INTEGER", "null"),
    ("42::TINYINT", "42"),
    ("170141183460469231731687303715884105727::HUGEINT", "170141183460469231731687303715884105727"),
    ("18446744073709551615::UBIGINT", "18446744073709551615"),
    ("12345678901234567890.123456789::DECIMAL(38, 9)", "12345678901234567890.123456789"),
    ("75.4::FLOAT", "75.4000015258789"),  # FLOAT widened to double, as Rill does
    ("0.1::DOUBLE", "0.1"),
    ("'nan'::DOUBLE", "null"),
    ("'-inf'::DOUBLE", "null"),
    ("'infinity'::FLOAT", "null"),
    ("true", "true"),
    ("'x\"y\\z'", '"x\\"y\\\\z"'),
    ("'a'::ENUM('a', 'b')", '"a"'),
    ("'00000000-0000-0000-0000-000000000001'::UUID", '"00000000-0000-0000-0000-000000000001"'),
    ("DATE '1983-03-08'", '"1983-03-08"'),
    ("TIMESTAMP '2022-01-01 14:49:50.459'", '"2022-01-01T14:49:50.459Z"'),
    ("TIMESTAMP '2023-09-12 12:46:55'", '"2023-09-12T12:46:55Z"'),
    ("TIMESTAMP '2023-09-12 12:46:50.000100'", '"2023-09-12T12:46:50.0001Z"'),
    ("TIMESTAMPTZ '2023-09-12 12:46:55.5+02'", '"2023-09-12T10:46:55.5Z"'),
    ("TIMESTAMP_NS '2022-01-01 00:00:00.000000001'", '"2022-01-01T00:00:00.000000001Z"'),
    ("TIMESTAMP_MS '2022-01-01 00:00:00.12'", '"2022-01-01T00:00:00.12Z"'),
    ("TIMESTAMP_S '2022-01-01 00:00:10'", '"2022-01-01T00:00:10Z"'),
    ("TIME '12:35:00'", '"12:35:00"'),
    ("INTERVAL '14 months 3 days 25 hours 61 seconds 5 microseconds'",
     '{"months":14,"days":3,"micros":90061000005}'),
    ("-INTERVAL '1 month 2 seconds'", '{"months":-1,"days":0,"micros":-2000000}'),
    ("'ab'::BLOB", '"YWI="'),
    ("[1, 2, NULL]", "[1,2,null]"),
    ("[TIMESTAMP '2020-01-01', NULL]", '["2020-01-01T00:00:00Z",null]'),
    ("[[1.5, 'nan'::DOUBLE]]", "[[1.5,null]]"),
    ("[1, 2]::INTEGER[2]", "[1,2]"),
    ("{'a': 1, 'b b': 'nan'::DOUBLE}", '{"a":1,"b b":null}'),
    ("{'t': TIMESTAMP '2020-01-01 00:00:01'}", '{"t":"2020-01-01T00:00:01Z"}'),
    ("MAP {'k': 1.5::DOUBLE}", '{"k":1.5}'),
    ("MAP {'k': 'inf'::DOUBLE}", '{"k":null}'),
]


def encode(select_list: str) -> str:
    connection = duckdb.connect()
    relation = connection.sql(f"SELECT {select_list}")
    return connection.execute(json_rows_sql(f"SELECT {select_list}", relation.columns, relation.types)).fetchone()[0]


@pytest.mark.parametrize("expression, expected", CASES)
def test_each_type_encodes_as_promised(expression, expected):
    assert encode(f"{expression} AS v") == '{"v":' + expected + "}"


def test_keys_keep_column_order_and_duplicates_take_the_last_value():
    assert json.loads(encode("2 AS b, 1 AS a, 3 AS b")) == {"b": 3, "a": 1}
    assert list(json.loads(encode("2 AS b, 1 AS a"))) == ["b", "a"]


def test_quotes_in_column_names_are_escaped():
    assert json.loads(encode("1 AS \"it's \"\"quoted\"\"\"")) == {"it's \"quoted\"": 1}


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_doubles_round_trip_or_become_null(number):
    encoded = json.loads(encode(f"'{number!r}'::DOUBLE AS v"))["v"]
    assert encoded == (number if math.isfinite(number) else None)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_round_trips(text):
    literal = "'" + text.replace("'", "''") + "'"
    if "\x00" in text:
        return  # DuckDB strings cannot hold NUL
    assert json.loads(encode(f"{literal} AS v")) == {"v": text}
