"""Every source of an error answer, in one table: status, the one JSON shape, and the headers it must carry."""

from __future__ import annotations

import time

import jwt
import pytest
from werkzeug.test import Client

from project.settings import Settings
from server import create_app
from tests.conftest import BASE_URL, PROJECTS, assert_error

SECRET = "s" * 32
ORIGIN = "https://app.example.com"


def bearer() -> dict:
    token = jwt.encode({"sub": "u1", "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    state = tmp_path_factory.mktemp("errors-secured")
    settings = Settings(
        project_dir=str(PROJECTS / "secured"),
        state_dir=str(state),
        auth=True,
        jwt_secret=SECRET,
        tokens_path=str(state / "tokens.json"),
        cors_origins=(ORIGIN,),
    )
    return Client(create_app(settings))


def overloaded(project_client):
    """A second query while the only slot streams the first one's rows."""
    client = project_client(
        "basic", max_queries=1, batch_rows=100, row_cap=0, cache_bytes=0
    )  # every call queries
    streaming = client.get(BASE_URL + "rows?count=5000", buffered=False)
    try:
        return client.get(BASE_URL + "echo")
    finally:
        b"".join(streaming.response)
        streaming.close()


SOURCES = [
    # (name, how to get the answer, status, message, headers it must carry)
    (
        "no token",
        lambda basic, secured: secured.get(BASE_URL + "open"),
        401,
        "no bearer token found in authorization header",
        {"WWW-Authenticate": "Bearer"},
    ),
    (
        "invalid token",
        lambda basic, secured: secured.get(BASE_URL + "open", headers={"Authorization": "Bearer x"}),
        401,
        "invalid token",
        {"WWW-Authenticate": "Bearer"},
    ),
    (
        "no access",
        lambda basic, secured: secured.get(BASE_URL + "closed", headers=bearer()),
        403,
        'does not have access to api "closed"',
        {},
    ),
    (
        "CORS refusal",
        lambda basic, secured: secured.options(
            BASE_URL + "open",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        ),
        403,
        'origin "https://evil.example" is not allowed',
        {"Vary": "Origin"},
    ),
    (
        "unknown API",
        lambda basic, secured: basic("basic").get(BASE_URL + "nope"),
        404,
        'api with name "nope" not found',
        {},
    ),
    (
        "unknown route",
        lambda basic, secured: basic("basic").get("/v2/nothing"),
        404,
        "The requested URL was not found on the server",
        {},
    ),
    (
        "method",
        lambda basic, secured: basic("basic").delete(BASE_URL + "echo"),
        405,
        "GET or POST only",
        {"Allow": "GET, HEAD, POST, OPTIONS"},
    ),
    (
        "body too large",
        lambda basic, secured: basic("basic").post(BASE_URL + "echo", data=b" " * (10 * 1024 * 1024 + 1)),
        413,
        "exceeds the capacity limit",
        {},
    ),
    (
        "API failed to load",
        lambda basic, secured: basic("basic").get(BASE_URL + "broken_template"),
        500,
        "apis/broken_template.yaml:4:9: unclosed action",
        {},
    ),
    (
        "overloaded",
        lambda basic, secured: overloaded(basic),
        503,
        "too many queries are running",
        {"Retry-After": "1"},
    ),
    (
        "query timeout",
        lambda basic, secured: basic("basic", query_timeout=0.3).get(BASE_URL + "slow"),
        504,
        "query timed out after 0.3 s",
        {},
    ),
]


@pytest.mark.parametrize("name, answer, status, message, headers", SOURCES, ids=[row[0] for row in SOURCES])
def test_every_error_source_answers_one_shape(
    project_client, secured, name, answer, status, message, headers
):
    response = answer(project_client, secured)
    body = assert_error(response, status, message)
    assert set(body) <= {"error", "details", "line", "column"}
    for header, value in headers.items():
        assert response.headers.get(header) == value, (header, dict(response.headers))
