"""The engine interface over DuckDB: rows, Arrow batches, JSON rows and columns from one session."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from project.encoding.values import encode_value, json_row_encoder

SQL = "SELECT range AS id, range * 1.5 AS half, 'r' || range AS label FROM range(5) WHERE range >= ?"


@pytest.fixture(scope="module")
def engine(empty_database):
    return empty_database


def test_rows_stream_in_batches(engine):
    session = engine.session()
    try:
        result = session.execute(SQL, [1])
        assert [column.name for column in result.columns] == ["id", "half", "label"]
        assert result.fetch_rows(3) == [
            (1, Decimal("1.5"), "r1"),
            (2, Decimal("3.0"), "r2"),
            (3, Decimal("4.5"), "r3"),
        ]
        assert result.fetch_rows(3) == [(4, Decimal("6.0"), "r4")]
    finally:
        session.close()


def test_arrow_batches_hold_every_row(engine):
    session = engine.session()
    try:
        batches = list(session.execute(SQL, [0]).arrow_batches(2))
    finally:
        session.close()
    assert sum(batch.num_rows for batch in batches) == 5
    assert batches[0].schema.names == ["id", "half", "label"]


def test_json_rows_and_described_columns(engine):
    session = engine.session()
    try:
        columns, fetch = session.json_rows(SQL, [3])
        rows = fetch(10)
        described = session.describe(SQL, [3])
    finally:
        session.close()
    assert [json.loads(row) for row in rows] == [
        {"id": 3, "half": 4.5, "label": "r3"},
        {"id": 4, "half": 6.0, "label": "r4"},
    ]
    assert [(column.name, column.type) for column in described] == [
        ("id", "BIGINT"),
        ("half", "DECIMAL(21,1)"),
        ("label", "VARCHAR"),
    ]
    assert columns == described


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, "null"),
        (True, "true"),
        (2**70, str(2**70)),
        (1.25, "1.25"),
        (float("nan"), "null"),
        (float("-inf"), "null"),
        (Decimal("12345678901234567890.123400"), "12345678901234567890.123400"),
        (Decimal("NaN"), "null"),
        ("back\\slash 'q' \"d\"", json.dumps("back\\slash 'q' \"d\"")),
        (date(1983, 3, 8), '"1983-03-08"'),
        (datetime(2022, 1, 1, 14, 49, 50, 459000), '"2022-01-01T14:49:50.459Z"'),
        (datetime(2023, 9, 12, 14, 46, 55, tzinfo=timezone(timedelta(hours=2))), '"2023-09-12T12:46:55Z"'),
        (datetime(2023, 9, 12, 12, 46, 55, tzinfo=UTC), '"2023-09-12T12:46:55Z"'),
        (time(12, 35, 0, 500000), '"0001-01-01T12:35:00.5Z"'),
        (timedelta(days=2, seconds=3), "172803000"),
        (-timedelta(microseconds=1500), "-1"),
        (b"ab", '"YWI="'),
        ([1, None, "x"], '[1,null,"x"]'),
        ({"a": [Decimal("1.50")]}, '{"a":[1.50]}'),
    ],
)
def test_values_encode_as_duckdb_answers_do(value, expected):
    assert encode_value(value) == expected


def test_row_encoder_keeps_column_order():
    encode = json_row_encoder(["b", "a"])
    assert encode((1, None)) == '{"b":1,"a":null}'


def _json_answer(engine, sql, params, batch=64):
    session = engine.session()
    try:
        _, fetch = session.json_rows(sql, params)
        rows: list[str] = []
        while batch_rows := fetch(batch):
            rows.extend(batch_rows)
            if len(batch_rows) < batch:
                break
        return [json.loads(row) for row in rows]
    finally:
        session.close()


@pytest.mark.parametrize("sizes", [[3, 5000, 3, 7], [1, 101, 100, 102, 0], [5000, 2, 5000], [2, 50, 100, 1]])
def test_a_query_known_small_still_answers_whole_when_its_answer_grows(engine, sizes):
    """The small-answer hint is per SQL text, not per value: an answer that outgrows it is still every row
    (encoded by DuckDB), and a query once large is never encoded in Python again (that took seconds)."""
    sql = f"SELECT range AS id, 'r' || range AS label FROM range(?) AS case_{'_'.join(map(str, sizes))}"
    cursor = engine.cursor()
    described = engine.describe(cursor, sql, [0])
    engine.close_cursor(cursor)
    for size in sizes:
        assert _json_answer(engine, sql, [size]) == [{"id": n, "label": f"r{n}"} for n in range(size)]
        if size > 100:
            assert described.large and not described.small
    assert described.small is (max(sizes) <= 100)
