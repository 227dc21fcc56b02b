"""JSON responses: the one shape of every body Sluice writes for a person or a program to read."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

# An error quotes what it is about (a value, a line of SQL); a caller's 3 MB value must not come back whole.
MAX_ERROR_TEXT = 1000
MAX_ERROR_ITEMS = 100


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def error_response(message: str, status: int, **extra: Any) -> Response:
    """`{"error": message, ...}` with the headers every error carries; long texts are shortened."""
    body = {"error": message, **{key: value for key, value in extra.items() if value not in (None, [], "")}}
    body = capped(body)
    response = Response(json.dumps(body), status=status, content_type="application/json; charset=utf-8")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def capped(value: Any) -> Any:
    """Strings cut to MAX_ERROR_TEXT characters (head and tail kept), lists to MAX_ERROR_ITEMS items."""
    if isinstance(value, str) and len(value) > MAX_ERROR_TEXT:
        head, tail = MAX_ERROR_TEXT * 3 // 4, MAX_ERROR_TEXT // 4
        return f"{value[:head]}…({len(value) - head - tail} characters left out)…{value[-tail:]}"
    if isinstance(value, dict):
        return {key: capped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [capped(item) for item in value[:MAX_ERROR_ITEMS]]
    return value
