"""``chatkitd workflows ...`` and ``chatkitd traces ...`` through click's CliRunner."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from chatkitd.cli import main
from tests.support.harness import deploy_yaml

ROOT = Path(__file__).parents[1]


def cli(*args: str, env: dict[str, str]):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_deploy_list_show(tmp_path):
    env = {"CHATKITD_DATA_DIR": str(tmp_path)}
    assert cli("migrate", env=env).exit_code == 0
    result = cli("workflows", "deploy", str(ROOT / "examples" / "support-agent.yaml"), env=env)
    assert result.stdout == "Deployed support-agent version 1 to project 'default'.\n"
    assert result.stderr == f"# in {tmp_path / 'chatkitd.db'}\n"
    result = cli("workflows", "deploy", str(ROOT / "examples" / "support-agent.yaml"), env=env)
    assert "version 2" in result.output
    cli("workflows", "deploy", str(ROOT / "examples" / "python_agent.py"), "--project", "shop", env=env)

    listing = cli("workflows", "list", env=env).output.splitlines()
    assert listing[0].startswith("demo\tv1\tbuilt-in")
    assert listing[1].startswith("support-agent\tv2\tyaml\t2 versions\tSupport agent")
    assert len(listing) == 2  # python-agent went to another project
    shop = cli("workflows", "list", "--project", "shop", env=env).output
    assert "python-agent\tv1\tpython\t1 version\tOrder assistant" in shop

    shown = cli("workflows", "show", "support-agent", env=env).output
    assert shown.splitlines()[0].startswith("  v1\tyaml")
    assert shown.splitlines()[1].startswith("* v2\tyaml")
    assert "id: support-agent" in shown
    old = cli("workflows", "show", "support-agent", "--version", "1", env=env).output
    assert old.splitlines()[0].startswith("* v1")


def test_errors_are_messages_not_tracebacks(tmp_path):
    env = {"CHATKITD_DATA_DIR": str(tmp_path)}
    assert cli("migrate", env=env).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nunknown_field: 1\n")
    result = CliRunner().invoke(main, ["workflows", "deploy", str(bad)], env=env)
    assert result.exit_code == 1 and "unknown_field" in result.output
    result = CliRunner().invoke(main, ["workflows", "show", "nope"], env=env)
    assert result.exit_code == 1 and "No workflow 'nope'" in result.output
    # A file that does not deploy is one line saying where and why (PyYAML quoted the source over
    # lines; pydantic's report is three lines and a URL per error; an import error named no line).
    unclosed = tmp_path / "unclosed.yaml"
    unclosed.write_text("id: x\ninstructions: [\n")
    invalid = tmp_path / "invalid.py"
    invalid.write_text(
        'ID = "p"\nfrom pydantic import BaseModel\n\n\nclass M(BaseModel):\n    a: int\n\n\nM(a="x")\n'
    )
    undefined = tmp_path / "undefined.py"
    undefined.write_text('ID = "q"\n\n\ndef helper():\n    return undefined_name\n\n\nhelper()\n')
    expected = {
        unclosed: "Error: Workflow YAML does not parse: line 3, column 1: while parsing a flow node "
        "expected the node content, but found '<stream end>'",
        invalid: f"Error: Workflow 'p' from {invalid} does not load (line 9): ValidationError: a: Input "
        "should be a valid integer, unable to parse string as an integer",
        undefined: f"Error: Workflow 'q' from {undefined} does not load (line 5): NameError: name "
        "'undefined_name' is not defined",
    }
    for path, line in expected.items():
        result = CliRunner().invoke(main, ["workflows", "deploy", str(path)], env=env)
        assert result.exit_code == 1 and result.output.strip() == line, result.output
    result = CliRunner().invoke(main, ["traces", "show", "trace_nope"], env=env)
    assert result.exit_code == 1 and "No trace 'trace_nope'" in result.output


def test_traces_list_and_show(server, chat_for, user):
    text = (Path(__file__).parent / "workflows_data" / "scripted.yaml").read_text()
    server.run(deploy_yaml(server.platform, text))
    thread_id = chat_for(user, workflow={"id": "scripted-support"}).create("what is the weather?").thread_id
    env = {"CHATKITD_DATABASE_URL": server.settings.resolved_database_url}
    [line] = cli("traces", "list", "--thread", thread_id, env=env).output.splitlines()
    trace_id = line.split("\t")[0]
    assert "scripted-support v1" in line and thread_id in line
    shown = cli("traces", "show", trace_id, env=env).output
    assert f"trace {trace_id}  scripted-support v1  thread {thread_id}" in shown
    assert "  - custom run" in shown and "    - custom task" in shown
    assert "        - generation script-a" in shown and "tokens in" in shown
    assert "        - function current_time" in shown
    assert '"object": "chatkit.trace"' in cli("traces", "show", trace_id, "--json", env=env).output


def latest_line(env: dict[str, str]) -> str:
    listing = cli("workflows", "list", env=env).output.splitlines()
    return next(line for line in listing if line.startswith("wf_1"))


def test_deploy_with_a_lower_kept_version_makes_it_the_latest(tmp_path):
    """`deploy --version N` makes N the latest, as it says, even below the highest number."""
    env = {"CHATKITD_DATA_DIR": str(tmp_path)}
    assert cli("migrate", env=env).exit_code == 0
    export = str(ROOT / "examples" / "agent_builder_export.py")
    for version in ("3", "4", "2"):
        deployed = cli("workflows", "deploy", export, "--id", "wf_1", "--version", version, env=env)
        assert deployed.exit_code == 0
    assert latest_line(env).startswith("wf_1\tv2\texport\t3 versions")
    assert cli("workflows", "show", "wf_1", env=env).output.startswith("* v2")
    # After a rollback too; and a deploy without a number is the highest + 1, and the latest.
    assert cli("workflows", "rollback", "wf_1", "4", env=env).exit_code == 0
    assert cli("workflows", "deploy", export, "--id", "wf_1", "--version", "1", env=env).exit_code == 0
    assert latest_line(env).startswith("wf_1\tv1\t")
    assert cli("workflows", "deploy", export, "--id", "wf_1", env=env).exit_code == 0
    assert latest_line(env).startswith("wf_1\tv5\t")


def test_show_marks_the_latest_a_rollback_chose(tmp_path):
    env = {"CHATKITD_DATA_DIR": str(tmp_path)}
    assert cli("migrate", env=env).exit_code == 0
    export = str(ROOT / "examples" / "agent_builder_export.py")
    for _ in range(2):
        assert cli("workflows", "deploy", export, "--id", "wf_1", env=env).exit_code == 0
    assert cli("workflows", "rollback", "wf_1", "1", env=env).exit_code == 0
    shown = cli("workflows", "show", "wf_1", env=env).output.splitlines()
    assert shown[0].startswith("* v1") and shown[1].startswith("  v2")


def test_a_mistyped_project_is_an_error_not_a_new_empty_project(tmp_path):
    env = {"CHATKITD_DATA_DIR": str(tmp_path)}
    assert cli("migrate", env=env).exit_code == 0
    # Nothing deployed yet: the default project lists the demo alone.
    assert cli("workflows", "list", env=env).output.splitlines() == [
        "demo\tv1\tbuilt-in\t1 version\tOffline demo workflow"
    ]
    export = str(ROOT / "examples" / "agent_builder_export.py")
    assert cli("workflows", "deploy", export, "--id", "wf_1", "--project", "acme", env=env).exit_code == 0
    for command in (["list"], ["show", "wf_1"], ["rollback", "wf_1", "1"], ["archive", "wf_1"]):
        result = CliRunner().invoke(main, ["workflows", *command, "--project", "acme-typo"], env=env)
        assert result.exit_code == 1 and "No project named 'acme-typo'." in result.output, command
    # None of the mistakes made the project: it is still unknown.
    again = CliRunner().invoke(main, ["workflows", "list", "--project", "acme-typo"], env=env)
    assert again.exit_code == 1
    assert "wf_1\tv1" in cli("workflows", "list", "--project", "acme", env=env).output
