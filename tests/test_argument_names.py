"""Argument *names* are caller data (issue 10 §1): keys of `.args` at any depth and `.user` attribute names
print as markers and bind like values, through `range` and every function; they are never pasted into SQL.

The APIs are in tests/projects/argument_names/; each case is a request and the exact answer it must get.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

import jwt
import pytest
from werkzeug.test import Client

from project.settings import Settings
from server import create_app
from tests.conftest import PROJECTS, assert_error, serving

BASE = "/v1/instances/default/api/"
PROJECT = PROJECTS / "argument_names"
ENV_FILE = PROJECT / ".env"
SECRET = "a-jwt-secret-for-the-argument-name-tests-0123"


def read_env_key() -> str:
    """Issue 10's first example: a query-string key that closes the literal and reads the project's .env."""
    return f"x' AS ks UNION ALL SELECT content FROM read_text('{ENV_FILE}') UNION ALL SELECT '"


@pytest.fixture(scope="module")
def client(project_client):
    return project_client("argument_names")


def answer(response) -> list:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return json.loads(response.get_data())


def test_a_query_string_key_that_closes_the_literal_is_one_value(client):
    key = read_env_key()
    assert answer(client.get(BASE + "key_list", query_string={key: "1"})) == [{"ks": key + ","}]


def test_a_key_printed_bare_is_a_bound_value_not_a_condition(client):
    # `AND {{ $k }} = '{{ $v }}'` compares the key's text with the value: never `1=1 OR id = ''`
    assert answer(client.get(BASE + "key_filter", query_string={"1=1 OR id": ""})) == []
    assert answer(client.get(BASE + "key_filter", query_string={"x": "x"})) == [
        {"id": 1},
        {"id": 2},
        {"id": 3},
    ]


@pytest.mark.parametrize(
    "key, status, expected",
    [
        ("name", 200, [{"id": 1}]),
        ("category", 200, []),
        ("1=1 OR id", 400, 'Referenced column "1=1 OR id" not found'),
        ('name" = name OR "x', 400, "not found"),
    ],
)
def test_a_key_printed_as_a_quoted_name_is_a_checked_identifier(client, key, status, expected):
    response = client.get(BASE + "key_filter_quoted", query_string={key: "Widget"})
    if status == 200:
        assert answer(response) == expected
    else:
        assert_error(response, 400, expected)


@pytest.mark.parametrize(
    "key",
    ["' UNION ALL SELECT s FROM secrets --", "Widget", "O'Brien", "'; DROP TABLE items; --", "\u2019 OR 1=1"],
)
def test_keys_of_a_json_object_in_the_body_are_values(client, key):
    expected = [{"name": key}] if key in ("Widget", "O'Brien") else []
    assert answer(client.post(BASE + "body_keys", json={"f": {key: 1}})) == expected


@pytest.mark.parametrize(
    "key, value",
    [("' OR '1'='1", "v"), ("a", "' UNION ALL SELECT s FROM secrets --"), ('k"', "{}")],
)
def test_functions_of_keys_are_values(client, key, value):
    expected = {
        "joined": key,
        "json": json.dumps({key: value}, separators=(",", ":")),
        "printed": f"map[{key}:{value}]",
        "upper": key.upper(),
    }
    assert answer(client.get(BASE + "key_functions", query_string={key: value})) == [expected]


def test_user_attribute_names_are_values(tmp_path):
    settings = Settings(project_dir=str(PROJECT), auth=True, state_dir=str(tmp_path), jwt_secret=SECRET)
    app = create_app(settings)
    claims = {"sub": "u", "exp": int(time.time()) + 600, "x' AS attributes FROM secrets --": "1"}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    response = Client(app).get(BASE + "user_keys", headers={"Authorization": f"Bearer {token}"})
    assert answer(response) == [{"attributes": "id=u;x' AS attributes FROM secrets --=1;"}]


def test_a_real_server_binds_argument_names(tmp_path):
    key = read_env_key()
    with serving(PROJECT, tmp_path) as base:
        url = base + BASE + "key_list?" + urllib.parse.urlencode({key: "1"})
        with urllib.request.urlopen(url, timeout=30) as response:
            body = json.loads(response.read())
    assert body == [{"ks": key + ","}]
    assert "do-not-serve-this-line" not in json.dumps(body)
