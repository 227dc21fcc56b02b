"""What stops a running query from outside: its deadline, and its caller hanging up.

A guard lives from the query's start to the end of its stream (not just its first batch), so a slow reader
or a long tail cannot outlive the timeout; an interrupt between fetches makes the next fetch fail.
DuckDB forgets an interrupt that comes before its query has started (the guard is set up just before the
query starts), so once stopped, a query is interrupted again every REPEAT_SECONDS until its stream ends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from project.engines.interface import Session
from project.engines.watchdog import Watchdog

log = logging.getLogger("sluice.query")

DISCONNECT_POLL_SECONDS = 0.5  # how often a running query checks that its caller is still there
REPEAT_SECONDS = 0.1  # how often a stopped query is interrupted again until its stream ends


class QueryGuard:
    """The deadline and the disconnect poll of one query; `cancel()` when its stream ends."""

    def __init__(
        self,
        watchdog: Watchdog,
        session: Session,
        timeout: float,
        client_gone: Callable[[], bool] | None = None,
    ) -> None:
        self._watchdog, self._session = watchdog, session
        self._lock = threading.Lock()
        self._cancelled = False
        self._repeat: int | None = None  # the next repeated interrupt, once the query is stopped
        self._tokens: list[int] = []
        if timeout > 0:
            self._tokens.append(watchdog.watch(timeout, self._stop))
        if client_gone is not None:
            self._tokens.append(watchdog.poll(DISCONNECT_POLL_SECONDS, client_gone, self._caller_left))

    def _caller_left(self) -> None:
        log.info("the caller disconnected: interrupting its query")
        self._stop()

    def _stop(self) -> None:
        """Interrupt the query, and again later, until the stream ends (cancel)."""
        self._session.interrupt()
        with self._lock:
            if not self._cancelled:
                self._repeat = self._watchdog.watch(REPEAT_SECONDS, self._stop)

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            tokens = self._tokens + ([] if self._repeat is None else [self._repeat])
        for token in tokens:
            self._watchdog.cancel(token)
