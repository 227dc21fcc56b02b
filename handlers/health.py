"""Liveness and readiness."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from werkzeug.wrappers import Request, Response

from handlers.app import App
from handlers.auth import authenticate
from handlers.responses import json_response
from project.engines.checks import connector_states
from project.errors import AuthenticationError, ProjectError
from serving.metrics import exposition


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
    """GET /v1/health: readiness. 200 "ok", or 200 "degraded" listing the files that failed to load (the
    last good build keeps serving); 503 "unavailable" with the reason while no project has ever loaded.
    With auth on, only a caller with a valid token sees more than the status: errors can quote data."""
    project = app.current_project()
    if project is None:
        return _unavailable(app, request)
    failed = [_failure(error) for error in (*project.errors, *app.held_back)]
    connectors = connector_states(project, app.settings.health_probe_seconds)
    down = any(connector["state"] != "ok" for connector in connectors)
    status = "degraded" if failed or down else "ok"
    body: dict[str, Any] = {"status": status, "apis": len(project.apis), "errors": failed}
    if connectors:
        body["connectors"] = connectors
    return json_response(_for_caller(app, request, body))


def _unavailable(app: App, request: Request) -> Response:
    """503 while no project has loaded: the load error (file and message), and when the server retries."""
    failures = [_failure(app.load_failure)] if app.load_failure is not None else []
    reason = str(app.load_failure) if app.load_failure is not None else "the project is loading"
    body = {"status": "unavailable", "error": f"no project has loaded yet: {reason}", "errors": failures}
    response = json_response(_for_caller(app, request, body), status=503)
    response.headers["Retry-After"] = "1"
    return response


def _failure(error: ProjectError) -> dict[str, Any]:
    return {"path": error.path, "line": error.line, "column": error.column, "error": error.message}


def _for_caller(app: App, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    """The whole body for a caller with a valid token (or with auth off); else only the status."""
    try:
        authenticate(app, request)
    except AuthenticationError:
        return {"status": body["status"]}
    return body


def metrics(app: App, request: Request) -> Response:
    """GET /metrics: Prometheus text exposition, summed over every gunicorn worker."""
    body, content_type = exposition()
    return Response(body, content_type=content_type)
