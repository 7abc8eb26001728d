"""What every blob back end shares: which ids may name a blob, and the two ways a write or read fails."""

from __future__ import annotations

import re

_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class BlobTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"upload exceeds {limit} bytes")
        self.limit = limit


class BlobUnavailable(Exception):
    """The object store did not answer (or refused us): a 503 for the client, not a 500."""


def check_id(*parts: str) -> None:
    """Ids become path components and object keys: plain ids only, no ``/`` or ``..``."""
    for part in parts:
        if not _SAFE_ID.match(part):
            raise ValueError(f"unsafe blob path component: {part!r}")
