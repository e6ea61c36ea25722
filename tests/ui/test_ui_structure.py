"""The app's module structure: no import cycles inside hitdesk/ui, and no module too long to read.

A cycle (the window importing the commands that import the window) meant a module could only be
understood, and tested, with the other; imports inside functions count too, since they hide the
same dependency. Only imports under ``if TYPE_CHECKING:`` are left out: they are for annotations
and never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "hitdesk" / "ui"
PACKAGE = "hitdesk.ui"
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    return {p.stem: p for p in sorted(UI.glob("*.py")) if p.stem != "__init__"}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _ui_imports(tree: ast.AST, modules: set[str]) -> set[str]:
    """The hitdesk.ui modules a module imports anywhere (functions included), TYPE_CHECKING aside."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    found.add(alias.name.split(".")[2])
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            if node.module == PACKAGE:
                found.update(a.name for a in node.names if a.name in modules)
            elif node.module.startswith(PACKAGE + "."):
                found.add(node.module.split(".")[2])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    names = set(modules)
    return {
        name: _ui_imports(ast.parse(path.read_text(encoding="utf-8")), names) - {name} for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                cycle = walk(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = walk(start)
            if cycle:
                return cycle
    return None


def test_no_import_cycles_in_the_app() -> None:
    graph = import_graph()
    assert graph["main_window"] >= {"controller", "commands", "transport", "record_dock"}  # the parser sees them
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles_through_function_imports() -> None:
    names = {"a", "b", "c"}
    a = ast.parse("from hitdesk.ui import b\nif TYPE_CHECKING:\n    from hitdesk.ui.c import X\n")
    b = ast.parse("def f():\n    import hitdesk.ui.a\n")
    assert _ui_imports(a, names) == {"b"} and _ui_imports(b, names) == {"a"}
    assert find_cycle({"a": {"b"}, "b": {"a"}, "c": set()}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_app_module_is_over_the_limit() -> None:
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"split these by concern (more than {MAX_LINES} lines): {long}"


def test_the_window_is_not_imported_by_what_it_builds() -> None:
    """Commands, playback and the record dock get what they need passed in, not the window."""
    graph = import_graph()
    for name in ("commands", "transport", "record_dock", "controller"):
        assert "main_window" not in graph[name], name
    assert not graph["controller"] & {"main_window", "takes_table", "takes_view", "theme", "settings"}
