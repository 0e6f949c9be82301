"""Random secrets handed out once and kept only as their SHA-256: the token a sign-in session's
cookie carries (accounts) and the school's calendar feed link (agenda). A stolen database gives
neither."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32  # 256 bits of randomness; token_urlsafe makes 43 URL-safe characters of them


def new_token() -> tuple[str, str]:
    """A fresh token and the digest to store."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
