"""GET /v1/instances/default/api: the listing of APIs (names, summaries, URLs, formats, broken ones).

The listing is checked against what a call does: a caller sees exactly the APIs it is not refused (403).
"""

from __future__ import annotations

import json
import time
import urllib.request

import jwt
import pytest

from tests.conftest import OPENAPI_FIXTURE_APIS, PROJECTS, assert_error, serving

LISTING = "/v1/instances/default/api"
CLOUD_LISTING = "/v1/organizations/acme/projects/ads/runtime/api"
SECRET = "a-listing-secret-that-is-long-enough-0123"
AUTH = {"auth": True, "jwt_secret": SECRET, "cache_bytes": 0}
FORMAT_NAMES = ["json", "ndjson", "csv", "parquet", "arrow"]


def bearer(**claims) -> dict[str, str]:
    token = jwt.encode({"sub": "u", "exp": int(time.time()) + 600, **claims}, SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def listing(client, path: str = LISTING, **options) -> list[dict]:
    response = client.get(path, **options)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json"
    return response.get_json()["apis"]


CALLERS = [  # JWT claims of callers who differ in what tests/projects/secured lets them call
    {},
    {"admin": True},
    {"admin": False, "domain": "acme.com"},
    {"domain": "partner.io", "groups": ["sales"]},
    {"tier": "enterprise", "company": "Macy's"},
]


@pytest.mark.parametrize("claims", CALLERS)
def test_a_caller_sees_exactly_the_apis_it_may_call(project_client, claims):
    client = project_client("secured", **AUTH)
    headers = bearer(**claims)
    listed = {entry["name"] for entry in listing(client, headers=headers)}
    every = {entry["name"] for entry in listing(client, headers=bearer(admin=True))} | listed
    callable_ = {
        name for name in every if client.get(f"{LISTING}/{name}", headers=headers).status_code != 403
    }
    assert listed == callable_
    assert "closed" not in listed and "open" in listed


def test_without_a_token_the_listing_is_401(project_client):
    response = project_client("secured", **AUTH).get(LISTING)
    assert_error(response, 401, "no bearer token found in authorization header")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("settings", "headers", "shows_error"),
    [
        ({"cache_bytes": 0}, {}, True),  # auth off, as in local development
        (AUTH, bearer(admin=True), True),
        (AUTH, bearer(admin=False), False),
        (AUTH, bearer(), False),
    ],
)
def test_broken_apis_are_listed_and_only_admins_read_why(project_client, settings, headers, shows_error):
    entries = {
        entry["name"]: entry for entry in listing(project_client("basic", **settings), headers=headers)
    }
    broken = entries["broken_template"]
    assert broken["broken"] is True
    assert ("error" in broken) is shows_error
    if shows_error:
        assert broken["error"] == "apis/broken_template.yaml:4:9: unclosed action"
    loop = entries["loop_self"]  # loaded, but calling it fails whoever calls
    assert loop["broken"] is True and ("error" in loop) is shows_error
    assert entries["by_domain"]["broken"] is False and "error" not in entries["by_domain"]


def test_every_api_file_is_listed_with_auth_off(project_client):
    names = [entry["name"] for entry in listing(project_client("basic"))]
    files = sorted(path.stem for path in (PROJECTS / "basic" / "apis").glob("*.yaml"))
    assert names == files


def test_an_entry_says_what_the_api_is_and_where_to_call_it(project_client):
    entries = {entry["name"]: entry for entry in listing(project_client("openapi"))}
    base = "http://localhost/v1/instances/default/api/"
    assert entries["titled"] == {
        "name": "titled",
        "summary": "Kinds of events",  # display_name
        "description": "One row, to show a display name and a description in the listing of APIs.",
        "url": base + "titled",
        "formats": {name: base + "titled" + ("" if name == "json" else f".{name}") for name in FORMAT_NAMES},
        "broken": False,
    }
    assert entries["recent"]["summary"] == "The most recent events"  # openapi.summary
    assert entries["echo"]["summary"] is None and entries["echo"]["description"] is None


def test_the_cloud_route_lists_with_its_own_urls(project_client):
    client = project_client("openapi", org="acme", project_name="ads")
    (entry,) = [entry for entry in listing(client, CLOUD_LISTING) if entry["name"] == "echo"]
    assert entry["url"] == "http://localhost" + CLOUD_LISTING + "/echo"
    assert_error(client.get("/v1/organizations/other/projects/ads/runtime/api"), 404, 'organization "other"')
    assert_error(client.get("/v1/instances/other/api"), 404, 'instance "other" not found')


def test_urls_keep_the_host_and_prefix_a_trusted_proxy_forwards(project_client):
    client = project_client("openapi", proxy_hops=1)
    headers = {
        "X-Forwarded-Host": "api.example.com",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Prefix": "/data",
    }
    (entry,) = [entry for entry in listing(client, headers=headers) if entry["name"] == "echo"]
    assert entry["url"] == "https://api.example.com/data/v1/instances/default/api/echo"


def test_a_real_server_lists_urls_that_answer_in_their_formats(tmp_path):
    with serving(PROJECTS / "openapi", tmp_path) as base:
        with urllib.request.urlopen(base + LISTING + "/", timeout=30) as response:  # a trailing slash too
            entries = json.loads(response.read())["apis"]
        assert {entry["name"] for entry in entries} == {path.lstrip("/") for path in OPENAPI_FIXTURE_APIS}
        for entry in entries:
            assert entry["url"] == f"{base}{LISTING}/{entry['name']}" and entry["broken"] is False
        titled = next(entry for entry in entries if entry["name"] == "titled")
        for name, url in titled["formats"].items():
            with urllib.request.urlopen(url, timeout=30) as response:
                assert response.status == 200 and name in response.headers["Content-Type"]
