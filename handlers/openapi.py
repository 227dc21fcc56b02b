"""The OpenAPI document of the project's APIs (SPEC §7) and a docs page that renders it for people.

The docs page (handlers/docs_page.py) is Swagger UI, served from the `swagger-ui-bundle` package's files: no
network at run time. Its URLs are relative, so the page works wherever the app is mounted.
"""

from __future__ import annotations

import copy
import json

import yaml
from swagger_ui_bundle import swagger_ui_path
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header
from werkzeug.utils import send_from_directory
from werkzeug.wrappers import Request, Response

from handlers.app import App
from handlers.auth import authenticate, check_cloud_names
from handlers.docs_page import docs_page
from handlers.negotiation import negotiation_header
from project.errors import NotFoundError
from project.openapi.api_docs import api_docs
from project.openapi.document import build_document

INSTANCE = "default"
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")
DOCS_ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"})
ASSET_MAX_AGE = 24 * 3600


def openapi_document(app: App, request: Request, instance: str) -> Response:
    """GET /v1/instances/<instance>/api/openapi: the document, JSON or (on request) YAML."""
    authenticate(app, request)  # first: without a token, a caller learns nothing, not even which names exist
    check_instance(instance)
    return _document_response(
        app, request, "Rill project API", base_url(request, f"/v1/instances/{instance}/api")
    )


def cloud_openapi_document(app: App, request: Request, org: str, project: str) -> Response:
    """GET /v1/organizations/<org>/projects/<project>/runtime/api/openapi, as Rill Cloud spells it."""
    authenticate(app, request)
    check_cloud_names(app.settings, org, project)
    base = base_url(request, f"/v1/organizations/{org}/projects/{project}/runtime/api")
    return _document_response(app, request, f"Rill {org}/{project} project API", base)


def docs(app: App, request: Request, instance: str) -> Response:
    """GET /v1/instances/<instance>/api/docs (or `docs/`): Swagger UI over the document; the page itself holds
    no data, so it needs no token (with auth on, it asks for one)."""
    check_instance(instance)
    page = docs_page("Rill project API", app.authenticator is not None, request.path.endswith("/"))
    response = Response(page, mimetype="text/html")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def docs_asset(app: App, request: Request, instance: str, asset: str) -> Response:
    """GET /v1/instances/<instance>/api/docs/<asset>: one of the few Swagger UI files the page loads."""
    check_instance(instance)
    if asset not in DOCS_ASSETS:
        raise NotFoundError(f'docs asset "{asset}" not found')
    return send_from_directory(swagger_ui_path, asset, request.environ, max_age=ASSET_MAX_AGE)


def _document_response(app: App, request: Request, title: str, server_url: str) -> Response:
    """The built document, as YAML when the caller asks for it and JSON otherwise."""
    document = build_document(api_docs(app.project()), title=title, server_url=server_url)
    if app.authenticator is not None:
        _require_bearer_token(document)
    accept = parse_accept_header(negotiation_header(request, "Accept"), MIMEAccept)
    if accept.best_match(("application/json", *YAML_TYPES)) in YAML_TYPES:
        return Response(
            yaml.safe_dump(document, sort_keys=False, allow_unicode=True), mimetype="application/yaml"
        )
    return Response(json.dumps(document), mimetype="application/json")


def _require_bearer_token(document: dict) -> None:
    """Declare, when auth is on, that every API needs `Authorization: Bearer <token>` (Swagger UI asks for it)."""
    document.setdefault("components", {})["securitySchemes"] = {
        "bearerAuth": {"type": "http", "scheme": "bearer"}
    }
    document["security"] = [{"bearerAuth": []}]
    for item in document["paths"].values():
        for operation in item.values():
            operation["responses"]["401"] = {
                "description": "No or invalid bearer token",
                "content": copy.deepcopy(operation["responses"]["400"]["content"]),
            }


def base_url(request: Request, path: str) -> str:
    """The absolute URL of `path` on the host the caller used, under any prefix the app is mounted at."""
    return request.host_url.rstrip("/") + request.script_root + path


def check_instance(instance: str) -> None:
    if instance != INSTANCE:
        raise NotFoundError(f'instance "{instance}" not found')
