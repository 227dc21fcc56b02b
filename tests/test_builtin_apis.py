"""Rill's built-in `sql` and `metrics-sql` APIs through HTTP, with the cases of Rill's TestBuiltinSQL and
TestBuiltinMetricsSQL (runtime/resolvers/builtin_*_test.go) on the same project: admins (or a local caller
with auth off) run arbitrary read-only SQL; anyone else gets Rill's error; every API rule still applies."""

from __future__ import annotations

import json
import sys

import pytest

from project.settings import Settings
from server import create_app
from tests.conftest import BASE_URL, PROJECTS, assert_error, assert_unauthenticated, free_port, start, stop
from tests.helpers.auth import a_jwt, bearer
from tests.helpers.http import Reply, fetch

SECRET = "a-secret-for-the-builtin-api-tests-0123456789"
NOT_ADMIN = "must be an admin to run arbitrary SQL queries"
LOCAL = {"REMOTE_ADDR": "127.0.0.1"}

LOCAL_ANSWERS = [
    # (API, body, rows): auth off, a local caller (Rill's SkipChecks)
    ("sql", {"sql": "SELECT a FROM foo"}, [{"a": 10}]),
    ("metrics-sql", {"sql": "SELECT count FROM bar"}, [{"count": 1}]),
    ("sql", {"sql": "SELECT a + 1 AS b FROM foo;"}, [{"b": 11}]),
]


@pytest.mark.parametrize(("api", "body", "rows"), LOCAL_ANSWERS)
def test_a_local_caller_runs_sql_with_auth_off(project_client, api, body, rows):
    response = project_client("builtin").post(BASE_URL + api, json=body, environ_base=LOCAL)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert json.loads(response.get_data(as_text=True)) == rows


REFUSED = [
    # (body, status, message): the built-in API keeps every rule an API's SQL has
    ({"sql": "DROP TABLE foo"}, 400, "only read-only queries are allowed"),
    ({"sql": "SELECT 1; SELECT 2"}, 400, "exactly one"),
    ({"sql": "COPY foo TO 'x.csv'"}, 400, "only read-only queries are allowed"),
    ({"sql": "SELECT * FROM read_text('/etc/passwd')"}, 400, 'Cannot access file "/etc/passwd"'),
    ({}, 400, 'missing required argument "sql"'),
    ({"sql": 42}, 400, 'missing required argument "sql"'),
]


@pytest.mark.parametrize(("body", "status", "message"), REFUSED)
def test_the_sql_still_gets_every_rule(project_client, body, status, message):
    response = project_client("builtin").post(BASE_URL + "sql", json=body, environ_base=LOCAL)
    assert_error(response, status, message)
    rows = project_client("builtin").post(
        BASE_URL + "sql", json={"sql": "SELECT a FROM foo"}, environ_base=LOCAL
    )
    assert json.loads(rows.get_data(as_text=True)) == [{"a": 10}]  # nothing was dropped


def test_a_public_server_without_auth_refuses_it(tmp_path):
    settings = Settings(project_dir=str(PROJECTS / "builtin"), state_dir=str(tmp_path), host="0.0.0.0")
    from werkzeug.test import Client

    response = Client(create_app(settings)).post(
        BASE_URL + "sql", json={"sql": "SELECT a FROM foo"}, environ_base=LOCAL
    )
    assert_error(response, 403, NOT_ADMIN)


def test_a_caller_whose_address_is_unknown_is_refused(project_client):
    response = project_client("builtin").post(BASE_URL + "sql", json={"sql": "SELECT a FROM foo"})
    assert_error(response, 403, NOT_ADMIN)


def test_a_remote_caller_without_auth_is_refused(project_client):
    response = project_client("builtin").post(
        BASE_URL + "sql", json={"sql": "SELECT a FROM foo"}, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert_error(response, 403, NOT_ADMIN)


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("builtin-auth")
    port = free_port()
    command = [
        sys.executable,
        "server.py",
        str(PROJECTS / "builtin"),
        "--port",
        str(port),
        "--no-reload",
        "--auth",
    ]
    process = start(command, port, tmp, {"SLUICE_JWT_SECRET": SECRET})
    yield f"http://127.0.0.1:{port}"
    stop(process)


def call(base: str, api: str, body: dict, claims: dict | None) -> Reply:
    headers = {"Content-Type": "application/json"}
    if claims is not None:
        headers.update(bearer(a_jwt(SECRET, audience=None, **claims)))
    return fetch(base + BASE_URL, api, headers, "POST", json.dumps(body).encode())


AUTH_CASES = [
    # (API, body, claims, status, answer or error)
    ("sql", {"sql": "SELECT a FROM foo"}, {"admin": True}, 200, [{"a": 10}]),
    ("sql", {"sql": "SELECT a FROM foo"}, {"admin": False}, 403, NOT_ADMIN),
    ("sql", {"sql": "SELECT a FROM foo"}, {}, 403, NOT_ADMIN),
    ("sql", {"sql": "SELECT a FROM foo"}, {"admin": "true"}, 403, NOT_ADMIN),  # a string is not true
    ("sql", {"sql": "SELECT a FROM foo"}, None, 401, "no bearer token found in authorization header"),
    ("metrics-sql", {"sql": "SELECT count FROM bar"}, {"admin": True}, 200, [{"count": 1}]),
    ("metrics-sql", {"sql": "SELECT count FROM bar"}, {"admin": False}, 403, NOT_ADMIN),
    ("foo_rows", {}, {"admin": False}, 200, [{"a": 10}]),  # the project's own APIs are unaffected
]


@pytest.mark.parametrize(("api", "body", "claims", "status", "expected"), AUTH_CASES)
def test_with_auth_on_only_admins_run_sql(auth_server, api, body, claims, status, expected):
    reply = call(auth_server, api, body, claims)
    if status == 200:
        assert reply.status_code == 200 and reply.json() == expected, reply.body
    elif status == 401:
        assert_unauthenticated(reply, expected)
    else:
        assert assert_error(reply, status, expected) == {"error": expected}


@pytest.mark.parametrize(
    "header", [{"X-Forwarded-For": "192.0.2.7"}, {"Forwarded": "for=192.0.2.7"}, {"X-Real-IP": "192.0.2.7"}]
)
@pytest.mark.parametrize("route", ["api/sql", "trigger"])
def test_a_caller_through_a_local_proxy_is_not_local(project_client, header, route):
    """nginx on the same machine connects from 127.0.0.1: the request it forwards is still a remote caller's."""
    response = project_client("builtin").post(
        f"/v1/instances/default/{route}",
        json={"sql": "SELECT a FROM foo"},
        environ_base=LOCAL,
        headers=header,
    )
    assert response.status_code == 403, response.get_data(as_text=True)
    assert "admin" in json.loads(response.get_data(as_text=True))["error"]
