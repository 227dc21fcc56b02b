"""Shared test helpers: apps over fixture projects, the one assertion for error bodies, free ports."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
import yaml
from werkzeug.test import Client

from project.auth.policy import CallerPolicy
from project.engines.duckdb import Database, build_database
from project.engines.sandbox import project_sandbox
from project.loading.loader import load_project
from project.metrics.sql import compile_metrics_sql
from project.metrics.views import parse_metrics_view
from project.settings import Settings
from project.sql.rendering import Markers
from server import create_app

IN_CI = os.environ.get("CI") == "true"  # .ci/run installs every program the tests need


def missing_program(reason: str) -> NoReturn:
    """A program this test needs is not installed: skip with the reason here, fail in CI (which installs it)."""
    if IN_CI:
        pytest.fail(f"{reason} (CI installs it: see .ci/run)")
    pytest.skip(reason)


def needs_program(installed: bool, reason: str) -> pytest.MarkDecorator:
    """Skip the test where a program is missing, except in CI, where the test runs and fails without it."""
    return pytest.mark.skipif(not installed and not IN_CI, reason=reason)


ROOT = Path(__file__).resolve().parent.parent
PROJECTS = Path(__file__).resolve().parent / "projects"
EXAMPLE = ROOT / "examples" / "adbids"
BASE_URL = "/v1/instances/default/api/"
# The APIs of tests/projects/openapi that load and so appear in its document and docs page.
OPENAPI_FIXTURE_APIS = {
    "/echo",
    "/inferred",
    "/kinds",
    "/prefixed",
    "/recent",
    "/search",
    "/titled",
    "/via_proxy",
}


@pytest.fixture(scope="session")
def project_client(tmp_path_factory):
    """A Werkzeug test client for a fixture project by name (built once per test session)."""
    clients: dict[str, Client] = {}

    def client_for(name: str, **settings) -> Client:
        key = name + repr(sorted(settings.items()))
        if key not in clients:
            directory = EXAMPLE if name == "example" else PROJECTS / name
            state = tmp_path_factory.mktemp(f"state-{name}")
            app = create_app(Settings(project_dir=str(directory), state_dir=str(state), **settings))
            clients[key] = Client(app)
        return clients[key]

    return client_for


def open_empty_database(state: Path, threads: int | None = None) -> Database:
    """The DuckDB engine as the server makes it (sandboxed, read-only) over a built database without models."""
    sandbox = project_sandbox(str(state))
    path, errors = build_database(str(state), sandbox, [], "empty")
    assert errors == {}
    return Database(path, sandbox, threads)


@pytest.fixture(scope="module")
def empty_database(tmp_path_factory):
    database = open_empty_database(tmp_path_factory.mktemp("empty-database"))
    yield database
    database.close()


def assert_error(response, status: int, message: str | tuple[str, ...]) -> dict:
    """Every error: the status, a JSON body whose `error` holds the expected text (or one of several, for
    errors whose wording is the engine's), and the error headers."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = json.loads(response.get_data(as_text=True))
    expected = (message,) if isinstance(message, str) else message
    assert all(expected) and any(text in body["error"] for text in expected), body
    return body


def assert_unauthenticated(response, message: str) -> None:
    """A caller who did not authenticate: 401, exactly this error, and the challenge naming the scheme."""
    assert assert_error(response, 401, message) == {"error": message}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def run_sluice(*argv: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python server.py ARGV...` (a command that ends: check, token, --help...) from the repository root, its
    output captured as text; `env` replaces the environment (default: this process's)."""
    return subprocess.run(
        [sys.executable, "server.py", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base: str, process: subprocess.Popen, seconds: float = 60, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early: {log.read_text() if log else ''}")
        try:
            with urllib.request.urlopen(base + "/v1/ping", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not answer in time")


def start(command: list[str], port: int, tmp_path, extra_env: dict | None = None) -> subprocess.Popen:
    """Start a server process and wait until it answers. Its output goes to `tmp_path/server.log`: a pipe
    nobody reads would fill up and stop a chatty server."""
    env = {**os.environ, "SLUICE_STATE_DIR": str(tmp_path / "state"), **(extra_env or {})}
    log = Path(tmp_path) / "server.log"
    with open(log, "ab") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}", process, log=log)
    except AssertionError:
        process.kill()
        raise
    return process


def start_gunicorn(
    tmp_path, project: Path, *flags: str, env: dict | None = None
) -> tuple[subprocess.Popen, int]:
    """gunicorn from the repository folder (so with the shipped gunicorn.conf.py) serving `project` on a free
    loopback port, with more `flags`; returns the master process and the port. Stop it with `stop`."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", *flags, "-b", f"127.0.0.1:{port}"]
    return start(command, port, tmp_path, {"SLUICE_PROJECT": str(project), **(env or {})}), port


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@contextlib.contextmanager
def serving(project: Path, tmp_path, *options: str, env: dict | None = None) -> Iterator[str]:
    """`python server.py PROJECT` on a free loopback port (with more environment variables: `env`); yields
    its base URL and stops it afterwards."""
    port = free_port()
    command = [sys.executable, "server.py", str(project), "--port", str(port), "--no-reload", *options]
    process = start(command, port, tmp_path, env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


# Metrics SQL: tests/projects/metrics, its users and cases, compiled under the server's own policy and binder.
METRICS_PROJECT = PROJECTS / "metrics"
METRICS_CASES = Path(__file__).resolve().parent / "metrics_cases"


def metrics_cases(name: str) -> list:
    return yaml.safe_load((METRICS_CASES / name).read_text())


USERS = {
    "admin": {"admin": True, "domain": "example.com", "publisher": ""},
    "yahoo": {"admin": False, "domain": "yahoo.com", "publisher": "yahoo"},
    "google": {"admin": False, "domain": "google.com", "publisher": "Google"},
    "stranger": {"admin": False, "domain": "example.org", "publisher": "Yahoo"},
}


def load_view(name: str = "ad_bids_metrics"):
    path = METRICS_PROJECT / "metrics" / f"{name}.yaml"
    return parse_metrics_view(name, yaml.safe_load(path.read_text()), str(path))


VIEWS = {"ad_bids_metrics": load_view()}


@pytest.fixture(scope="session")
def metrics_project(tmp_path_factory):
    """The fixture project loaded as the server loads it: its built database runs the rules and queries."""
    state = tmp_path_factory.mktemp("metrics-state")
    return load_project(Settings(project_dir=str(METRICS_PROJECT), state_dir=str(state)))


def printed(value) -> str:
    """A value as a template prints it into a marker (Go's text for booleans)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def caller_markers(args: list | None) -> Markers:
    """The markers a template would have emitted for these caller values, in order."""
    markers = Markers()
    for value in args or []:
        markers.emit(printed(value), "args")
    return markers


def compile_for(project, sql: str, markers: Markers, user: str | None, views=VIEWS) -> str:
    """Metrics SQL compiled under the server's own policy for this user (None: no policy applies)."""
    data = project.data({}, USERS[user]) if user else {}
    policy = CallerPolicy(project.database, data, markers) if user else None
    return compile_metrics_sql(sql, views, policy)
