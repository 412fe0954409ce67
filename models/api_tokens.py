"""Bearer tokens of the HTTP API: made of a public id and a random secret, kept only as a
digest.

A token carries 256 random bits, so a plain SHA-256 digest is as safe to store as a slow
password hash, and lets the server find the token by its digest in one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

__all__ = ["NewToken", "new_token", "token_digest"]

_PREFIX = "smati"


@dataclass(frozen=True)
class NewToken:
    id: str
    """Public: listed, and named to revoke the token; also the token's second part."""
    text: str
    """What the caller sends (`Authorization: Bearer TEXT`); shown once, never stored."""

    @property
    def digest(self) -> bytes:
        return token_digest(self.text)


def new_token() -> NewToken:
    """A fresh token: smati_<id>_<secret>, the id telling which token a leaked text is."""
    token_id = secrets.token_hex(4)
    return NewToken(token_id, f"{_PREFIX}_{token_id}_{secrets.token_urlsafe(32)}")


def token_digest(text: str) -> bytes:
    """What is stored of a token, and looked up for a presented one."""
    return hashlib.sha256(text.encode()).digest()
