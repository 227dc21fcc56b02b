"""GET /v1/instances/<instance>/api (and the cloud-style `.../runtime/api`): the project's APIs as JSON.

Each entry has the API's name, summary and description, its URL (absolute, on the host and under the prefix
the caller used) and one URL per format, and whether it is broken. See project/calls/catalog.py for who
sees what.
"""

from __future__ import annotations

from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from handlers.app import App
from handlers.auth import authenticate, check_cloud_names
from handlers.openapi import base_url, check_instance
from handlers.responses import json_response
from project.calls.catalog import ApiEntry, listed_apis, shows_errors
from project.encoding.formats import FORMATS


def list_apis(app: App, request: Request, instance: str) -> Response:
    """GET /v1/instances/<instance>/api: the APIs this caller may call."""
    caller = authenticate(app, request)
    check_instance(instance)
    return _listing(app, request, caller, base_url(request, f"/v1/instances/{instance}/api"))


def list_cloud_apis(app: App, request: Request, org: str, project: str) -> Response:
    """GET /v1/organizations/<org>/projects/<project>/runtime/api, as Rill Cloud spells the base."""
    caller = authenticate(app, request)
    check_cloud_names(app.settings, org, project)
    return _listing(
        app, request, caller, base_url(request, f"/v1/organizations/{org}/projects/{project}/runtime/api")
    )


def _listing(app: App, request: Request, caller, base: str) -> Response:
    errors = shows_errors(caller)
    entries = [_entry_json(entry, base, errors) for entry in listed_apis(app.project(), caller)]
    response = json_response({"apis": entries})
    response.headers["Cache-Control"] = "private, no-cache" if caller.authenticated else "no-cache"
    return response


def _entry_json(entry: ApiEntry, base: str, show_error: bool) -> dict:
    """One API as JSON: `error` only for a broken API, and only when the caller may read it."""
    url = f"{base}/{quote(entry.name, safe='')}"
    item = {
        "name": entry.name,
        "summary": entry.summary,
        "description": entry.description,
        "url": url,
        "formats": {name: url if name == "json" else f"{url}.{name}" for name in FORMATS},
        "broken": entry.broken,
    }
    if entry.broken and show_error:
        item["error"] = entry.error
    return item
