"""Rill's `resource_status` resolver through HTTP, with the cases of Rill's TestResourceStatus
(runtime/resolvers/resource_status_test.go): every resource with its state and error, `where_error: true`
for the failing ones, the project parser carrying parse errors; admins only when auth is on."""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.error
import urllib.request

import jwt
import pytest

from tests.conftest import BASE_URL, PROJECTS, free_port, start, stop


def row(kind: str, name: str, error: str = "") -> dict:
    return {"type": kind, "name": name, "status": "Idle", "error": error}


CASES = [
    # (project, API, rows; an error is a pattern, as Rill's test compares it)
    (
        "status_ok",
        "status",
        [
            row("API", "errors"),
            row("API", "status"),
            row("Model", "m1"),
            row("Model", "m2"),
            row("ProjectParser", "parser"),
        ],
    ),
    ("status_ok", "errors", []),
    (
        "status_errors",
        "status",
        [
            row("API", "errors"),
            row("API", "status"),
            row("Model", "m1"),
            row("Model", "m2", "booom!"),
            row("ProjectParser", "parser", "encountered parse errors"),
        ],
    ),
    (
        "status_errors",
        "errors",
        [row("Model", "m2", "booom!"), row("ProjectParser", "parser", "encountered parse errors")],
    ),
]


@pytest.mark.parametrize(("project", "api", "rows"), CASES)
def test_resources_and_their_errors(project_client, project, api, rows):
    response = project_client(project).get(BASE_URL + api)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = json.loads(response.get_data(as_text=True))
    assert [{**got, "error": ""} for got in answer] == [{**want, "error": ""} for want in rows]
    for got, want in zip(answer, rows):
        assert re.search(want["error"], got["error"]) if want["error"] else got["error"] == ""


def test_every_format_works(project_client):
    response = project_client("status_errors").get(BASE_URL + "errors.csv")
    assert response.status_code == 200
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == '"type","name","status","error"'
    assert lines[1].startswith('"Model","m2","Idle","')


SECRET = "a-secret-for-the-resource-status-tests-0123"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("status-auth")
    port = free_port()
    command = [
        sys.executable,
        "server.py",
        str(PROJECTS / "status_errors"),
        "--port",
        str(port),
        "--no-reload",
    ]
    process = start([*command, "--auth"], port, tmp, {"SLUICE_JWT_SECRET": SECRET})
    yield f"http://127.0.0.1:{port}"
    stop(process)


@pytest.mark.parametrize(("claims", "status"), [({"admin": True}, 200), ({"admin": False}, 403), ({}, 403)])
def test_with_auth_on_only_admins_see_it(auth_server, claims, status):
    token = jwt.encode({"sub": "u", "exp": int(time.time()) + 600, **claims}, SECRET, algorithm="HS256")
    request = urllib.request.Request(
        auth_server + BASE_URL + "errors", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            code, body = response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        code, body = error.code, json.loads(error.read())
    assert code == status, body
    if status == 200:
        assert [entry["name"] for entry in body] == ["m2", "parser"]
    else:
        assert body == {"error": "must be an admin to see the status of resources"}


def test_a_resolver_value_must_be_a_mapping(project_client, tmp_path):
    from project.errors import ProjectError
    from project.loading.apis import read_api

    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "s.yaml").write_text("type: api\nresource_status: yes please\n")
    with pytest.raises(ProjectError, match="resource_status: must be a mapping"):
        read_api(str(tmp_path), "apis/s.yaml", {})
