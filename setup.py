"""Builds the web UI's bundles when the package is built from a checkout.

Everything else is in pyproject.toml. ``pip install .`` (or ``python -m build``) from a
git checkout runs ``npm ci`` and ``chatkitd/web/build.mjs`` here, so the wheel ships
``chatkitd/web/static`` although the repository never holds it. A source tree that
already has the bundles (an sdist, or after ``make web``) is used as it is; set
``CHATKITD_SKIP_WEB_BUILD=1`` to skip the step (the Makefile builds the bundles itself).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent
WEB = ROOT / "chatkitd" / "web"
STAMP = WEB / "static" / "build.json"


def _stale() -> bool:
    if not STAMP.exists():
        return True
    if not (WEB / "src").is_dir():
        return False  # an sdist: the bundles came with it
    built = STAMP.stat().st_mtime
    sources = [*(WEB / "src").rglob("*"), WEB / "build.mjs", ROOT / "package-lock.json"]
    return any(path.is_file() and path.stat().st_mtime > built for path in sources)


def build_web() -> None:
    if os.environ.get("CHATKITD_SKIP_WEB_BUILD") == "1" or not _stale():
        return
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        raise SystemExit(
            "chatkitd's web UI is built with Node.js (18 or later) and npm, which were not found. "
            "Install them (e.g. `apt-get install nodejs npm`), or build elsewhere with `make web`."
        )
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)
    subprocess.run([node, str(WEB / "build.mjs")], cwd=ROOT, check=True)


class BuildWithWeb(build_py):
    def run(self) -> None:
        build_web()
        super().run()


setup(cmdclass={"build_py": BuildWithWeb})
