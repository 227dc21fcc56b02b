"""Reloading off the request path, on real servers: a rebuild that requests do not notice, and reloads
that leave no threads behind."""

from __future__ import annotations

import json
import os
import shutil
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PROJECTS, free_port, start, stop
from tests.helpers.polling import eventually, steadily

API = "/v1/instances/default/api/"


def get_json(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def count_in_log(log: Path, text: str) -> int:
    return log.read_text().count(text)


@pytest.fixture(params=["dev", "gunicorn"])
def reloading_server(request, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "basic", project)
    (project / "data").mkdir()
    port = free_port()
    if request.param == "gunicorn":
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "server:create_app()",
        ]
    else:
        command = [sys.executable, "server.py", str(project), "--port", str(port)]
    env = {"SLUICE_PROJECT": str(project), "SLUICE_RELOAD": "on"}
    process = start(command, port, tmp_path, env)
    workers = 2 if request.param == "gunicorn" else 1
    eventually(lambda: count_in_log(tmp_path / "server.log", "project loaded"), lambda n: n >= workers)
    yield f"http://127.0.0.1:{port}", project, tmp_path / "server.log", request.param
    stop(process)


def test_requests_are_answered_from_the_old_project_while_a_model_rebuilds(reloading_server):
    """The new model reads a FIFO, so its build provably cannot finish until the test writes to it: every
    request made meanwhile completing (and seeing the old project) shows no request waits for the build."""
    base, project, log, kind = reloading_server
    workers = 2 if kind == "gunicorn" else 1
    gate = project / "data" / "gate.csv"
    os.mkfifo(gate)
    (project / "models" / "gated.sql").write_text(
        "-- @materialize: true\nSELECT * FROM read_csv('data/gate.csv')\n"
    )
    (project / "apis" / "gated.yaml").write_text("type: api\nsql: SELECT count(*) AS n FROM gated\n")
    started = "project files changed: building beside the serving project"
    assert eventually(lambda: count_in_log(log, started), lambda n: n >= workers) >= workers
    answers = [get_json(base + API + f"echo?x={number}") for number in range(40)]
    assert answers == [(200, [{"x": str(number)}]) for number in range(40)]
    # the old project still serves: no swap yet
    assert get_json(base + API + "gated") == (404, {"error": 'api with name "gated" not found'})
    assert count_in_log(log, "project reloaded") == 0  # and the build is still blocked on the FIFO
    with open(gate, "w") as writer:  # the build reads it now and can finish
        writer.write("a,b\n1,2\n3,4\n")
    regular = project / "data" / "gate.tmp"
    regular.write_text("a,b\n1,2\n3,4\n")
    os.replace(regular, gate)  # later rebuilds (the FIFO's time changed) read a plain file
    # each worker swaps on its own: only answers in a row say both have
    swapped = (200, [{"n": 2}])
    assert steadily(lambda: get_json(base + API + "gated"), lambda answer: answer == swapped) == swapped


def threads_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))


def test_twenty_reloads_leave_no_threads_behind(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "basic", project)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start([sys.executable, "server.py", str(project), "--port", str(port)], port, tmp_path)
    log = tmp_path / "server.log"
    model = project / "models" / "bids.sql"
    original = model.read_text()
    try:
        counts = []
        for number in range(1, 22):
            model.write_text(original + f"\n-- edit {number}\n")  # new SQL: a new build, a new database
            eventually(lambda: count_in_log(log, "project reloaded"), lambda n, wanted=number: n >= wanted)
            assert (
                get_json(base + API + "rows?count=3")[0] == 200
            )  # a query: the new database's watchdog runs
            counts.append(
                eventually(lambda: threads_of(process.pid), lambda n: n <= counts[0] if counts else True, 10)
            )
        assert count_in_log(log, "project reloaded") == 21
        assert counts[-1] <= counts[0], counts
    finally:
        stop(process)
