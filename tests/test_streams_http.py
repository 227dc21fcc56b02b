"""Streamed answers tell the truth, through real `python server.py` and gunicorn (the shipped configuration)
processes and real clients: a failure after the status went out cuts the connection, the query timeout
covers the whole stream, a caller that hangs up stops its query, and too many queries at once get a 503.
"""

from __future__ import annotations

import http.client
import select
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PROJECTS, free_port, needs_program, start, stop
from tests.helpers.polling import eventually

STREAMS = PROJECTS / "streams"
API = "/v1/instances/default/api/"
BROKEN_ANSWER = (http.client.IncompleteRead, http.client.HTTPException, ConnectionError)


class Served:
    def __init__(self, port: int, log: Path) -> None:
        self.base, self.port, self.log_path = f"http://127.0.0.1:{port}", port, log

    def log(self) -> str:
        return self.log_path.read_text()


def serve(kind: str, tmp: Path, **env: str) -> tuple[subprocess.Popen, Served]:
    """The streams project under `python server.py` or gunicorn with the repository's gunicorn.conf.py."""
    port = free_port()
    if kind == "python":
        command = [sys.executable, "server.py", str(STREAMS), "--port", str(port), "--no-reload"]
    else:
        command = [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}"]
    process = start(command, port, tmp, {"SLUICE_PROJECT": str(STREAMS), **env})
    return process, Served(port, tmp / "server.log")


@pytest.fixture(scope="module", params=["python", "gunicorn"])
def patient(request, tmp_path_factory):
    """One query at a time, a long timeout: what stops a query here is a failure or a caller hanging up."""
    tmp = tmp_path_factory.mktemp(f"patient-{request.param}")
    process, served = serve(request.param, tmp, SLUICE_QUERY_TIMEOUT="600", SLUICE_MAX_QUERIES="1")
    yield served
    stop(process)


@pytest.fixture(scope="module", params=["python", "gunicorn"])
def strict(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"strict-{request.param}")
    process, served = serve(request.param, tmp, SLUICE_QUERY_TIMEOUT="1")
    yield served
    stop(process)


def read_all(url: str, most: int = 10**10) -> int:
    """Read an answer to its end (or `most` bytes) with urllib; how many bytes came."""
    count = 0
    with urllib.request.urlopen(url, timeout=60) as response:
        assert response.status == 200
        while count < most and (chunk := response.read(1 << 20)):
            count += len(chunk)
    return count


def status_of(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_a_failure_after_the_first_batch_cuts_the_connection(patient):
    with pytest.raises(BROKEN_ANSWER):
        read_all(patient.base + API + "late_error")
    assert eventually(lambda: "the answer is cut short" in patient.log(), bool, 120)
    assert "Could not convert string 'not a number'" in patient.log()


@needs_program(shutil.which("curl") is not None, "curl is not installed")
def test_curl_reports_a_cut_answer_as_an_error(patient):
    done = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", patient.base + API + "late_error"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 18, done.stderr  # "transfer closed with outstanding read data remaining"


def test_the_query_timeout_covers_the_whole_stream(strict):
    with pytest.raises(BROKEN_ANSWER):
        read_all(strict.base + API + "many", most=300 << 20)  # the whole answer is 740 MB
    assert eventually(lambda: "query timed out after 1 s" in strict.log(), bool, 120)


def occupy_the_only_slot(served: Served) -> socket.socket:
    """A connection whose `busy` query holds the server's one query slot (hello then gets 503). A `hello`
    that got the slot first makes `busy` answer 503 at once: then try again."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        caller = socket.create_connection(("127.0.0.1", served.port), timeout=30)
        caller.sendall(f"GET {API}busy HTTP/1.1\r\nHost: sluice.test\r\n\r\n".encode())
        while not select.select([caller], [], [], 0)[0]:  # no answer yet: `busy` runs or waits to
            if status_of(served.base + API + "hello")[0] == 503:
                return caller
            time.sleep(0.05)
        caller.close()
    raise AssertionError("the busy query never held the slot")


def test_a_caller_hanging_up_interrupts_its_query_and_frees_its_slot(patient):
    caller = occupy_the_only_slot(patient)
    caller.close()
    assert eventually(
        lambda: status_of(patient.base + API + "hello")[0] == 200, bool, 120
    )  # `busy` runs for minutes
    assert "the caller disconnected: interrupting its query" in patient.log()


def test_too_many_queries_at_once_get_a_503_with_retry_after(patient):
    caller = occupy_the_only_slot(patient)
    try:
        status, headers = status_of(patient.base + API + "hello")
        assert status == 503 and headers["Retry-After"] == "1"
        assert status_of(patient.base + "/v1/ping")[0] == 200  # spare threads still answer
    finally:
        caller.close()
    if "gunicorn" in patient.log():
        assert "Using worker: serving.worker.SluiceWorker" in patient.log()
