"""Typed arguments through HTTP (SPEC §3.2 point 3): coercion, defaults, validation with every violation at once."""

from __future__ import annotations

import json

import pytest

from tests.conftest import assert_error

BASE = "/v1/instances/default/api/"


def ids(rows: list[dict]) -> list[int]:
    return [row["id"] for row in rows]


ACCEPTED = [
    # (method, path, JSON body or None, ids of the rows answered)
    ("GET", "recent", None, [1, 2, 3]),  # limit defaults to 3
    ("GET", "recent?limit=5", None, [1, 2, 3, 4, 5]),  # "5" coerced to 5, bound in LIMIT
    ("GET", "recent?limit=%2B2", None, [1, 2]),
    ("GET", "recent?limit=2&limit=50", None, [1, 2]),  # not an array: the first value
    ("GET", "recent?active=true&limit=10", None, [1, 3, 5, 7]),
    ("GET", "recent?active=0&limit=10", None, [2, 4, 6]),
    ("GET", "recent?ids=2&ids=6&ids=4", None, [2, 4, 6]),  # an array: every value of a repeated key
    ("GET", "recent?ids=1,5", None, [1, 5]),  # one comma-separated value
    ("GET", "recent?ids=7&limit=1", None, [7]),
    ("POST", "recent", {"limit": 1, "ids": [3, 4]}, [3]),  # JSON body values are already typed
    ("POST", "recent?limit=2", {"limit": 99, "active": False}, [2, 4]),  # the query wins, then coerced
    ("POST", "search", {"from": "2024-01-05"}, [5, 6, 7]),
    ("POST", "search?from=2024-01-02&to=2024-01-04&kind=b", None, [2, 4]),
    ("POST", "search?limit=1", {"from": "2024-01-01", "name": "ga"}, [3]),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), ACCEPTED)
def test_arguments_are_coerced_and_defaults_filled(project_client, method, path, body, expected):
    response = project_client("openapi").open(BASE + path, method=method, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = json.loads(response.get_data(as_text=True))
    assert ids(rows) == expected


REJECTED = [
    # (method, path, JSON body or None, the error message, details)
    (
        "GET",
        "recent?limit=abc",
        None,
        "invalid arguments: limit must be an integer",
        [{"arg": "limit", "message": "must be an integer"}],
    ),
    (
        "GET",
        "recent?limit=0&ids=x&active=maybe",
        None,
        (
            "invalid arguments: active must be a boolean (true, false, 1 or 0); ids[0] must be an integer; "
            "limit must be >= 1"
        ),
        [
            {"arg": "active", "message": "must be a boolean (true, false, 1 or 0)"},
            {"arg": "ids", "message": "[0] must be an integer"},
            {"arg": "limit", "message": "must be >= 1"},
        ],
    ),
    (
        "GET",
        "recent?limit=101",
        None,
        "invalid arguments: limit must be <= 100",
        [{"arg": "limit", "message": "must be <= 100"}],
    ),
    (
        "POST",
        "search",
        {},
        "invalid arguments: from is required",
        [{"arg": "from", "message": "is required"}],
    ),
    (
        "POST",
        "search?limit=5000",
        {"from": "2024-13-02", "kind": "c", "name": "X1"},
        (
            "invalid arguments: from must be a date (YYYY-MM-DD); kind must be one of: a, b; limit must be <= 1000; "
            "name must match the pattern ^[a-z]+$"
        ),
        [
            {"arg": "from", "message": "must be a date (YYYY-MM-DD)"},
            {"arg": "kind", "message": "must be one of: a, b"},
            {"arg": "limit", "message": "must be <= 1000"},
            {"arg": "name", "message": "must match the pattern ^[a-z]+$"},
        ],
    ),
    (
        "POST",
        "search",
        {"from": 20240101, "limit": "3"},
        "invalid arguments: ",
        [{"arg": "from", "message": "must be a string"}, {"arg": "limit", "message": "must be an integer"}],
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "message", "details"), REJECTED)
def test_violations_are_reported_together(project_client, method, path, body, message, details):
    response = project_client("openapi").open(BASE + path, method=method, json=body)
    error = assert_error(response, 400, message)
    assert error["error"].startswith("invalid arguments: ")
    assert error["details"] == details


UNTYPED = [
    # (path, JSON body or None, printed value): no schema, so the args arrive as they come, as in Rill
    ("echo?x=5", None, "5"),
    ("echo?x=1,2", None, "1,2"),
    ("echo?x=b&x=a", None, "b"),
    ("echo", {"x": [1, 2]}, "[1 2]"),
    ("echo", None, "<no value>"),
]


@pytest.mark.parametrize(("path", "body", "printed"), UNTYPED)
def test_an_api_without_schema_takes_args_as_they_come(project_client, path, body, printed):
    response = project_client("openapi").open(BASE + path, method="POST" if body else "GET", json=body)
    assert json.loads(response.get_data(as_text=True)) == [{"x": printed}]
