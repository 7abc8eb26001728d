"""The drop-in <openai-chatkit> against the types of the installed @openai/chatkit.

tests/support/chatkit_types.mjs reads @openai/chatkit's TypeScript types (an npm dev
dependency, never copied into the repository) with the TypeScript compiler, and runs
chatkitd's option reader (chatkitd/web/src/chat/options.js) on each option path and
each literal value the types allow. A newer @openai/chatkit with an option chatkitd
neither reads nor lists as unsupported fails here, naming it.

The browser tests (tests/browser/test_dropin.py) check that each option group does
what it says in Chromium; this test checks that none is left out.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "support" / "chatkit_types.mjs"

# Options chatkitd reads that ChatKit.js's types do not have (documented in
# docs/migrating-chatkit-js.md): its earlier `theme.accent: "#hex"`, image hosts for
# widgets, and a callback per chatkit.* event (what @openai/chatkit-react's handlers are).
EXTENSIONS = {"theme.accent", "widgets.allowedImageDomains"}


@cache
def audit() -> dict:
    if not (ROOT / "node_modules" / "typescript").exists() or shutil.which("node") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node_modules is missing: `make web` installs it")
        pytest.skip("node or node_modules is missing: run `make web` (npm ci) first")
    done = subprocess.run(["node", str(SCRIPT)], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def generic(report: str) -> str:
    """`composer.tools[1].icon=x` -> `composer.tools[].icon` (the types' spelling)."""
    return re.sub(r"\[\d+\]", "[]", report.split("=", 1)[0])


def ancestors(path: str) -> list[str]:
    """`a.b[].c` -> [`a`, `a.b`, `a.b[]`, `a.b[].c`]."""
    parts = re.findall(r"[^.\[\]]+|\[\]", path)
    found, current = [], ""
    for part in parts:
        current = current + part if part == "[]" else (f"{current}.{part}" if current else part)
        found.append(current)
    return found


def handled(path: str, read: set[str]) -> bool:
    """Read by options.js; an array's element (`x[]`) is read when the array is."""
    return path in read or (path.endswith("[]") and handled(path[:-2], read))


def test_every_option_of_the_types_is_read_or_reported_unsupported():
    found = audit()
    read, unsupported = set(found["read"]), set(found["unsupported"])
    assert len(found["options"]) > 100, "the types were not read"
    neither = [
        o["path"]
        for o in found["options"]
        if not handled(o["path"], read) and not set(ancestors(o["path"])) & unsupported
    ]
    assert neither == [], (
        f"@openai/chatkit {found['version']} has options chatkitd neither reads nor lists in "
        f"UNSUPPORTED_OPTIONS (chatkitd/web/src/chat/options.js): {neither}"
    )
    typed = {o["path"] for o in found["options"]}
    own = {p for p in read if not p.startswith("on")} - typed
    assert own == EXTENSIONS, "options.js reads options the types do not have: document them"
    # Each listed unsupported option is one ChatKit.js really has.
    assert unsupported <= typed
    # The migration page names the version it was checked against.
    assert f"`@openai/chatkit` {found['version']}" in (ROOT / "docs" / "migrating-chatkit-js.md").read_text()


def test_what_the_reader_reports_for_each_option_and_value():
    """A read option, with any value the types allow, is not reported (but for the values of
    PARTLY_SUPPORTED_OPTIONS it cannot honour, as `path=value`); an unsupported one always is."""
    found = audit()
    unsupported, partly = set(found["unsupported"]), set(found["partly"])
    wrong = []
    for option in found["options"]:
        dropped = set(ancestors(option["path"])) & unsupported
        for value, reports in option["reports"].items():
            if dropped:
                ok = [generic(r) for r in reports] == sorted(dropped)
            elif value and option["path"] in partly:
                ok = reports in ([], [f"{option['path']}={value}"])
            else:
                ok = reports == []
            if not ok:
                wrong.append((option["path"], value, reports))
    assert wrong == []
    # Icons: every ChatKitIcon and HeaderIcon name is drawn as itself.
    icons = [o for o in found["options"] if o["path"].endswith(".icon") and o["values"]]
    assert {o["path"] for o in icons} >= {"header.leftAction.icon", "composer.tools[].icon"}
    assert all(len(o["values"]) >= 40 for o in icons)
    # The languages chatkitd translates are not reported; the others are.
    locale = next(o for o in found["options"] if o["path"] == "locale")["reports"]
    assert locale["fr-FR"] == locale["de"] == locale["ja-JP"] == locale["ar"] == locale["zh-CN"] == []
    assert locale["ko-KR"] == ["locale=ko-KR"] and locale["zh-TW"] == ["locale=zh-TW"]


def test_an_option_unknown_to_the_types_is_reported_where_it_is():
    assert audit()["unknown"] == ["notAnOption", "composer.notAnOption", "composer.tools[0].notAnOption"]


def test_events_and_methods_match_the_types_and_the_react_binding():
    found = audit()
    events = {f"chatkit.{name}": handler for name, handler in found["eventCallbacks"].items()}
    assert set(events) == set(found["events"])
    # The option callbacks are named as @openai/chatkit-react names its handlers.
    assert events == found["reactHandlers"]
    assert set(found["reactMethods"]) | {"setOptions"} == set(found["methods"])
