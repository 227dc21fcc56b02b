"""The HTTP surface under hostile input: bodies that cannot be read, odd paths, huge values, health with auth.

Body framing is the server's job, so those rows run against real `python server.py` and gunicorn processes
over raw sockets; the rest go through the WSGI app.
"""

from __future__ import annotations

import json
import socket
import sys
import time

import jwt
import pytest

from handlers.responses import MAX_ERROR_TEXT, capped
from project.settings import Settings
from server import MAX_BODY_BYTES, create_app
from tests.conftest import PROJECTS, assert_error, free_port, start, stop

STREAMS = PROJECTS / "streams"
API = "/v1/instances/default/api/"
SECRET = "a-secret-for-the-health-tests-0123456789"
NOT_FOUND = "The requested URL was not found on the server"


def chunked(body: bytes, size: int = 65536) -> bytes:
    pieces = [body[start : start + size] for start in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def request_bytes(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: sluice.test", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def exchange(port: int, raw: bytes) -> tuple[int, object]:
    """Send raw bytes and read one answer (as a client does: up to its Content-Length); status and JSON."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        try:
            connection.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before reading everything: its answer is still to be read
        answer = connection.makefile("rb")
        status = int(answer.readline().split()[1])
        headers = {}
        while (line := answer.readline().strip()) != b"":
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, json.loads(answer.read(int(headers["content-length"])))


TOO_BIG = json.dumps({"v": "x" * (MAX_BODY_BYTES + 1024)}).encode()
RAW_REQUESTS = [
    # (case, raw request, status, message)
    (
        "chunk size not hex",
        request_bytes("POST", API + "hello", {"Transfer-Encoding": "chunked"}, b"zz\r\nab\r\n0\r\n\r\n"),
        400,
        "failed to read request body",
    ),
    (
        "chunked body over the limit",
        request_bytes("POST", API + "hello", {"Transfer-Encoding": "chunked"}, chunked(TOO_BIG)),
        413,
        "",
    ),
    (
        "declared length over the limit",
        request_bytes("POST", API + "hello", {"Content-Length": str(len(TOO_BIG))}, TOO_BIG),
        413,
        "",
    ),
    ("double slash", request_bytes("GET", API + "/hello"), 404, NOT_FOUND),
    (
        "double slash before the instance",
        request_bytes("GET", "/v1/instances//default/api/hello"),
        404,
        NOT_FOUND,
    ),
    (
        "chunked body within the limit",
        request_bytes("POST", API + "as_int", {"Transfer-Encoding": "chunked"}, chunked(b'{"v": 7}', 3)),
        200,
        None,
    ),
]


@pytest.fixture(scope="module", params=["python", "gunicorn"])
def live_port(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"surface-{request.param}")
    port = free_port()
    if request.param == "python":
        command = [sys.executable, "server.py", str(STREAMS), "--port", str(port), "--no-reload"]
        process = start(command, port, tmp)
    else:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "server:create_app()",
        ]
        process = start(command, port, tmp, {"SLUICE_PROJECT": str(STREAMS)})
    yield port, tmp / "server.log"
    stop(process)


@pytest.mark.parametrize("case, raw, status, message", RAW_REQUESTS, ids=[row[0] for row in RAW_REQUESTS])
def test_bodies_and_paths_get_the_right_status(live_port, case, raw, status, message):
    port, log = live_port
    got, body = exchange(port, raw)
    assert got == status, body
    if message is None:
        assert body == [{"v": 7}]
    else:
        assert message in body["error"]
    assert "Traceback" not in log.read_text()


HUGE = "9" * 40 + "x" * 3_000_000
QUOTING_ERRORS = [
    # (case, path, JSON body, status, what the message starts with)
    ("DuckDB quotes the value", "as_int", {"v": HUGE}, 400, "Conversion Error"),
    ("a literal DuckDB cannot read", "as_date", {"v": HUGE}, 400, "Conversion Error"),
]


@pytest.mark.parametrize(
    "case, path, body, status, start_", QUOTING_ERRORS, ids=[r[0] for r in QUOTING_ERRORS]
)
def test_an_error_quotes_a_huge_value_in_part(project_client, case, path, body, status, start_):
    response = project_client("streams").post(API + path, json=body)
    payload = assert_error(response, status, start_)
    assert len(response.get_data()) < 2 * MAX_ERROR_TEXT
    assert "characters left out" in payload["error"]


@pytest.fixture
def secured_app(tmp_path):
    from werkzeug.test import Client

    settings = Settings(
        project_dir=str(STREAMS),
        state_dir=str(tmp_path),
        auth=True,
        jwt_secret=SECRET,
        tokens_path=str(tmp_path / "tokens.json"),
    )
    return Client(create_app(settings))


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic YTpi"}],
    ids=["no token", "invalid token", "not bearer"],
)
def test_health_without_a_valid_token_tells_only_the_status(secured_app, headers):
    response = secured_app.get("/v1/health", headers=headers)
    assert response.status_code == 200
    assert json.loads(response.get_data()) == {"status": "degraded"}


def test_health_with_a_valid_token_lists_what_failed(secured_app):
    token = jwt.encode({"sub": "ops", "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")
    response = secured_app.get("/v1/health", headers={"Authorization": f"Bearer {token}"})
    failed = {error["path"]: error["error"] for error in json.loads(response.get_data())["errors"]}
    assert "apis/broken.yaml" in failed
    assert any("ssn-123-45-6789" in message for message in failed.values())


def test_health_without_auth_lists_what_failed(project_client):
    body = json.loads(project_client("streams").get("/v1/health").get_data())
    assert "apis/broken.yaml" in {error["path"] for error in body["errors"]}


CAPPED = [
    # (value, expected)
    ("short", "short"),
    ("x" * MAX_ERROR_TEXT, "x" * MAX_ERROR_TEXT),
    (["a"] * 500, ["a"] * 100),
    ({"arg": "y" * 5000}, {"arg": "y" * 750 + "…(4000 characters left out)…" + "y" * 250}),
    ([{"message": "z" * 1001}], [{"message": "z" * 750 + "…(1 characters left out)…" + "z" * 250}]),
]


@pytest.mark.parametrize("value, expected", CAPPED)
def test_error_texts_are_capped(value, expected):
    assert capped(value) == expected
