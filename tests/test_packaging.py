"""A wheel built from a clean checkout ships the web UI's bundles, and not their sources.

The repository never holds the bundles (chatkitd/web/static is gitignored), so
setup.py builds them with npm while the wheel is built. This builds a wheel from
exactly the tracked files, as `pip install .` from a fresh clone would.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.servers import IN_CI

ROOT = Path(__file__).resolve().parents[1]


def _tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in listed.stdout.decode().split("\0") if name and (ROOT / name).is_file()]


@pytest.mark.timeout(600)
def test_a_wheel_from_a_clean_checkout_ships_the_bundles(tmp_path):
    if not (shutil.which("git") and shutil.which("npm") and (ROOT / ".git").exists()):
        if IN_CI:
            pytest.fail("git and npm are needed to build chatkitd's wheel in CI")
        pytest.skip("needs a git checkout, git and npm")
    checkout = tmp_path / "checkout"
    for name in _tracked_files():
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, checkout / name)
    assert not (checkout / "chatkitd" / "web" / "static").exists()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(tmp_path)],
        cwd=checkout,
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("chatkitd-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for bundle in ("chatkit.js", "chatkitd.js", "playground.js", "admin.js", "page.css", "build.json"):
        assert f"chatkitd/web/static/{bundle}" in names, bundle
    assert not [name for name in names if "/web/src/" in name or name.endswith("build.mjs")]
    assert "chatkitd/web/templates/playground.html" in names
