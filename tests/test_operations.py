"""Operating Sluice: real servers (dev server, gunicorn with 2 workers) read through their logs and health."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from serving.requests import request_id
from tests.conftest import PROJECTS, free_port, run_sluice, start, stop
from tests.helpers.http import fetch
from tests.helpers.polling import eventually

ECHO = "/v1/instances/default/api/echo"


def server_command(kind: str, port: int, project: Path) -> list[str]:
    if kind == "gunicorn":
        return [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "server:create_app()"]
    return [sys.executable, "server.py", str(project), "--port", str(port)]


@pytest.fixture(params=["dev", "gunicorn"])
def server(request, tmp_path):
    """A running server of each kind over a copy of the basic project, with JSON logs for gunicorn."""
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "basic", project)
    port = free_port()
    log_format = "json" if request.param == "gunicorn" else "text"
    env = {"SLUICE_PROJECT": str(project), "SLUICE_LOG_FORMAT": log_format}
    process = start(server_command(request.param, port, project), port, tmp_path, env)
    yield f"http://127.0.0.1:{port}", log_format, tmp_path / "server.log"
    stop(process)


def complete_lines(path: Path) -> list[str]:
    """The complete lines written so far (a worker may be halfway through writing the last one)."""
    text = path.read_text()
    return text.splitlines() if text.endswith("\n") else text.splitlines()[:-1]


def json_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in complete_lines(path) if line.startswith("{")]


def messages(path: Path, log_format: str) -> list[str]:
    if log_format == "json":
        return [line["message"] for line in json_lines(path)]
    return complete_lines(path)


def request_lines(path: Path, log_format: str) -> list:
    lines: list
    if log_format == "json":
        lines = [line for line in json_lines(path) if line["logger"] == "sluice.request"]
    else:
        lines = [line for line in complete_lines(path) if " sluice.request: " in line]
    return [line for line in lines if "/v1/ping" not in str(line)]  # the start-up probes


def test_one_request_line_per_request_without_argument_values(server):
    base, log_format, log = server
    reply = fetch(base, ECHO + "?x=s3cr3t-value", {"X-Request-Id": "req-42"})
    assert reply.status_code == 200 and reply.headers["X-Request-Id"] == "req-42"
    reply = fetch(base, "/v1/instances/default/api/nope?x=other-s3cr3t")
    assert reply.status_code == 404 and len(reply.headers["X-Request-Id"]) == 32
    lines = eventually(lambda: request_lines(log, log_format), lambda lines: len(lines) >= 2)
    assert len(lines) == 2, lines
    # each line is written once its answer is sent, so two answers' lines may come in either order
    lines.sort(key=lambda line: "nope" in str(line))
    if log_format == "json":
        first, second = lines
        assert {key: first[key] for key in ("method", "path", "api", "status", "rows", "request_id")} == {
            "method": "GET",
            "path": ECHO,
            "api": "echo",
            "status": 200,
            "rows": 1,
            "request_id": "req-42",
        }
        assert first["bytes"] == len(b'[{"x":"s3cr3t-value"}]') and first["duration_ms"] >= 0
        assert second["status"] == 404 and second["request_id"] == reply.headers["X-Request-Id"]
        assert second["api"] is None and second["path"] == "/v1/instances/default/api/nope"
    else:
        assert f"GET {ECHO} 200 api=echo rows=1 bytes=22 " in lines[0] and "request_id=req-42" in lines[0]
        assert "/api/nope 404 api=- rows=- " in lines[1]  # a name no API has counts under -
    text = log.read_text()
    assert "s3cr3t" not in text and "\x1b[" not in text


def test_a_broken_file_is_named_in_the_log_and_health_is_degraded(server):
    base, log_format, log = server
    reply = fetch(base, "/v1/health")
    health = reply.json()
    assert reply.status_code == 200 and health["status"] == "degraded"
    assert {
        "path": "apis/broken_template.yaml",
        "line": 4,
        "column": 9,
        "error": "unclosed action",
    } in health["errors"]
    assert any(
        "apis/broken_template.yaml:4:9: unclosed action" in message for message in messages(log, log_format)
    )


def test_health_is_ok_when_every_file_loads(tmp_path):
    port = free_port()
    project = PROJECTS / "variables"
    process = start([sys.executable, "server.py", str(project), "--port", str(port)], port, tmp_path)
    try:
        reply = fetch(f"http://127.0.0.1:{port}", "/v1/health")
    finally:
        stop(process)
    assert reply.status_code == 200 and reply.json()["status"] == "ok" and reply.json()["errors"] == []


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ("abc-123", True),
        ("0f8fad5b-d9cb-469f-a165-70867728950e", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("", False),
        (None, False),
        ("has space", False),
        ("new\nline", False),
        ("<script>", False),
    ],
)
def test_a_request_id_is_kept_only_when_it_is_a_sane_token(header, kept):
    assert (request_id(header) == header) is kept
    assert len(request_id(header)) <= 128


def test_sigterm_lets_the_answers_in_flight_finish(tmp_path):
    """A streamed answer is half read when SIGTERM arrives: new connections are refused, the answer still
    arrives whole, and the process exits 0."""
    import http.client
    import signal
    import socket

    port = free_port()
    command = [sys.executable, "server.py", str(PROJECTS / "basic"), "--port", str(port), "--row-cap", "0"]
    process = start(command, port, tmp_path)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", "/v1/instances/default/api/rows?count=300000")
        response = connection.getresponse()
        first = response.read(1024)  # the answer is under way; the rest waits in the server's writes
        process.send_signal(signal.SIGTERM)

        def refused() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return False
            except OSError:
                return True

        assert eventually(refused, bool)
        rows = json.loads(first + response.read())
        assert response.status == 200 and len(rows) == 300000 and rows[-1] == {"n": 299999}
        assert process.wait(timeout=60) == 0
        assert "shutting down: finishing the answers in flight" in (tmp_path / "server.log").read_text()
    finally:
        stop(process)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--version"], "sluice "),
        (["serve", "--help"], "SLUICE_GRACE_SECONDS"),
        (["--help"], "SLUICE_LOG_FORMAT"),
    ],
)
def test_the_command_line_answers_version_and_help(argv, expected):
    from handlers.health import version

    result = run_sluice(*argv)
    assert result.returncode == 0 and expected in result.stdout
    if argv == ["--version"]:
        assert result.stdout.strip() == f"sluice {version()}"
