"""Arrows point down: chatkitd's packages import only from the floors below them, and no module
imports one that imports it back (late and type-checking imports included).

A floor that needs something from above needs it moved down a floor instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "chatkitd"

# What each package must never import, directly or by a late import.
ABOVE = {
    "chatkitd.compat": ("chatkitd",),  # leans only on the libraries it wraps
    # Bytes in a folder or a bucket: knows nothing of what they belong to.
    "chatkitd.blobs": (
        "chatkitd.store",
        "chatkitd.knowledge",
        "chatkitd.rest",
        "chatkitd.http",
        "chatkitd.runtime",
        "chatkitd.workflows",
        "chatkitd.models",
        "chatkitd.tracing",
        "chatkitd.web",
        "chatkitd.platform",
        "chatkitd.app",
        "chatkitd.cli",
    ),
    "chatkitd.store": (
        "chatkitd.rest",
        "chatkitd.http",
        "chatkitd.runtime",
        "chatkitd.workflows",
        "chatkitd.models",
        "chatkitd.tracing",
        "chatkitd.web",
        "chatkitd.platform",
        "chatkitd.app",
        "chatkitd.cli",
    ),
    "chatkitd.models": (
        "chatkitd.workflows",
        "chatkitd.runtime",
        "chatkitd.rest",
        "chatkitd.http",
        "chatkitd.web",
        "chatkitd.platform",
        "chatkitd.app",
        "chatkitd.cli",
    ),
    "chatkitd.rest": ("chatkitd.http", "chatkitd.web", "chatkitd.platform", "chatkitd.app", "chatkitd.cli"),
    "chatkitd.runtime": (
        "chatkitd.http",
        "chatkitd.web",
        "chatkitd.platform",
        "chatkitd.app",
        "chatkitd.cli",
    ),
    "chatkitd.workflows": (
        "chatkitd.http",
        "chatkitd.web",
        "chatkitd.platform",
        "chatkitd.app",
        "chatkitd.cli",
    ),
    "chatkitd.platform": ("chatkitd.http", "chatkitd.web", "chatkitd.app", "chatkitd.cli"),
    # Files, vector stores, search: below the workflows that search them.
    "chatkitd.knowledge": (
        "chatkitd.workflows",
        "chatkitd.http",
        "chatkitd.web",
        "chatkitd.platform",
        "chatkitd.app",
        "chatkitd.cli",
    ),
    "chatkitd.approvals": (
        "chatkitd.workflows",
        "chatkitd.runtime",
        "chatkitd.rest",
        "chatkitd.http",
        "chatkitd.web",
        "chatkitd.platform",
        "chatkitd.app",
        "chatkitd.cli",
    ),
    "chatkitd.tools": (
        "chatkitd.store",
        "chatkitd.approvals",
        "chatkitd.workflows",
        "chatkitd.runtime",
        "chatkitd.models",
        "chatkitd.rest",
        "chatkitd.http",
        "chatkitd.web",
        "chatkitd.platform",
        "chatkitd.app",
        "chatkitd.cli",
    ),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Every chatkitd module, and the chatkitd modules it imports anywhere in its body."""
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("chatkitd"):
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name.startswith("chatkitd"))
        graph[name] = {module for module in found if module in modules and module != name}
    return graph


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_no_package_imports_from_a_floor_above_it():
    wrong = [
        f"{module} imports {target}"
        for module, targets in _imports().items()
        for package, above in ABOVE.items()
        if _within(module, package)
        for target in sorted(targets)
        if any(_within(target, floor) for floor in above) and not _within(target, package)
    ]
    assert not wrong, "arrows pointing up:\n" + "\n".join(wrong)


def test_no_two_modules_import_each_other():
    graph = _imports()
    cycles = []

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(graph.get(current, ()))
        return False

    for module, targets in graph.items():
        for target in targets:
            # A package's __init__ importing its own modules is not a cycle of ideas.
            if not _within(target, module) and not _within(module, target) and reaches(target, module):
                cycles.append(f"{module} -> {target} -> ... -> {module}")
    assert not cycles, "import cycles:\n" + "\n".join(sorted(cycles))


def test_handlers_reach_the_app_state_only_through_typed_accessors():
    """``app.state`` is untyped: only ``platform_of`` and ``metrics_of`` read it; ``create_app`` sets it."""
    allowed = {"chatkitd/http/state.py", "chatkitd/http/metrics.py", "chatkitd/app.py"}
    readers = sorted(
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if ".state." in path.read_text() and "app.state" in path.read_text()
        if str(path.relative_to(PACKAGE.parent)) not in allowed
    )
    assert readers == []
