"""The refresh route: Rill's trigger API (`POST /v1/instances/<instance>/trigger`), for admins."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from handlers.api import INSTANCE
from handlers.app import App
from handlers.arguments import read_body
from handlers.auth import authenticate, local_caller
from handlers.responses import json_response
from project.calls.triggers import check_refresh_caller, full_refreshes
from project.errors import NotFoundError


def trigger(app: App, request: Request, instance: str) -> Response:
    """POST /v1/instances/<instance>/trigger: ask for a refresh; the server builds it in the background
    (requests keep being answered from the serving build) and swaps it in when complete. /v1/health shows a
    refresh that failed; the last good build keeps serving."""
    caller = authenticate(app, request)
    check_refresh_caller(caller.authenticated, caller.user, local_caller(app, request))
    body = read_body(request)
    if instance != INSTANCE:
        raise NotFoundError(f'instance "{instance}" not found')
    full = full_refreshes(body, app.project().model_names)
    refresh = app.refresh(full)
    return json_response({"refresh": {"generation": refresh.generation, "full": list(refresh.full)}})
