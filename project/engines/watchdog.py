"""Query deadlines: one thread per process interrupts queries that run past their timeout.

Starting a timer thread per request costs about a millisecond; registering a deadline here costs microseconds.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from collections.abc import Callable


class Watchdog:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._deadlines: dict[int, tuple[float, Callable[[], None]]] = {}
        self._tokens = itertools.count()
        self._owner_pid: int | None = None
        self._wakes_at = math.inf  # when the thread wakes next: only an earlier deadline needs to wake it
        self._stopped = False

    def watch(self, seconds: float, on_timeout: Callable[[], None]) -> int:
        """Call `on_timeout` once `seconds` have passed, unless cancelled first; returns the cancel token."""
        token = next(self._tokens)
        deadline = time.monotonic() + seconds
        with self._condition:
            self._deadlines[token] = (deadline, on_timeout)
            self._ensure_thread()
            if deadline < self._wakes_at:
                self._wakes_at = deadline
                self._condition.notify()
        return token

    def cancel(self, token: int) -> None:
        with self._condition:
            self._deadlines.pop(token, None)

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
                    wait = None if self._wakes_at == math.inf else max(self._wakes_at - time.monotonic(), 0)
                    self._condition.wait(wait)
                    continue
            for on_timeout in due:
                on_timeout()

    def _pop_due(self) -> list[Callable[[], None]]:
        now = time.monotonic()
        due = [token for token, (deadline, _) in self._deadlines.items() if deadline <= now]
        return [self._deadlines.pop(token)[1] for token in due]
