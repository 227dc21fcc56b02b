"""One record per request (its id, the API it ran, rows, timings), logged as one line once the answer is sent.

The line never holds a token, a query string or an argument value: only the method, the path, the API name,
the status, the counts, the duration, the request id and the client's address (the one a trusted proxy
forwarded, when `proxy_hops` says how many proxies to trust).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from serving.logs import one_line

log = logging.getLogger("sluice.request")

REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_LINE = "%s %s %d api=%s rows=%s bytes=%d duration_ms=%.2f request_id=%s client=%s"
ENVIRON_KEY = "sluice.request"
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")  # anything else is replaced, not echoed


@dataclass
class RequestRecord:
    """What one request did, filled in by the handlers as they learn it."""

    request_id: str
    method: str
    path: str
    client: str = "-"
    started: float = field(default_factory=time.perf_counter)
    api: str | None = None
    rows: Callable[[], int] | None = None  # rows sent so far (a streamed answer counts as it goes)
    timings: dict[str, float] = field(default_factory=dict)  # Server-Timing phases, in milliseconds

    def duration_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 2)

    def server_timing(self) -> str:
        """The `Server-Timing` header value for the phases measured so far."""
        return ", ".join(f"{name};dur={value:.2f}" for name, value in self.timings.items())


def request_id(header: str | None) -> str:
    """The caller's X-Request-Id when it is a sane token, else a fresh one."""
    if header and SAFE_REQUEST_ID.fullmatch(header):
        return header
    # 32 hex digits, as a UUID's, without its fixed bits (and at a third of its cost)
    return secrets.token_hex(16)


def new_record(environ: dict) -> RequestRecord:
    record = RequestRecord(
        request_id(environ.get("HTTP_X_REQUEST_ID")),
        environ.get("REQUEST_METHOD", "-"),
        _text(environ.get("PATH_INFO", "")) or "/",
        environ.get("REMOTE_ADDR") or "-",
    )
    environ[ENVIRON_KEY] = record
    return record


def _text(wsgi_string: str) -> str:
    """A WSGI string (the request's bytes, one character each) as the text the caller meant: UTF-8, with
    U+FFFD for bytes that are not."""
    return wsgi_string.encode("latin-1", "replace").decode("utf-8", "replace")


def record_of(environ: dict) -> RequestRecord:
    """The request's record (a bare one when the app is called without going through Sluice.__call__)."""
    record = environ.get(ENVIRON_KEY)
    return record if record is not None else new_record(environ)


def log_request(record: RequestRecord, status: int, sent: int, rows: int | None, duration_ms: float) -> None:
    """The request line: plain `METHOD path status key=value ...`; with the JSON format, also as fields."""
    level = logging.WARNING if status >= 500 else logging.INFO
    if not log.isEnabledFor(level):
        return
    fields = {
        "request_id": record.request_id,
        "method": record.method,
        "path": record.path,
        "api": record.api,
        "status": status,
        "rows": rows,
        "bytes": sent,
        "duration_ms": duration_ms,
        "client": record.client,
    }
    args = (
        # the caller's values, as one line even where the host's formatter prints them
        one_line(record.method),
        one_line(record.path),
        status,
        one_line(record.api or "-"),
        "-" if rows is None else rows,
        sent,
        duration_ms,
        record.request_id,
        one_line(record.client),
    )
    # made here, not by log.log(), which would look up the calling line in the stack on every request
    line = log.makeRecord(log.name, level, __file__, 0, REQUEST_LINE, args, None, "log_request", fields)
    log.handle(line)


class SentBody:
    """The body as the server sends it: counts bytes, and calls `on_close(bytes)` once when the server closes it."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[int], None]) -> None:
        self._body = body
        self._on_close: Callable[[int], None] | None = on_close
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self.sent += len(chunk)
            yield chunk

    def close(self) -> None:
        on_close, self._on_close = self._on_close, None
        if on_close is None:
            return
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            on_close(self.sent)
