"""Calling APIs of fixture projects through the WSGI app: (request -> status, body) tables."""

import json

import pytest

from project.errors import ResultCapError
from tests.conftest import assert_error

BASE = "/v1/instances/default/api/"

ANSWERS = [
    # (method, path, JSON body or None, expected rows)
    (
        "GET",
        "by_domain?domain=a.com",
        None,
        [{"id": 1, "publisher": "Google"}, {"id": 2, "publisher": "Yahoo"}],
    ),
    ("POST", "by_domain", {"domain": "b.com"}, [{"id": 3, "publisher": "Google"}]),
    (
        "POST",
        "by_domain?domain=a.com",
        {"domain": "b.com"},
        [{"id": 1, "publisher": "Google"}, {"id": 2, "publisher": "Yahoo"}],
    ),  # query wins
    ("GET", "by_domain?domain=b.com&domain=a.com", None, [{"id": 3, "publisher": "Google"}]),  # first value
    ("GET", "by_domain?domain=x' OR '1'='1", None, [{"id": 4, "publisher": "Evil"}]),  # just a literal
    ("GET", "by_domain?domain=nowhere", None, []),
    ("GET", "echo", None, [{"x": "<no value>"}]),
    ("GET", "echo?x=it's", None, [{"x": "it's"}]),
    ("POST", "echo", {"x": 1000000}, [{"x": "1000000"}]),  # whole JSON numbers print as integers
    ("POST", "echo", {"x": 2.5}, [{"x": "2.5"}]),
    ("POST", "echo", {"x": ["a", "b"]}, [{"x": "[a b]"}]),
    ("POST", "echo", {"x": True}, [{"x": "true"}]),
    ("GET", "limited?n=2", None, [{"n": 0}, {"n": 1}]),
    ("GET", "has_key", None, [{"has": "no"}]),
    ("GET", "has_key?x=", None, [{"has": "yes"}]),
    ("GET", "defaults", None, [{"v": "fallback", "greeting": "hello"}]),
    ("GET", "defaults?x=given", None, [{"v": "given", "greeting": "hello"}]),
    (
        "GET",
        "totals",
        None,
        [
            {"domain": "a.com", "volume": 30},
            {"domain": "b.com", "volume": 30},
            {"domain": "x' OR '1'='1", "volume": 40},
        ],
    ),
    ("GET", "companion", None, [{"source": "from the .sql file"}]),
    ("GET", "proxy?domain=b.com", None, [{"id": 1, "publisher": "Google"}, {"id": 2, "publisher": "Yahoo"}]),
    ("GET", "five_max?count=5", None, [{"n": n} for n in range(5)]),
]


@pytest.mark.parametrize("method, path, body, rows", ANSWERS)
def test_answers(project_client, method, path, body, rows):
    response = project_client("basic").open(BASE + path, method=method, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.get_data(as_text=True)) == rows


ERRORS = [
    # (method, path, raw body, status, message part)
    ("GET", "nope", None, 404, 'api with name "nope" not found'),
    (
        "POST",
        "by_domain",
        "[1, 2]",
        400,
        "failed to unmarshal request body: expected a JSON object, got an array",
    ),
    ("POST", "nope", "{broken", 400, "failed to unmarshal request body"),  # body is read before the lookup
    ("GET", "by_domain", '"text"', 400, "failed to unmarshal request body"),
    ("POST", "echo", '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}", 400, "nested too deeply"),
    ("POST", "echo", b"\xff\xfe", 400, "failed to unmarshal request body"),
    ("POST", "echo", "\n", 400, "failed to unmarshal request body"),  # whitespace is not an empty body
    ("POST", "echo", "  ", 400, "failed to unmarshal request body"),
    ("POST", "echo", '{"x": ' + "[" * 40 + "]" * 40 + "}", 400, "nested too deeply (more than 32 levels)"),
    (
        "GET",
        "limited?n=1; DROP TABLE bids",
        None,
        400,
        "Could not convert string '1; DROP TABLE bids' to INT64",
    ),
    ("GET", "limited?n=abc", None, 400, "Could not convert string 'abc' to INT64"),
    ("GET", "bad_sql", None, 400, "no_such_table"),
    ("GET", "broken_yaml", None, 500, "apis/broken_yaml.yaml:3"),
    ("GET", "broken_template", None, 500, "apis/broken_template.yaml:4"),
    ("GET", "no_resolver", None, 500, "the API definition does not specify a resolver"),
    ("GET", "two_resolvers", None, 500, "the API definition specifies more than one resolver"),
    ("GET", "unserved", None, 500, 'the "glob" resolver is not supported'),
    ("GET", "ddl", None, 500, "only read-only queries are allowed, not DROP"),
    # a proxy loop stays loaded, as in Rill: calling it is a 400 naming the first API proxied to twice
    ("GET", "loop_a", None, 400, 'infinite recursion detected: the API "loop_b" proxies to itself'),
    ("GET", "loop_b", None, 400, 'infinite recursion detected: the API "loop_a" proxies to itself'),
    ("GET", "loop_self", None, 400, 'infinite recursion detected: the API "loop_self" proxies to itself'),
    ("GET", "row_security", None, 500, "the 'api' resource type only supports 'access' security rules"),
    ("GET", "five_max?count=6", None, 400, "result cap exceeded: returned more than 5 rows"),
]


@pytest.mark.parametrize("method, path, body, status, message", ERRORS)
def test_errors(project_client, method, path, body, status, message):
    response = project_client("basic").open(BASE + path, method=method, data=body)
    assert_error(response, status, message)


def test_injection_leaves_the_data_intact(project_client):
    client = project_client("basic")
    assert_error(
        client.get(BASE + "limited?n=1; DROP TABLE bids"),
        400,
        "Could not convert string '1; DROP TABLE bids' to INT64",
    )
    assert len(json.loads(client.get(BASE + "totals").get_data())) == 3


def test_type_encodings(project_client):
    rows = json.loads(project_client("basic").get(BASE + "types").get_data())
    assert rows == [
        {
            "huge": 170141183460469231731687303715884105727,
            "exact": 12345678901234567890.123456789,
            "float32": 75.4000015258789,
            "nan": None,
            "ts": "2022-01-01T14:49:50.459Z",
            "tstz": "2023-09-12T12:46:55Z",
            "day": "1983-03-08",
            "list": [1, 2],
            "nested": {"a": 1, "b": ["2020-01-01T00:00:00Z"]},
            "nothing": None,
        }
    ]
    raw = project_client("basic").get(BASE + "types").get_data(as_text=True)
    assert '"exact":12345678901234567890.123456789' in raw  # exact digits, not a float


@pytest.mark.parametrize("count, status", [(10000, 200), (10001, 400)])
def test_default_row_cap_both_sides(project_client, count, status):
    response = project_client("basic", row_cap=None).get(BASE + f"rows?count={count}")
    if status == 200:
        assert len(json.loads(response.get_data())) == count
    else:
        message = "result cap exceeded: returned more than 10000 rows"
        assert assert_error(response, 400, message) == {"error": message, "hint": ResultCapError.hint}
        for way_out in (
            "LIMIT/OFFSET",
            "max_rows:",
            "rill.interactive_sql_row_limit",
            "--row-cap",
            "SLUICE_ROW_CAP",
        ):
            assert way_out in ResultCapError.hint  # the answer says how to get the rows


@pytest.mark.parametrize("count, status", [(3, 200), (4, 400)])
def test_row_cap_from_project_variable(project_client, count, status):
    response = project_client("capped").get(BASE + f"rows?count={count}")
    if status == 200:
        assert len(json.loads(response.get_data())) == count
    else:
        message = "result cap exceeded: returned more than 3 rows"  # the variable's cap, not the default
        assert assert_error(response, 400, message) == {"error": message, "hint": ResultCapError.hint}


def test_row_cap_zero_means_none(project_client):
    response = project_client("capped", row_cap=0).get(BASE + "rows?count=25000")
    assert len(json.loads(response.get_data())) == 25000


def test_query_timeout_is_504(project_client):
    assert_error(
        project_client("basic", query_timeout=0.3).get(BASE + "slow"), 504, "query timed out after 0.3 s"
    )


def test_a_model_cycle_is_reported_and_the_rest_serves(project_client):
    client = project_client("cycle")
    health = json.loads(client.get("/v1/health").get_data())
    assert any("model dependency cycle: a -> b -> a" in error["error"] for error in health["errors"])
    assert json.loads(client.get(BASE + "fine").get_data()) == [{"one": 1}]


def test_unknown_instance_is_404(project_client):
    assert_error(
        project_client("basic").get("/v1/instances/other/api/echo"), 404, 'instance "other" not found'
    )


def test_ping_and_health(project_client):
    client = project_client("basic")
    assert set(json.loads(client.get("/v1/ping").get_data())) == {"version", "time"}
    health = client.get("/v1/health")
    assert health.status_code == 200
    failed = {error["path"] for error in json.loads(health.get_data())["errors"]}
    assert "apis/broken_yaml.yaml" in failed and "apis/by_domain.yaml" not in failed


def test_unknown_route_is_a_json_404(project_client):
    assert_error(
        project_client("basic").get("/nothing/here"), 404, "The requested URL was not found on the server"
    )


def test_small_answers_are_the_same_whichever_encoder_writes_them(project_client):
    """The first call is encoded by DuckDB; once known small, a query is encoded in Python (row_encoding)."""
    client = project_client("basic")
    answers = [client.get(BASE + "simple_types").get_data(as_text=True) for _ in range(3)]
    assert (
        json.loads(answers[0])
        == json.loads(answers[1])
        == json.loads(answers[2])
        == [
            {
                "big": 9223372036854775807,
                "d": 2.5,
                "nan": None,
                "dec": 1.5,
                "ts": "2022-01-01T14:49:50.459Z",
                "day": "1983-03-08",
                "t": "0001-01-01T12:35:00.5Z",
                "yes": True,
                "s": 'it\'s "quoted" ü',
                "nothing": None,
            }
        ]
    )


def test_a_body_over_the_size_limit_is_a_json_413(project_client):
    from server import MAX_BODY_BYTES

    body = '{"x": "' + "a" * MAX_BODY_BYTES + '"}'
    assert_error(project_client("basic").post(BASE + "echo", data=body), 413, "exceeds the capacity limit")


def test_the_deepest_body_allowed_still_renders(project_client):
    from handlers.arguments import MAX_BODY_DEPTH

    nested = "[" * (MAX_BODY_DEPTH - 1) + "]" * (MAX_BODY_DEPTH - 1)
    response = project_client("basic").post(BASE + "echo", data='{"x": ' + nested + "}")
    assert json.loads(response.get_data()) == [{"x": nested}]  # Go prints nested empty lists as written


def test_errors_found_while_running_point_at_the_line_of_the_query(project_client):
    """The value is converted while the query runs, inside Sluice's JSON wrapper: lines still count from the
    API's own SQL."""
    body = assert_error(project_client("basic").get(BASE + "bid_by_id?id=1;DROP"), 400, "Could not convert")
    assert body["error"].startswith("apis/bid_by_id.yaml:4: Conversion Error")  # the line in the file
    assert body["error"].endswith("\n\nFROM bids WHERE id = {{ .args.id }}")  # as the author wrote it


def test_a_process_running_its_limit_of_queries_answers_503_then_recovers(project_client):
    # no result cache: every call below must run a query and take a slot
    client = project_client("basic", max_queries=1, batch_rows=100, row_cap=0, cache_bytes=0)
    streaming = client.get(BASE + "rows?count=5000", buffered=False)
    assert streaming.status_code == 200  # the first batch is out; the query holds its slot while it streams
    busy = client.get(BASE + "echo")
    assert_error(busy, 503, "too many queries are running")
    assert busy.headers["Retry-After"] == "1"
    rows = json.loads(b"".join(streaming.response))
    streaming.close()
    assert len(rows) == 5000
    assert client.get(BASE + "echo").status_code == 200
    assert client.get(BASE + "echo").status_code == 200  # slots are given back once per query, not twice
