"""chatkitd's own web UI: the chat elements, the playground and the admin console.

``src/`` holds the UI's sources; ``build.mjs`` bundles them with their npm
packages into ``static/`` (served at ``/static``, shipped as package data, never
committed). ``templates/`` holds the two pages.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"
# Written last by build.mjs: its presence means every bundle is there.
BUILD_STAMP = STATIC_DIR / "build.json"

NOT_BUILT = (
    "chatkitd's web UI has not been built. From a checkout, run `make web` "
    "(npm ci, then node chatkitd/web/build.mjs); an installed package ships it built."
)


def is_built() -> bool:
    return BUILD_STAMP.exists()
