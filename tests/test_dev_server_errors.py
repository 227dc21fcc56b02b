"""The development server's own refusals (`python server.py`: the request is refused before the app sees
it) answer `{"error": ...}` in JSON with the right status, as the app's errors do, never http.server's HTML
page; the headers of one request are bounded in total, so a huge `Accept` is refused at once. Raw sockets
against a real dev server process."""

from __future__ import annotations

import json
import socket
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.negotiation import MAX_NEGOTIATION_BYTES
from serving.dev_server import MAX_HEADER_BYTES
from tests.conftest import PROJECTS, free_port, start, stop

ECHO = b"/v1/instances/default/api/echo"


@pytest.fixture(scope="module")
def dev_port(tmp_path_factory):
    port = free_port()
    command = [sys.executable, "server.py", str(PROJECTS / "basic"), "--port", str(port), "--no-reload"]
    process = start(command, port, tmp_path_factory.mktemp("dev"))
    yield port
    stop(process)


def exchange(port: int, data: bytes) -> bytes:
    """Send a request, read the answer until the server closes. The server may close before it read all
    that was sent (it refused the request early): the answer it wrote before is still read."""
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        try:
            connection.sendall(data)
            connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return answer


def parsed(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one HTTP/1.x answer."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    assert status_line.startswith("HTTP/1."), answer[:300]
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def assert_json_error(answer: bytes, status: int, message: str) -> None:
    code, headers, body = parsed(answer)
    assert code == status, answer[:300]
    assert headers["content-type"] == "application/json; charset=utf-8", headers
    assert int(headers["content-length"]) == len(body)
    error = json.loads(body)["error"]
    assert message in error, error


def headers_of(total: int, line: int = 8000) -> bytes:
    """`X-Filler-N: aaa...` lines adding up to about `total` bytes."""
    count, rest = divmod(total, line)
    sizes = [line] * count + ([rest] if rest else [])
    return b"".join(b"X-Filler-%d: %s\r\n" % (index, b"a" * size) for index, size in enumerate(sizes))


def request(path: bytes = b"/v1/ping", extra: bytes = b"", line: bytes | None = None) -> bytes:
    line = line if line is not None else b"GET " + path + b" HTTP/1.1"
    return line + b"\r\nHost: x\r\nConnection: close\r\n" + extra + b"\r\n"


REFUSALS = [
    # (case, raw request, status, error text)
    ("request line too long", request(b"/" + b"a" * 70_000), 414, "request line is longer than 65536 bytes"),
    ("one header line too long", request(extra=b"X: " + b"a" * 70_000 + b"\r\n"), 431, "larger than 65536"),
    ("headers too large in all", request(extra=headers_of(MAX_HEADER_BYTES + 1000)), 431, "in all"),
    (
        "a 400 KB Accept in 7 lines",
        request(ECHO, b"".join(b"Accept: " + b"a/b, " * 11_000 + b"\r\n" for _ in range(7))),
        431,
        "larger than 65536 bytes in all",
    ),
    (
        "too many headers",
        request(extra=b"".join(b"X-%d: a\r\n" % index for index in range(120))),
        431,
        "more than 100 header lines",
    ),
    ("malformed version", b"GET / HTTP/x.y\r\n\r\n", 400, "Bad request version"),
    ("HTTP/2.0", b"GET / HTTP/2.0\r\n\r\n", 505, "Invalid HTTP version (2.0) is not supported: this server"),
    ("HTTP/0.9", b"GET /v1/ping\r\n\r\n", 505, "HTTP/0.9 is not supported: this server speaks HTTP/1.0"),
    ("no path, two spaces", b"GET  HTTP/1.1\r\n\r\n", 505, "HTTP/0.9 is not supported"),
    ("no path", b"GET\r\n\r\n", 400, "Bad request syntax"),
    ("four words", b"GET / HTTP/1.1 extra\r\n\r\n", 400, "Bad request version"),
    ("TLS to a plain port", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400, "Bad request"),
    ("HTTP/0.9 POST", b"POST /\r\n\r\n", 400, "Bad HTTP/0.9 request type"),
    ("HTTP/0.9 HEAD", b"HEAD /v1/ping\r\n\r\n", 400, "Bad HTTP/0.9 request type"),
    *[
        (
            f"Transfer-Encoding {coding.decode()!r}",
            request(ECHO, b"Transfer-Encoding: " + coding + b"\r\n"),
            501,
            "only chunked",
        )
        for coding in (b"gzip", b"gzip, chunked", b"chunked, chunked", b"identity", b"")
    ],
    (
        "Transfer-Encoding twice",
        request(ECHO, b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
        501,
        "'chunked, chunked' is not supported",
    ),
    (
        "Transfer-Encoding and Content-Length",
        request(ECHO, b"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n") + b"2\r\n{}\r\n0\r\n\r\n",
        400,
        "both Transfer-Encoding and Content-Length",
    ),
]


@pytest.mark.parametrize(("case", "data", "status", "message"), REFUSALS, ids=[row[0] for row in REFUSALS])
def test_the_dev_servers_own_refusals_are_json(dev_port, case, data, status, message):
    assert_json_error(exchange(dev_port, data), status, message)


def test_headers_just_under_the_bound_reach_the_app(dev_port):
    code, _, body = parsed(exchange(dev_port, request(extra=headers_of(MAX_HEADER_BYTES - 2000))))
    assert code == 200, body[:300]
    assert "version" in json.loads(body)


NEGOTIATED = [
    # (case, path, header)
    ("Accept of an API call", ECHO, b"Accept"),
    ("Accept of the OpenAPI document", b"/v1/instances/default/api/openapi", b"Accept"),
    ("Accept-Encoding of an API call", ECHO, b"Accept-Encoding"),
]


@pytest.mark.parametrize(("case", "path", "name"), NEGOTIATED, ids=[row[0] for row in NEGOTIATED])
def test_a_negotiation_header_longer_than_the_bound_is_a_431(dev_port, case, path, name):
    """Under the server's bound but long: negotiating it would take time in proportion to its length."""
    value = b"a/b, " * (MAX_NEGOTIATION_BYTES // 5 + 1)
    answer = exchange(dev_port, request(path, name + b": " + value + b"\r\n"))
    assert_json_error(answer, 431, f"the {name.decode()} header is longer than {MAX_NEGOTIATION_BYTES} bytes")
    fits = b"a/b, " * ((MAX_NEGOTIATION_BYTES - 3) // 5) + b"*/*"
    assert parsed(exchange(dev_port, request(path, name + b": " + fits + b"\r\n")))[0] == 200


REQUEST_LINE_BYTES = st.one_of(
    st.binary(min_size=0, max_size=200),
    st.builds(
        lambda method, path: method + b" " + path,
        st.sampled_from([b"GET", b"POST", b"HEAD", b"get", b"BREW"]),
        st.binary(max_size=60).map(lambda raw: b"/" + raw),
    ),
).filter(lambda raw: b"\n" not in raw)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=REQUEST_LINE_BYTES, version=st.sampled_from([b"", b" HTTP/1.1", b" HTTP/3", b" HTTP/1.1 x"]))
def test_any_request_line_gets_a_status_line_and_json(dev_port, line, version):
    """Whatever the request line, the answer is HTTP/1.x with a JSON body: the app's or the server's."""
    answer = exchange(dev_port, line + version + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
    if not answer:  # a request line of only spaces or nothing: http.server closes without a word
        assert not line.strip() or line.strip() in (b"\r",), line
        return
    code, headers, body = parsed(answer)
    assert headers["content-type"].startswith("application/json"), (code, headers, body[:200])
    if body or not line.startswith(b"HEAD "):  # a HEAD answered by the app has headers only
        assert isinstance(json.loads(body), (dict, list)), (line, version, answer[:300])
