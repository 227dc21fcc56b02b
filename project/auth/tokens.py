"""Opaque bearer tokens: user tokens for development, service tokens for production systems.

Only a SHA-256 hash of each token is stored, in a JSON file written atomically with mode 0600. The server
verifies against an in-memory index that is reloaded when the file changes; CLI writers take an flock.
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from project.encoding.surrogates import without_lone_surrogates
from project.errors import SluiceError

logger = logging.getLogger("sluice.auth")

USER_PREFIX = "sluice_usr_"
SERVICE_PREFIX = "sluice_svc_"
PREFIXES = {"user": USER_PREFIX, "service": SERVICE_PREFIX}
PROJECT_ROLES = ("viewer", "admin")
FILE_VERSION = 1
_SECRET_BYTES = 32
_KIND_LABELS = {"user": "user token", "service": "service token"}


class TokenStoreError(SluiceError):
    """The token file cannot be read or written, or a request names an unknown token."""


@dataclass(frozen=True)
class TokenRecord:
    """One issued token as stored: everything except the token itself, which is kept only as a hash."""

    id: str
    kind: str
    name: str
    created: str
    attributes: dict[str, Any] = field(default_factory=dict)
    revoked: bool = False
    token_hash: str = field(default="", repr=False)

    def public(self) -> dict[str, Any]:
        """The record without its hash, fit to print."""
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "created": self.created,
            "revoked": self.revoked,
            "attributes": copy.deepcopy(self.attributes),
        }


def default_token_path(project_dir: str, configured: str | None = None) -> str:
    """The token file: the configured one (`SLUICE_TOKENS`) when set, else `<project_dir>/.sluice/tokens.json`."""
    return configured or os.path.join(project_dir, ".sluice", "tokens.json")


def is_opaque_token(token: str) -> bool:
    """True when the token carries one of the opaque token prefixes."""
    return token.startswith((USER_PREFIX, SERVICE_PREFIX))


def hash_token(token: str) -> str:
    """SHA-256 of the token; enough for 256-bit random secrets, which cannot be guessed or brute-forced."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_attributes(display_name: str, email: str | None, admin: bool) -> dict[str, Any]:
    """The attributes of a user token, shaped like Rill's user attributes."""
    email = email or ""
    domain = email.rpartition("@")[2] if "@" in email else ""
    return {"email": email, "domain": domain, "name": display_name, "admin": admin, "groups": []}


def service_attributes(name: str, project_role: str, custom: Mapping[str, Any] | None) -> dict[str, Any]:
    """The attributes of a service token: name and admin from the role, custom attributes laid over them."""
    if project_role not in PROJECT_ROLES:
        raise TokenStoreError(f"project role must be one of {', '.join(PROJECT_ROLES)}, not {project_role!r}")
    return {"name": name, "admin": project_role == "admin", **_checked_attributes(custom or {})}


def _checked_attributes(attributes: Any) -> dict[str, Any]:
    """A deep copy of the attributes after checking they are a JSON object."""
    if not isinstance(attributes, Mapping):
        raise TokenStoreError("attributes must be a JSON object")
    return copy.deepcopy(dict(attributes))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _record_from_json(item: Any) -> TokenRecord:
    try:
        return TokenRecord(
            id=str(item["id"]),
            kind=str(item["kind"]),
            name=str(item["name"]),
            created=str(item["created"]),
            attributes=without_lone_surrogates(dict(item["attributes"])),  # a file edited by hand
            revoked=bool(item["revoked"]),
            token_hash=str(item["hash"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise TokenStoreError(f"malformed token record: {error}") from None


def _record_to_json(record: TokenRecord) -> dict[str, Any]:
    return {**record.public(), "hash": record.token_hash}


def _parse_file(text: str, path: str) -> list[TokenRecord]:
    """The records of a token file's text."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TokenStoreError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("tokens"), list):
        raise TokenStoreError(f'{path}: expected an object with a "tokens" list')
    return [_record_from_json(item) for item in data["tokens"]]


class TokenStore:
    """The token file at `path`: issue, list, edit and revoke tokens, and verify presented ones."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._index: dict[str, TokenRecord] = {}
        self._signature: tuple[int, int, int] | None = None
        self._reload_lock = threading.Lock()

    # Reading and verifying

    def records(self) -> list[TokenRecord]:
        """Every record in the file, in issue order; an absent file holds none."""
        try:
            with open(self.path, encoding="utf-8") as file:
                return _parse_file(file.read(), self.path)
        except FileNotFoundError:
            return []
        except OSError as error:
            raise TokenStoreError(f"{self.path}: cannot read: {error.strerror}") from None

    def lookup(self, token: str) -> TokenRecord | None:
        """The live record for a presented token, or None when it is unknown or revoked."""
        if not is_opaque_token(token):
            return None
        digest = hash_token(token)
        # The dict is keyed by digest, so lookup timing leaks nothing about stored tokens themselves;
        # the final comparison is constant-time all the same.
        record = self._current_index().get(digest)
        if record is None or record.revoked or not hmac.compare_digest(record.token_hash, digest):
            return None
        return record

    def _current_index(self) -> dict[str, TokenRecord]:
        """The hash index, reloaded only when the file's mtime, size or inode changed."""
        signature = self._file_signature()
        if signature != self._signature:
            with self._reload_lock:
                if signature != self._signature:
                    self._index = self._load_index(signature)
                    self._signature = signature
        return self._index

    def _file_signature(self) -> tuple[int, int, int] | None:
        try:
            stat = os.stat(self.path)
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def _load_index(self, signature: tuple[int, int, int] | None) -> dict[str, TokenRecord]:
        """A fresh index; an unreadable or corrupt file verifies nothing (fail closed)."""
        if signature is None:
            return {}
        try:
            return {record.token_hash: record for record in self.records()}
        except TokenStoreError as error:
            logger.warning("token file unusable, no opaque token will verify: %s", error)
            return {}

    # Writing

    def issue_user_token(
        self, display_name: str, email: str | None = None, admin: bool = False
    ) -> tuple[str, TokenRecord]:
        """A new user token and its record; the token is returned once and never stored."""
        display_name, email = without_lone_surrogates([display_name, email])
        return self._issue("user", display_name, user_attributes(display_name, email, admin))

    def create_service(
        self, name: str, project_role: str = "viewer", attributes: Mapping[str, Any] | None = None
    ) -> tuple[str, TokenRecord]:
        """A new service token and its record; a live service of the same name is an error."""
        name = without_lone_surrogates(name)  # a command line's undecodable bytes, as the file will hold it
        merged = service_attributes(name, project_role, attributes)
        with self._locked_records() as records:
            if any(r.kind == "service" and r.name == name and not r.revoked for r in records):
                raise TokenStoreError(f'service "{name}" already exists')
            token, record = _new_record("service", name, merged)
            records.append(record)
        return token, record

    def edit_attributes(
        self, token_id: str, changes: Mapping[str, Any], kind: str | None = None
    ) -> TokenRecord:
        """Merge `changes` into a token's attributes; a null value removes that attribute."""
        changes = _checked_attributes(changes)
        return self._update(token_id, kind, lambda r: replace(r, attributes=_merge(r.attributes, changes)))

    def revoke(self, token_id: str, kind: str | None = None) -> TokenRecord:
        """Mark a token revoked; it stops verifying as soon as the server sees the new file."""
        return self._update(token_id, kind, lambda r: replace(r, revoked=True))

    def list_tokens(self, kind: str | None = None) -> list[TokenRecord]:
        """The records, of one kind when given."""
        return [record for record in self.records() if kind is None or record.kind == kind]

    def _issue(self, kind: str, name: str, attributes: dict[str, Any]) -> tuple[str, TokenRecord]:
        token, record = _new_record(kind, name, attributes)
        with self._locked_records() as records:
            records.append(record)
        return token, record

    def _update(
        self, token_id: str, kind: str | None, change: Callable[[TokenRecord], TokenRecord]
    ) -> TokenRecord:
        """Apply `change` to one record; raising inside the lock leaves the file untouched."""
        with self._locked_records() as records:
            position = _position(records, token_id, kind)
            records[position] = change(records[position])
            return records[position]

    @contextmanager
    def _locked_records(self) -> Iterator[list[TokenRecord]]:
        """The records under an exclusive lock; written back atomically when the block succeeds."""
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, mode=0o700, exist_ok=True)
        lock_fd = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            records = self.records()
            yield records
            self._write(records, directory)
        finally:
            os.close(lock_fd)

    def _write(self, records: list[TokenRecord], directory: str) -> None:
        """Write the file through a 0600 temp file in the same folder and os.replace."""
        text = json.dumps(
            {"version": FILE_VERSION, "tokens": [_record_to_json(r) for r in records]}, indent=2
        )
        fd, temp_path = tempfile.mkstemp(prefix=".tokens-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temp_path, 0o600)
            os.replace(temp_path, self.path)
        except BaseException:
            _remove_quietly(temp_path)
            raise


def _new_record(kind: str, name: str, attributes: dict[str, Any]) -> tuple[str, TokenRecord]:
    """A fresh random token and the record that stores only its hash."""
    token = PREFIXES[kind] + secrets.token_urlsafe(_SECRET_BYTES)
    record = TokenRecord(
        id=secrets.token_hex(8),
        kind=kind,
        name=name,
        created=_now(),
        attributes=without_lone_surrogates(attributes),
        token_hash=hash_token(token),
    )
    return token, record


def _position(records: list[TokenRecord], token_id: str, kind: str | None) -> int:
    """The index of the record with this id (and kind, when given)."""
    for position, record in enumerate(records):
        if record.id == token_id and (kind is None or record.kind == kind):
            return position
    raise TokenStoreError(f'no {_KIND_LABELS.get(kind or "", "token")} with id "{token_id}"')


def _merge(attributes: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Top-level JSON merge patch: set each changed key, remove the ones set to null."""
    merged = {**attributes, **without_lone_surrogates(changes)}
    return {key: value for key, value in merged.items() if value is not None}


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
