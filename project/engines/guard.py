"""What stops a running query from outside: its deadline, and its caller hanging up.

A guard lives from the query's start to the end of its stream (not just its first batch), so a slow reader
or a long tail cannot outlive the timeout; an interrupt between fetches makes the next fetch fail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from project.engines.interface import Session
from project.engines.watchdog import Watchdog

log = logging.getLogger("sluice.query")

DISCONNECT_POLL_SECONDS = 0.5  # how often a running query checks that its caller is still there


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
        self._tokens: list[int] = []
        if timeout > 0:
            self._tokens.append(watchdog.watch(timeout, session.interrupt))
        if client_gone is not None:
            self._tokens.append(watchdog.poll(DISCONNECT_POLL_SECONDS, client_gone, self._caller_left))

    def _caller_left(self) -> None:
        log.info("the caller disconnected: interrupting its query")
        self._session.interrupt()

    def cancel(self) -> None:
        for token in self._tokens:
            self._watchdog.cancel(token)
