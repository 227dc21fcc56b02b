"""The API routes: run one API for the caller's arguments and stream the rows as JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from werkzeug.wrappers import Request, Response

from handlers.arguments import query_lists, read_body
from handlers.auth import authenticate, check_cloud_names
from handlers.connection import cut, hang_up_check
from project.calls.runner import Caller, caller_arguments, find_api
from project.calls.runner import run_api as run_project_api
from project.engines.execution import RowStream
from project.errors import NotFoundError
from serving.requests import record_of

INSTANCE = "default"


def run_api(app: Any, request: Request, instance: str, name: str) -> Response:
    """GET|POST|any /v1/instances/<instance>/api/<name>."""
    caller = authenticate(app, request)  # with auth on, no answer says anything before the token is checked
    body = read_body(request)  # read before the API is looked up: a bad body is a 400 for any name
    if instance != INSTANCE:
        raise NotFoundError(f'instance "{instance}" not found')
    return _answer(app, request, caller, name, body)


def run_cloud_api(app: Any, request: Request, org: str, project: str, name: str) -> Response:
    """/v1/organizations/<org>/projects/<project>/runtime/api/<name>, as Rill Cloud spells it."""
    caller = authenticate(app, request)
    body = read_body(request)
    check_cloud_names(app.settings, org, project)
    return _answer(app, request, caller, name, body)


def _answer(app: Any, request: Request, caller: Caller, name: str, body: dict[str, Any]) -> Response:
    record = record_of(request.environ)
    record.api = name
    project = app.project()
    args = caller_arguments(find_api(project, name), body, query_lists(request))
    stream = run_project_api(
        project, name, args, caller, app.limits(), client_gone=hang_up_check(request.environ)
    )
    record.rows = stream.rows_sent
    whole = stream.whole()
    if whole is not None:
        return Response(whole, mimetype="application/json")
    response = Response(_cut_on_failure(stream, request.environ), mimetype="application/json")
    response.call_on_close(stream.close)
    return response


def _cut_on_failure(stream: RowStream, environ: dict[str, Any]) -> Iterator[bytes]:
    """The answer's bytes; a failure once the status is out cuts the connection, so no client takes
    the answer for whole (Werkzeug's server would otherwise end the chunks cleanly after its 500 page)."""
    try:
        yield from stream
    except Exception:
        cut(environ)
        raise
