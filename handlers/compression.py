"""gzip for callers that accept it: whole bodies at once, streamed bodies chunk by chunk (SPEC §3.5)."""

from __future__ import annotations

import functools
import gzip
import zlib
from collections.abc import Iterable, Iterator

from werkzeug.http import parse_accept_header
from werkzeug.wrappers import Request, Response

from handlers.negotiation import negotiation_header

MIN_BYTES = 512  # below this, gzip's header and the time spent outweigh the bytes saved
LEVEL = 5  # most of level 9's savings at a fraction of its time


def wants_gzip(request: Request) -> bool:
    return accepts_gzip(negotiation_header(request, "Accept-Encoding"))


@functools.lru_cache(maxsize=256)
def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an `Accept-Encoding` header takes gzip (few distinct headers: each is parsed once)."""
    return parse_accept_header(accept_encoding)["gzip"] > 0


def compress_body(response: Response, body: bytes) -> None:
    """Set a whole body, gzipped when that is worth it; the caller decided the client accepts gzip."""
    if len(body) < MIN_BYTES:
        response.set_data(body)
        return
    response.set_data(gzip.compress(body, LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"


def compress_stream(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks gzipped as they come: each chunk is flushed, so a slow answer still arrives in pieces."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, 31)  # 31: gzip framing
    for chunk in chunks:
        if chunk:
            yield compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)
    yield compressor.flush()
