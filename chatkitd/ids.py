"""Collision-safe identifiers in the REST API's style (``cthr_…``, ``cthi_…``).

``openai-chatkit``'s default ids carry 32 random bits and collide at scale;
these carry 128 bits of randomness, hex-encoded.
"""

import secrets

SESSION = "cksess"
THREAD = "cthr"
ITEM = "cthi"
ATTACHMENT = "atc"
API_KEY = "key"
PROJECT = "proj"
TRACE = "trace"
SPAN = "span"


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"
