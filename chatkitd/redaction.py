"""What a log line must never carry: a credential a reader could use.

One rule for every line chatkitd writes, its access log and every library's
log record alike (uvicorn's ``trace`` level prints each request's query,
HTTP clients print the URLs they call):

- the value of a credential-like query parameter (a signed link's
  ``signature``; keys and tokens some clients put in URLs) becomes ``REDACTED``;
- a bearer token after ``Bearer`` does too;
- so does any admin key or client secret chatkitd issued (``ck-admin-…``,
  ``ck_secret_…``), wherever it appears.
"""

from __future__ import annotations

import re

from chatkitd.credentials import ADMIN_KEY_PREFIX, CLIENT_SECRET_PREFIX

# Query parameters that are credentials (a signed link's signature; keys some clients put in URLs).
SECRET_PARAMS = frozenset({"signature", "sig", "token", "key", "api_key", "client_secret", "access_token"})

_SECRET_PARAM = re.compile(
    r"(?<![A-Za-z0-9_])(" + "|".join(sorted(SECRET_PARAMS)) + r")=(?!REDACTED)[^&\s'\"<>]+",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(Bearer\s+)(?!REDACTED)[^\s'\",]+", re.IGNORECASE)
_ISSUED = re.compile(
    "("
    + re.escape(ADMIN_KEY_PREFIX)
    + "|"
    + re.escape(CLIENT_SECRET_PREFIX)
    + r")(?!redacted_)[A-Za-z0-9_-]+"
)


def redact_query(query: bytes) -> str:
    """The query string, with the value of every credential-like parameter replaced."""
    text = query.decode("latin-1")
    if "=" not in text:
        return text
    parts = []
    for part in text.split("&"):
        name, equals, _ = part.partition("=")
        parts.append(f"{name}=REDACTED" if equals and name.lower() in SECRET_PARAMS else part)
    return "&".join(parts)


def redact(text: str) -> str:
    """``text`` with every credential it carries replaced by ``REDACTED``."""
    if "=" in text:
        text = _SECRET_PARAM.sub(r"\1=REDACTED", text)
    if "earer" in text:
        text = _BEARER.sub(r"\1REDACTED", text)
    if "ck" in text:
        text = _ISSUED.sub(r"\1REDACTED", text)
    return text
