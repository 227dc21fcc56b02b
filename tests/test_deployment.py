"""The shipped deployment: gunicorn with the repository's gunicorn.conf.py, started as the README says."""

from __future__ import annotations

import socket
import sys
import urllib.request

import pytest

from tests.conftest import PROJECTS, free_port, start, stop

STREAMS = PROJECTS / "streams"
IDLE_SOCKETS = 200


@pytest.fixture(scope="module")
def gunicorn_port(tmp_path_factory):
    """gunicorn from the repository folder with nothing but a bind address: the shipped configuration."""
    tmp = tmp_path_factory.mktemp("deployment")
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}"]
    process = start(command, port, tmp, {"SLUICE_PROJECT": str(STREAMS), "WEB_CONCURRENCY": "2"})
    yield port
    stop(process)


def test_idle_sockets_do_not_keep_a_request_from_being_answered(gunicorn_port):
    idle = [socket.create_connection(("127.0.0.1", gunicorn_port), timeout=30) for _ in range(IDLE_SOCKETS)]
    try:
        url = f"http://127.0.0.1:{gunicorn_port}/v1/instances/default/api/hello"
        with urllib.request.urlopen(url, timeout=30) as response:  # sync workers: no answer in 60 s
            assert response.status == 200 and response.read() == b'[{"one":1}]'
    finally:
        for connection in idle:
            connection.close()
