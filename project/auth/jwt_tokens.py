"""JWTs signed by an embedding application: HS256 with a shared secret, or RS/ES with a public key.

Algorithms are pinned to the configured key's family (never `none`); `exp` is required, `exp`/`nbf` are
checked with a small leeway, `aud`/`iss` when configured. The claims become the caller's `.user` attributes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from project.encoding.surrogates import without_lone_surrogates
from project.errors import SluiceError

logger = logging.getLogger("sluice.auth")

DEFAULT_LEEWAY_SECONDS = 30.0
MIN_SECRET_BYTES = 32
REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti"})
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
_EC_ALGORITHM_BY_CURVE = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


class AuthSettingsError(SluiceError):
    """The authentication settings are unusable (bad key, algorithm that does not fit the key, ...)."""


class JwtVerifier:
    """Verifies JWTs with one key and a pinned list of algorithms; see `from_secret`, `from_public_key_file`."""

    def __init__(
        self,
        key: Any,
        algorithms: Sequence[str],
        *,
        audience: str | None = None,
        issuer: str | None = None,
        leeway: float = DEFAULT_LEEWAY_SECONDS,
    ) -> None:
        if not algorithms:
            raise AuthSettingsError("no JWT algorithm configured")
        self._key = key
        self.algorithms = tuple(algorithms)
        self.audience = audience
        self.issuer = issuer
        self.leeway = leeway

    @classmethod
    def from_secret(
        cls, secret: str | bytes, algorithms: Sequence[str] | None = None, **options: Any
    ) -> JwtVerifier:
        """A verifier for HMAC-signed tokens (HS256 unless `algorithms` says otherwise)."""
        key = secret.encode("utf-8") if isinstance(secret, str) else secret
        if len(key) < MIN_SECRET_BYTES:
            raise AuthSettingsError(f"the JWT secret must be at least {MIN_SECRET_BYTES} bytes long")
        return cls(key, _checked_algorithms(algorithms or ["HS256"], HMAC_ALGORITHMS, "a secret"), **options)

    @classmethod
    def from_public_key_pem(
        cls, pem: bytes, algorithms: Sequence[str] | None = None, **options: Any
    ) -> JwtVerifier:
        """A verifier for tokens signed with the private half of this PEM public key (RSA, EC or Ed25519)."""
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError):
            raise AuthSettingsError("the JWT public key is not a PEM public key") from None
        default, allowed = _key_algorithms(key)
        return cls(key, _checked_algorithms(algorithms or [default], allowed, "this key"), **options)

    @classmethod
    def from_public_key_file(
        cls, path: str, algorithms: Sequence[str] | None = None, **options: Any
    ) -> JwtVerifier:
        """`from_public_key_pem` with the PEM read from a file."""
        try:
            with open(path, "rb") as file:
                pem = file.read()
        except OSError as error:
            raise AuthSettingsError(f"cannot read JWT public key {path}: {error.strerror}") from None
        return cls.from_public_key_pem(pem, algorithms, **options)

    def verify(self, token: str) -> dict[str, Any] | None:
        """The `.user` attributes of a valid token, or None; why it failed is logged, the token never."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=list(self.algorithms),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp"]},
            )
        except jwt.PyJWTError as error:
            logger.debug("JWT rejected: %s", type(error).__name__)
            return None
        return claims_to_attributes(claims)


def claims_to_attributes(claims: Mapping[str, Any]) -> dict[str, Any] | None:
    """The `attr` claim (Rill's runtime tokens), else the non-registered claims; `sub` becomes `id`.

    None when `attr` is present but not an object. Lone surrogates (`"\\ud800"`) become U+FFFD, as Go
    decodes them: half a character would fail the query that binds it, or the access rule that reads it.
    """
    claims = without_lone_surrogates(dict(claims))
    if "attr" in claims:
        if not isinstance(claims["attr"], dict):
            logger.debug("JWT rejected: attr claim is not an object")
            return None
        attributes = dict(claims["attr"])
    else:
        attributes = {key: value for key, value in claims.items() if key not in REGISTERED_CLAIMS}
    if "sub" in claims:
        attributes["id"] = claims["sub"]
    return attributes


def _key_algorithms(key: Any) -> tuple[str, frozenset[str]]:
    """The default algorithm for a public key and all the ones it can verify."""
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256", RSA_ALGORITHMS
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _EC_ALGORITHM_BY_CURVE:
        algorithm = _EC_ALGORITHM_BY_CURVE[key.curve.name]
        return algorithm, frozenset({algorithm})
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA", frozenset({"EdDSA"})
    raise AuthSettingsError("unsupported JWT public key type (use RSA, EC P-256/384/521 or Ed25519)")


def _checked_algorithms(algorithms: Sequence[str], allowed: frozenset[str], key_name: str) -> list[str]:
    """The algorithms, after checking each fits the key; `none` never does."""
    wrong = [name for name in algorithms if name not in allowed]
    if wrong:
        raise AuthSettingsError(
            f"JWT algorithm {', '.join(wrong)} cannot be used with {key_name} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    return list(algorithms)
