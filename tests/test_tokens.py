"""Tests of the opaque token store: issue, verify, edit, revoke, file safety and reloads."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from project.auth.authn import Authenticator
from project.auth.tokens import (
    SERVICE_PREFIX,
    USER_PREFIX,
    TokenStore,
    TokenStoreError,
    default_token_path,
    is_opaque_token,
)


@pytest.fixture
def store(tmp_path) -> TokenStore:
    return TokenStore(str(tmp_path / ".sluice" / "tokens.json"))


def attributes_of(store: TokenStore, token: str) -> dict | None:
    """What the server's authenticator reads for a token: the attributes of a live token, or None."""
    record = store.lookup(token)
    return None if record is None else dict(record.attributes)


def test_user_token_round_trip(store):
    token, record = store.issue_user_token("API Testing", "ana@example.com", admin=True)
    assert token.startswith(USER_PREFIX) and len(token) >= len(USER_PREFIX) + 43
    assert record.kind == "user" and record.name == "API Testing"
    assert attributes_of(store, token) == {
        "email": "ana@example.com",
        "domain": "example.com",
        "name": "API Testing",
        "admin": True,
        "groups": [],
    }


@pytest.mark.parametrize(
    ("role", "custom", "expected"),
    [
        ("viewer", None, {"name": "svc", "admin": False}),
        ("admin", None, {"name": "svc", "admin": True}),
        ("viewer", {"customer_id": "acme-corp"}, {"name": "svc", "admin": False, "customer_id": "acme-corp"}),
        (
            "viewer",
            {"tenants": [1, 2], "region": None},
            {"name": "svc", "admin": False, "tenants": [1, 2], "region": None},
        ),
    ],
)
def test_service_attributes(store, role, custom, expected):
    token, record = store.create_service("svc", role, custom)
    assert token.startswith(SERVICE_PREFIX)
    assert record.kind == "service"
    assert attributes_of(store, token) == expected


def test_user_without_email_has_empty_email_and_domain(store):
    token, _ = store.issue_user_token("dev")
    assert attributes_of(store, token) == {
        "email": "",
        "domain": "",
        "name": "dev",
        "admin": False,
        "groups": [],
    }


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "sluice_usr_",
        "sluice_usr_unknown",
        "sluice_svc_unknown",
        "not-a-prefix",
        "SLUICE_USR_x",
    ],
)
def test_unknown_tokens_do_not_verify(store, presented):
    store.issue_user_token("dev")
    assert attributes_of(store, presented) is None


def test_a_token_with_one_character_changed_does_not_verify(store):
    token, _ = store.issue_user_token("dev")
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert attributes_of(store, altered) is None


def test_revoke_stops_verification_and_keeps_the_record(store):
    token, record = store.create_service("svc")
    revoked = store.revoke(record.id)
    assert revoked.revoked is True
    assert attributes_of(store, token) is None
    assert [r.revoked for r in store.list_tokens("service")] == [True]


def test_revoke_seen_by_another_store_on_the_same_file(store):
    """The server's store reloads when a CLI process rewrites the file."""
    server_store = TokenStore(store.path)
    token, record = store.issue_user_token("dev")
    assert attributes_of(server_store, token) is not None
    store.revoke(record.id)
    assert attributes_of(server_store, token) is None


def test_edit_merges_attributes_and_null_removes(store):
    token, record = store.create_service("svc", attributes={"customer_id": "acme", "region": "eu"})
    store.edit_attributes(record.id, {"customer_id": "globex", "region": None, "tier": 2})
    assert attributes_of(store, token) == {"name": "svc", "admin": False, "customer_id": "globex", "tier": 2}


def _issue(store: TokenStore, kind: str) -> str:
    """The id of a new token of this kind."""
    return (store.issue_user_token("dev") if kind == "user" else store.create_service("svc"))[1].id


@pytest.mark.parametrize(
    ("issued", "kind", "real_id", "message"),
    [
        ("user", None, False, 'no token with id "nope"'),
        ("service", "user", True, "no user token with id"),
        ("user", "service", True, "no service token with id"),
    ],
)
def test_revoke_or_edit_of_an_unknown_id_or_other_kind_is_an_error(store, issued, kind, real_id, message):
    token_id = _issue(store, issued) if real_id else "nope"
    with pytest.raises(TokenStoreError, match=message):
        store.revoke(token_id, kind)
    with pytest.raises(TokenStoreError, match=message):
        store.edit_attributes(token_id, {"a": 1}, kind)
    assert not any(record.revoked for record in store.list_tokens())


def test_attributes_must_be_an_object(store):
    with pytest.raises(TokenStoreError, match="JSON object"):
        store.create_service("svc", attributes=["not", "an", "object"])


def test_unknown_project_role_is_an_error(store):
    with pytest.raises(TokenStoreError, match="project role"):
        store.create_service("svc", "owner")


def test_duplicate_live_service_name_is_an_error_but_revoked_names_are_reusable(store):
    _, first = store.create_service("svc")
    with pytest.raises(TokenStoreError, match="already exists"):
        store.create_service("svc")
    store.revoke(first.id)
    store.create_service("svc")


def test_file_holds_hashes_not_tokens_and_is_private(store):
    user_token, _ = store.issue_user_token("dev", "dev@example.com")
    service_token, _ = store.create_service("svc", attributes={"customer_id": "acme"})
    text = Path(store.path).read_text(encoding="utf-8")
    for token in (user_token, service_token):
        assert token not in text
        assert token[len(USER_PREFIX) :] not in text
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert all(len(item["hash"]) == 64 for item in json.loads(text)["tokens"])


def test_no_temporary_files_are_left_behind(store):
    store.issue_user_token("dev")
    store.create_service("svc")
    assert sorted(os.listdir(os.path.dirname(store.path))) == ["tokens.json", "tokens.json.lock"]


def test_concurrent_writers_lose_no_record(store):
    threads = [threading.Thread(target=store.issue_user_token, args=(f"dev{n}",)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.name for r in store.list_tokens()) == sorted(f"dev{n}" for n in range(16))


def test_missing_file_verifies_nothing_and_lists_nothing(store):
    assert attributes_of(store, USER_PREFIX + "x" * 43) is None
    assert store.list_tokens() == []


def test_corrupt_file_fails_closed_on_verify_and_loudly_on_write(store, caplog):
    token, _ = store.issue_user_token("dev")
    with open(store.path, "w", encoding="utf-8") as file:
        file.write("{not json")
    assert attributes_of(TokenStore(store.path), token) is None
    assert "token file unusable" in caplog.text and token not in caplog.text
    with pytest.raises(TokenStoreError, match="not valid JSON"):
        store.issue_user_token("other")


def test_the_authenticator_hands_out_a_copy(store):
    token, _ = store.issue_user_token("dev")
    authenticator = Authenticator(store, None)
    authenticator.authenticate(f"Bearer {token}")["groups"].append("admins")
    assert authenticator.authenticate(f"Bearer {token}")["groups"] == []


def test_listed_records_carry_no_hash(store):
    store.issue_user_token("dev")
    assert "hash" not in store.list_tokens()[0].public()
    assert "token_hash" not in repr(store.list_tokens()[0])


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        (None, os.path.join("proj", ".sluice", "tokens.json")),
        ("/etc/sluice/tokens.json", "/etc/sluice/tokens.json"),
        ("", os.path.join("proj", ".sluice", "tokens.json")),
    ],
)
def test_default_token_path(configured, expected):
    assert default_token_path("proj", configured) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("sluice_usr_abc", True),
        ("sluice_svc_abc", True),
        ("rill_usr_abc", False),
        ("eyJhbGciOi", False),
    ],
)
def test_is_opaque_token(token, expected):
    assert is_opaque_token(token) is expected
