"""Liveness and readiness."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from werkzeug.wrappers import Request, Response

from handlers.responses import json_response


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
    """GET /v1/health: readiness. 200 "ok", or 200 "degraded" listing the files that failed to load (the
    last good build keeps serving); 503 only while no project has ever loaded."""
    project = app.current_project()
    if project is None:
        return json_response({"status": "loading", "errors": []}, status=503)
    failed = [
        {"path": error.path, "line": error.line, "column": error.column, "error": error.message}
        for error in project.errors
    ]
    status = "degraded" if failed else "ok"
    return json_response({"status": status, "apis": len(project.apis), "errors": failed})
