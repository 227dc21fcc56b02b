"""Liveness and readiness."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

from werkzeug.wrappers import Request, Response

from handlers.app import App
from handlers.responses import json_response


@lru_cache(maxsize=1)
def version() -> str:
    """The installed package's version (setup.cfg holds the one copy of it)."""
    try:
        return package_version("sluice")
    except PackageNotFoundError:
        return "unknown"


def ping(app: App, request: Request) -> Response:
    """GET /v1/ping: the process answers."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json_response({"version": version(), "time": now})


def health(app: App, request: Request) -> Response:
    """GET /v1/health: 200 once the project is loaded (the app is built with it), listing what failed."""
    project = app.current_project()
    failed = [{"path": error.path, "line": error.line, "error": error.message} for error in project.errors]
    return json_response({"status": "ok", "apis": len(project.apis), "errors": failed})
