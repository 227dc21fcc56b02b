"""The API routes: run one API for the caller's arguments and stream the rows in the format asked for."""

from __future__ import annotations

import functools
from typing import Any

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header
from werkzeug.wrappers import Request, Response

from handlers.answers import answer_call, answer_stream, download_name
from handlers.app import App
from handlers.arguments import query_lists, read_body
from handlers.auth import authenticate, check_cloud_names, local_caller
from handlers.connection import hang_up_check
from handlers.negotiation import negotiation_header
from project.calls.builtin import BUILTIN_APIS, check_builtin_caller, run_builtin
from project.calls.runner import Caller, caller_arguments, find_api, resolve_call
from project.calls.sizes import check_sizes
from project.encoding.formats import JSON, MEDIA_TYPES, Format, offered, split_suffix
from project.errors import NotAcceptableError, NotFoundError
from serving.metrics import IN_FLIGHT
from serving.requests import record_of

INSTANCE = "default"


def run_api(app: App, request: Request, instance: str, name: str) -> Response:
    """GET|POST|any /v1/instances/<instance>/api/<name>."""
    caller = authenticate(app, request)  # with auth on, no answer says anything before the token is checked
    body = read_body(request)  # read before the API is looked up: a bad body is a 400 for any name
    if instance != INSTANCE:
        raise NotFoundError(f'instance "{instance}" not found')
    return _answer(app, request, caller, name, body)


def run_cloud_api(app: App, request: Request, org: str, project: str, name: str) -> Response:
    """/v1/organizations/<org>/projects/<project>/runtime/api/<name>, as Rill Cloud spells it."""
    caller = authenticate(app, request)
    body = read_body(request)
    check_cloud_names(app.settings, org, project)
    return _answer(app, request, caller, name, body)


def _answer(app: App, request: Request, caller: Caller, name: str, body: dict[str, Any]) -> Response:
    """The answer, counted in the queries in flight from now until its body is sent."""
    IN_FLIGHT.inc()
    try:
        response = _compute(app, request, caller, name, body)
    except BaseException:
        IN_FLIGHT.dec()
        raise
    response.call_on_close(IN_FLIGHT.dec)
    return response


def _compute(app: App, request: Request, caller: Caller, name: str, body: dict[str, Any]) -> Response:
    record = record_of(request.environ)
    project = app.project()
    name, format_ = api_name_and_format(request, name, project.apis)
    # the API a request counts under in logs and metrics: only a name the project or Rill defines, never any
    # name a caller sends (each would be a new metrics series, kept for good)
    record.api = name if name in project.apis or name in BUILTIN_APIS else None
    if name in BUILTIN_APIS:  # Rill's built-in APIs come first, as in Rill
        stream = _run_builtin(app, request, caller, name, body, format_)
        response = answer_stream(app, request, stream, format_)
    else:
        max_items = app.settings.max_list_items
        args = caller_arguments(find_api(project, name), body, query_lists(request), max_items)
        call = resolve_call(project, name, args, caller)
        gone = hang_up_check(request.environ)
        response, stream = answer_call(app, request, project, call, caller, format_, gone)
    if stream is not None:
        record.rows = stream.rows_sent
        record.timings = getattr(stream, "timings", {})
    download_name(response, name, format_)
    return response


def _run_builtin(app: App, request: Request, caller: Caller, name: str, body: dict, format_: Format):
    check_builtin_caller(caller.authenticated, caller.user, local_caller(app, request))
    query = query_lists(request)
    check_sizes(body, query, app.settings.max_list_items)
    args = {**body, **{key: values[0] for key, values in query.items() if values}}
    project = app.project()
    data = project.data(args, caller.user) if caller.authenticated else None
    return run_builtin(project, name, args, data, app.limits(), format_)


def api_name_and_format(request: Request, name: str, apis: Any) -> tuple[str, Format]:
    """The API and format a path names: a known suffix (`top.csv`) wins over `Accept`; JSON by default."""
    stem, suffix_format = split_suffix(name)
    if suffix_format is not None and name not in apis:
        return stem, suffix_format
    accept = negotiation_header(request, "Accept")
    if not accept:
        return name, JSON
    format_ = negotiated_format(accept)
    if format_ is None:
        raise NotAcceptableError(f"none of the accepted formats is offered; offered: {offered()}")
    return name, format_


@functools.lru_cache(maxsize=256)
def negotiated_format(accept: str) -> Format | None:
    """The format an `Accept` header chooses. Callers send few distinct headers: parsing one each time
    was an eighth of a cached answer's time."""
    best = parse_accept_header(accept, MIMEAccept).best_match(list(MEDIA_TYPES))
    return None if best is None else MEDIA_TYPES[best]
