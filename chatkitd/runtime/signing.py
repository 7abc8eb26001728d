"""Signed URLs for uploads and image previews.

A signature is an HMAC-SHA256 over the purpose, the attachment id and an
expiry time, so a URL works for one attachment, one use and a bounded time.
The key is ``CHATKITD_SECRET_KEY`` or, if unset, one generated once and kept in
the data dir (so every process sharing that dir accepts the same URLs).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

from chatkitd import clock
from chatkitd.settings import Settings

UPLOAD = "upload"
PREVIEW = "preview"
KEY_FILE = "secret_key"


class Signer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_settings(cls, settings: Settings) -> Signer:
        if settings.secret_key is not None:
            return cls(settings.secret_key.get_secret_value().encode("utf-8"))
        return cls(_key_from_data_dir(settings.data_dir))

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


def _key_from_data_dir(data_dir: Path) -> bytes:
    path = Path(data_dir) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when several processes start at once, exactly one writes the key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(100):
            # The creating process may not have written it yet.
            if key := path.read_bytes().strip():
                return key
            time.sleep(0.01)
        raise RuntimeError(f"{path} is empty; delete it or set CHATKITD_SECRET_KEY") from None
    key = secrets.token_hex(32).encode()
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key
