"""Signed URLs for uploads, image previews and cited files.

A signature is an HMAC-SHA256 over the purpose, the id and an expiry time, so
a URL works for one object, one use and a bounded time. The key is
``CHATKITD_SECRET_KEY`` or, if unset, one generated on the first start and kept
in the database (``server_keys``), so that every replica sharing the database
accepts every other's links with no configuration. A key an older chatkitd kept
in the data dir becomes the database's, so links already handed out still work.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from urllib.parse import urlencode

from chatkitd import clock
from chatkitd.settings import Settings
from chatkitd.store import server_keys
from chatkitd.store.db import Database

UPLOAD = "upload"
PREVIEW = "preview"
KEY_FILE = "secret_key"  # where chatkitd kept the key before it was in the database
KEY_NAME = "link_signing"


class Signer:
    def __init__(self, key: bytes | None = None) -> None:
        self._key_bytes = key

    @classmethod
    def from_settings(cls, settings: Settings) -> Signer:
        """Keyed now by ``CHATKITD_SECRET_KEY``, else by ``load_shared_key`` at start."""
        if settings.secret_key is not None:
            return cls(settings.secret_key.get_secret_value().encode("utf-8"))
        return cls()

    async def load_shared_key(self, db: Database, data_dir: Path) -> None:
        if self._key_bytes is None:
            self._key_bytes = (await server_keys.shared(db, KEY_NAME, _candidate(data_dir))).encode()

    @property
    def _key(self) -> bytes:
        if self._key_bytes is None:
            raise RuntimeError("the link-signing key is read from the database when the platform starts")
        return self._key_bytes

    def signature(self, purpose: str, attachment_id: str, expires: int) -> str:
        message = f"{purpose}:{attachment_id}:{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def query(self, purpose: str, attachment_id: str, ttl_seconds: int) -> str:
        """``expires=…&signature=…`` for a URL valid for ``ttl_seconds``."""
        expires = int(clock.unix()) + ttl_seconds
        return urlencode({"expires": expires, "signature": self.signature(purpose, attachment_id, expires)})

    def verify(self, purpose: str, attachment_id: str, expires: str | None, signature: str | None) -> bool:
        # Query strings are caller-controlled: anything but a short ASCII decimal
        # expiry (str.isdigit accepts "²") or a non-ASCII signature (which
        # compare_digest refuses with a TypeError) is simply not a valid link.
        if not expires or not signature or len(expires) > 20:
            return False
        if not (expires.isascii() and expires.isdigit()):
            return False
        expected = self.signature(purpose, attachment_id, int(expires))
        valid = hmac.compare_digest(expected.encode(), signature.encode("utf-8", "surrogatepass"))
        return valid and int(expires) > clock.unix()


def _candidate(data_dir: Path) -> str:
    """A new key, or the one an older chatkitd kept in the data dir."""
    legacy = Path(data_dir) / KEY_FILE
    try:
        kept = legacy.read_text().strip()
    except (FileNotFoundError, UnicodeDecodeError):
        kept = ""
    return kept or secrets.token_hex(32)
