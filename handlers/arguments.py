"""Reading the caller's arguments from a request: a JSON object body and query parameters (SPEC §3.2)."""

from __future__ import annotations

import json
import math
import urllib.parse
from typing import Any

from gunicorn.http.errors import ParseException
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request

from project.encoding.surrogates import without_lone_surrogates
from project.errors import ArgumentError

# What a server's body reader raises for a malformed chunked body or a connection closed mid-body.
BODY_READ_ERRORS = (OSError, ValueError, ParseException, ClientDisconnected)
MAX_BODY_DEPTH = 32  # arguments are values and lists, not trees; deeper input only burdens the renderer
MAX_NUMBER_DIGITS = 309  # Go reads JSON numbers as float64: more digits than 1e308 has is out of range
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
        body = json.loads(raw, parse_constant=_not_json, parse_float=_finite_number, parse_int=_whole_number)
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
    return without_lone_surrogates(body)


def _not_json(word: str) -> Any:
    """NaN and Infinity: Python's json reads them, JSON (and Go) does not."""
    raise ValueError(f"invalid character in numeric literal: {word} is not JSON")


def _finite_number(text: str) -> float:
    """A JSON float as Go reads it: one beyond float64's range (`1e999999`) is an error, never infinity."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _whole_number(text: str) -> int:
    """A JSON integer, refused past float64's range (Python's own limit would quote its internals)."""
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise ValueError(f"number {text[:40]}... is out of range")
    return int(text)


def _raw_body(request: Request) -> bytes:
    """The body's bytes; 413 past `max_content_length`, 400 when the body cannot be read, when the
    Content-Length is no length (Werkzeug reads `-5` or `abc` as no body) or more came than arrived."""
    declared = _declared_length(request)
    try:
        raw = request.get_data(cache=True)
        limit = request.max_content_length
        if limit is not None and len(raw) >= limit:
            request.stream.read(1)  # a chunked body is cut at the limit silently: reading on raises the 413
    except BODY_READ_ERRORS:
        raise ArgumentError(
            "failed to read request body: malformed chunked encoding, or the connection closed early"
        ) from None
    if declared is not None and len(raw) < declared and request.max_content_length != len(raw):
        raise ArgumentError(
            f"failed to read request body: the connection closed after {len(raw)} of {declared} bytes"
        )
    return raw


def _declared_length(request: Request) -> int | None:
    """The Content-Length header as a number of bytes; 400 when it is there but is not one."""
    text = request.environ.get("CONTENT_LENGTH", "")
    if text == "" or request.environ.get("HTTP_TRANSFER_ENCODING"):
        return None
    if not text.strip().isdigit() or not text.strip().isascii():
        raise ArgumentError(f"invalid Content-Length header: {text[:40]!r} is not a number of bytes")
    return int(text)


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
    """Every query parameter with all its values, in the order given; 400 for a query string that is not
    UTF-8 (decoded leniently, `%FF` and `%25FF` would both read as the text `%FF`)."""
    query = request.query_string
    try:
        if not query.isascii() or b"%" in query:  # else it is ASCII as given, and so UTF-8
            urllib.parse.unquote_to_bytes(query.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError as error:
        raise ArgumentError(
            f"the query string is not valid UTF-8 (byte {error.object[error.start]:#04x} after percent-decoding)"
        ) from None
    return {key: request.args.getlist(key) for key in request.args}
