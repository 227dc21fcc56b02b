"""Reading the caller's arguments from a request: a JSON object body and query parameters (SPEC §3.2)."""

from __future__ import annotations

import json
from typing import Any

from gunicorn.http.errors import ParseException
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request

from project.errors import ArgumentError

# What a server's body reader raises for a malformed chunked body or a connection closed mid-body.
BODY_READ_ERRORS = (OSError, ValueError, ParseException, ClientDisconnected)
MAX_BODY_DEPTH = 32  # arguments are values and lists, not trees; deeper input only burdens the renderer
JSON_KINDS = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def read_body(request: Request) -> dict[str, Any]:
    """A non-empty body must be a JSON object, whatever the method and content type. As in Rill, only a body
    of no bytes is no body: whitespace alone is not JSON (Go's json.Unmarshal refuses it)."""
    raw = _raw_body(request)
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ArgumentError(f"failed to unmarshal request body: {error}") from None
    except RecursionError:
        raise ArgumentError("failed to unmarshal request body: nested too deeply") from None
    if not isinstance(body, dict):
        kind = JSON_KINDS.get(type(body), "not an object")
        raise ArgumentError(f"failed to unmarshal request body: expected a JSON object, got {kind}")
    if _depth(body) > MAX_BODY_DEPTH:
        raise ArgumentError(
            f"failed to unmarshal request body: nested too deeply (more than {MAX_BODY_DEPTH} levels)"
        )
    return body


def _raw_body(request: Request) -> bytes:
    """The body's bytes; 413 past `max_content_length`, 400 when the body cannot be read."""
    try:
        raw = request.get_data(cache=True)
        limit = request.max_content_length
        if limit is not None and len(raw) >= limit:
            request.stream.read(1)  # a chunked body is cut at the limit silently: reading on raises the 413
    except BODY_READ_ERRORS:
        raise ArgumentError(
            "failed to read request body: malformed chunked encoding, or the connection closed early"
        ) from None
    return raw


def _depth(value: Any) -> int:
    """How deeply lists and objects nest, counted without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, level + 1) for child in children)
    return deepest


def query_lists(request: Request) -> dict[str, list[str]]:
    """Every query parameter with all its values, in the order given."""
    return {key: request.args.getlist(key) for key in request.args}
