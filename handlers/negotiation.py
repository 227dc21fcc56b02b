"""The headers a caller negotiates with (`Accept`, `Accept-Encoding`), bounded: parsing one costs time in
proportion to its length, and no client needs kilobytes of them."""

from __future__ import annotations

from werkzeug.exceptions import RequestHeaderFieldsTooLarge
from werkzeug.wrappers import Request

MAX_NEGOTIATION_BYTES = 8192


def negotiation_header(request: Request, name: str) -> str:
    """The header's value ('' when absent); a 431 when it is longer than MAX_NEGOTIATION_BYTES."""
    value = request.headers.get(name, "")
    if len(value) > MAX_NEGOTIATION_BYTES:
        raise RequestHeaderFieldsTooLarge(f"the {name} header is longer than {MAX_NEGOTIATION_BYTES} bytes")
    return value
