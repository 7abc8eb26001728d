"""The README cannot rot: its settings and command tables must match the code."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from chatkitd.cli import main
from chatkitd.settings import Settings

README = Path(__file__).parents[1] / "README.md"


def table_after(heading: str) -> list[str]:
    """The first cells of the first table under ``## heading``."""
    text = README.read_text()
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    # Skip the header row and the |---| separator.
    return [row.split("|")[1].strip().strip("`") for row in rows[2:]]


def commands(group: click.Group, prefix: str = "chatkitd") -> list[str]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += commands(command, f"{prefix} {name}")
        else:
            found.append(f"{prefix} {name}")
    return found


def test_every_setting_is_in_the_configuration_table():
    documented = table_after("Configuration")
    expected = [f"CHATKITD_{name.upper()}" for name in Settings.model_fields]
    missing = sorted(set(expected) - set(documented))
    assert not missing, f"README's configuration table lacks {missing}"
    stale = sorted(set(documented) - set(expected))
    assert not stale, f"README documents settings that do not exist: {stale}"


@pytest.mark.parametrize("command", commands(main))
def test_every_command_is_in_the_command_table(command):
    documented = table_after("Command line")
    # A row reads "chatkitd keys create --project NAME ...": match on the words before options.
    names = {re.split(r" [-\[A-Z]", row, maxsplit=1)[0] for row in documented}
    assert command in names, f"README's command table lacks `{command}`"


def test_the_command_table_lists_only_real_commands():
    documented = table_after("Command line")
    real = set(commands(main))
    for row in documented:
        name = re.split(r" [-\[A-Z]", row, maxsplit=1)[0]
        assert name in real, f"README documents `{name}`, which is not a command"


def test_checks_notice_a_missing_row(monkeypatch, tmp_path):
    # The checks above would fail on a README missing a row: prove it once.
    text = README.read_text()
    trimmed = "\n".join(line for line in text.splitlines() if "CHATKITD_PORT" not in line)
    fake = tmp_path / "README.md"
    fake.write_text(trimmed)
    monkeypatch.setitem(globals(), "README", fake)
    with pytest.raises(AssertionError, match="CHATKITD_PORT"):
        test_every_setting_is_in_the_configuration_table()
