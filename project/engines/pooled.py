"""What the networked engines share: a connection pool per process, a dead connection replaced, errors that
name the connector and never its secrets, and a state for health.

A reused connection that turns out dead (the server restarted) is replaced and the statement retried once:
no row has reached the caller before the first batch is fetched, so the retry is invisible.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from project.engines.interface import Engine, Result, Session
from project.errors import EngineUnavailableError, OverloadedError, QueryError, QueryTimeoutError

log = logging.getLogger("sluice.engines")

URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def redact(text: str, secrets: Sequence[str]) -> str:
    """The text with every secret (and any password in a URL or `password=`) replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = URL_PASSWORD.sub(r"\1***@", text)
    return KEYWORD_PASSWORD.sub(r"\1***", text)


class PooledEngine(Engine):
    """An engine reached over the network through a driver; subclasses connect, run and classify errors."""

    def __init__(
        self, name: str, secrets: Sequence[str], pool_size: int, timeout: float, max_queries: int = 0
    ):
        super().__init__(max_queries)
        self.name = name
        self.path: str | None = None  # the connector file, for messages
        self.timeout = timeout  # the engine's own statement timeout (seconds; 0: none)
        self._secrets = tuple(secret for secret in secrets if secret)
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(pool_size, 1))
        self._state: dict[str, Any] = {"state": "unknown"}
        self._retired = False
        self._probing = threading.Lock()
        self._probed_at = -math.inf  # time.monotonic() of the last probe

    # --- what each driver module provides ---------------------------------------------------------------
    @abstractmethod
    def connect(self) -> Any:
        """A new read-only connection (driver errors propagate)."""

    @abstractmethod
    def open_session(self, connection: Any, reused: bool) -> PooledSession:
        """A session over a connection taken from the pool."""

    @abstractmethod
    def is_disconnect(self, error: BaseException) -> bool:
        """True when the error means the connection (or the server) is gone."""

    @abstractmethod
    def close_connection(self, connection: Any) -> None:
        """Close a connection, ignoring errors."""

    # --- the pool ---------------------------------------------------------------------------------------
    def session(self, wait: float | None = None) -> Session:
        """A pooled connection; waits up to the query timeout for one (`wait` seconds when given)."""
        if wait is None:
            wait = self.timeout if self.timeout > 0 else 30.0
        if not self._slots.acquire(timeout=wait):
            raise OverloadedError(f'all connections of connector "{self.name}" are busy; retry shortly')
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is not None:
            return self.open_session(connection, reused=True)
        try:
            return self.open_session(self.new_connection(), reused=False)
        except BaseException:
            self._slots.release()
            raise

    def new_connection(self) -> Any:
        """Connect, recording the state; EngineUnavailableError (503) naming the connector when it fails."""
        try:
            connection = self.connect()
        except Exception as error:  # noqa: BLE001 - any failure to connect means the engine is unavailable
            raise self.unavailable(error) from None
        self._state = {"state": "ok"}
        return connection

    def give_back(self, connection: Any, reuse: bool) -> None:
        """Return a session's connection to the pool, or close it when it may not be reused."""
        if reuse and not self._retired:
            with self._lock:
                self._idle.append(connection)
        else:
            self.close_connection(connection)
        self._slots.release()

    def unavailable(self, error: BaseException) -> EngineUnavailableError:
        reason = self.describe_error(error)
        self._state = {"state": "down", "error": reason, "since": time.time()}
        log.warning('connector "%s" (%s) is unavailable: %s', self.name, self.driver, reason)
        return EngineUnavailableError(f'connector "{self.name}" ({self.driver}) is unavailable: {reason}')

    def describe_error(self, error: BaseException) -> str:
        """The driver's message, one line, with secrets removed."""
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return redact(text, self._secrets)

    def query_error(self, error: BaseException) -> QueryError:
        return QueryError(redact(self.error_message(error), self._secrets))

    def error_message(self, error: BaseException) -> str:
        return str(error).strip()

    def timed_out(self, timeout: float) -> QueryTimeoutError:
        return QueryTimeoutError(f"query timed out after {timeout:g} s")

    def state(self) -> dict[str, Any]:
        return {"name": self.name, "driver": self.driver, **self._state}

    def probe(self, max_age: float = 0.0) -> dict[str, Any]:
        """Check that the engine answers (health, --check): one short query on a pooled connection, at most
        once per `max_age` seconds (and one at a time) however often health is called. In between, the
        state is the last one seen, which failing queries keep current (a refused connection marks it down)."""
        if time.monotonic() - self._probed_at < max_age or not self._probing.acquire(blocking=False):
            return self.state()
        try:
            if time.monotonic() - self._probed_at < max_age:  # another call probed just before us
                return self.state()
            self._probed_at = time.monotonic()
            return self._probe_now()
        finally:
            self._probing.release()

    def _probe_now(self) -> dict[str, Any]:
        try:
            session = self.session(wait=0)  # every connection busy: the engine answers, keep the last state
        except (EngineUnavailableError, OverloadedError):
            return self.state()
        try:
            session.execute("SELECT 1", self.style.params([])).fetch_rows(1)
            self._state = {"state": "ok"}
        except Exception as error:  # noqa: BLE001 - any failure is the state to report
            self.unavailable(error)
        finally:
            session.close()
        return self.state()

    def retire(self) -> None:
        """A reload replaced this engine: close the idle connections now, the busy ones when given back."""
        self._retired = True
        self.watchdog.stop()  # its thread would otherwise outlive the engine: one more per reload
        self.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            self.close_connection(connection)


class PooledSession(Session):
    """A session holding one pooled connection; retries once on a fresh connection when a reused one is dead."""

    def __init__(self, engine: PooledEngine, connection: Any, reused: bool) -> None:
        self.engine = engine
        self.connection = connection
        self.reused = reused
        self.reusable = True  # false once the connection's state is unknown (abandoned answer, error)
        self.interrupted = False
        self._closed = False

    @abstractmethod
    def run(self, sql: str, params: Sequence[Any] | dict) -> Result:
        """Run the statement on `self.connection`."""

    def execute(self, sql: str, params: Sequence[Any] | dict) -> Result:
        try:
            return self.run(sql, params)
        except Exception as error:
            if not (self.reused and self.engine.is_disconnect(error)) or self.interrupted:
                raise
        self.engine.close_connection(self.connection)  # a dead pooled connection: replace it, once
        self.connection, self.reused = self.engine.new_connection(), False
        return self.run(sql, params)

    def describe(self, sql: str, params: Sequence[Any] | dict) -> list:
        return self.execute(sql, params).columns

    def translate_error(self, error: BaseException, timeout: float) -> BaseException:
        self.reusable = False
        if self.interrupted:
            return self.engine.timed_out(timeout)
        translated = self.classify(error, timeout)
        return translated if translated is not None else error

    @abstractmethod
    def classify(self, error: BaseException, timeout: float) -> BaseException | None:
        """The domain error for a driver error, or None for errors that are not the driver's."""

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.engine.give_back(self.connection, self.finish())

    @abstractmethod
    def finish(self) -> bool:
        """End the statement (abandoning unread rows); True when the connection may be reused."""
