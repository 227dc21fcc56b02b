"""The caller's connection, where the WSGI server exposes it: whether the caller hung up, and cutting it.

Gunicorn puts the socket in `gunicorn.socket`, Werkzeug's server in `werkzeug.socket`; elsewhere (the test
client, other servers) there is none and both functions do nothing.
"""

from __future__ import annotations

import logging
import select
import socket
from collections.abc import Callable
from typing import Any

log = logging.getLogger("sluice.connection")
SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket")


def client_socket(environ: dict[str, Any]) -> socket.socket | None:
    return next((environ[key] for key in SOCKET_KEYS if isinstance(environ.get(key), socket.socket)), None)


def hang_up_check(environ: dict[str, Any]) -> Callable[[], bool] | None:
    """A function telling whether the caller closed the connection, or None where that cannot be known."""
    connection = client_socket(environ)
    return None if connection is None else lambda: peer_closed(connection)


def peer_closed(connection: socket.socket) -> bool:
    """True once the other end closed: readable, yet nothing to read. Bytes waiting (a pipelined request)
    mean it is still there. Never blocks: it runs on the watchdog thread."""
    try:
        poller = select.poll()  # not select(): a process serving 1,000 connections has descriptors past 1024
        poller.register(connection, select.POLLIN)
        if not poller.poll(0):
            return False
        return connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except (OSError, ValueError):  # closed or reset: gone
        return True


def cut(environ: dict[str, Any]) -> None:
    """End the connection now, without the chunked terminator, so the caller sees a broken answer."""
    connection = client_socket(environ)
    if connection is None:
        return
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already gone
