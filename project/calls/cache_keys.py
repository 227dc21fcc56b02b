"""What an answer depends on, as a cache key and an ETag (SPEC §3.5).

Like Rill's resolvers, the key is built from the query as it will run: the loaded project's fingerprint
(data build, API definitions, views, variables), the API, the format, the typed arguments, and the bound
SQL with its parameters, which hold every caller attribute the templates and security rules used (and
no other). Access rules are checked before the cache is consulted. A statement calling a function whose
value changes by itself (`now()`, `random()`...) is never cached.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from project.calls.runner import Call, Statement
from project.definitions import Api, Project

VOLATILE = re.compile(
    r"\b(now|random|setseed|uuid|uuidv4|uuidv7|gen_random_uuid|current_timestamp|current_date|"
    r"current_time|localtimestamp|localtime|get_current_time|get_current_timestamp|"
    r"transaction_timestamp|today|nextval|currval)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CachePolicy:
    """Whether an API's answers are cached, and for how long they stay fresh (None: until the data changes)."""

    enabled: bool
    ttl: float | None = None


def cache_policy(chain: Sequence[Api], embedded: bool) -> CachePolicy:
    """The `cache:` settings of a call: the first API on its proxy chain that sets `enabled` decides
    (by default: on for the embedded DuckDB, whose data changes only by a build); the shortest TTL holds."""
    stated = [api.definition.cache_enabled for api in chain if api.definition.cache_enabled is not None]
    enabled = stated[0] if stated else embedded
    ttls = [api.definition.cache_ttl for api in chain if api.definition.cache_ttl is not None]
    return CachePolicy(enabled, min(ttls) if ttls else None)


def cacheable(statement: Statement) -> bool:
    """False for a statement whose answer can change with nothing else changing."""
    return VOLATILE.search(statement.sql) is None


def answer_key(project: Project, call: Call, statement: Statement, format_name: str) -> str:
    """A digest of everything the answer depends on."""
    material = [
        project.fingerprint,
        [api.name for api in call.chain],
        format_name,
        statement.engine.name,
        call.args,
        statement.sql,
        statement.params,
        statement.limits.row_cap,
    ]
    text = json.dumps(material, sort_keys=True, default=_typed, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def etag_for(key: str, created: float | None = None) -> str:
    """The strong ETag of an answer: from its key alone when the answer cannot change while the project
    is loaded; with the time it was made when it can (a TTL)."""
    if created is None:
        return f'"{key[:32]}"'
    return '"' + hashlib.sha256(f"{key}\0{created!r}".encode()).hexdigest()[:32] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names this ETag (weak comparison, as RFC 9110 asks for GET)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return etag in (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))


def _typed(value: Any) -> Any:
    """Values json cannot write (dates, decimals...) keep their type in the key."""
    if isinstance(value, Mapping):
        return dict(value)
    return [type(value).__name__, str(value)]
