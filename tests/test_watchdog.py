"""The watchdog calls back once a deadline passes, never for a cancelled one, and serves many deadlines; a
query guard on it interrupts a real DuckDB query at its deadline or once its caller has gone.

Time is a test clock the tests move themselves: the real watchdog thread sleeps on it, and `advance` returns
once the thread has run every callback that came due and is asleep again, so no test waits for real time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import duckdb
import pytest

from project.engines.guard import DISCONNECT_POLL_SECONDS, REPEAT_SECONDS, QueryGuard
from project.engines.watchdog import Watchdog
from project.errors import QueryTimeoutError

HANG_GUARD_SECONDS = 60  # only a watchdog thread that never sleeps again (a deadlock) takes this long
ENDLESS = "SELECT range AS n FROM range(1000000000000)"  # only an interrupt ends it


class ManualClock:
    """Monotonic time that moves only when a test says so; the watchdogs on it sleep until `advance`."""

    def __init__(self, now: float = 1000.0) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._known: set[threading.Condition] = set()  # the conditions of the watchdogs using this clock
        self._asleep: dict[threading.Condition, float] = {}  # who sleeps now (since the last advance): until

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def wait_until(self, condition: threading.Condition, deadline: float) -> None:
        """The watchdog's sleep (it holds `condition`): until notified, unless the deadline has come."""
        with self._lock:
            if self._now >= deadline:
                return
            self._known.add(condition)
            self._asleep[condition] = deadline
            self._changed.notify_all()
        condition.wait()
        with self._lock:
            self._asleep.pop(condition, None)

    def advance(self, seconds: float) -> None:
        """Move time on, wake every watchdog and return once each has run what came due and sleeps again."""
        with self._lock:
            self._now += seconds
            self._asleep.clear()
            known = list(self._known)
        for condition in known:
            with condition:
                condition.notify_all()
        self._wait_for(lambda: bool(self._known) and self._asleep.keys() == self._known)

    def wait_for_sleep_until(self, seconds_from_now: float) -> None:
        """Return once a watchdog sleeps until that time: woken by something other than the clock."""
        self._wait_for(lambda: self._now + seconds_from_now in self._asleep.values())

    def _wait_for(self, settled: Callable[[], bool]) -> None:
        with self._lock:
            assert self._changed.wait_for(settled, HANG_GUARD_SECONDS), (
                "the watchdog thread did not sleep again"
            )


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def watchdog(clock):
    watchdog = Watchdog(clock, clock.wait_until)
    yield watchdog
    watchdog.stop()


def test_deadlines_fire_in_order_and_cancelled_ones_never_do(clock, watchdog):
    fired: list[str] = []
    watchdog.watch(30, lambda: fired.append("late"))
    cancelled = watchdog.watch(1, lambda: fired.append("cancelled"))
    watchdog.watch(2, lambda: fired.append("first"))
    watchdog.watch(3, lambda: fired.append("second"))
    watchdog.cancel(cancelled)
    clock.advance(1)
    assert fired == []
    clock.advance(1)  # exactly at the deadline
    assert fired == ["first"]
    clock.advance(1)
    assert fired == ["first", "second"]
    clock.advance(26)
    assert fired == ["first", "second"]
    clock.advance(1)
    assert fired == ["first", "second", "late"]


def test_a_deadline_fires_once_whatever_time_does_after(clock, watchdog):
    fired: list[str] = []
    watchdog.watch(1, lambda: fired.append("once"))
    for _ in range(3):
        clock.advance(5)
    assert fired == ["once"]


def test_a_nearer_deadline_wakes_a_thread_sleeping_until_a_far_one(clock, watchdog):
    fired: list[str] = []
    watchdog.watch(100, lambda: fired.append("far"))
    clock.wait_for_sleep_until(100)
    watchdog.watch(2, lambda: fired.append("near"))
    clock.wait_for_sleep_until(2)  # not the clock: watch() itself woke the thread to sleep less
    clock.advance(2)
    assert fired == ["near"]


def test_a_poll_acts_once_its_condition_holds_and_a_cancelled_poll_is_not_asked_again(clock, watchdog):
    asked: list[str] = []
    answers = iter([False, False, False, True])
    tokens: list[int] = []

    def cancelling_itself() -> bool:
        asked.append("cancelled")
        watchdog.cancel(tokens[0])
        return False

    def live() -> bool:
        asked.append("live")
        return next(answers)

    tokens.append(watchdog.poll(1, cancelling_itself, lambda: asked.append("acted on the cancelled")))
    watchdog.poll(1, live, lambda: asked.append("acted"))
    clock.advance(0.5)
    assert asked == []
    for _ in range(6):
        clock.advance(1)
    assert asked.count("live") == 4 and asked.count("cancelled") == 1
    assert asked[-1] == "acted" and asked.count("acted") == 1 and "acted on the cancelled" not in asked


def test_a_failing_callback_does_not_stop_later_deadlines(clock, watchdog):
    fired: list[str] = []
    watchdog.watch(1, lambda: {}["a callback that fails"])
    watchdog.watch(2, lambda: fired.append("later"))
    clock.advance(1)
    clock.advance(1)
    assert fired == ["later"]


# The guard over a real DuckDB query: a streaming answer is running between fetches, so an interrupt there
# makes a later fetch fail (DuckDB forgets an interrupt that comes before its query starts).


@pytest.fixture
def running(empty_database):
    """A session whose endless query has started and delivered its first rows; its fetch function."""
    session = empty_database.session()
    _, fetch = session.json_rows(ENDLESS, [])
    assert fetch(10) == [f'{{"n":{n}}}' for n in range(10)]
    yield session, fetch
    session.close()


def fetch_until_stopped(session, fetch, timeout: float) -> BaseException:
    """Fetch on until the query fails (an interrupted query fails within the rows DuckDB has buffered); the
    error as the engine reports it."""
    with pytest.raises(duckdb.InterruptException) as raised:
        for _ in range(10_000):
            fetch(2048)
    return session.translate_error(raised.value, timeout)


def test_the_guard_interrupts_a_running_query_at_its_deadline(clock, watchdog, running):
    session, fetch = running
    guard = QueryGuard(watchdog, session, 5)
    clock.advance(4.5)
    assert len(fetch(2048)) == 2048  # before the deadline the answer streams on
    clock.advance(0.5)
    error = fetch_until_stopped(session, fetch, 5)
    guard.cancel()
    assert isinstance(error, QueryTimeoutError) and str(error) == "query timed out after 5 s"


def test_the_guard_interrupts_a_query_whose_caller_has_gone(clock, watchdog, running):
    session, fetch = running
    gone = threading.Event()
    guard = QueryGuard(watchdog, session, 0, gone.is_set)
    for _ in range(3):
        clock.advance(DISCONNECT_POLL_SECONDS)
        assert len(fetch(2048)) == 2048  # the caller is still there
    gone.set()
    clock.advance(DISCONNECT_POLL_SECONDS)
    fetch_until_stopped(session, fetch, 0)
    guard.cancel()


def test_a_cancelled_guard_leaves_the_query_alone(clock, watchdog, running):
    session, fetch = running
    QueryGuard(watchdog, session, 5, lambda: True).cancel()
    clock.advance(60)
    for _ in range(3):
        assert len(fetch(2048)) == 2048


def test_a_deadline_that_passes_before_the_query_starts_still_stops_it(clock, watchdog, empty_database):
    session = empty_database.session()
    try:
        guard = QueryGuard(watchdog, session, 5)
        clock.advance(5)  # the interrupt comes while no query runs yet: DuckDB forgets it
        _, fetch = session.json_rows(ENDLESS, [])
        assert len(fetch(2048)) == 2048
        clock.advance(REPEAT_SECONDS)  # the guard interrupts again until its stream ends
        error = fetch_until_stopped(session, fetch, 5)
        guard.cancel()
        assert isinstance(error, QueryTimeoutError)
    finally:
        session.close()


def test_a_stopped_query_is_interrupted_again_until_its_guard_is_cancelled(clock, watchdog, running):
    session, fetch = running
    guard = QueryGuard(watchdog, session, 1)
    clock.advance(1)
    fetch_until_stopped(session, fetch, 1)
    guard.cancel()
    _, fetch = session.json_rows(ENDLESS, [])  # the session's next query, after the stream ended
    clock.advance(REPEAT_SECONDS * 10)
    for _ in range(3):
        assert len(fetch(2048)) == 2048
