"""Tests of JWT verification: signatures, time claims, audience, issuer, pinned algorithms, attributes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from project.auth.jwt_tokens import AuthSettingsError, JwtVerifier, claims_to_attributes

SECRET = "s" * 64
OTHER_SECRET = "o" * 32


def claims(**overrides) -> dict:
    """Valid claims for a user, expiring in an hour; keyword arguments replace or (None) drop claims."""
    now = int(time.time())
    base = {
        "sub": "user-1",
        "iat": now,
        "exp": now + 3600,
        "attr": {"email": "ana@example.com", "admin": False},
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def hs256(payload: dict, secret: str = SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def unsigned(payload: dict) -> str:
    """A token with `alg: none` and an empty signature."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def public_pem(private_key) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


# Tokens are made when each test runs (`now` is passed in): times fixed at collection would drift.
HS256_CASES = [
    ("valid", lambda now: hs256(claims()), {"email": "ana@example.com", "admin": False, "id": "user-1"}),
    ("wrong signature", lambda now: hs256(claims(), OTHER_SECRET), None),
    ("expired", lambda now: hs256(claims(exp=now - 120)), None),
    (
        "expired within leeway",
        lambda now: hs256(claims(exp=now - 5)),
        {"email": "ana@example.com", "admin": False, "id": "user-1"},
    ),
    ("no exp", lambda now: hs256(claims(exp=None)), None),
    ("nbf in the future", lambda now: hs256(claims(nbf=now + 600)), None),
    (
        "nbf within leeway",
        lambda now: hs256(claims(nbf=now + 5)),
        {"email": "ana@example.com", "admin": False, "id": "user-1"},
    ),
    ("alg none", lambda now: unsigned(claims()), None),
    ("HS512 when HS256 is pinned", lambda now: jwt.encode(claims(), SECRET, algorithm="HS512"), None),
    ("attr not an object", lambda now: hs256(claims(attr="admin")), None),
    ("garbage", lambda now: "not.a.jwt", None),
    ("empty", lambda now: "", None),
]


@pytest.mark.parametrize(
    ("case", "make_token", "expected"), HS256_CASES, ids=[case[0] for case in HS256_CASES]
)
def test_hs256(case, make_token, expected):
    token = make_token(int(time.time()))
    assert JwtVerifier.from_secret(SECRET).verify(token) == expected


@pytest.mark.parametrize(
    ("audience", "issuer", "token_claims", "valid"),
    [
        ("sluice", None, {"aud": "sluice"}, True),
        ("sluice", None, {"aud": ["other", "sluice"]}, True),
        ("sluice", None, {"aud": "other"}, False),
        ("sluice", None, {}, False),
        (None, None, {"aud": "other"}, False),
        (None, "https://app.example.com", {"iss": "https://app.example.com"}, True),
        (None, "https://app.example.com", {"iss": "https://evil.example.com"}, False),
        (None, "https://app.example.com", {}, False),
        (None, None, {"iss": "https://anyone.example.com"}, True),
    ],
)
def test_audience_and_issuer(audience, issuer, token_claims, valid):
    verifier = JwtVerifier.from_secret(SECRET, audience=audience, issuer=issuer)
    assert (verifier.verify(hs256(claims(**token_claims))) is not None) is valid


def test_rs256_with_a_public_key_file(tmp_path, rsa_key):
    key_file = tmp_path / "public.pem"
    key_file.write_bytes(public_pem(rsa_key))
    verifier = JwtVerifier.from_public_key_file(str(key_file))
    assert verifier.algorithms == ("RS256",)
    assert verifier.verify(jwt.encode(claims(), rsa_key, algorithm="RS256"))["id"] == "user-1"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert verifier.verify(jwt.encode(claims(), other, algorithm="RS256")) is None


def test_es256_with_a_public_key(ec_key):
    verifier = JwtVerifier.from_public_key_pem(public_pem(ec_key))
    assert verifier.algorithms == ("ES256",)
    assert verifier.verify(jwt.encode(claims(), ec_key, algorithm="ES256"))["email"] == "ana@example.com"


def test_public_key_is_never_accepted_as_an_hmac_secret(rsa_key):
    """The classic key confusion attack: HS256 signed with the public key's PEM text."""
    pem = public_pem(rsa_key)
    verifier = JwtVerifier.from_public_key_pem(pem)
    forged_header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=")
    signature = hmac.new(pem, forged_header + b"." + body, hashlib.sha256).digest()
    forged = b".".join([forged_header, body, base64.urlsafe_b64encode(signature).rstrip(b"=")]).decode()
    assert verifier.verify(forged) is None
    assert verifier.verify(unsigned(claims())) is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda pem: JwtVerifier.from_secret("short"), "at least 32 bytes"),
        (lambda pem: JwtVerifier.from_secret(SECRET, ["none"]), "none cannot be used"),
        (lambda pem: JwtVerifier.from_secret(SECRET, ["RS256"]), "RS256 cannot be used"),
        (lambda pem: JwtVerifier.from_public_key_pem(pem, ["HS256"]), "HS256 cannot be used"),
        (lambda pem: JwtVerifier.from_public_key_pem(pem, ["ES256"]), "ES256 cannot be used"),
        (lambda pem: JwtVerifier.from_public_key_pem(b"not a key"), "not a PEM public key"),
        (lambda pem: JwtVerifier.from_public_key_file("/nonexistent/key.pem"), "cannot read JWT public key"),
    ],
)
def test_unusable_settings_are_errors(rsa_key, make, message):
    with pytest.raises(AuthSettingsError, match=message):
        make(public_pem(rsa_key))


def test_explicit_rsa_algorithms_are_pinned(rsa_key):
    verifier = JwtVerifier.from_public_key_pem(public_pem(rsa_key), ["PS256"])
    assert verifier.verify(jwt.encode(claims(), rsa_key, algorithm="PS256")) is not None
    assert verifier.verify(jwt.encode(claims(), rsa_key, algorithm="RS256")) is None


@pytest.mark.parametrize(
    ("token_claims", "expected"),
    [
        (
            {"sub": "u1", "attr": {"email": "a@b.c", "groups": ["x"]}},
            {"email": "a@b.c", "groups": ["x"], "id": "u1"},
        ),
        ({"attr": {"customer_id": "acme"}, "email": "ignored@b.c"}, {"customer_id": "acme"}),
        ({"sub": "u1", "attr": {"id": "from-attr"}}, {"id": "u1"}),
        (
            {
                "sub": "u1",
                "email": "a@b.c",
                "name": "Ana",
                "admin": True,
                "groups": ["g"],
                "iss": "i",
                "aud": "a",
                "exp": 1,
                "nbf": 1,
                "iat": 1,
                "jti": "j",
            },
            {"email": "a@b.c", "name": "Ana", "admin": True, "groups": ["g"], "id": "u1"},
        ),
        ({"customer_id": "acme"}, {"customer_id": "acme"}),
        ({"attr": ["not", "an", "object"]}, None),
    ],
)
def test_claims_to_attributes(token_claims, expected):
    assert claims_to_attributes(token_claims) == expected
