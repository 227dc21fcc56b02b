"""Answers to API calls as HTTP responses: format headers, the result cache, ETags and 304s, gzip (SPEC §3.5).

An answer that can be cached has an ETag computed from its key (what it depends on), so a caller holding it
gets a 304 before any query runs. Answers are cached whole, uncompressed; streamed answers are kept when they
finish within the cache's entry bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from werkzeug.http import dump_options_header
from werkzeug.wrappers import Request, Response

from handlers.compression import compress_body, compress_stream, wants_gzip
from handlers.connection import cut
from project.calls.cache_keys import CachePolicy, answer_key, cache_policy, cacheable, etag_for, matches
from project.calls.result_cache import CachedAnswer, ResultCache
from project.calls.runner import Call, Caller, prepare_statement, run_statement
from project.definitions import Project
from project.encoding.formats import Format

GZIP_ETAG_SUFFIX = "-gzip"


def answer_call(
    app: Any,
    request: Request,
    project: Project,
    call: Call,
    caller: Caller,
    format_: Format,
    client_gone: Callable[[], bool] | None = None,
) -> tuple[Response, Any]:
    """The response to a resolved call, and the stream behind it (None when nothing ran)."""
    statement = prepare_statement(project, call, caller, app.limits())
    policy = cache_policy(call.chain, embedded=statement.engine is project.database)
    cache: ResultCache | None = app.cache if policy.enabled and cacheable(statement) else None
    key = answer_key(project, call, statement, format_.name) if cache is not None else ""
    if cache is not None:
        entry = cache.get(key)
        etag = entry.etag if entry else (etag_for(key) if policy.ttl is None else None)
        if etag and _revalidated(request, etag):
            return _finish(app, request, Response(status=304), format_, policy, etag, None), None
        if entry is not None:
            return _finish(app, request, Response(), format_, policy, entry.etag, entry.body), None
    stream: Any = run_statement(project, statement, format_, client_gone)
    whole = stream.whole()
    etag = None
    if cache is not None:
        created = time.time()
        etag = etag_for(key, None if policy.ttl is None else created)
        entry = CachedAnswer(
            whole or b"", format_.content_type, etag, None if policy.ttl is None else created + policy.ttl
        )
        if whole is not None:
            cache.put(key, entry)
        else:
            stream = _Recorder(stream, cache, key, entry)
    return _finish(app, request, Response(), format_, policy, etag, whole, stream), stream


def answer_stream(app: Any, request: Request, stream: Any, format_: Format) -> Response:
    """The response for an answer that is never cached (Rill's built-in APIs)."""
    whole = stream.whole()
    return _finish(app, request, Response(), format_, CachePolicy(False), None, whole, stream)


def _revalidated(request: Request, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    return matches(header, etag) or matches(header, _gzip_etag(etag))


def _finish(
    app: Any,
    request: Request,
    response: Response,
    format_: Format,
    policy: CachePolicy,
    etag: str | None,
    whole: bytes | None,
    stream: Any = None,
) -> Response:
    """Headers every answer carries, and its body: whole or streamed, gzipped when asked and worth it."""
    gzip = app.settings.gzip and not format_.compressed and wants_gzip(request)
    if response.status_code != 304:
        response.content_type = format_.content_type
        _set_body(response, whole, stream, gzip, request.environ)
    if etag is not None:
        compressed = response.headers.get("Content-Encoding") == "gzip"
        response.headers["ETag"] = _gzip_etag(etag) if compressed else etag
    response.headers["Cache-Control"] = cache_control(app.authenticator is not None, policy)
    # set whole: the response is new, and Werkzeug's `vary` parses and rewrites the header on each add
    response.headers["Vary"] = (
        "Accept, Accept-Encoding" if app.settings.gzip and not format_.compressed else "Accept"
    )
    return response


def _set_body(
    response: Response, whole: bytes | None, stream: Any, gzip: bool, environ: dict[str, Any]
) -> None:
    if whole is not None:
        if gzip:
            compress_body(response, whole)
        else:
            response.set_data(whole)
        return
    body = _cut_on_failure(stream, environ)
    response.response = compress_stream(body) if gzip else body
    if gzip:
        response.headers["Content-Encoding"] = "gzip"
    response.call_on_close(stream.close)


def _cut_on_failure(stream: Iterable[bytes], environ: dict[str, Any]) -> Iterator[bytes]:
    """The answer's bytes; a failure once the status is out cuts the connection, so no client takes
    the answer for whole (Werkzeug's server would otherwise end the chunks cleanly after its 500 page)."""
    try:
        yield from stream
    except Exception:
        cut(environ)
        raise


def download_name(response: Response, name: str, format_: Format) -> None:
    """A file name for formats a browser saves rather than shows."""
    if format_.download and response.status_code == 200:
        response.headers["Content-Disposition"] = dump_options_header(
            "attachment", {"filename": f"{name}.{format_.name}"}
        )


def cache_control(authenticated: bool, policy: CachePolicy) -> str:
    """With auth, answers are the caller's own; without, anyone may keep them but must revalidate."""
    if policy.ttl is not None and policy.enabled:
        return f"{'private' if authenticated else 'public'}, max-age={int(policy.ttl)}"
    return "private, no-cache" if authenticated else "public, max-age=0, must-revalidate"


def _gzip_etag(etag: str) -> str:
    return etag[:-1] + GZIP_ETAG_SUFFIX + '"'


class _Recorder:
    """A streamed answer that is also kept in the cache if it ends whole within the entry bound."""

    def __init__(self, stream: Any, cache: ResultCache, key: str, template: CachedAnswer) -> None:
        self._stream, self._cache, self._key, self._template = stream, cache, key, template
        self.rows_sent = stream.rows_sent
        self.timings = getattr(stream, "timings", {})

    def __iter__(self) -> Iterator[bytes]:
        kept: list[bytes] | None = []
        size = 0
        for chunk in self._stream:
            if kept is not None:
                size += len(chunk)
                kept = kept if size <= self._cache.max_entry_bytes else None
                if kept is not None:
                    kept.append(chunk)
            yield chunk
        if kept is not None and getattr(self._stream, "completed", False):
            t = self._template
            self._cache.put(self._key, CachedAnswer(b"".join(kept), t.content_type, t.etag, t.expires))

    def close(self) -> None:
        self._stream.close()
