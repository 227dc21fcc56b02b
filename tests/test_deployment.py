"""The shipped deployment: gunicorn with the repository's gunicorn.conf.py, started as the README says."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PROJECTS, ROOT, free_port, missing_program, start, start_gunicorn, stop

STREAMS = PROJECTS / "streams"
IDLE_SOCKETS = 200


@pytest.fixture(scope="module")
def gunicorn_port(tmp_path_factory):
    """gunicorn from the repository folder with nothing but a bind address: the shipped configuration."""
    tmp = tmp_path_factory.mktemp("deployment")
    process, port = start_gunicorn(tmp, STREAMS, env={"WEB_CONCURRENCY": "2"})
    yield port
    stop(process)


def test_idle_sockets_do_not_keep_a_request_from_being_answered(gunicorn_port):
    idle = [socket.create_connection(("127.0.0.1", gunicorn_port), timeout=30) for _ in range(IDLE_SOCKETS)]
    try:
        url = f"http://127.0.0.1:{gunicorn_port}/v1/instances/default/api/hello"
        with urllib.request.urlopen(url, timeout=30) as response:  # sync workers: no answer in 60 s
            assert response.status == 200 and response.read() == b'[{"one":1}]'
    finally:
        for connection in idle:
            connection.close()


# --- nginx in front, with the shipped deploy/nginx.conf ------------------------------------------------------

NGINX = shutil.which("nginx") or next((path for path in ("/usr/sbin/nginx",) if os.path.exists(path)), None)


def nginx_config(tmp: Path, port: int, upstream: int) -> Path:
    """A minimal nginx.conf around the shipped site file, with the test's ports and paths."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = site.replace("127.0.0.1:9009", f"127.0.0.1:{upstream}").replace(
        "listen 80;", f"listen 127.0.0.1:{port};"
    )
    (tmp / "sluice.conf").write_text(site)
    temp_paths = "\n".join(
        f"    {kind}_temp_path {tmp}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
{temp_paths}
    include {tmp}/sluice.conf;
}}
"""
    (tmp / "nginx.conf").write_text(main)
    return tmp / "nginx.conf"


@pytest.fixture(scope="module")
def nginx_port(gunicorn_port, tmp_path_factory):
    if NGINX is None:
        missing_program("nginx is not installed")
    tmp = tmp_path_factory.mktemp("nginx")
    port = free_port()
    config = nginx_config(tmp, port, gunicorn_port)
    command = [NGINX, "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(config), "-g", "daemon off;"]
    process = start(command, port, tmp)
    yield port
    stop(process)


def test_nginx_passes_answers_and_the_cut_of_a_broken_one(nginx_port):
    base = f"http://127.0.0.1:{nginx_port}/v1/instances/default/api/"
    with urllib.request.urlopen(base + "hello", timeout=30) as response:
        assert response.status == 200 and response.read() == b'[{"one":1}]'
    broken = (http.client.IncompleteRead, http.client.HTTPException, ConnectionError)
    with pytest.raises(broken), urllib.request.urlopen(base + "late_error", timeout=120) as response:
        while response.read(1 << 20):
            pass


def test_nginx_keeps_trickling_headers_away_from_gunicorn(nginx_port):
    """Slowloris: sockets that send half a request line and wait. nginx holds them; gunicorn never sees them."""
    trickling = []
    try:
        for _ in range(IDLE_SOCKETS):
            connection = socket.create_connection(("127.0.0.1", nginx_port), timeout=30)
            connection.sendall(b"GET /v1/instances/default/api/hello HTTP/1.1\r\nHost: sluice.test\r\n")
            trickling.append(connection)
        url = f"http://127.0.0.1:{nginx_port}/v1/instances/default/api/hello"
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
    finally:
        for connection in trickling:
            connection.close()
