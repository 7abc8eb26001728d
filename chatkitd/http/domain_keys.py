"""ChatKit.js's ``domainKey``: which pages may use a client secret, when the operator says so.

OpenAI's ChatKit sends a domain key registered for the page's domain; chatkitd's element
sends the page's ``domainKey`` in the ``chatkit-domain-key`` header. With
``CHATKITD_DOMAIN_KEYS`` unset, the key is accepted and nothing is checked (CORS still
decides which origins' browsers may call). Set, it maps each key to the origins it is
registered for, and every request a client secret makes from a browser (one carrying an
``Origin``) must come from a registered origin: with a key, an origin of that key; without
one (ChatKit.js's hosted style sends none), an origin of any key. A request with no
``Origin`` is not a page's (a backend calling for its user), and the secret alone decides.
Domain keys are public (they sit in the page's source): they are identifiers, not secrets.
"""

from __future__ import annotations

from starlette.requests import Request

from chatkitd.errors import PermissionDenied
from chatkitd.http.state import platform_of

DOMAIN_KEY_HEADER = "chatkit-domain-key"


def check_page_origin(request: Request) -> None:
    """A 403 naming ``domainKey`` when the allowlist is set and the page's origin is not on it."""
    registered = platform_of(request).settings.domain_keys
    if not registered:
        return
    origin = request.headers.get("origin")
    key = request.headers.get(DOMAIN_KEY_HEADER)
    if key is not None and key not in registered:
        raise PermissionDenied("Unknown domain key.", param="domainKey", code="invalid_domain_key")
    if origin is None:
        return
    allowed = registered[key] if key is not None else [o for origins in registered.values() for o in origins]
    if origin not in allowed:
        which = f"domain key {key!r}" if key is not None else "any domain key"
        raise PermissionDenied(
            f"Pages on {origin} are not registered for {which}.", param="domainKey", code="domain_not_allowed"
        )
