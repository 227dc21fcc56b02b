"""A project that cannot load at start (no folder yet, a broken rill.yaml): the server starts anyway, answers
503 with the reason until a project loads, and serves it once the files are fixed, without a restart."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from werkzeug.test import Client

from project.auth.tokens import TokenStore
from project.settings import Settings
from server import create_app
from tests.conftest import assert_error, free_port, run_sluice, start, stop
from tests.helpers.http import fetch
from tests.helpers.polling import steadily

GOOD_FILES = {
    "rill.yaml": "env:\n  greeting: hello\n",
    "apis/hello.yaml": "type: api\nsql: SELECT '{{ .env.greeting }}' AS greeting\n",
}
# (case, files written at start or None for no folder, the reason's file, words of the reason)
BROKEN_STARTS = [
    ("no folder yet", None, None, "project folder not found"),
    ("rill.yaml is not YAML", {"rill.yaml": "env: [greeting\n"}, "rill.yaml", "invalid YAML"),
    ("rill.yaml is a list", {"rill.yaml": "- env\n- greeting\n"}, "rill.yaml", "expected a YAML mapping"),
]
API_ROUTES = [
    "/v1/instances/default/api/hello",
    "/v1/instances/default/api/sql?sql=SELECT+1",
    "/v1/organizations/o/projects/p/runtime/api/hello",
    "/v1/instances/default/api/openapi",
    "/v1/organizations/o/projects/p/runtime/api/openapi",
    "/v1/instances/default/api",
    "/v1/organizations/o/projects/p/runtime/api",
]


def write_files(root: Path, files: dict[str, str]) -> None:
    """Each file written whole, then moved into place (a watcher never reads half a file); a folder that
    does not exist yet appears at once, complete."""
    target = root
    if not root.exists():
        root = root.with_name(root.name + ".new")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / (name + ".new")).write_text(text)
        os.replace(root / (name + ".new"), root / name)
    if root != target:
        os.replace(root, target)


def broken_project(tmp_path: Path, files: dict[str, str] | None) -> Path:
    project = tmp_path / "project"
    if files is not None:
        write_files(project, {**GOOD_FILES, **files})
    return project


@pytest.mark.parametrize(
    ("case", "files", "path", "reason"), BROKEN_STARTS, ids=[row[0] for row in BROKEN_STARTS]
)
def test_an_app_that_cannot_load_answers_503_until_the_files_are_fixed(tmp_path, case, files, path, reason):
    project = broken_project(tmp_path, files)
    app = create_app(Settings(project_dir=str(project), state_dir=str(tmp_path / "state")))
    client = Client(app)
    assert client.get("/v1/ping").status_code == 200
    health = client.get("/v1/health")
    assert health.status_code == 503 and health.headers["Retry-After"]
    body = json.loads(health.get_data())
    assert body["status"] == "unavailable" and reason in body["error"]
    assert [(error["path"], reason in error["error"]) for error in body["errors"]] == [(path, True)]
    for route in API_ROUTES:
        response = client.get(route)
        assert_error(response, 503, f"no project has loaded yet: {path + ':' if path else ''}")
        assert response.headers["Retry-After"]
    write_files(project, GOOD_FILES)
    app.watcher.check()  # what the watcher's thread does each second, reload on or off
    assert json.loads(client.get("/v1/health").get_data())["status"] == "ok"
    assert json.loads(client.get(API_ROUTES[0]).get_data()) == [{"greeting": "hello"}]


@pytest.mark.parametrize(
    ("case", "files", "path", "reason"), BROKEN_STARTS, ids=[row[0] for row in BROKEN_STARTS]
)
def test_check_still_fails_on_a_project_that_cannot_load(tmp_path, case, files, path, reason):
    project = broken_project(tmp_path, files)
    result = run_sluice("check", str(project))
    assert result.returncode != 0 and f"error: {path + ':' if path else ''}" in result.stderr
    assert reason in result.stderr and "Traceback" not in result.stderr


def test_with_auth_on_the_reason_is_only_for_a_caller_with_a_token(tmp_path):
    project = broken_project(tmp_path, {"rill.yaml": "env: [greeting\n"})
    store = TokenStore(str(tmp_path / "tokens.json"))
    token, _ = store.issue_user_token("Ana")
    settings = Settings(
        project_dir=str(project), state_dir=str(tmp_path / "state"), auth=True, tokens_path=store.path
    )
    client = Client(create_app(settings))
    health = client.get("/v1/health")
    assert health.status_code == 503 and json.loads(health.get_data()) == {"status": "unavailable"}
    assert_error(client.get(API_ROUTES[0]), 401, "no bearer token")  # the token is checked first
    authorized = {"Authorization": f"Bearer {token}"}
    health = client.get("/v1/health", headers=authorized)
    assert health.status_code == 503 and "invalid YAML" in json.loads(health.get_data())["error"]
    body = assert_error(client.get(API_ROUTES[0], headers=authorized), 503, "no project has loaded yet")
    assert "YAML" not in body["error"]  # errors can quote data: the reason is in health, for a token


def test_a_broken_reload_after_a_good_load_keeps_the_last_good_project(tmp_path):
    project = broken_project(tmp_path, {})
    app = create_app(Settings(project_dir=str(project), state_dir=str(tmp_path / "state"), reload=True))
    client = Client(app)
    (project / "rill.yaml").write_text("env: [greeting\n")
    app.watcher.check()
    assert json.loads(client.get(API_ROUTES[0]).get_data()) == [{"greeting": "hello"}]
    health = client.get("/v1/health")
    assert health.status_code == 200 and json.loads(health.get_data())["status"] == "degraded"
    [error] = json.loads(health.get_data())["errors"]
    assert error["path"] == "rill.yaml" and "the previous one keeps serving: invalid YAML" in error["error"]
    (project / "rill.yaml").write_text("env:\n  greeting: hi\n")
    app.watcher.check()
    assert json.loads(client.get(API_ROUTES[0]).get_data()) == [{"greeting": "hi"}]
    assert json.loads(client.get("/v1/health").get_data()) == {"status": "ok", "apis": 1, "errors": []}


def server_command(kind: str, port: int, project: Path) -> list[str]:
    if kind == "gunicorn":  # the shipped gunicorn.conf.py, reload off (its default)
        return [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}"]
    return [sys.executable, "server.py", str(project), "--port", str(port)]


def server_story(tmp_path: Path) -> str:
    """The server's log without its request lines: which worker loaded what, and when."""
    lines = (tmp_path / "server.log").read_text().splitlines()
    return "\n".join(line for line in lines if "sluice.request" not in line)[-8000:]


@pytest.mark.parametrize("kind", ["dev", "gunicorn"])
@pytest.mark.parametrize(
    ("case", "files", "path", "reason"), BROKEN_STARTS[:2], ids=["no-folder", "bad-yaml"]
)
def test_a_real_server_starts_on_a_broken_project_and_serves_it_once_fixed(
    tmp_path, kind, case, files, path, reason
):
    project = broken_project(tmp_path, files)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start(server_command(kind, port, project), port, tmp_path, {"SLUICE_PROJECT": str(project)})
    try:
        assert steadily(lambda: fetch(base, "/v1/ping").status_code, lambda status: status == 200) == 200
        reply = fetch(base, "/v1/health")
        assert reply.status_code == 503 and reply.headers["Retry-After"] and reason in reply.json()["error"]
        assert reply.json()["errors"][0]["path"] == path
        reply = fetch(base, API_ROUTES[0])
        assert reply.status_code == 503 and reply.headers["Retry-After"] and reason in reply.json()["error"]
        write_files(project, GOOD_FILES)
        # each worker loads on its own: wait until answers in a row all come from a loaded one (a worker busy
        # loading takes no connections, so a run of answers may all come from the other)
        health = steadily(lambda: fetch(base, "/v1/health").status_code, lambda status: status == 200)
        assert health == 200, server_story(tmp_path)
        hello = [{"greeting": "hello"}]
        answer = steadily(lambda: fetch(base, API_ROUTES[0]).json(), lambda answer: answer == hello)
        assert answer == hello, server_story(tmp_path)
        assert process.poll() is None
    finally:
        stop(process)
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log
    assert [line for line in log.splitlines() if " ERROR sluice: error: " in line and reason in line], log
