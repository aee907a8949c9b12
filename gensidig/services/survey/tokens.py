"""Answer-link tokens: 256 random bits, kept only as a hash."""

import hashlib
import re
import secrets
from dataclasses import dataclass

TOKEN_BYTES = 32
# token_urlsafe(32) gives 43 characters from the URL-safe base64 alphabet.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{43}$")


@dataclass(frozen=True)
class NewToken:
    token: str
    token_hash: str


def hash_token(token: str) -> str:
    """SHA-256 is enough: the token has 256 bits of entropy, so it cannot be guessed from the hash."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def new_token() -> NewToken:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return NewToken(token=token, token_hash=hash_token(token))


def looks_like_token(candidate: str) -> bool:
    return bool(TOKEN_PATTERN.match(candidate))
