"""CORS: off unless origins are listed; then preflights are answered and headers set for those only."""

from __future__ import annotations

from collections.abc import Sequence

from werkzeug.wrappers import Request, Response

from handlers.responses import error_response

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type"
PREFLIGHT_MAX_AGE = "600"


def is_preflight(request: Request) -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def preflight_response(request: Request, origins: Sequence[str]) -> Response:
    origin = request.headers.get("Origin", "")
    if origin not in origins:
        return error_response(f'origin "{origin}" is not allowed', 403)
    response = Response(status=204)
    add_cors_headers(response, origin)
    response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


def add_cors_headers(response: Response, origin: str) -> None:
    response.headers["Access-Control-Allow-Origin"] = origin
