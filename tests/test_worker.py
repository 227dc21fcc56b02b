"""Sluice's gunicorn worker (serving/worker.py) in a real gunicorn with the shipped gunicorn.conf.py: kept-alive
requests answered on the same thread, connections spread across workers, a stopped worker not keeping new
connections waiting, and gunicorn's own refusals answered as JSON."""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path

import pytest

from serving.worker import ConnectionBoard
from tests.conftest import PROJECTS, start_gunicorn, stop
from tests.helpers.processes import worker_pids

API = "/v1/instances/default/api/echo"
WORKERS = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("worker")
    process, port = start_gunicorn(tmp, PROJECTS / "basic", env={"WEB_CONCURRENCY": str(WORKERS)})
    yield process, port, tmp / "server.log"
    stop(process)


def request(path: str, method: str = "GET", body: bytes = b"", close: bool = False) -> bytes:
    headers = f"{method} {path} HTTP/1.1\r\nHost: test\r\n"
    if body:
        headers += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    if close:
        headers += "Connection: close\r\n"
    return headers.encode() + b"\r\n" + body


def read_response(stream) -> tuple[int, dict[str, str], bytes]:
    status_line = stream.readline()
    assert status_line, "the server closed the connection"
    status = int(status_line.split()[1])
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = stream.read(int(headers.get("content-length", 0)))
    return status, headers, body


def echoed(body: bytes) -> str:
    return json.loads(body)[0]["x"]


# Each case: what is written on one kept-alive connection, in writes; the answers expected, in order.
KEPT_ALIVE_CASES = {
    "one after another": [[request(f"{API}?x=a{number}")] for number in range(5)],
    "pipelined in one write": [[request(f"{API}?x=p1") + request(f"{API}?x=p2") + request(f"{API}?x=p3")]],
    "a body, then a query": [[request(API, "POST", b'{"x": "from-body"}')], [request(f"{API}?x=after")]],
    "the next request split across writes": [[request(f"{API}?x=split")[:9], request(f"{API}?x=split")[9:]]],
}
EXPECTED = {
    "one after another": [f"a{number}" for number in range(5)],
    "pipelined in one write": ["p1", "p2", "p3"],
    "a body, then a query": ["from-body", "after"],
    "the next request split across writes": ["split"],
}


@pytest.mark.parametrize("case", KEPT_ALIVE_CASES)
def test_kept_alive_requests_are_answered_in_order(server, case):
    _, port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        stream = connection.makefile("rb")
        answers = []
        for writes in KEPT_ALIVE_CASES[case]:
            for chunk in writes:
                connection.sendall(chunk)
            for _ in range(sum(chunk.count(b" HTTP/1.1\r\n") for chunk in writes)):
                status, _, body = read_response(stream)
                assert status == 200
                answers.append(echoed(body))
        assert answers == EXPECTED[case]


def test_a_client_that_pauses_longer_than_the_wait_is_still_answered(server):
    """After the worker's short wait the connection goes back to gunicorn's poller; the next request is
    answered from there."""
    _, port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        stream = connection.makefile("rb")
        for number in range(3):
            connection.sendall(request(f"{API}?x=slow{number}"))
            assert echoed(read_response(stream)[2]) == f"slow{number}"
            connection.settimeout(0.2)
            with pytest.raises(TimeoutError):  # nothing more comes: the server holds the connection open
                connection.recv(1)
            connection.settimeout(30)


def test_connection_close_ends_the_connection(server):
    _, port, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        stream = connection.makefile("rb")
        connection.sendall(request(f"{API}?x=first") + request(f"{API}?x=last", close=True))
        assert echoed(read_response(stream)[2]) == "first"
        status, headers, body = read_response(stream)
        assert (status, headers["connection"], echoed(body)) == (200, "close", "last")
        assert stream.read() == b""


def holder_of(connection: socket.socket, pids: list[int]) -> int:
    """The worker pid whose file descriptors include the server end of `connection` (from /proc/net/tcp)."""
    client_port = connection.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].split(":")[1], 16) == client_port:  # remote end is our client: the server's socket
            inode = fields[9]
    assert inode is not None
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    raise AssertionError("no worker holds the connection")


def test_kept_alive_connections_are_spread_across_the_workers(server):
    process, port, _ = server
    pids = worker_pids(process.pid)
    assert len(pids) == WORKERS
    connections = []
    try:
        for number in range(2 * WORKERS):
            connection = socket.create_connection(("127.0.0.1", port), timeout=30)
            connections.append(connection)
            connection.sendall(request(f"{API}?x=c{number}"))
            assert echoed(read_response(connection.makefile("rb"))[2]) == f"c{number}"
        holders = [holder_of(connection, pids) for connection in connections]
        assert sorted(holders.count(pid) for pid in pids) == [2] * WORKERS
    finally:
        for connection in connections:
            connection.close()


def test_a_stopped_worker_does_not_keep_new_connections_waiting(server):
    """The other worker holds more connections than the stopped one, and still takes new ones at once: the
    connections it already holds are still open (not closed by their 5 s keep-alive expiry to make room)."""
    process, port, _ = server
    stopped = worker_pids(process.pid)[0]
    os.kill(stopped, signal.SIGSTOP)
    connections = []
    try:
        for number in range(3):
            connection = socket.create_connection(("127.0.0.1", port), timeout=30)
            connections.append((connection, connection.makefile("rb")))
            connection.sendall(request(f"{API}?x=s{number}"))
            assert echoed(read_response(connections[-1][1])[2]) == f"s{number}"
        for number, (connection, stream) in enumerate(connections):
            connection.sendall(request(f"{API}?x=again{number}"))
            assert echoed(read_response(stream)[2]) == f"again{number}"
    finally:
        os.kill(stopped, signal.SIGCONT)
        for connection, _ in connections:
            connection.close()


# Requests gunicorn refuses before the app sees them, and the status it gives each.
REFUSED = {
    "request line too long": (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
    "too many headers": (
        b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(80)) + b"\r\n",
        431,
    ),
    "a header too large": (b"GET / HTTP/1.1\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
    "no HTTP version": (b"GET /\r\n\r\n", 400),
    "a bad HTTP version": (b"GET / HTTP/9.x\r\nHost: t\r\n\r\n", 400),
    "a bad header name": (b"GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n", 400),
    "a bad method": (b"G(T / HTTP/1.1\r\nHost: t\r\n\r\n", 400),
}


@pytest.mark.parametrize("case", REFUSED)
def test_requests_gunicorn_refuses_get_a_json_error(server, case):
    _, port, _ = server
    raw, expected = REFUSED[case]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(raw)
        status, headers, body = read_response(connection.makefile("rb"))
    assert status == expected
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["connection"] == "close"
    error = json.loads(body)["error"]
    assert isinstance(error, str) and error and "<html" not in error


def test_the_connection_board_counts_live_workers_only():
    board = ConnectionBoard(size=4)
    slots = [board.claim(age) for age in (1, 2, 3)]
    assert sorted(slots) == [0, 1, 2]
    board.publish(slots[0], 5)
    board.publish(slots[1], 3)
    board.publish(slots[2], 7)
    assert board.fewest() == 3
    board.release(2)  # the worker with 3 is gone: its slot no longer counts
    assert board.fewest() == 5
    assert board.claim(4) == slots[1]  # a new worker takes the free slot: not counted until it publishes
    assert board.fewest() == 5
    board.publish(slots[1], 0)
    assert board.fewest() == 0
    assert [board.claim(age) for age in (5, 6)] == [3, -1]  # full: the extra worker just does not publish
    board.publish(-1, 99)
    assert board.fewest() == 0


def test_the_connection_board_is_shared_with_forked_workers():
    board = ConnectionBoard(size=2)
    slot = board.claim(1)
    child = os.fork()
    if child == 0:  # pragma: no cover - the forked worker
        board.publish(slot, 42)
        os._exit(0)
    os.waitpid(child, 0)
    assert board.fewest() == 42


def duckdb_threads(port: int) -> int:
    """The serving DuckDB's thread count, through the built-in sql API (a loopback caller, auth off)."""
    body = json.dumps({"sql": "SELECT current_setting('threads') AS threads"}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request("/v1/instances/default/api/sql", "POST", body))
        status, _, answer = read_response(connection.makefile("rb"))
    assert status == 200
    return json.loads(answer)[0]["threads"]


def test_each_workers_duckdb_gets_its_share_of_the_cores(server):
    """gunicorn.conf.py sets SLUICE_DUCKDB_THREADS to cores / workers when it is not set."""
    assert duckdb_threads(server[1]) == max(1, (os.cpu_count() or 1) // WORKERS)


def test_one_worker_gets_every_core(tmp_path):
    """`-w 1` on the command line (over WEB_CONCURRENCY): the one worker's DuckDB may use every core."""
    process, port = start_gunicorn(tmp_path, PROJECTS / "basic", "-w", "1", env={"WEB_CONCURRENCY": "8"})
    try:
        assert duckdb_threads(port) == os.cpu_count()
    finally:
        stop(process)


def test_the_shipped_config_opens_no_control_socket(tmp_path):
    """gunicorn's control socket is one path per user that each instance takes over; Sluice turns it off."""
    home = tmp_path / "home"
    home.mkdir()
    process, port = start_gunicorn(
        tmp_path, PROJECTS / "basic", env={"HOME": str(home), "WEB_CONCURRENCY": "1"}
    )
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(request(f"{API}?x=up", close=True))
            assert read_response(connection.makefile("rb"))[0] == 200
    finally:
        stop(process)
    assert not (home / ".gunicorn").exists()
    assert "Control socket" not in (tmp_path / "server.log").read_text()
