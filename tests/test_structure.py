"""The package's layering, read from its source: no import cycles, a library
that never prints or imports a UI, a dashboard on the public API only."""

from __future__ import annotations

import ast
from pathlib import Path

import tmuxagent

PACKAGE = Path(tmuxagent.__file__).parent
#: Where output and UIs are allowed: the CLI, its demo, the dashboard, the
#: launcher (a program of its own, run in the pane: its stderr is the pane's),
#: the remote host's bootstrap and server and the CLI's remote face (programs on
#: either end of an ssh channel, their output the channel's).
FACES = {"cli", "_cli_io", "_cli_more", "_cli_states", "_demo", "dashboard", "_launch",
         "_bootstrap", "_remote", "_serve"}  # fmt: skip


def modules() -> dict[str, tuple[ast.Module, str]]:
    """Each module of the package by dotted name ('' is the package itself),
    with the package its relative imports start from."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if "_skill" in parts[:-1]:
            continue  # the skill's own scripts, shipped as data
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        home = name if is_package else ".".join(parts[:-1])
        found[name] = (ast.parse(path.read_text(), str(path)), home)
    return found


def top_level_imports(tree: ast.Module, home: str) -> set[str]:
    """Modules of the package imported when this one is imported (not inside
    functions, not under ``if TYPE_CHECKING``)."""
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = home.split(".") if home else []
            base = base[: len(base) - (node.level - 1)]
            target = ".".join([*base, *([node.module] if node.module else [])])
            if node.module:  # 'from . import x' imports x, not the package again
                found.add(target)
            found.update(f"{target}.{a.name}".lstrip(".") for a in node.names)
    return found


def test_no_import_cycles() -> None:
    trees = modules()
    graph = {
        name: top_level_imports(tree, home) & set(trees) for name, (tree, home) in trees.items()
    }
    assert graph["server"] >= {"session", "_host"}  # the reading of imports works
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, [*path, name])
        done.add(name)

    for name in graph:
        visit(name, [])


def test_the_library_never_prints_or_imports_a_ui() -> None:
    for name, (tree, _) in modules().items():
        if name.split(".")[0] in FACES:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                raise AssertionError(f"{name} calls print()")
            if isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr"):
                if getattr(node.value, "id", None) != "sys":
                    continue
                raise AssertionError(f"{name} writes to sys.{node.attr}")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not any(n.startswith(("textual", "rich")) for n in names), name


def test_the_dashboard_uses_only_the_public_api() -> None:
    public = set(tmuxagent.__all__)
    for name, (tree, _) in modules().items():
        if not name.startswith("dashboard"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level >= 2 or module.startswith("tmuxagent"):
                    assert module in ("", "tmuxagent"), f"{name} imports {module}"
                    assert {a.name for a in node.names} <= public, f"{name}: {module}"


def test_no_module_is_too_long_to_read() -> None:
    for path in PACKAGE.rglob("*.py"):
        lines = len(path.read_text().splitlines())
        assert lines <= 500, f"{path.relative_to(PACKAGE)}: {lines} lines"
