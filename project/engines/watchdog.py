"""Query deadlines: one thread per process interrupts queries that run past their timeout, or whose
caller has gone (a poll that checks the connection now and then).

Starting a timer thread per request costs about a millisecond; registering a deadline here costs microseconds.
Time comes from an injectable clock (monotonic seconds) and the matching way to sleep until a deadline, so a
test can move time itself instead of waiting for it.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger("sluice.watchdog")

Clock = Callable[[], float]  # monotonic seconds
# Block on the held condition until it is notified or the clock reaches the deadline (math.inf: until notified);
# returning early is harmless (the watchdog looks at its deadlines again).
WaitUntil = Callable[[threading.Condition, float], None]


def waiting_on(clock: Clock) -> WaitUntil:
    """How to sleep until a deadline of a clock that runs in real time (`time.monotonic`)."""

    def wait_until(condition: threading.Condition, deadline: float) -> None:
        condition.wait(None if deadline == math.inf else max(deadline - clock(), 0))

    return wait_until


class Watchdog:
    def __init__(self, clock: Clock = time.monotonic, wait_until: WaitUntil | None = None) -> None:
        self._clock = clock
        self._wait_until = wait_until or waiting_on(clock)
        self._condition = threading.Condition()
        self._deadlines: dict[int, tuple[float, Callable[[], None]]] = {}
        self._tokens = itertools.count()
        self._polls: set[int] = set()  # poll tokens not cancelled yet
        self._owner_pid: int | None = None
        self._wakes_at = math.inf  # when the thread wakes next: only an earlier deadline needs to wake it
        self._stopped = False

    def watch(self, seconds: float, on_timeout: Callable[[], None]) -> int:
        """Call `on_timeout` once `seconds` have passed, unless cancelled first; returns the cancel token."""
        token = next(self._tokens)
        self._schedule(token, seconds, on_timeout)
        return token

    def poll(self, seconds: float, condition: Callable[[], bool], action: Callable[[], None]) -> int:
        """Every `seconds`, ask `condition`; the first time it holds, call `action` and stop polling.
        Returns the cancel token."""
        token = next(self._tokens)

        def check() -> None:
            if condition():
                action()
            else:
                self._schedule(token, seconds, check, only_if_live=True)

        with self._condition:
            self._polls.add(token)
        self._schedule(token, seconds, check)
        return token

    def cancel(self, token: int) -> None:
        with self._condition:
            self._deadlines.pop(token, None)
            self._polls.discard(token)

    def _schedule(
        self, token: int, seconds: float, callback: Callable[[], None], only_if_live: bool = False
    ) -> None:
        deadline = self._clock() + seconds
        with self._condition:
            if only_if_live and token not in self._polls:
                return  # cancelled while its check ran
            self._deadlines[token] = (deadline, callback)
            self._ensure_thread()
            if deadline < self._wakes_at:
                self._wakes_at = deadline
                self._condition.notify()

    def stop(self) -> None:
        """End the thread (the database it guards is closed); pending deadlines are dropped."""
        with self._condition:
            self._stopped = True
            self._deadlines.clear()
            self._condition.notify()

    def _ensure_thread(self) -> None:
        # A forked worker (gunicorn --preload) inherits no threads: start one in each process.
        if self._owner_pid != os.getpid():
            self._owner_pid = os.getpid()
            threading.Thread(target=self._run, name="sluice-watchdog", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._condition:
                if self._stopped:
                    return
                due = self._pop_due()
                if not due:
                    self._wakes_at = min(
                        (deadline for deadline, _ in self._deadlines.values()), default=math.inf
                    )
                    self._wait_until(self._condition, self._wakes_at)
                    continue
            for callback in due:
                _call(callback)

    def _pop_due(self) -> list[Callable[[], None]]:
        now = self._clock()
        due = [token for token, (deadline, _) in self._deadlines.items() if deadline <= now]
        return [self._deadlines.pop(token)[1] for token in due]


def _call(callback: Callable[[], None]) -> None:
    """Run one callback; its failure (interrupting a query that just ended) must not stop the thread."""
    try:
        callback()
    except Exception:  # the thread serves every other deadline of the process
        log.debug("watchdog callback failed", exc_info=True)
