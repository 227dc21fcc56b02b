"""The development server (`python server.py`): Werkzeug's threaded server with a request handler whose own
refusals (a request line too long, too many headers, a malformed request line, an HTTP version it does not
speak) answer `{"error": ...}` in JSON like the app's errors, and which bounds the headers of a request."""

from __future__ import annotations

import http.client
import io
import json
import logging
import os
import signal
import threading
from email.message import Message
from http import HTTPStatus
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from handlers.responses import capped

log = logging.getLogger("sluice")

# http.server already refuses a request line or one header line over 64 KiB and more than 100 headers; 100
# lines of 64 KiB would still be 6.4 MB of headers to parse (and an `Accept` that long to negotiate).
MAX_HEADER_BYTES = 64 * 1024
MAX_LINE_BYTES = 65536  # http.server's own limit of one line (request line or header line)
MAX_HEADERS = 100  # http.client's own limit of header lines


class BoundedHead(io.BufferedIOBase):
    """The request's input while its headers are read: refuses once they add up to more than `limit` bytes
    (http.server then answers 431, see send_error)."""

    def __init__(self, rfile: io.BufferedIOBase, limit: int) -> None:
        super().__init__()
        self._rfile = rfile
        self._left = limit
        self.exceeded = False

    def readline(self, size: int | None = -1, /) -> bytes:
        line = self._rfile.readline(size)
        self._left -= len(line)
        if self._left < 0:
            self.exceeded = True
            raise http.client.HTTPException("request headers too large")
        return line


def refusal_message(code: int, message: str | None, head_exceeded: bool) -> str:
    """What the caller is told when http.server refuses a request itself (its own texts, made clearer)."""
    if code == HTTPStatus.REQUEST_URI_TOO_LONG:
        return f"the request line is longer than {MAX_LINE_BYTES} bytes"
    if code == HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE:
        if head_exceeded:  # one line over MAX_LINE_BYTES is also over MAX_HEADER_BYTES in all
            return f"the request headers are larger than {MAX_HEADER_BYTES} bytes in all"
        return f"more than {MAX_HEADERS} header lines"
    if code == HTTPStatus.HTTP_VERSION_NOT_SUPPORTED:
        return f"{message} is not supported: this server speaks HTTP/1.0 and HTTP/1.1"
    return message or HTTPStatus(code).phrase


def framing_problem(headers: Message) -> tuple[int, str] | None:
    """Why the body's length cannot be trusted, as gunicorn refuses it: a transfer coding other than chunked
    alone (Werkzeug would read a gzip-coded body as no body at all), or both Transfer-Encoding and
    Content-Length (which one frames the body is what request smuggling plays on)."""
    values = headers.get_all("Transfer-Encoding") or []
    codings = [coding.strip().lower() for value in values for coding in value.split(",") if coding.strip()]
    if values and codings != ["chunked"]:
        shown = ", ".join(values)
        return HTTPStatus.NOT_IMPLEMENTED, f"Transfer-Encoding {shown!r} is not supported: only chunked"
    if values and headers.get("Content-Length") is not None:
        return HTTPStatus.BAD_REQUEST, "a request may not have both Transfer-Encoding and Content-Length"
    return None


class DevRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without its own (coloured) request lines, the app logs one per request; the
    answers http.server writes itself are JSON."""

    head: BoundedHead | None = None

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def parse_request(self) -> bool:
        rfile = self.rfile
        self.head = BoundedHead(rfile, MAX_HEADER_BYTES)
        self.rfile = self.head
        try:
            parsed = super().parse_request()
        finally:
            self.rfile = rfile
        if parsed and self.request_version == "HTTP/0.9":  # `GET /path` alone: its answer has no status line
            self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, "HTTP/0.9")
            return False
        problem = framing_problem(self.headers) if parsed else None
        if problem is not None:
            self.send_error(*problem)
            return False
        return parsed

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """`{"error": ...}` with the right status, in place of http.server's HTML page."""
        self.log_error("code %d, message %s", code, message)
        exceeded = self.head is not None and self.head.exceeded
        body = json.dumps(capped({"error": refusal_message(code, message, exceeded)})).encode()
        if self.request_version == "HTTP/0.9":  # the request line was unreadable: answer with a status line
            self.request_version = self.protocol_version
        self.close_connection = True
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(body)


def serve(app: Any, host: str, port: int, grace: float) -> None:
    """The dev server until SIGTERM or Ctrl-C; then it takes no new connection, and the answers in flight
    get up to `grace` seconds to finish before the process exits."""
    server = ThreadedWSGIServer(host, port, app, handler=DevRequestHandler)
    server.daemon_threads = False  # server_close() (run when serve_forever ends) then joins request threads

    def stop(signum: int, frame: Any) -> None:
        log.info("shutting down: finishing the answers in flight (at most %g s)", grace)
        threading.Thread(target=server.shutdown, daemon=True).start()
        deadline = threading.Timer(grace, os._exit, args=(1,))
        deadline.daemon = True
        deadline.start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("serving on http://%s:%d (Ctrl-C or SIGTERM to stop)", host, server.server_port)
    server.serve_forever()
    app.close()
    log.info("stopped")
