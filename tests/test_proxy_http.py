"""Behind a reverse proxy (`proxy_hops`): forwarded client address, scheme, host and prefix, and only when trusted.

A table through the WSGI app, a real `python server.py` that must ignore forged headers (0 hops, the
default), and the shipped deploy/nginx.conf mounted under a prefix in front of gunicorn with one trusted hop.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.chromium import CHROMIUM, chromium_page
from tests.conftest import (
    OPENAPI_FIXTURE_APIS,
    PROJECTS,
    ROOT,
    free_port,
    missing_program,
    needs_program,
    serving,
    start,
    stop,
    wait_until_up,
)
from tests.test_deployment import NGINX, nginx_config

OPENAPI = "/v1/instances/default/api/openapi"
DOCS = "/v1/instances/default/api/docs"
FORGED = {
    "X-Forwarded-For": "203.0.113.66",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Prefix": "/evil",
    "X-Forwarded-Port": "4444",
}
PEER = "192.0.2.10"  # the address the app sees the connection come from (the proxy, when there is one)

FORWARDING = [
    # (hops, headers, servers URL of the document, client address in the request log)
    (0, FORGED, "http://sluice.test/v1/instances/default/api", PEER),
    (
        1,
        {
            "X-Forwarded-For": "198.51.100.7",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "api.example.com",
            "X-Forwarded-Prefix": "/data",
        },
        "https://api.example.com/data/v1/instances/default/api",
        "198.51.100.7",
    ),
    (
        1,
        {"X-Forwarded-Host": "api.example.com:8443"},
        "http://api.example.com:8443/v1/instances/default/api",
        PEER,
    ),
    (
        1,
        {"X-Forwarded-Port": "4444"},
        "http://sluice.test/v1/instances/default/api",
        PEER,
    ),  # port: never trusted
    # a caller's own X-Forwarded-For comes first; one trusted hop takes only what the proxy added
    (
        1,
        {"X-Forwarded-For": "203.0.113.66, 198.51.100.7"},
        "http://sluice.test/v1/instances/default/api",
        "198.51.100.7",
    ),
    (
        2,
        {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"},
        "http://sluice.test/v1/instances/default/api",
        "203.0.113.9",
    ),
    # two hops trusted but only one header value: nothing is trusted rather than the wrong value
    (2, {"X-Forwarded-For": "198.51.100.7"}, "http://sluice.test/v1/instances/default/api", PEER),
]


@pytest.mark.parametrize(("hops", "headers", "server_url", "client"), FORWARDING)
def test_forwarded_headers_count_only_from_trusted_hops(
    project_client, caplog, hops, headers, server_url, client
):
    app = project_client("openapi", proxy_hops=hops, cache_bytes=0)
    caplog.set_level(logging.INFO, logger="sluice.request")
    environ = {"REMOTE_ADDR": PEER}
    with app.get(OPENAPI, "http://sluice.test", headers=headers, environ_base=environ) as response:
        assert response.status_code == 200
        assert response.get_json()["servers"] == [{"url": server_url}]
    lines = [record for record in caplog.records if record.name == "sluice.request"]
    assert [(line.path, line.client) for line in lines] == [(OPENAPI, client)]
    assert f"client={client}" in lines[0].getMessage()


def fetch(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


def test_a_server_without_trusted_proxies_ignores_forged_headers(tmp_path):
    with serving(PROJECTS / "openapi", tmp_path) as base:
        status, body = fetch(base + OPENAPI, FORGED)
        assert status == 200 and json.loads(body)["servers"] == [{"url": base + "/v1/instances/default/api"}]
    log = (tmp_path / "server.log").read_text()
    line = next(line for line in log.splitlines() if f"GET {OPENAPI} 200" in line)
    assert "client=127.0.0.1" in line and "203.0.113.66" not in log


# --- the shipped nginx.conf, mounted under /data/, in front of gunicorn trusting one hop --------------------

PREFIX = "/data"
UNDER_PREFIX = [  # the edit deploy/nginx.conf describes for serving under a prefix
    ("location / {", f"location {PREFIX}/ {{"),
    ("proxy_pass http://sluice;", "proxy_pass http://sluice/;"),
    ('proxy_set_header X-Forwarded-Prefix "";', f"proxy_set_header X-Forwarded-Prefix {PREFIX};"),
]


def under_prefix(config: Path) -> None:
    """Rewrite the site file nginx_config() wrote as the comment in deploy/nginx.conf says."""
    site = config.parent / "sluice.conf"
    text = site.read_text()
    for old, new in UNDER_PREFIX:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    site.write_text(text)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """nginx on a free port in front of `gunicorn` (the shipped configuration) with SLUICE_PROXY_HOPS=1."""
    if NGINX is None:
        missing_program("nginx is not installed")
    tmp = tmp_path_factory.mktemp("proxied")
    upstream = free_port()
    gunicorn = start(
        [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{upstream}"],
        upstream,
        tmp,
        {"SLUICE_PROJECT": str(PROJECTS / "openapi"), "SLUICE_PROXY_HOPS": "1", "WEB_CONCURRENCY": "1"},
    )
    nginx_dir = tmp / "nginx"
    nginx_dir.mkdir()
    port = free_port()
    config = nginx_config(nginx_dir, port, upstream)
    under_prefix(config)
    command = [
        NGINX,
        "-p",
        str(nginx_dir),
        "-e",
        str(nginx_dir / "error.log"),
        "-c",
        str(config),
        "-g",
        "daemon off;",
    ]
    nginx = _start_nginx(command, port, nginx_dir)
    yield f"http://127.0.0.1:{port}", tmp / "server.log"
    stop(nginx)
    stop(gunicorn)


def _start_nginx(command: list[str], port: int, folder: Path):
    """nginx, waited for on its prefixed ping (conftest's start() asks for /v1/ping at the root)."""
    with open(folder / "nginx.log", "ab") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, env=os.environ)
    try:
        wait_until_up(f"http://127.0.0.1:{port}{PREFIX}", process)
    except AssertionError:
        process.kill()
        raise
    return process


def test_the_document_keeps_the_prefix_and_host_the_client_used(proxied):
    base, _ = proxied
    headers = {"Host": "docs.example.test:8080", **FORGED}  # nginx replaces the forged ones with its own
    status, body = fetch(base + PREFIX + OPENAPI, headers)
    assert status == 200
    assert json.loads(body)["servers"] == [
        {"url": "http://docs.example.test:8080/data/v1/instances/default/api"}
    ]


def test_the_listing_of_apis_gives_urls_under_the_prefix(proxied):
    base, _ = proxied
    status, body = fetch(base + PREFIX + "/v1/instances/default/api", {"Host": "docs.example.test:8080"})
    entries = {entry["name"]: entry for entry in json.loads(body)["apis"]}
    assert status == 200 and set(entries) == {path.lstrip("/") for path in OPENAPI_FIXTURE_APIS}
    assert entries["echo"]["url"] == "http://docs.example.test:8080/data/v1/instances/default/api/echo"
    local = entries["echo"]["formats"]["csv"].replace("http://docs.example.test:8080", base)
    assert fetch(local + "?x=through+nginx")[1] == b'"x"\r\n"through nginx"\r\n'  # the listed URL, via nginx


def test_the_request_log_names_the_client_nginx_saw(proxied):
    base, log = proxied
    request = urllib.request.Request(base + PREFIX + "/v1/ping", headers={"X-Forwarded-For": "203.0.113.66"})
    with urllib.request.urlopen(request, timeout=30) as response:
        request_id = response.headers["X-Request-Id"]  # nginx's own id, passed on to Sluice
    line = logged_line(log, f"request_id={request_id}")
    assert "GET /v1/ping 200" in line and "client=127.0.0.1" in line and "203.0.113.66" not in line


def logged_line(log: Path, text: str) -> str:
    """The log line holding `text`; a request's line is written just after its answer is sent."""
    for _ in range(100):
        found = [line for line in log.read_text().splitlines() if text in line]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no line with {text!r} in {log}")


@needs_program(os.path.exists(CHROMIUM), f"{CHROMIUM} is missing")
def test_the_docs_page_works_under_the_prefix(proxied, tmp_path):
    base, _ = proxied
    with chromium_page(str(tmp_path / "profile")) as page:
        page.open(base + PREFIX + DOCS + "/")
        paths = "Array.from(document.querySelectorAll('.opblock-summary-path')).map(e => e.dataset.path)"
        assert set(page.wait_for(paths)) == OPENAPI_FIXTURE_APIS
        servers = page.evaluate("Array.from(document.querySelectorAll('.servers option')).map(e => e.value)")
        assert servers == [base + PREFIX + "/v1/instances/default/api"]
