"""Sluice's gunicorn worker: gunicorn's threaded worker (`gthread`), with two changes for kept-alive clients.

- A thread that has answered a request on a kept-alive connection waits a moment (`NEXT_REQUEST_SECONDS`)
  for that client's next request and answers it too. gthread otherwise hands every request through its main
  thread (poller, a pipe write, a new future, a queue) and back, which costs more than a small answer itself.
  The wait holds one of the worker's many threads, never the GIL, and never longer than that moment: a
  client that is slower goes back to the poller as before.
- Connections are spread across the workers. All workers accept from one listening socket, and whichever
  wakes first takes a whole burst: with clients that keep their connections open (a proxy's upstream pool,
  a load generator) one worker could end up serving every connection while the other cores idle. Each
  worker publishes how many connections it holds (`ConnectionBoard`); a worker holding more than the least
  loaded one leaves new connections to it, unless one has waited `FAIR_WAIT_SECONDS` untaken (that worker
  may be stuck), then it takes it.

It also answers the requests gunicorn itself refuses (a request line or header it cannot parse or that is
too long) with Sluice's JSON error body instead of gunicorn's HTML page.
"""

from __future__ import annotations

import json
import multiprocessing
import select
import time
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

NEXT_REQUEST_SECONDS = 0.002
FAIR_WAIT_SECONDS = 0.05
FAIR_POLL_SECONDS = 0.005
MAX_WORKERS = 256


class ConnectionBoard:
    """Connections held per worker, in memory shared by the master and its forked workers. The master hands
    out slots (`claim`/`release`, from gunicorn's pre_fork and child_exit hooks); each worker writes only its
    own slot, from its first turn of the loop on. A slot holding -1 (a worker starting, or gone) does not
    count: the others do not wait for a worker that is still loading the project."""

    def __init__(self, size: int = MAX_WORKERS) -> None:
        self._counts = multiprocessing.RawArray("i", [-1] * size)
        self._owners: dict[int, int] = {}  # master only: worker age -> slot

    def claim(self, age: int) -> int:
        used = set(self._owners.values())
        slot = next((index for index in range(len(self._counts)) if index not in used), -1)
        if slot >= 0:
            self._owners[age] = slot
            self._counts[slot] = -1
        return slot

    def release(self, age: int) -> None:
        slot = self._owners.pop(age, -1)
        if slot >= 0:
            self._counts[slot] = -1

    def publish(self, slot: int, connections: int) -> None:
        if slot >= 0:
            self._counts[slot] = connections

    def fewest(self) -> int:
        """The fewest connections any live worker holds (0 when none has published)."""
        return min((count for count in self._counts[:] if count >= 0), default=0)


class SluiceWorker(ThreadWorker):
    """gunicorn's gthread worker with the kept-alive fast path and fair accepting described above."""

    board: ConnectionBoard | None = None  # set by gunicorn.conf.py before the workers are forked
    slot = -1  # this worker's slot on the board, set in pre_fork

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting_since: float | None = None
        util.write_error = write_json_error  # gunicorn writes its own error answers through this one function

    def handle(self, conn: Any) -> Any:
        keepalive = super().handle(conn)
        while keepalive is True and self.alive and not conn.is_http2 and _next_request_comes(conn):
            keepalive = super().handle(conn)
        return keepalive

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled and self._fair_to_accept())

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        if self.board is not None:
            self.board.publish(self.slot, self.nr_conns)
            if self._accepting and not self._fair_to_accept():
                super().set_accept_enabled(False)
            if self.alive and not self._accepting and self.nr_conns < self.worker_connections:
                timeout = min(timeout, FAIR_POLL_SECONDS)  # look again soon: the others may have caught up
        super().wait_for_and_dispatch_events(timeout)

    def _fair_to_accept(self) -> bool:
        board = self.board
        if board is None or self.nr_conns <= board.fewest():
            self._waiting_since = None
            return True
        if not _any_readable(self.sockets):
            self._waiting_since = None
            return False
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        return now - self._waiting_since >= FAIR_WAIT_SECONDS


def _next_request_comes(conn: Any) -> bool:
    """Whether the client's next request is already buffered or arrives within NEXT_REQUEST_SECONDS."""
    if conn.parser.unreader.buf.getvalue():
        return True
    poller = select.poll()
    try:
        poller.register(conn.sock, select.POLLIN)
        return bool(poller.poll(NEXT_REQUEST_SECONDS * 1000))
    except (OSError, ValueError):  # closed meanwhile, or interrupted: the poller path decides
        return False


def _any_readable(sockets: list[Any]) -> bool:
    poller = select.poll()
    for listener in sockets:
        poller.register(listener, select.POLLIN)
    return bool(poller.poll(0))


def write_json_error(sock: Any, status: int, reason: str, message: str) -> None:
    """gunicorn's own error answer (`util.write_error`), as `{"error": ...}` JSON like every Sluice error."""
    body = json.dumps({"error": message or reason}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n"
        f"X-Content-Type-Options: nosniff\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)
