"""What a hostile caller sends in query strings and JSON bodies gets a clear JSON 400 (or is read as Go reads
it), never a value silently reinterpreted, an engine error blamed on the project, or a 500.

Classes covered: query strings that are not UTF-8 (keys and values), JSON numbers Go cannot read (NaN,
Infinity, beyond float64), strings holding lone surrogates (`\\ud800`), and the cases that already held."""

from __future__ import annotations

import json
import math
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import assert_error

ECHO = "/v1/instances/default/api/echo"
BODY_ERROR = "failed to unmarshal request body"

REQUESTS = [
    # (case, query string or None, JSON body text or None, status, expected rows or error text)
    ("plain", "x=1", None, 200, [{"x": "1"}]),
    ("repeated keys: the first", "x=1&x=2", None, 200, [{"x": "1"}]),
    ("NUL is data", "x=a%00b", None, 200, [{"x": "a\x00b"}]),
    ("invalid UTF-8 value", "x=%ff%fe", None, 400, "the query string is not valid UTF-8"),
    ("invalid UTF-8 key", "%ff=1", None, 400, "the query string is not valid UTF-8"),
    ("an encoded surrogate", "x=%ed%a0%80", None, 400, "the query string is not valid UTF-8"),
    ("percent text stays text", "x=%25FF", None, 200, [{"x": "%FF"}]),
    ("NaN", None, '{"x": NaN}', 400, f"{BODY_ERROR}: invalid character in numeric literal: NaN is not JSON"),
    ("Infinity", None, '{"x": -Infinity}', 400, "-Infinity is not JSON"),
    ("beyond float64", None, '{"x": 1e999999}', 400, f"{BODY_ERROR}: number 1e999999 is out of range"),
    ("a negative one", None, '{"x": -1e309}', 400, "number -1e309 is out of range"),
    ("a 5,000-digit integer", None, '{"x": ' + "9" * 5000 + "}", 400, "is out of range"),
    ("1e308 is a number", None, '{"x": 1e308}', 200, [{"x": "1e+308"}]),
    ("a lone surrogate", None, '{"x": "a\\ud800b"}', 200, [{"x": "a\ufffdb"}]),
    ("a lone surrogate key", None, '{"x": {"\\udc00": 1}}', 200, [{"x": "map[\ufffd:1]"}]),
    ("a surrogate pair", None, '{"x": "\\ud83d\\ude00"}', 200, [{"x": "\U0001f600"}]),
    ("duplicate keys: the last, as Go", None, '{"x": 1, "x": 2}', 200, [{"x": "2"}]),
    ("an array", None, "[1]", 400, f"{BODY_ERROR}: expected a JSON object, got an array"),
    ("deep", None, "[" * 100_000 + "]" * 100_000, 400, f"{BODY_ERROR}: nested too deeply"),
]


def call(client, query: str | None, body: str | None):
    if body is None:
        return client.get(ECHO, query_string=query)
    return client.post(ECHO, data=body.encode("utf-8", "surrogatepass"), content_type="application/json")


@pytest.mark.parametrize(
    ("case", "query", "body", "status", "expected"), REQUESTS, ids=[r[0] for r in REQUESTS]
)
def test_hostile_arguments(project_client, case, query, body, status, expected):
    response = call(project_client("basic"), query, body)
    if status == 200:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert json.loads(response.get_data()) == expected
    else:
        assert_error(response, status, expected)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.binary(max_size=12), in_key=st.booleans())
def test_query_bytes_are_their_utf8_text_or_a_400(project_client, value, in_key):
    encoded = urllib.parse.quote_from_bytes(value, safe="")
    query = f"{encoded}=1" if in_key else f"x={encoded}"
    response = project_client("basic").get(ECHO, query_string=query)
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        assert_error(response, 400, "the query string is not valid UTF-8")
        return
    assert response.status_code == 200, response.get_data(as_text=True)
    if not in_key:
        assert json.loads(response.get_data()) == [{"x": text}]


def json_number(draw_digits: str, exponent: int) -> str:
    return f"{draw_digits}e{exponent}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    number=st.one_of(
        st.builds(json_number, st.from_regex(r"-?[1-9]\.[0-9]{1,5}", fullmatch=True), st.integers(-400, 400)),
        st.from_regex(r"-?[1-9][0-9]{0,400}", fullmatch=True),
        st.sampled_from(["NaN", "Infinity", "-Infinity"]),
    )
)
def test_json_numbers_go_cannot_read_are_a_400(project_client, number):
    response = call(project_client("basic"), None, f'{{"x": {number}}}')
    try:
        readable = math.isfinite(float(number)) and len(number.lstrip("-")) <= 309
    except ValueError:
        readable = False
    if readable or (number.lstrip("-").isdigit() and len(number.lstrip("-")) <= 309):
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        assert_error(response, 400, BODY_ERROR)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.one_of(st.characters(blacklist_categories=["Cs"]), st.integers(0xD800, 0xDFFF)), max_size=8)
)
def test_lone_surrogates_become_the_replacement_character_as_in_go(project_client, pieces):
    escaped = "".join(
        f"\\u{piece:04x}" if isinstance(piece, int) else json.dumps(piece)[1:-1] for piece in pieces
    )
    response = call(project_client("basic"), None, f'{{"x": "{escaped}"}}')
    assert response.status_code == 200, response.get_data(as_text=True)
    expected = json.loads(f'"{escaped}"', strict=False)
    expected = "".join("\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else char for char in expected)
    assert json.loads(response.get_data()) == [{"x": expected}]


# --- Content-Length that is no length, or more than arrives: through the dev server and gunicorn -------------
LENGTHS = [
    # (declared Content-Length, body bytes sent before the client half-closes)
    ("-5", b'{"x": 1}'),
    ("abc", b'{"x": 1}'),
    ("1e3", b'{"x": 1}'),
    ("+8", b'{"x": 1}'),
    ("0x8", b'{"x": 1}'),
    ("\uff18".encode().decode("latin-1"), b'{"x": 1}'),  # a full-width digit 8
    ("9", b'{"x": 1}'),
    ("100", b'{"x": 1}'),
    ("100000", b'{"x": 1}'),
]


@pytest.fixture(scope="module", params=["dev", "gunicorn"])
def live_server(request, tmp_path_factory):
    import sys

    from tests.conftest import PROJECTS, free_port, start, stop

    port = free_port()
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "dev":
        command = [sys.executable, "server.py", str(PROJECTS / "basic"), "--port", str(port), "--no-reload"]
        process = start(command, port, tmp)
    else:
        command = [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "1"]
        process = start(command, port, tmp, {"SLUICE_PROJECT": str(PROJECTS / "basic")})
    yield request.param, port
    stop(process)


def send_raw(port: int, data: bytes) -> bytes:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(("declared", "body"), LENGTHS, ids=[repr(row[0]) for row in LENGTHS])
def test_a_content_length_that_is_not_the_body_is_a_400(live_server, declared, body):
    _, port = live_server
    head = (
        "POST /v1/instances/default/api/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    )
    answer = send_raw(port, head.encode("latin-1") + body)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"400", answer[:300]
    headers, _, payload = rest.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in headers.lower(), answer[:300]
    # the app's words, or gunicorn's when it refuses the length itself ("Invalid HTTP Header: 'CONTENT-LENGTH'")
    error = json.loads(payload)["error"].lower()
    assert "content-length" in error or "closed" in error, payload


@pytest.mark.parametrize("api", ["sql", "metrics-sql"])
@pytest.mark.parametrize("depth", [50, 3000, 50_000])
def test_sql_nested_too_deeply_is_a_400_not_a_500(project_client, api, depth):
    """The built-in APIs take a (local or admin) caller's SQL: sqlglot recurses once per nesting level."""
    sql = "SELECT " + "(" * depth + "1" + ")" * depth + " AS n"
    if api == "metrics-sql":
        sql += " FROM ad_bids_metrics"
    response = project_client("metrics_http").post(
        f"/v1/instances/default/api/{api}", json={"sql": sql}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    if depth == 50_000:
        assert_error(response, 400, "nested too deeply")


@pytest.mark.parametrize("name", ["Accept", "Accept-Encoding"])
def test_negotiation_headers_past_the_bound_are_a_431_on_both_servers(live_server, name):
    """Several header lines, each under gunicorn's 8190-byte limit, joined past the app's bound: negotiating
    them took time in proportion to their length (400 KB: 1.5 s)."""
    from handlers.negotiation import MAX_NEGOTIATION_BYTES

    _, port = live_server
    lines = "".join(f"{name}: " + "a/b, " * 1000 + "*/*\r\n" for _ in range(3))
    head = f"GET /v1/instances/default/api/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{lines}\r\n"
    status_line, _, rest = send_raw(port, head.encode()).partition(b"\r\n")
    assert status_line.split()[1] == b"431", rest[:300]
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body == {"error": f"the {name} header is longer than {MAX_NEGOTIATION_BYTES} bytes"}
