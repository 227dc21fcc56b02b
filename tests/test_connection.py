"""Whether the caller hung up, seen from the server's socket: real TCP connections on loopback."""

from __future__ import annotations

import os
import resource
import socket

import pytest

from handlers.connection import cut, hang_up_check, peer_closed


@pytest.fixture
def connected():
    """A (server side, client side) pair of a real loopback TCP connection."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    yield server, client
    server.close()
    client.close()


def test_an_open_quiet_connection_is_not_gone(connected):
    server, _ = connected
    assert peer_closed(server) is False


def test_bytes_waiting_mean_the_caller_is_still_there(connected):
    server, client = connected
    client.sendall(b"GET /next HTTP/1.1\r\n")  # a pipelined request
    assert peer_closed(server) is False
    assert server.recv(100).startswith(b"GET /next")  # peeking left the bytes to read


def test_a_closed_connection_is_gone(connected):
    server, client = connected
    client.close()
    assert peer_closed(server) is True


def test_a_descriptor_past_1024_works(connected):
    server, client = connected
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft <= 1500:
        pytest.skip("the descriptor limit is too low for this test")
    high = os.dup2(server.fileno(), 1500)
    with socket.socket(fileno=high) as duplicate:
        assert peer_closed(duplicate) is False
        client.close()
        assert peer_closed(duplicate) is True


def test_the_environ_socket_of_each_server_is_found_and_cut(connected):
    server, client = connected
    for key in ("gunicorn.socket", "werkzeug.socket"):
        assert hang_up_check({key: server})() is False
    assert hang_up_check({}) is None  # the test client: no socket, nothing to poll
    cut({"werkzeug.socket": server})
    assert client.recv(10) == b""  # the caller sees the end at once, without a closing chunk
