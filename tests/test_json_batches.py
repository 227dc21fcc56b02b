"""JSON and NDJSON answers as batches of text (SPEC §3.4, §3.5): DuckDB writes each row with its separator,
read as Arrow batches whose string data is the batch's text. The text must be exactly DuckDB's row JSON laid
end to end, at every batch edge, for every type, and errors must still keep their meaning."""

from __future__ import annotations

import json
import socket
import urllib.request

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from project.encoding.bulk import json_rows_sql, text_of_batch
from project.engines.interface import JsonText, joined_json_text, json_text_of
from tests.conftest import BASE_URL, PROJECTS, assert_error, start_gunicorn, stop

BATCH = 4
# Every row a different mix of the types whose JSON DuckDB is told how to write (SPEC §3.4), so batches of
# any size cut through all of them.
MIXED = """
SELECT i,
       CASE WHEN i % 5 = 0 THEN NULL ELSE i * 1000000007::HUGEINT * 1000000007 * 1000000007 END AS huge,
       (i / 7)::DECIMAL(38, 9) AS exact,
       CASE i % 4 WHEN 0 THEN 'nan'::DOUBLE WHEN 1 THEN 'inf'::DOUBLE WHEN 2 THEN i / 3 ELSE -0.0 END AS d,
       (i / 3)::FLOAT AS f,
       TIMESTAMP '2024-01-01' + to_microseconds(i * 1234567) AS ts,
       TIMESTAMPTZ '2024-01-01 00:00:00+02' + to_seconds(i) AS tstz,
       TIME '00:00:00' + to_microseconds(i * 100) AS t,
       to_days(i) + to_milliseconds(i) AS gap,
       ('q"' || i || E'\\\\ \\n é')::VARCHAR AS s,
       [i, NULL, i + 1] AS list,
       {'when': TIMESTAMP '2020-01-01' + to_seconds(i), 'x': CASE WHEN i % 2 = 0 THEN 'nan'::DOUBLE END} AS st,
       CASE WHEN i % 3 = 0 THEN NULL ELSE {'a': i::FLOAT} END AS maybe,
       MAP {'k' || i: TIMESTAMP '2021-06-01' + to_seconds(i)} AS m,
       (i % 2 = 0) AS even
FROM range(?) AS t(i) ORDER BY i
"""


@pytest.fixture(scope="module")
def engine(empty_database):
    return empty_database


def reference_rows(engine, sql: str, params: list) -> list[str]:
    """Each row as DuckDB writes it alone (`json_rows_sql`), in order."""
    cursor = engine.cursor()
    try:
        relation = cursor.sql(sql, params=params)
        wrapped = json_rows_sql(sql, relation.columns, relation.types)
        return [row for (row,) in cursor.execute(wrapped, params).fetchall()]
    finally:
        engine.close_cursor(cursor)


def answer_text(engine, sql: str, params: list, lines: bool, batch: int) -> tuple[list[JsonText], bytes]:
    """Every batch of a session's JSON text, and the batches laid end to end."""
    session = engine.session()
    try:
        read = session.json_text(sql, params, lines, batch)
        batches = []
        while (text := read()) is not None:
            batches.append(text)
        assert read() is None  # the end stays the end
    finally:
        session.close()
    return batches, b"".join(text.text for text in batches)


def laid_out(rows: list[str], lines: bool) -> bytes:
    return "".join(row + "\n" if lines else "," + row for row in rows).encode()


@pytest.mark.parametrize("lines", [False, True], ids=["json", "ndjson"])
@pytest.mark.parametrize("batch", [1, 2, 3, 7, 2048])
def test_every_type_is_written_exactly_at_every_batch_edge(engine, batch, lines):
    rows = reference_rows(engine, MIXED, [23])
    batches, text = answer_text(engine, MIXED, [23], lines, batch)
    assert text == laid_out(rows, lines)
    assert sum(part.rows for part in batches) == 23
    assert all(part.rows <= batch for part in batches)
    values = [json.loads(row) for row in rows]
    assert values[0]["d"] is None and values[1]["d"] is None  # NaN and infinity
    assert values[1]["huge"] == 1000000007**3 and values[7]["exact"] == 1


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 260), min_size=1, max_size=4),
    batch=st.integers(1, 70),
    lines=st.booleans(),
)
def test_any_sequence_of_answers_is_every_row_exactly(engine, sizes, batch, lines):
    """Whatever each answer's size and the batch size, and whichever way the small-answer hint goes between
    answers (Python for small answers, DuckDB's text for the rest): the rows DuckDB writes, end to end."""
    sql = (
        f"SELECT range AS n, 'r' || range AS label, range / 8 AS part FROM range(?) AS t_{batch}_{len(sizes)}"
    )
    for size in sizes:
        batches, text = answer_text(engine, sql, [size], lines, batch)
        assert sum(part.rows for part in batches) == size and all(part.rows for part in batches)
        assert text == laid_out(reference_rows(engine, sql, [size]), lines)


@pytest.mark.parametrize(
    "values, lines, expected",
    [
        (["{}"], False, b",{}"),
        (["{}", '{"a":1}'], False, b',{},{"a":1}'),
        (["{}"], True, b"{}\n"),
        (["{}", '{"a":1}'], True, b'{}\n{"a":1}\n'),
    ],
)
def test_python_rows_are_laid_out_as_duckdb_lays_them(values, lines, expected):
    assert json_text_of(values, lines) == JsonText(len(values), expected)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 9])
def test_rows_from_another_engine_come_in_batches_until_a_short_fetch(size):
    rows = [f'{{"n":{n}}}' for n in range(size)]
    asked: list[int] = []

    def fetch(count: int) -> list[str]:
        asked.append(count)
        taken, rows[:count] = rows[:count], []
        return taken

    read = joined_json_text(fetch, False, 2)
    texts = list(iter(read, None))
    assert b"".join(text.text for text in texts) == "".join(f',{{"n":{n}}}' for n in range(size)).encode()
    assert [text.rows for text in texts] == [2] * (size // 2) + ([1] if size % 2 else [])
    assert read() is None and set(asked) == {2}


@pytest.mark.parametrize(
    "array",
    [
        pa.array(["ab", "", "c"]),
        pa.array(["ab", "c"], pa.large_string()),
        pa.array(["x", "yz", "w"]).slice(1, 2),
        pa.array(["é", "ü"], pa.string_view()),
        pa.array(["a", None, "b"]),
        pa.array([], pa.string()),
    ],
)
def test_a_batch_text_is_its_strings_end_to_end(array):
    batch = pa.RecordBatch.from_arrays([array], ["text"])
    assert text_of_batch(batch) == "".join(value or "" for value in array.to_pylist()).encode()


# Through HTTP: the whole answer, with batches of BATCH rows.


@pytest.fixture(scope="module")
def client(project_client):
    return project_client("json_batches", batch_rows=BATCH, cache_bytes=0)


def expected_rows(count: int) -> list[dict]:
    return [{"n": n, "label": f"row {n}", "quarter": n / 4} for n in range(count)]


EDGES = [0, 1, BATCH - 1, BATCH, BATCH + 1, 2 * BATCH, 2 * BATCH + 1, 101, 1000, 0, 1, BATCH - 1, BATCH]


@pytest.mark.parametrize("format_name", ["json", "ndjson"])
def test_answers_of_any_size_around_the_batch_edges(client, format_name):
    """In this order, the sizes take the small-answer hint both ways (101 and 1000 rows: DuckDB's text)."""
    for count in EDGES:
        response = client.get(f"{BASE_URL}rows.{format_name}?count={count}")
        assert response.status_code == 200, response.get_data()
        body = response.get_data(as_text=True)
        if format_name == "json":
            assert json.loads(body) == expected_rows(count), count
            assert body.startswith("[") and body.endswith("]") and ",," not in body
        else:
            assert [json.loads(line) for line in body.splitlines()] == expected_rows(count), count
            assert body == "" if count == 0 else body.endswith("}\n")


@pytest.mark.parametrize("format_name", ["json", "ndjson", "csv", "parquet", "arrow"])
def test_an_error_in_the_first_batches_is_still_a_400(client, format_name):
    """The answer is read up to its row cap + 1 before the status goes out: a failure at row 5000 (after
    DuckDB's first chunk, so reported through the Arrow stream as an OSError) is the query's error."""
    response = client.get(f"{BASE_URL}fails_at.{format_name}?at=5000")
    assert_error(response, 400, "Could not convert string 'not a number' to INT32")


def test_the_row_cap_counts_the_rows_of_every_batch(client):
    assert len(client.get(f"{BASE_URL}capped?count=50").get_json()) == 50
    message = "result cap exceeded: returned more than 50 rows"
    assert_error(client.get(f"{BASE_URL}capped?count=51"), 400, message)
    assert_error(client.get(f"{BASE_URL}capped.ndjson?count=5000"), 400, message)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_callers_hanging_up_mid_answer_leave_the_server_whole(tmp_path, threads):
    """Under the shipped gunicorn configuration, with DuckDB on one thread or two: answers abandoned halfway
    (the cursor closes under a pending Arrow stream) leave every worker serving whole answers."""
    process, port = start_gunicorn(
        tmp_path, PROJECTS / "json_batches", "-w", "1", env={"SLUICE_DUCKDB_THREADS": threads}
    )
    try:
        for taken in (1, 1 << 16, 1 << 20):
            with socket.create_connection(("127.0.0.1", port), timeout=60) as caller:
                caller.sendall(f"GET {BASE_URL}rows?count=2000000 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                received = 0
                while received < taken:
                    received += len(caller.recv(1 << 16))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{BASE_URL}rows.ndjson?count=30000") as response:
            lines = response.read().splitlines()
        assert sorted(json.loads(line)["n"] for line in lines) == list(range(30000))
    finally:
        stop(process)
