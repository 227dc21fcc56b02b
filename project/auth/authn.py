"""Who is calling: turns an `Authorization` header into the caller's `.user` attributes.

Opaque tokens (`sluice_usr_`, `sluice_svc_`) are checked against the token store; anything else is tried as a
JWT. Tokens never appear in logs or exception messages.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from project.auth.jwt_tokens import AuthSettingsError, JwtVerifier
from project.auth.tokens import TokenStore, default_token_path, is_opaque_token
from project.errors import AuthenticationError
from project.settings import Settings

__all__ = ["AuthSettingsError", "Authenticator", "authenticator_from_settings", "bearer_token"]

logger = logging.getLogger("sluice.auth")

NO_BEARER_TOKEN = "no bearer token found in authorization header"
INVALID_TOKEN = "invalid token"
MAX_TOKEN_LENGTH = 8192
_BEARER = re.compile(r"[ \t]*bearer[ \t]+(\S+)[ \t]*", re.IGNORECASE)


def bearer_token(authorization_header: str | None) -> str:
    """The token of a `Bearer <token>` header; AuthenticationError for anything else."""
    match = _BEARER.fullmatch(authorization_header or "")
    if match is None:
        logger.info("authentication failed: %s", NO_BEARER_TOKEN)
        raise AuthenticationError(NO_BEARER_TOKEN)
    return match.group(1)


class Authenticator:
    """Checks bearer tokens against the token store and/or a JWT verifier; either may be absent."""

    def __init__(self, token_store: TokenStore | None, jwt_verifier: JwtVerifier | None) -> None:
        self.token_store = token_store
        self.jwt_verifier = jwt_verifier

    def authenticate(self, authorization_header: str | None) -> dict[str, Any]:
        """The caller's attributes (a fresh dict); AuthenticationError when the header or token is bad."""
        token = bearer_token(authorization_header)
        attributes = self._verify(token) if len(token) <= MAX_TOKEN_LENGTH else None
        if attributes is None:
            logger.info("authentication failed: %s", INVALID_TOKEN)
            raise AuthenticationError(INVALID_TOKEN)
        return attributes

    def _verify(self, token: str) -> dict[str, Any] | None:
        if is_opaque_token(token):
            return self._verify_opaque(token)
        if self.jwt_verifier is None:
            return None
        return self.jwt_verifier.verify(token)

    def _verify_opaque(self, token: str) -> dict[str, Any] | None:
        record = self.token_store.lookup(token) if self.token_store else None
        if record is None:
            return None
        logger.debug("authenticated %s token %s", record.kind, record.id)
        return copy.deepcopy(record.attributes)


def authenticator_from_settings(settings: Settings) -> Authenticator:
    """An Authenticator from the token file and JWT settings; AuthSettingsError if they are unusable."""
    store = TokenStore(default_token_path(settings.project_dir, settings.tokens_path))
    return Authenticator(store, jwt_verifier_from_settings(settings))


def jwt_verifier_from_settings(settings: Settings) -> JwtVerifier | None:
    """The JWT verifier configured by `SLUICE_JWT_SECRET` or `SLUICE_JWT_PUBLIC_KEY`, or None."""
    secret, public_key = settings.jwt_secret, settings.jwt_public_key
    if secret and public_key:
        raise AuthSettingsError("set SLUICE_JWT_SECRET or SLUICE_JWT_PUBLIC_KEY, not both")
    algorithms = list(settings.jwt_algorithms)
    options = {"audience": settings.jwt_audience, "issuer": settings.jwt_issuer}
    if secret:
        return JwtVerifier.from_secret(secret, algorithms or None, **options)
    if public_key:
        return JwtVerifier.from_public_key_file(public_key, algorithms or None, **options)
    if algorithms or options["audience"] or options["issuer"]:
        raise AuthSettingsError("SLUICE_JWT_* settings need SLUICE_JWT_SECRET or SLUICE_JWT_PUBLIC_KEY")
    return None
