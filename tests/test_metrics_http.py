"""metrics_sql APIs through HTTP on `tests/projects/metrics_http`: queries with auth off (Werkzeug client),
then the metrics view's security (access, row filter, exclude) through a real `--auth` server."""

from __future__ import annotations

import json

import pytest

from tests.conftest import BASE_URL as BASE
from tests.conftest import assert_error, assert_unauthenticated
from tests.helpers.auth import SECRET, a_jwt, bearer, launch
from tests.helpers.http import fetch

ALL_DOMAINS = [
    {"domain": "google.com", "bids": 2, "revenue": 4.0},
    {"domain": "msn.com", "bids": 2, "revenue": 2.5},
    {"domain": "news.google.com", "bids": 1, "revenue": 4.0},
    {"domain": "news.yahoo.com", "bids": 1, "revenue": 1.0},
    {"domain": "yahoo.com", "bids": 2, "revenue": 4.0},
]

ANSWERS = [
    # (path, JSON body or None, rows) -- auth off: no policy applies
    (
        "by_publisher",
        None,
        [
            {"publisher": "Google", "bids": 3, "impressions": 160},
            {"publisher": "Microsoft", "bids": 1, "impressions": 40},
            {"publisher": "Yahoo", "bids": 3, "impressions": 105},
            {"publisher": None, "bids": 1, "impressions": 20},
        ],
    ),  # NULLS LAST
    ("totals", None, [{"bids": 8, "impressions": 325}]),
    ("google_domains", None, [{"domain": "google.com", "bids": 2}, {"domain": "news.google.com", "bids": 1}]),
    ("busy_publishers", None, [{"publisher": "Yahoo", "bids": 3}, {"publisher": "Google", "bids": 2}]),
    (
        "top_by_impressions",
        None,
        [{"publisher": "Yahoo", "impressions": 105}, {"publisher": "Microsoft", "impressions": 40}],
    ),
    (
        "per_day",
        None,
        [
            {"day": "2024-01-01T00:00:00Z", "bids": 3},
            {"day": "2024-01-02T00:00:00Z", "bids": 3},
            {"day": "2024-01-03T00:00:00Z", "bids": 2},
        ],
    ),
    ("for_domain?domain=yahoo.com", None, [{"publisher": "Yahoo", "bids": 2}]),
    (
        "for_domain",
        {"domain": "msn.com"},
        [{"publisher": "Microsoft", "bids": 1}, {"publisher": None, "bids": 1}],
    ),
    ("for_domain?domain=x' OR '1'='1", None, []),  # an injection attempt is just a value
    ("for_domain?domain=yahoo.com' --", None, []),
    ("first_n?n=2", None, [{"publisher": "Google", "bids": 3}, {"publisher": "Microsoft", "bids": 1}]),
    ("revenue", None, [{"domain": row["domain"], "revenue": row["revenue"]} for row in ALL_DOMAINS]),
    ("unsecured", None, ALL_DOMAINS),
]


@pytest.mark.parametrize("path, body, rows", ANSWERS)
def test_metrics_sql_answers(project_client, path, body, rows):
    response = project_client("metrics_http").open(BASE + path, method="POST" if body else "GET", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert json.loads(response.get_data()) == rows


ERRORS = [
    # (path, status, message) -- Rill's wording
    (
        "unknown_column",
        400,
        "metrics sql: selected column `nope` not found in dimensions/measures in metrics view",
    ),
    ("not_select", 400, "metrics sql: expected a SELECT statement"),
    ("first_n?n=1; DROP TABLE ad_bids", 400, "Could not convert string '1; DROP TABLE ad_bids' to INT64"),
    ("first_n?n=publisher", 400, "Could not convert string 'publisher' to INT64"),
]


@pytest.mark.parametrize("path, status, message", ERRORS)
def test_metrics_sql_errors(project_client, path, status, message):
    client = project_client("metrics_http")
    assert_error(client.get(BASE + path), status, message)
    assert json.loads(client.get(BASE + "totals").get_data()) == [{"bids": 8, "impressions": 325}]


# --- the metrics view's security, for authenticated callers -------------------------------------------------


@pytest.fixture(scope="module")
def secured_metrics(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("metrics-auth")
    process, base, _ = launch(
        "metrics_http", tmp, [], {"SLUICE_JWT_SECRET": SECRET, "SLUICE_TOKENS": str(tmp / "tokens.json")}
    )
    yield base
    process.terminate()
    process.wait(timeout=20)


def token(**claims) -> dict[str, str]:
    return bearer(a_jwt(audience=None, **claims))


YAHOO = {"domain": "yahoo.com", "admin": False}
POLICIES = [
    # (path, JWT claims, rows); neighbouring rows differ in one attribute
    ("by_publisher", YAHOO, [{"publisher": "Yahoo", "bids": 2, "impressions": 100}]),
    (
        "by_publisher",
        {**YAHOO, "domain": "msn.com"},
        [
            {"publisher": "Microsoft", "bids": 1, "impressions": 40},
            {"publisher": None, "bids": 1, "impressions": 20},
        ],
    ),
    ("by_publisher", {**YAHOO, "domain": "x' OR '1'='1"}, []),  # the row filter binds the value
    ("totals", {**YAHOO, "domain": "google.com"}, [{"bids": 2, "impressions": 150}]),
    ("for_domain?domain=yahoo.com", YAHOO, [{"publisher": "Yahoo", "bids": 2}]),
    ("for_domain?domain=google.com", YAHOO, []),  # the caller's WHERE is AND-ed with the row filter
    ("revenue", {**YAHOO, "admin": True}, [{"domain": "yahoo.com", "revenue": 4.0}]),
    ("my_domain", YAHOO, [{"publisher": "Yahoo", "bids": 2}]),  # `.user` in the metrics SQL itself
    ("my_domain", {**YAHOO, "domain": "google.com' OR '1'='1"}, []),
    ("unsecured", YAHOO, ALL_DOMAINS),  # skip_nested_security: true
    ("unsecured", {**YAHOO, "domain": "blocked.com"}, ALL_DOMAINS),
]


@pytest.mark.parametrize("path, claims, rows", POLICIES)
def test_metrics_view_policies(secured_metrics, path, claims, rows):
    reply = fetch(secured_metrics, BASE + path, token(**claims))
    assert reply.status_code == 200, reply.body
    assert reply.json() == rows


DENIED = [
    # (path, JWT claims, status, message): a view closed to the caller is 403, a hidden field a 400 query error
    ("by_publisher", {**YAHOO, "domain": "blocked.com"}, 403, "action not allowed"),
    ("revenue", YAHOO, 400, 'invalid measure "revenue": action not allowed'),
    ("revenue", {"domain": "yahoo.com"}, 400, "security rule"),  # no admin attribute: `if` is undecidable
]


@pytest.mark.parametrize("path, claims, status, message", DENIED)
def test_metrics_view_denials(secured_metrics, path, claims, status, message):
    reply = fetch(secured_metrics, BASE + path, token(**claims))
    body = assert_error(reply, status, message)
    assert "4.0" not in json.dumps(body)


def test_metrics_need_a_token_when_auth_is_on(secured_metrics):
    assert_unauthenticated(
        fetch(secured_metrics, BASE + "unsecured"), "no bearer token found in authorization header"
    )


def test_compiled_metrics_sql_is_reused_and_answers_alike(project_client):
    """Without a caller policy, a rendered metrics SQL text is compiled once per loaded project."""
    client = project_client("metrics_http")
    answers = [client.get(BASE + "busy_publishers").get_data(as_text=True) for _ in range(3)]
    assert answers[0] == answers[1] == answers[2]
    cache = client.application.current_project().derived["compiled_metrics_sql"]
    assert any("HAVING bids > 1" in sql for sql, _ in cache)  # keyed by (rendered SQL, time zone)
