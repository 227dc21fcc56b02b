"""DuckDB cursors given back and reused by the next request: whatever the request before did with its cursor
(an error, a timeout, a stream read halfway, an interrupt that came late), the next one gets a right answer."""

from __future__ import annotations

import threading
import time

import pytest

from project.engines.duckdb import IDLE_CURSORS_KEPT, Database
from tests.conftest import open_empty_database

SLOW = "SELECT sum(range % 7) AS total FROM range(200000000)"  # about a second on one thread
SLOW_TOTAL = 599999994


@pytest.fixture
def database(tmp_path):
    database = open_empty_database(tmp_path, threads=1)  # of its own: tests here close it
    yield database
    database.close()


def answer(database: Database, sql: str = "SELECT 42 AS n", params: list | None = None) -> list[tuple]:
    session = database.session()
    try:
        result = session.execute(sql, params or [])
        rows, batch = [], result.fetch_rows(1000)
        while batch:
            rows.extend(batch)
            batch = result.fetch_rows(1000)
        return rows
    finally:
        session.close()


def test_a_cursor_given_back_serves_the_next_request(database):
    first = database.session()
    cursor = first.cursor
    first.close()
    second = database.session()
    assert second.cursor is cursor
    second.close()
    assert answer(database) == [(42,)]


# Each leaves its session closed and returns what it read with, still alive (as an answer's stream object can
# outlive its session until the server lets go of it).


def half_read_arrow(database: Database) -> object:
    session = database.session()
    reader = session.arrow_reader("SELECT * FROM range(100000)", [], "arrow", 1000)
    reader.read_next_batch()
    session.close()
    return reader


def half_read_arrow_batches(database: Database) -> object:
    session = database.session()
    batches = iter(session.execute("SELECT * FROM range(100000)", []).arrow_batches(1000))
    next(batches)
    session.close()
    return batches


def half_read_json_text(database: Database) -> object:
    session = database.session()
    fetch = session.json_text("SELECT range AS n FROM range(100000)", [], False, 1000)
    fetch()
    session.close()
    return fetch


def half_read_rows(database: Database) -> object:
    session = database.session()
    result = session.execute("SELECT * FROM range(100000)", [])
    result.fetch_rows(10)
    session.close()
    return result


def half_read_rule(database: Database) -> object:
    """A security rule's query reads one row of its result."""
    cursor = database.cursor()
    result = cursor.execute("SELECT range > 5 FROM range(100000)")
    result.fetchone()
    database.close_cursor(cursor)
    return result


def failed_query(database: Database) -> object:
    session = database.session()
    with pytest.raises(Exception, match="nope"):
        session.execute("SELECT * FROM nope", []).fetch_rows(10)
    session.close()
    return session


def interrupted_query(database: Database) -> object:
    session = database.session()
    threading.Timer(0.2, session.interrupt).start()
    with pytest.raises(Exception, match="Interrupted"):
        session.execute(SLOW, []).fetch_rows(1)
    session.close()
    return session


@pytest.mark.parametrize(
    "before",
    [
        half_read_arrow,
        half_read_arrow_batches,
        half_read_json_text,
        half_read_rows,
        half_read_rule,
        failed_query,
        interrupted_query,
    ],
)
def test_the_next_request_answers_whatever_the_one_before_left(database, before):
    """An Arrow stream left open makes DuckDB refuse the cursor's next query: such a cursor is not reused."""
    left = []
    for number in range(3):
        left.append(before(database))
        assert next_requests_answer(database, number)


def next_requests_answer(database: Database, number: int) -> bool:
    """Each way a request uses its cursor: Arrow (first: DuckDB refuses it after a result of execute() left
    unfinished), rows, a query seen for the first time (described), Python's small JSON, DuckDB's JSON text."""
    session = database.session()
    try:
        reader = session.arrow_reader(f"SELECT range AS a{number} FROM range(10)", [], "arrow", 1000)
        assert reader.read_all().num_rows == 10
    finally:
        session.close()
    assert answer(database, "SELECT ? + 1 AS n", [41]) == [(42,)]
    assert answer(database, f"SELECT ? + {number} AS n", [1]) == [(1 + number,)]
    session = database.session()
    try:
        columns, fetch = session.json_rows(f"SELECT range AS n{number} FROM range(3)", [])
        assert [column.name for column in columns] == [f"n{number}"] and len(fetch(10)) == 3
    finally:
        session.close()
    session = database.session()
    try:
        text = session.json_text(f"SELECT range AS t{number} FROM range(2000)", [], True, 500)
        assert sum(part.rows for part in iter(text, None)) == 2000
    finally:
        session.close()
    return True


def test_an_interrupt_that_comes_after_its_request_ended_never_reaches_the_next(database):
    """The watchdog may fire just as a request ends; its cursor is by then another request's."""
    late = database.session()
    late.execute("SELECT 1", []).fetch_rows(1)
    late.close()
    answers: list = []
    worker = threading.Thread(target=lambda: answers.append(answer(database, SLOW)))
    worker.start()
    time.sleep(0.3)  # the next request's query runs on the cursor the late one gave back
    late.interrupt()
    worker.join()
    assert answers == [[(SLOW_TOTAL,)]]


def test_cursors_left_idle_are_closed_with_the_database(database):
    sessions = [database.session() for _ in range(IDLE_CURSORS_KEPT + 3)]
    cursors = [session.cursor for session in sessions]
    for session in sessions:
        session.close()
    database.retire()
    assert database.closed
    for cursor in cursors:
        with pytest.raises(Exception, match="closed"):
            cursor.execute("SELECT 1")


def test_a_retired_database_closes_once_its_last_request_gives_its_cursor_back(database):
    idle = database.session()
    idle.close()
    busy = database.session()
    database.retire()
    assert not database.closed
    assert busy.execute("SELECT 7", []).fetch_rows(1) == [(7,)]
    busy.close()
    assert database.closed
    with pytest.raises(Exception, match="closed"):
        idle.cursor.execute("SELECT 1")
