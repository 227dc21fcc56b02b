"""Credentials for servers started with `--auth`: HS256 JWTs under the tests' secret, and the server itself."""

from __future__ import annotations

import subprocess
import sys
import time

import jwt

from tests.conftest import PROJECTS, free_port, start

SECRET = "an-hs256-secret-for-the-tests-0123456789"
AUDIENCE = "sluice-tests"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def a_jwt(secret: str = SECRET, audience: str | None = AUDIENCE, expires_in: int = 600, **claims) -> str:
    payload = {"sub": "user-1", "exp": int(time.time()) + expires_in, **claims}
    if audience is not None:
        payload["aud"] = audience
    return jwt.encode(payload, secret, algorithm="HS256")


def launch(
    project: str, tmp, extra_args: list[str], env: dict[str, str]
) -> tuple[subprocess.Popen, str, str]:
    """Start `python server.py <project> --auth ...`; its process, base URL and log file (read at any time)."""
    port = free_port()
    command = [
        sys.executable,
        "server.py",
        str(PROJECTS / project),
        "--port",
        str(port),
        "--no-reload",
        "--auth",
    ]
    process = start([*command, *extra_args], port, tmp, env)
    return process, f"http://127.0.0.1:{port}", str(tmp / "server.log")
