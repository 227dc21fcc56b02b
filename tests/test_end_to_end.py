"""The real thing: `python server.py` and gunicorn as processes, called over HTTP on the example project."""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

import pytest

from tests.conftest import EXAMPLE, free_port, start


def call(base: str, path: str, body: dict | None = None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path, data=data, method="POST" if data else "GET", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(params=["python", "gunicorn"])
def running_server(request, tmp_path):
    port = free_port()
    if request.param == "python":
        command = [sys.executable, "server.py", str(EXAMPLE), "--port", str(port)]
        process = start(command, port, tmp_path)
    else:
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
        process = start(command, port, tmp_path, {"SLUICE_PROJECT": str(EXAMPLE)})
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=20)


def test_example_project_over_http(running_server):
    status, rows = call(running_server, "/v1/instances/default/api/top_publishers?domain=google.com&limit=3")
    assert status == 200 and len(rows) == 3 and rows[0]["domain"] == "google.com"
    assert rows[0]["bids"] >= rows[1]["bids"] >= rows[2]["bids"]
    status, rows = call(running_server, "/v1/instances/default/api/top_publishers", {"domain": "msn.com"})
    assert status == 200 and {row["domain"] for row in rows} == {"msn.com"}
    status, rows = call(running_server, "/v1/instances/default/api/bid?id=42")
    assert status == 200 and [row["id"] for row in rows] == [42]
    assert rows[0]["bid_time"].endswith("Z")
    status, rows = call(running_server, "/v1/instances/default/api/bids?page_size=5&offset=10&country=DE")
    assert status == 200 and len(rows) == 5 and {row["country"] for row in rows} == {"DE"}
    status, rows = call(running_server, "/v1/instances/default/api/publishers")
    assert status == 200 and [row["publisher"] for row in rows][:2] == ["Apple", "Facebook"]
    status, body = call(running_server, "/v1/instances/default/api/missing")
    assert status == 404 and body == {"error": 'api with name "missing" not found'}


def test_gunicorn_workers_share_one_build(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "server:create_app()"]
    process = start(command, port, tmp_path, {"SLUICE_PROJECT": str(EXAMPLE)})
    try:
        for _ in range(20):
            status, rows = call(f"http://127.0.0.1:{port}", "/v1/instances/default/api/bid?id=7")
            assert status == 200 and rows[0]["id"] == 7
    finally:
        process.terminate()
        process.wait(timeout=20)
    builds = [name for name in os.listdir(tmp_path / "state") if name.endswith(".duckdb")]
    assert len(builds) == 1
