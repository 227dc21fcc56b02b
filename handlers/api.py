"""The API route: run one API for the caller's arguments and stream the rows as JSON."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from handlers.arguments import merge_arguments, read_body
from project.errors import NotFoundError
from project.runner import run_api as run_project_api

INSTANCE = "default"


def run_api(app: Any, request: Request, instance: str, name: str) -> Response:
    """GET|POST|any /v1/instances/<instance>/api/<name>."""
    body = read_body(request)  # read before the API is looked up: a bad body is a 400 for any name
    if instance != INSTANCE:
        raise NotFoundError(f'instance "{instance}" not found')
    args = merge_arguments(body, request.args)
    stream = run_project_api(app.project(), name, args, None, app.limits())
    response = Response(stream, mimetype="application/json")
    response.call_on_close(stream.close)
    return response
