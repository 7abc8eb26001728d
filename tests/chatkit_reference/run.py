"""Run ``openai-chatkit``'s own store and server tests against chatkitd's store: ``make compat``.

The tests come from the sdist of the ``openai-chatkit`` version installed (PyPI
ships them in it), fetched once with ``pip download`` into a cache. They run
unchanged in a folder of their own: ``tests/test_store.py``'s ``TestStore``
against chatkitd's ``ThreadStore`` (its two subclasses test the reference's own
SQLite store and are not collected), and ``tests/test_chatkit_server.py``, whose
servers open their store through ``helpers.mock_store.SQLiteStore``, here
chatkitd's (``mock_store.py``). The reference's ``tests/_types.py`` and its
pytest settings are not in the sdist and are restated below.

    python -m tests.chatkit_reference.run [pytest args...]

prints pytest's output, then how many pass and why each of the others differs;
it fails when a test fails that is not a known difference, or one passes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ElementTree
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).parent
REFERENCE_TESTS = ("test_store.py", "test_chatkit_server.py")
# The reference's tests/_types.py, not shipped in its sdist.
TYPES = """from pydantic import BaseModel


class RequestContext(BaseModel):
    user_id: str
"""
# TestStore's tests, against chatkitd's store.
STORE_TESTS = """from tests import test_store as reference
from helpers.mock_store import SQLiteStore


class TestChatkitdStore(reference.TestStore):
    def setup_method(self, method):
        self.store = SQLiteStore(f"store-{method.__name__}")

    def teardown_method(self, method):
        pass
"""
# Each test closes the databases its loop opened (mock_store.close_this_loop).
CONFTEST = """import pytest
from helpers.mock_store import close_this_loop


@pytest.fixture(autouse=True)
async def _close_chatkitd_stores():
    yield
    await close_this_loop()
"""

# The reference's pytest settings (its pyproject.toml), in a folder of their own.
PYTEST_INI = """[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
pythonpath = . tests
"""


UTC_AWARE = (
    "chatkitd hands back the instant it was given, UTC-aware; the reference compares it with the "
    "naive local time it stored"
)
# Reference tests that fail on chatkitd's store because chatkitd differs on purpose.
KNOWN_DIFFERENCES = {
    "test_chatkitd_store.TestChatkitdStore.test_save_and_load_thread_items": UTC_AWARE,
    "test_chatkit_server.test_calls_action": UTC_AWARE,
    "test_chatkit_server.test_calls_action_sync": UTC_AWARE,
    "test_chatkit_server.test_retry_after_item": UTC_AWARE,
    "test_chatkitd_store.TestChatkitdStore.test_thread_items_isolation_by_user": (
        UTC_AWARE + "; and another user's thread is not found (404), not an empty page"
    ),
    "test_chatkit_server.test_add_structured_input_truncates_extra_single_choice_values": (
        "its responder adds the same item id again in the same thread: chatkitd updates the item "
        "(chatkit does so when a run finishes an open task group), the reference's insert raises"
    ),
}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "chatkitd" / "chatkit-reference"


def sdist(version: str) -> Path:
    """The sdist of ``openai-chatkit==version``, downloaded into the cache on first use."""
    folder = cache_dir()
    found = sorted(folder.glob(f"openai_chatkit-{version}.tar.gz"))
    if found:
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:"]
        + ["--dest", str(folder), f"openai-chatkit=={version}"],
        check=True,
    )
    return folder / f"openai_chatkit-{version}.tar.gz"


def lay_out(archive: Path, root: Path) -> None:
    """The reference's two test files, with chatkitd's store where they import theirs."""
    tests = root / "tests"
    (tests / "helpers").mkdir(parents=True)
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if len(parts) == 3 and parts[1] == "tests" and parts[2] in REFERENCE_TESTS:
                source = tar.extractfile(member)
                assert source is not None
                (tests / parts[2]).write_bytes(source.read())
    missing = [name for name in REFERENCE_TESTS if not (tests / name).exists()]
    if missing:
        raise SystemExit(f"{archive.name} has no tests/{', tests/'.join(missing)}")
    (tests / "_types.py").write_text(TYPES)
    (tests / "helpers" / "__init__.py").write_text("")
    shutil.copy(HERE / "mock_store.py", tests / "helpers" / "mock_store.py")
    (tests / "test_chatkitd_store.py").write_text(STORE_TESTS)
    (tests / "conftest.py").write_text(CONFTEST)
    (root / "pytest.ini").write_text(PYTEST_INI)


def outcomes(*pytest_args: str) -> dict[str, bool]:
    """Each reference test (``module.Class.name``) and whether it passed on chatkitd's store."""
    archive = sdist(metadata.version("openai-chatkit"))
    with tempfile.TemporaryDirectory(prefix="chatkit-reference-") as folder:
        root = Path(folder)
        lay_out(archive, root)
        report = root / "report.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "asyncio", "-p", "no:cacheprovider"]
        command += ["-W", "ignore::DeprecationWarning", "--junitxml", str(report)]
        command += ["tests/test_chatkitd_store.py", "tests/test_chatkit_server.py", *pytest_args]
        # The installed chatkit is the one tested, never a copy from the sdist.
        env = {**os.environ, "PYTHONPATH": str(root)}
        subprocess.run(command, cwd=root, env=env, check=False)
        cases = ElementTree.parse(report).getroot().iter("testcase")
        return {
            f"{case.get('classname', '').removeprefix('tests.')}.{case.get('name')}": (
                case.find("failure") is None and case.find("error") is None
            )
            for case in cases
            if case.find("skipped") is None
        }


def main(args: list[str]) -> int:
    results = outcomes(*args)
    failed = {name for name, passed in results.items() if not passed}
    print(f"\n{len(results) - len(failed)} of {len(results)} reference tests pass on chatkitd's store.")
    for name in sorted(failed & KNOWN_DIFFERENCES.keys()):
        print(f"  differs on purpose: {name}\n    {KNOWN_DIFFERENCES[name]}")
    unexpected = failed - KNOWN_DIFFERENCES.keys()
    for name in sorted(unexpected):
        print(f"  FAILS: {name}")
    for name in sorted(KNOWN_DIFFERENCES.keys() - failed):
        print(f"  passes now, remove it from KNOWN_DIFFERENCES: {name}")
    return 1 if unexpected or KNOWN_DIFFERENCES.keys() - failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
