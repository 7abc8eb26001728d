"""Every YAML tool kind in ``TOOL_KINDS`` parses from an example and builds its tool.

A kind added to the table without an example here fails ``test_every_kind_has_an_example``.
"""

from __future__ import annotations

import pytest

from chatkitd.settings import Settings
from chatkitd.store.db import Database
from chatkitd.workflows.definitions import TOOL_KINDS, parse_yaml
from chatkitd.workflows.tools import resolve_server_tool

# kind -> (the YAML of one tool, the name of the tool it builds)
EXAMPLES = {
    "builtin": ("builtin: current_time", "current_time"),
    "python": ("python: chatkitd.workflows.tools:current_time", "current_time"),
    "file_search": ("file_search: {vector_store_ids: [vs_1], max_num_results: 4}", "file_search"),
}


def test_every_kind_has_an_example():
    assert set(EXAMPLES) == set(TOOL_KINDS)


class _Env:
    def __init__(self, tmp_path) -> None:  # noqa: ANN001
        self.settings = Settings(data_dir=tmp_path)
        self.db = Database(f"sqlite+aiosqlite:///{tmp_path / 'kinds.db'}")


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_each_kind_parses_and_builds(kind, tmp_path):
    yaml_tool, name = EXAMPLES[kind]
    definition = parse_yaml(f"id: kinds\ntools:\n  - {yaml_tool}\n")
    [tool] = definition.tools
    assert tool.kind == kind
    assert resolve_server_tool(tool, _Env(tmp_path)).name == name
