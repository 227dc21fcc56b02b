"""Tests of the Authenticator: header parsing, token routing, settings, and that tokens are never logged."""

from __future__ import annotations

import logging
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from project.auth.authn import Authenticator, authenticator_from_settings, bearer_token
from project.auth.jwt_tokens import AuthSettingsError, JwtVerifier
from project.auth.tokens import TokenStore
from project.errors import AuthenticationError
from project.settings import Settings, settings_from_env

SECRET = "k" * 32
NO_BEARER = "no bearer token found in authorization header"


def a_jwt(secret: str = SECRET, **claims) -> str:
    return jwt.encode({"sub": "u1", "exp": int(time.time()) + 600, **claims}, secret, algorithm="HS256")


@pytest.fixture
def store(tmp_path) -> TokenStore:
    return TokenStore(str(tmp_path / "tokens.json"))


@pytest.fixture
def authenticator(store) -> Authenticator:
    return Authenticator(store, JwtVerifier.from_secret(SECRET))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer tok", "tok"),
        ("bearer  tok", "tok"),
        ("BEARER\ttok ", "tok"),
        ("Bearer sluice_usr_a-b_c", "sluice_usr_a-b_c"),
    ],
)
def test_bearer_token_is_parsed(header, expected):
    assert bearer_token(header) == expected


@pytest.mark.parametrize(
    "header", [None, "", "Basic x", "Bearer", "Bearer ", "Bearertok", "Bearer a b", "Token tok", "tok"]
)
def test_missing_or_malformed_header(authenticator, header):
    with pytest.raises(AuthenticationError) as raised:
        authenticator.authenticate(header)
    assert raised.value.message == NO_BEARER


def test_user_and_service_tokens_authenticate(authenticator, store):
    user_token, _ = store.issue_user_token("Ana", "ana@example.com")
    service_token, _ = store.create_service("svc", "admin", {"customer_id": "acme"})
    assert authenticator.authenticate(f"Bearer {user_token}")["domain"] == "example.com"
    assert authenticator.authenticate(f"bearer {service_token}") == {
        "name": "svc",
        "admin": True,
        "customer_id": "acme",
    }


def test_jwt_authenticates(authenticator):
    assert authenticator.authenticate(f"Bearer {a_jwt(attr={'customer_id': 'acme'})}") == {
        "customer_id": "acme",
        "id": "u1",
    }


def revoked_token(store: TokenStore) -> str:
    token, record = store.issue_user_token("gone")
    store.revoke(record.id)
    return token


@pytest.mark.parametrize(
    "make_token",
    [
        lambda store: "sluice_usr_unknown",
        lambda store: "sluice_svc_unknown",
        revoked_token,
        lambda store: a_jwt("x" * 32),
        lambda store: a_jwt(exp=int(time.time()) - 3600),
        lambda store: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSJ9.",
        lambda store: "sluice_usr_" + "a" * 10_000,
    ],
)
def test_invalid_tokens(authenticator, store, make_token):
    with pytest.raises(AuthenticationError) as raised:
        authenticator.authenticate(f"Bearer {make_token(store)}")
    assert raised.value.message == "invalid token"


def test_without_a_store_or_verifier_every_token_is_invalid(store):
    token, _ = store.issue_user_token("Ana")
    for authenticator, presented in (
        (Authenticator(None, JwtVerifier.from_secret(SECRET)), token),
        (Authenticator(store, None), a_jwt()),
    ):
        with pytest.raises(AuthenticationError, match="invalid token"):
            authenticator.authenticate(f"Bearer {presented}")


def test_returned_attributes_are_a_copy(authenticator, store):
    token, _ = store.issue_user_token("Ana")
    authenticator.authenticate(f"Bearer {token}")["groups"].append("admins")
    assert authenticator.authenticate(f"Bearer {token}")["groups"] == []


def test_tokens_never_appear_in_logs_or_errors(authenticator, store, caplog):
    caplog.set_level(logging.DEBUG)
    user_token, _ = store.issue_user_token("Ana")
    presented = [
        user_token,
        revoked_token(store),
        "sluice_svc_secretvalue123",
        a_jwt(),
        a_jwt("x" * 32),
        a_jwt(exp=1),
        "opaque-garbage-secret",
    ]
    messages = []
    for token in presented:
        try:
            authenticator.authenticate(f"Bearer {token}")
        except AuthenticationError as error:
            messages.append(str(error))
    logged = caplog.text + "\n".join(messages)
    assert "authentication failed: invalid token" in caplog.text
    for token in presented:
        assert token not in logged
        assert token.split(".")[-1] not in logged


def test_settings_with_secret_and_token_file(tmp_path):
    store = TokenStore(str(tmp_path / "elsewhere.json"))
    token, _ = store.issue_user_token("Ana")
    env = {"SLUICE_JWT_SECRET": SECRET, "SLUICE_TOKENS": store.path}
    authenticator = authenticator_from_settings(settings_from_env(env, project_dir=str(tmp_path)))
    assert authenticator.authenticate(f"Bearer {token}")["name"] == "Ana"
    assert authenticator.authenticate(f"Bearer {a_jwt()}") == {"id": "u1"}


def test_settings_default_token_file_is_in_the_project(tmp_path):
    token, _ = TokenStore(str(tmp_path / ".sluice" / "tokens.json")).create_service("svc")
    authenticator = authenticator_from_settings(Settings(project_dir=str(tmp_path)))
    assert authenticator.jwt_verifier is None
    assert authenticator.authenticate(f"Bearer {token}")["name"] == "svc"


def test_settings_with_public_key_audience_and_issuer(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem_file = tmp_path / "key.pem"
    pem_file.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    env = {
        "SLUICE_JWT_PUBLIC_KEY": str(pem_file),
        "SLUICE_JWT_ALGORITHMS": "RS256, PS256",
        "SLUICE_JWT_AUDIENCE": "sluice",
        "SLUICE_JWT_ISSUER": "app",
    }
    authenticator = authenticator_from_settings(settings_from_env(env, project_dir=str(tmp_path)))
    good = {"sub": "u1", "exp": int(time.time()) + 60, "aud": "sluice", "iss": "app", "email": "a@b.c"}
    assert (
        authenticator.authenticate("Bearer " + jwt.encode(good, key, algorithm="PS256"))["email"] == "a@b.c"
    )
    for wrong in ({"aud": "other"}, {"iss": "other"}):
        with pytest.raises(AuthenticationError, match="invalid token"):
            authenticator.authenticate("Bearer " + jwt.encode({**good, **wrong}, key, algorithm="RS256"))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SLUICE_JWT_SECRET": SECRET, "SLUICE_JWT_PUBLIC_KEY": "/k.pem"}, "not both"),
        ({"SLUICE_JWT_AUDIENCE": "sluice"}, "need SLUICE_JWT_SECRET"),
        ({"SLUICE_JWT_SECRET": SECRET, "SLUICE_JWT_ALGORITHMS": "none"}, "none cannot be used"),
        ({"SLUICE_JWT_SECRET": "short"}, "at least 32 bytes"),
    ],
)
def test_unusable_settings(tmp_path, env, message):
    with pytest.raises(AuthSettingsError, match=message):
        authenticator_from_settings(settings_from_env(env, project_dir=str(tmp_path)))
