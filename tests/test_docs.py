"""The README cannot rot: its settings and command tables must match the code."""

from __future__ import annotations

import re
import shlex
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


EXAMPLES = Path(__file__).parents[1] / "examples"


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.S)


def session_calls(source: str) -> list[str]:
    """Each ``sessions.create(...)`` call in some Python source, as written."""
    import ast

    calls = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("sessions.create"):
            calls.append(ast.unparse(node))
    return calls


def copied_sources() -> dict[str, str]:
    """Where integrators copy session code from: README's Python blocks and the examples."""
    sources = {f"README block {i}": block for i, block in enumerate(code_blocks("python"))}
    sources.update({str(path.relative_to(EXAMPLES)): path.read_text() for path in EXAMPLES.rglob("*.py")})
    return sources


def test_every_session_people_copy_sets_its_rate_limit():
    """The default (10 a minute) counts reads too; a copied example that leaves it hits 429s."""
    calls = [(where, call) for where, source in copied_sources().items() for call in session_calls(source)]
    assert len(calls) >= 4, calls
    for where, call in calls:
        assert "rate_limits" in call and "max_requests_per_1_minute" in call, f"{where}: {call}"
    table_row = next(line for line in README.read_text().splitlines() if "`rate_limit_exceeded`" in line)
    assert "default **10**" in table_row and "reads" in table_row


def test_the_session_endpoint_is_one_path_everywhere():
    served = set(re.findall(r'"(/api/chatkit[^"]*session)"', (EXAMPLES / "embed" / "app.py").read_text()))
    assert served == {"/api/chatkit/session"}
    mentioned = set(re.findall(r"/api/chatkit[\w/-]*session", README.read_text()))
    assert mentioned == served


def test_the_embed_example_s_settings_are_named_in_the_readme():
    app = (EXAMPLES / "embed" / "app.py").read_text()
    read = set(re.findall(r'os\.environ(?:\.get\(|\[)"([A-Z_]+)"', app))
    assert read == {"CHATKITD_URL", "CHATKITD_API_KEY", "PORT"}
    heading = "### Keep your ChatKit.js front end: change one script tag"
    section = README.read_text().split(heading, 1)[1].split("\n### ", 1)[0]
    for name in read:
        assert f"| `{name}` |" in section, f"the embed section does not name {name}"


def test_install_instructions_name_only_what_can_be_installed():
    """chatkitd is not on PyPI: no `pip install chatkitd...`; extras are installed from the clone."""
    text = README.read_text()
    assert not re.search(r"pip install ['\"]?chatkitd", text)
    for extra in re.findall(r"pip install -e '\.\[([\w-]+)\]'", text):
        assert extra in _extras(), extra


def _extras() -> set[str]:
    import tomllib

    pyproject = tomllib.loads((README.parent / "pyproject.toml").read_text())
    return set(pyproject["project"]["optional-dependencies"])


DOCS = [README, *sorted((README.parent / "docs").glob("*.md"))]


def documented_command_lines(texts: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Each `chatkitd ...` a reader may paste: shell blocks' lines and inline code, as its arguments.

    A line counts when it starts with ``chatkitd`` (after ``VAR=value`` settings) or runs the CLI
    in compose's ``migrate`` service (``docker compose run [options] migrate ARGS``).
    """
    found = []
    for name, text in texts.items():
        lines = []
        for block in re.findall(r"```(?:sh|bash|shell)\n(.*?)```", text, re.S):
            lines += block.replace("\\\n", " ").splitlines()
        lines += re.findall(r"`(chatkitd [^`|…]+)`", text)
        for line in lines:
            words = shlex.split(line.split(" #", 1)[0])
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words.pop(0)
            if words[:1] in (["chatkitd"], [".venv/bin/chatkitd"]):
                found.append((name, words[1:]))
            elif (words[:3] == ["docker", "compose", "run"] or words[:2] == ["docker-compose", "run"]) and (
                "migrate" in words
            ):
                found.append((name, words[words.index("migrate") + 1 :]))
    return found


def unknown_parts(args: list[str]) -> list[str]:
    """The subcommands and --options in ``args`` that the CLI does not have."""
    command: click.Command = main
    while isinstance(command, click.Group) and args and not args[0].startswith("-"):
        sub = command.commands.get(args[0])
        if sub is None:
            return [args[0]]
        command, args = sub, args[1:]
    known = {opt for param in [*command.params, *main.params] for opt in getattr(param, "opts", [])}
    options = [a.strip("[]").split("=")[0] for a in args if a.strip("[]").startswith("--")]
    return [option for option in options if option not in known | {"--help"}]


def test_every_command_the_docs_show_runs_as_written():
    texts = {path.name: path.read_text() for path in DOCS}
    lines = documented_command_lines(texts)
    assert len(lines) >= 10, lines
    for name, args in lines:
        assert not unknown_parts(args), (
            f"{name}: `chatkitd {' '.join(args)}` is not a command line chatkitd has"
        )


def test_the_docs_command_check_notices_a_wrong_command():
    wrong = {
        "x.md": "```sh\nchatkitd workflow deploy f.py\nchatkitd workflows deploy f.py --name x\n```\n"
        "and `chatkitd keys list [--every]`"
    }
    found = [unknown_parts(args) for _, args in documented_command_lines(wrong)]
    assert found == [["workflow"], ["--name"], ["--every"]]
