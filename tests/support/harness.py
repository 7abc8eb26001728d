"""Deploying a YAML workflow for a test, as ``chatkitd workflows deploy`` would.

Workflows are then exercised through the real conversation endpoint
(``chat_for`` in ``tests/support/chat.py``), never by calling ``respond``
directly: the runtime around a workflow (input checks, locked and closed
threads, titling, tracing) is part of what is tested.
"""

from __future__ import annotations

from typing import Any

from chatkitd.store.keys import ensure_project
from chatkitd.workflows.definitions import Deployable, parse_yaml


async def deploy_yaml(platform: Any, text: str, project: str = "default") -> str:
    definition = parse_yaml(text)
    project_id = await ensure_project(platform.db, project)
    version, _ = await platform.workflows.deploy(
        project_id,
        Deployable(id=definition.id, name=definition.name, kind="yaml", definition=text),
        only_if_changed=True,
    )
    return version.version
