"""chatkitd's own web UI: the ``<chatkitd-chat>`` element, the playground and the admin console.

``static/`` holds the ES modules and stylesheet served at ``/static``;
``templates/`` holds the two pages. Nothing here is built: the files ship as is.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"
