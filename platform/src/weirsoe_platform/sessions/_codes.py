"""Room codes and secret tokens."""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["ALPHABET", "CODE_LENGTH", "hash_token", "new_code", "new_player_id", "new_token"]

# Consonants only: no vowels means no accidental words, and no I/O/U/Y/0/1 look-alikes.
ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
CODE_LENGTH = 4


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    return code.strip().upper()


def new_token() -> str:
    """192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    """Tokens are stored only as hashes; lookups by hash leak nothing about the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_player_id() -> str:
    return "p" + secrets.token_hex(5)
