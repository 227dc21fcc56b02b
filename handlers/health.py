"""Liveness and readiness."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from werkzeug.wrappers import Request, Response

from handlers.auth import authenticate
from handlers.responses import json_response
from project.errors import AuthenticationError


@lru_cache(maxsize=1)
def version() -> str:
    """The installed package's version (setup.cfg holds the one copy of it)."""
    try:
        return package_version("sluice")
    except PackageNotFoundError:
        return "unknown"


def ping(app: Any, request: Request) -> Response:
    """GET /v1/ping: the process answers."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json_response({"version": version(), "time": now})


def health(app: Any, request: Request) -> Response:
    """GET /v1/health: 200 when the project is loaded (listing what failed to load), else 503.
    With auth on, only a caller with a valid token sees more than the status: errors can quote data."""
    project = app.current_project()
    if project is None:
        body: dict[str, Any] = {"status": "loading", "errors": []}
        status = 503
    else:
        failed = [
            {"path": error.path, "line": error.line, "error": error.message} for error in project.errors
        ]
        body, status = {"status": "ok", "apis": len(project.apis), "errors": failed}, 200
    if not _may_see_details(app, request):
        body = {"status": body["status"]}
    return json_response(body, status=status)


def _may_see_details(app: Any, request: Request) -> bool:
    try:
        authenticate(app, request)
    except AuthenticationError:
        return False
    return True
