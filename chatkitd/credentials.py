"""Secrets that authenticate callers: admin keys and session client secrets.

Both are random tokens of 256 bits. Only their SHA-256 digest is stored: the
tokens are high-entropy, so a fast hash is enough to make a leaked table
useless, and lookups stay an indexed equality on the digest. The final
comparison is done in constant time.
"""

import hashlib
import hmac
import secrets

ADMIN_KEY_PREFIX = "ck-admin-"
CLIENT_SECRET_PREFIX = "ck_secret_"


def new_admin_key() -> str:
    return ADMIN_KEY_PREFIX + secrets.token_urlsafe(32)


def new_client_secret() -> str:
    return CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def matches(token: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(token), stored_digest)


def redact(token_digest: str) -> str:
    """The form a secret takes once it may no longer be shown: never the secret."""
    return f"{CLIENT_SECRET_PREFIX}redacted_{token_digest[:8]}"
