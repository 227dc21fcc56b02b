"""Refreshing partitioned and incremental models through a real server: Rill's trigger API
(`POST /v1/instances/default/trigger`, what `rill project refresh` calls) and `sluice refresh DIR`.

The partitions' source lives outside the project (an `--allow-dir` folder), so a change there is no project
file change: only a refresh picks it up. An incremental model keeps the rows of the partitions it has run
(a partition whose file changed or vanished keeps its old rows) and runs only new ones; `--full` starts over.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from werkzeug.test import Client

from project.engines.increments import Manifest, RefreshRequest, plan_increments
from project.settings import Settings
from server import create_app
from tests.conftest import BASE_URL, ROOT, assert_error, free_port, start, stop

SECRET = "a-secret-for-the-refresh-tests-0123456789abcdef"
TRIGGER = "/v1/instances/default/trigger"


def make_project(tmp_path: Path, model: str) -> tuple[Path, Path]:
    """A project with one model (`model` is its YAML) and an API listing it; the data folder beside it."""
    project, data = tmp_path / "project", tmp_path / "data"
    for folder in (project / "models", project / "apis", data):
        folder.mkdir(parents=True)
    (project / "models" / "events.yaml").write_text(model.replace("DATA", str(data)))
    (project / "apis" / "events.yaml").write_text("sql: SELECT id, name FROM events ORDER BY id, name\n")
    return project, data


def write_csv(folder: Path, name: str, rows: list[tuple[int, str]], header: str = "id,name") -> None:
    lines = [header] + [",".join(str(value) for value in row) for row in rows]
    (folder / name).write_text("\n".join(lines) + "\n")


@contextlib.contextmanager
def server(
    project: Path, data: Path, tmp_path: Path, *options: str, env: dict | None = None
) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable,
        "server.py",
        str(project),
        "--port",
        str(port),
        "--allow-dir",
        str(data),
        *options,
    ]
    process = start(command, port, tmp_path, {"SLUICE_STATE_DIR": str(tmp_path / "state"), **(env or {})})
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def call(
    url: str, method: str = "GET", body: dict | None = None, token: str | None = None
) -> tuple[int, Any]:
    """The status and the JSON answer (any JSON value)."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def rows(base: str, token: str | None = None) -> list[tuple[int, str]]:
    status, body = call(base + BASE_URL + "events", token=token)
    assert status == 200, body
    return [(row["id"], row["name"]) for row in body]


def eventually(check: Callable[[], object], expected: object, seconds: float = 60) -> None:
    """Poll until `check()` equals `expected` (a refresh builds in the background), else fail showing both."""
    deadline = time.monotonic() + seconds
    while True:
        actual = check()
        if actual == expected or time.monotonic() > deadline:
            assert actual == expected
            return
        time.sleep(0.2)


def refresh_cli(project: Path, data: Path, tmp_path: Path, *options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "server.py", "refresh", str(project), "--allow-dir", str(data), *options]
    env = {**os.environ, "SLUICE_STATE_DIR": str(tmp_path / "state")}
    return subprocess.run(
        command, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


PARTITIONS_QUERY = """\
type: model
partitions:
  sql: SELECT file AS path FROM glob('DATA/*.csv') ORDER BY file
sql: SELECT * FROM read_csv('{{ .partition.path }}')
"""

INCREMENTAL_GLOB = """\
type: model
incremental: true
partitions:
  glob: DATA/*.csv
sql: SELECT * FROM read_csv('{{ .partition.path }}')
"""


def test_a_grown_partitions_query_is_picked_up_by_a_refresh(tmp_path):
    """The partitions query lists one file more; nothing in the project changed, the trigger builds it."""
    project, data = make_project(tmp_path, PARTITIONS_QUERY)
    write_csv(data, "a.csv", [(1, "a")])
    with server(project, data, tmp_path) as base:
        assert rows(base) == [(1, "a")]
        write_csv(data, "b.csv", [(2, "b")])
        status, body = call(base + TRIGGER, "POST", {})
        assert (status, body) == (200, {"refresh": {"generation": 1, "full": []}})
        eventually(lambda: rows(base), [(1, "a"), (2, "b")])


def test_incremental_refresh_keeps_partitions_it_has_run_and_full_starts_over(tmp_path):
    project, data = make_project(tmp_path, INCREMENTAL_GLOB)
    write_csv(data, "a.csv", [(1, "a")])
    write_csv(data, "b.csv", [(2, "b")])
    with server(project, data, tmp_path) as base:
        assert rows(base) == [(1, "a"), (2, "b")]
        (data / "a.csv").unlink()  # its partition's source vanishes
        write_csv(data, "b.csv", [(2, "b changed")])  # an old partition is not run again
        write_csv(data, "c.csv", [(3, "c")])  # a new partition is
        assert call(base + TRIGGER, "POST", {"all_sources_models": True})[0] == 200
        eventually(lambda: rows(base), [(1, "a"), (2, "b"), (3, "c")])

        done = refresh_cli(project, data, tmp_path, "--model", "events", "--full")
        assert done.returncode == 0, done.stderr
        assert "1 of 1 models built, 0 failed" in done.stdout
        eventually(lambda: rows(base), [(2, "b changed"), (3, "c")])  # the server noticed the request


def test_incremental_merge_replaces_rows_by_unique_key(tmp_path):
    model = INCREMENTAL_GLOB + "output:\n  incremental_strategy: merge\n  unique_key: [id]\n"
    project, data = make_project(tmp_path, model)
    write_csv(data, "1.csv", [(1, "first"), (2, "first")])
    with server(project, data, tmp_path) as base:
        write_csv(data, "2.csv", [(2, "second"), (3, "second")])
        assert call(base + TRIGGER, "POST", {"models": [{"model": "events"}]})[0] == 200
        eventually(lambda: rows(base), [(1, "first"), (2, "second"), (3, "second")])


def test_a_restarted_server_keeps_the_incremental_rows(tmp_path):
    """The kept rows live in the state folder's build, not in the process."""
    project, data = make_project(tmp_path, INCREMENTAL_GLOB)
    write_csv(data, "a.csv", [(1, "a")])
    with server(project, data, tmp_path) as base:
        assert rows(base) == [(1, "a")]
    (data / "a.csv").unlink()
    write_csv(data, "b.csv", [(2, "b")])
    done = refresh_cli(project, data, tmp_path)
    assert done.returncode == 0, done.stderr
    with server(project, data, tmp_path) as base:
        assert rows(base) == [(1, "a"), (2, "b")]


def test_a_failing_refresh_keeps_the_last_good_build_and_health_says_why(tmp_path):
    project, data = make_project(tmp_path, INCREMENTAL_GLOB)
    write_csv(data, "a.csv", [(1, "a")])
    with server(project, data, tmp_path) as base:
        write_csv(data, "b.csv", [(2, "b", "x")], header="id,name,extra")  # a column the table does not have
        assert call(base + TRIGGER, "POST", {})[0] == 200

        def health_errors() -> list[str]:
            return [error["error"] for error in call(base + "/v1/health")[1]["errors"]]

        eventually(lambda: any("model 'events' failed to build" in text for text in health_errors()), True)
        assert call(base + "/v1/health")[1]["status"] == "degraded"
        assert rows(base) == [(1, "a")]  # the last good build keeps serving

        (data / "b.csv").unlink()
        (data / "a.csv").unlink()  # its rows were kept through the failed build
        write_csv(data, "c.csv", [(3, "c")])
        assert call(base + TRIGGER, "POST", {})[0] == 200  # the next good refresh clears it
        eventually(health_errors, [])
        assert rows(base) == [(1, "a"), (3, "c")]


INCREMENTAL_QUERY = """\
type: model
incremental: true
sql: SELECT * FROM read_csv('DATA/latest.csv')
"""


def test_an_incremental_model_without_partitions_appends_on_each_refresh_only(tmp_path):
    """Rill's `incremental: true` model with neither partitions nor state: each incremental refresh appends
    its query's rows (Rill's docs: "incremental now"); a rebuild for another file's change does not run it
    again; a full refresh starts over."""
    project, data = make_project(tmp_path, INCREMENTAL_QUERY)
    write_csv(data, "latest.csv", [(1, "a")])
    with server(project, data, tmp_path) as base:
        assert rows(base) == [(1, "a")]
        write_csv(data, "latest.csv", [(2, "b")])
        assert call(base + TRIGGER, "POST", {})[0] == 200
        eventually(lambda: rows(base), [(1, "a"), (2, "b")])

        (project / "models" / "other.sql").write_text("SELECT 1 AS one\n")  # a rebuild, not a refresh
        (project / "apis" / "other.yaml").write_text("sql: SELECT one FROM other\n")
        eventually(lambda: call(base + BASE_URL + "other")[0], 200)
        assert rows(base) == [(1, "a"), (2, "b")]

        assert call(base + TRIGGER, "POST", {"models": [{"model": "events", "full": True}]})[0] == 200
        eventually(lambda: rows(base), [(2, "b")])


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory) -> Iterator[str]:
    tmp_path = tmp_path_factory.mktemp("refresh-auth")
    project, data = make_project(tmp_path, INCREMENTAL_GLOB)
    write_csv(data, "a.csv", [(1, "a")])
    with server(project, data, tmp_path, "--auth", env={"SLUICE_JWT_SECRET": SECRET}) as base:
        yield base


def token(claims: dict) -> str:
    return jwt.encode({"sub": "u", "exp": int(time.time()) + 600, **claims}, SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    ("claims", "status", "message"),
    [
        ({"admin": False}, 403, "must be an admin to refresh the project"),
        ({"admin": "true"}, 403, "must be an admin to refresh the project"),  # a string is not true
        ({}, 403, "must be an admin to refresh the project"),
        (None, 401, "no bearer token found in authorization header"),
    ],
)
def test_only_admins_refresh_with_auth_on(auth_server, claims, status, message):
    answer = call(auth_server + TRIGGER, "POST", {}, token(claims) if claims is not None else None)
    assert answer[0] == status
    assert message in answer[1]["error"]


def test_an_admin_refreshes_with_auth_on(auth_server):
    status, body = call(auth_server + TRIGGER, "POST", {}, token({"admin": True}))
    assert status == 200 and body["refresh"]["generation"] >= 1


@pytest.fixture(scope="module")
def local_client(tmp_path_factory) -> Client:
    tmp_path = tmp_path_factory.mktemp("refresh-local")
    project, data = make_project(tmp_path, INCREMENTAL_GLOB)
    write_csv(data, "a.csv", [(1, "a")])
    settings = Settings(project_dir=str(project), state_dir=str(tmp_path / "state"), allow_dirs=(str(data),))
    return Client(create_app(settings))


BODIES = [
    # (remote address, body, status, error)
    ("192.0.2.7", {}, 403, "must be an admin to refresh the project"),  # auth off: only local callers
    ("127.0.0.1", {"models": [{"model": "nope"}]}, 404, 'model "nope" not found'),
    (
        "127.0.0.1",
        {"models": [{"model": "events", "partitions": ["k"]}]},
        400,
        '"partitions" is not supported',
    ),
    ("127.0.0.1", {"models": "events"}, 400, "models: must be a list"),
    ("127.0.0.1", {"models": [{"full": True}]}, 400, 'each item needs "model"'),
]


@pytest.mark.parametrize(("address", "body", "status", "message"), BODIES)
def test_trigger_refusals(local_client, address, body, status, message):
    response = local_client.post(TRIGGER, json=body, environ_base={"REMOTE_ADDR": address})
    assert_error(response, status, message)


def test_trigger_is_post_only(local_client):
    response = local_client.get(TRIGGER, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert_error(response, 405, "POST only")


def test_cli_refuses_an_unknown_model(tmp_path):
    project, data = make_project(tmp_path, INCREMENTAL_GLOB)
    done = refresh_cli(project, data, tmp_path, "--model", "nope")
    assert done.returncode == 2
    assert 'model "nope" not found' in done.stderr
    assert not (tmp_path / "state" / "refresh.json").exists()  # nothing was requested


def test_cli_reports_a_failed_model(tmp_path):
    project, data = make_project(tmp_path, INCREMENTAL_GLOB)
    write_csv(data, "a.csv", [(1, "a")])
    (project / "models" / "broken.sql").write_text("SELECT * FROM read_csv('missing.csv')\n")
    done = refresh_cli(project, data, tmp_path)
    assert done.returncode == 1
    assert "model 'broken' failed to build" in done.stderr
    assert "1 of 2 models built, 1 failed" in done.stdout


PLANS = [
    # (previous build's manifest, request, incremental model's digest, kept partition keys or None: start over)
    (Manifest(0, {"m": {"definition": "d1", "keys": ["k1"]}}), RefreshRequest(0), "d1", {"k1"}),
    (Manifest(0, {"m": {"definition": "d1", "keys": ["k1"]}}), RefreshRequest(0), "d2", None),  # edited
    (Manifest(0, {}), RefreshRequest(0), "d1", None),  # not in the previous build
    (Manifest(1, {"m": {"definition": "d1", "keys": ["k1"]}}), RefreshRequest(2, ("m",)), "d1", None),
    (Manifest(1, {"m": {"definition": "d1", "keys": ["k1"]}}), RefreshRequest(2, ("*",)), "d1", None),
    (Manifest(1, {"m": {"definition": "d1", "keys": ["k1"]}}), RefreshRequest(2, ("other",)), "d1", {"k1"}),
    # the full refresh already happened in the previous build: a later build carries on from it
    (Manifest(2, {"m": {"definition": "d1", "keys": ["k1"]}}), RefreshRequest(2, ("m",)), "d1", {"k1"}),
]


@pytest.mark.parametrize(("manifest", "request_", "digest", "kept"), PLANS)
def test_plan_increments(manifest, request_, digest, kept):
    carried = plan_increments([("m", digest)], manifest, request_)["m"].carried
    assert (set(carried) if carried is not None else None) == kept
