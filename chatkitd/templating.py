"""``{{ name }}`` placeholders in instructions, filled from a session's state variables.

Deliberately not Jinja nor ``str.format``: a placeholder is a bare name and
nothing else, so a template can never reach attributes, call code, or index
into objects. Unknown names render as empty text, so a session that omits a
variable still gets sensible instructions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def render(template: str, variables: Mapping[str, Any] | None) -> str:
    values = variables or {}

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return _PLACEHOLDER.sub(fill, template)
