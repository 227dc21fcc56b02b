"""DuckDB values -> Sluice's JSON (SPEC §3.4), produced by DuckDB from the generated expressions."""

import json
import math

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from project.encoding.bulk import json_rows_sql
from project.sql.quoting import quote_literal

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
    # TIME as Rill writes it: a timestamp on 0001-01-01 in UTC, fraction kept
    ("TIME '12:35:00'", '"0001-01-01T12:35:00Z"'),
    ("TIME '00:02:03.456789'", '"0001-01-01T00:02:03.456789Z"'),
    ("TIME '23:59:59.5'", '"0001-01-01T23:59:59.5Z"'),
    ("TIMETZ '12:34:56+02'", '"0001-01-01T10:34:56Z"'),
    ("NULL::TIME", "null"),
    # INTERVAL as Rill writes it: milliseconds, a month counted as 30 days
    ("INTERVAL 1 YEAR", "31104000000"),
    ("INTERVAL 1 MONTH", "2592000000"),
    ("INTERVAL '14 months 3 days 25 hours 61 seconds 5 microseconds'", "36637261000"),
    ("INTERVAL '1.5 milliseconds'", "1"),
    ("-INTERVAL '1 month 2 seconds'", "-2592002000"),
    ("INTERVAL '-1.5 milliseconds'", "-1"),
    ("INTERVAL 200000 YEARS", "6220800000000000"),
    ("NULL::INTERVAL", "null"),
    ("'ab'::BLOB", '"YWI="'),
    ("[1, 2, NULL]", "[1,2,null]"),
    ("[TIMESTAMP '2020-01-01', NULL]", '["2020-01-01T00:00:00Z",null]'),
    ("[[1.5, 'nan'::DOUBLE]]", "[[1.5,null]]"),
    ("[1, 2]::INTEGER[2]", "[1,2]"),
    ("{'a': 1, 'b b': 'nan'::DOUBLE}", '{"a":1,"b b":null}'),
    ("{'t': TIMESTAMP '2020-01-01 00:00:01'}", '{"t":"2020-01-01T00:00:01Z"}'),
    ("MAP {'k': 1.5::DOUBLE}", '{"k":1.5}'),
    # A NULL struct is null, also when its fields need converting
    ("NULL::STRUCT(a DOUBLE, t TIMESTAMP)", "null"),
    ("[NULL::STRUCT(a FLOAT), {'a': 1.5::FLOAT}]", '[null,{"a":1.5}]'),
    ("{'a': NULL::DOUBLE}", '{"a":null}'),
    ("{'i': INTERVAL 1 DAY, 't': TIME '01:02:03'}", '{"i":86400000,"t":"0001-01-01T01:02:03Z"}'),
    ("MAP {'k': 'inf'::DOUBLE}", '{"k":null}'),
]


def encode(select_list: str) -> str:
    connection = duckdb.connect()
    relation = connection.sql(f"SELECT {select_list}")
    (text,) = connection.execute(
        json_rows_sql(f"SELECT {select_list}", relation.columns, relation.types)
    ).fetchall()[0]
    return text


@pytest.mark.parametrize("expression, expected", CASES)
def test_each_type_encodes_as_promised(expression, expected):
    assert encode(f"{expression} AS v") == '{"v":' + expected + "}"


def test_keys_keep_column_order_and_duplicates_take_the_last_value():
    assert json.loads(encode("2 AS b, 1 AS a, 3 AS b")) == {"b": 3, "a": 1}
    assert list(json.loads(encode("2 AS b, 1 AS a"))) == ["b", "a"]


def test_quotes_in_column_names_are_escaped():
    assert json.loads(encode('1 AS "it\'s ""quoted"""')) == {'it\'s "quoted"': 1}


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_doubles_round_trip_or_become_null(number):
    encoded = json.loads(encode(f"'{number!r}'::DOUBLE AS v"))["v"]
    assert encoded == (number if math.isfinite(number) else None)


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00")))  # DuckDB: no NUL
def test_any_text_round_trips(text):
    literal = quote_literal(text)
    assert json.loads(encode(f"{literal} AS v")) == {"v": text}


SUPPORTED_VALUES = {
    # DuckDB type -> hypothesis strategy for a value of it, passed as a bound parameter
    "BIGINT": st.integers(-(2**63), 2**63 - 1),
    "HUGEINT": st.integers(-(2**127), 2**127 - 1),
    "UTINYINT": st.integers(0, 255),
    "DOUBLE": st.floats(allow_nan=True, allow_infinity=True),
    "FLOAT": st.floats(width=32, allow_nan=False, allow_infinity=False),
    "DECIMAL(18, 3)": st.decimals(
        min_value=-(10**14), max_value=10**14, places=3, allow_nan=False, allow_infinity=False
    ),
    "VARCHAR": st.text().filter(lambda text: "\x00" not in text),
    "BOOLEAN": st.booleans(),
    "DATE": st.dates(min_value=__import__("datetime").date(1, 1, 1)),
    "TIMESTAMP": st.datetimes(min_value=__import__("datetime").datetime(1, 1, 1)),
    "TIME": st.times(),
    "UUID": st.uuids().map(str),
}


@pytest.mark.parametrize("type_name", sorted(SUPPORTED_VALUES))
def test_python_encoding_of_small_answers_matches_duckdb(type_name):
    """Small answers are encoded in Python (row_encoding): the JSON must mean exactly what DuckDB writes."""
    from decimal import Decimal

    from project.encoding.rows import row_encoder

    connection = duckdb.connect()

    @settings(max_examples=60, deadline=None)
    @given(SUPPORTED_VALUES[type_name])
    def check(value):
        sql = f'SELECT CAST($1 AS {type_name}) AS v, NULL::INTEGER AS "n""q"'
        relation = connection.sql(sql, params=[value])
        encoder = row_encoder(relation.columns, relation.types)
        assert encoder is not None
        by_python = encoder(connection.execute(sql, [value]).fetchone())
        by_duckdb = connection.execute(
            json_rows_sql(sql, relation.columns, relation.types), [value]
        ).fetchone()[0]
        assert json.loads(by_python, parse_float=Decimal) == json.loads(by_duckdb, parse_float=Decimal)

    check()


@pytest.mark.parametrize(
    "type_name",
    [
        "INTERVAL",
        "BLOB",
        "INTEGER[]",
        "STRUCT(a INTEGER)",
        "TIMESTAMP_NS",
        "TIMESTAMPTZ",
        "MAP(VARCHAR, INTEGER)",
    ],
)
def test_types_python_cannot_encode_exactly_stay_with_duckdb(type_name):
    from project.encoding.rows import row_encoder

    relation = duckdb.connect().sql(f"SELECT NULL::{type_name} AS v")
    assert row_encoder(relation.columns, relation.types) is None
