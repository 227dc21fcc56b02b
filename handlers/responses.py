"""JSON responses: the one shape of every body Sluice writes for a person or a program to read."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def error_response(message: str, status: int, **extra: Any) -> Response:
    """`{"error": message, ...}` with the headers every error carries."""
    body = {"error": message, **{key: value for key, value in extra.items() if value not in (None, [], "")}}
    response = Response(json.dumps(body), status=status, content_type="application/json; charset=utf-8")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
