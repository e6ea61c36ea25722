"""The package's layout, checked from the source: no import cycles, Qt only in the app, short modules.

Imports are read with ``ast`` from every module of ``hitdesk/``, at module level and inside functions
alike (``if TYPE_CHECKING:`` blocks aside, since they never run), so a cycle cannot hide in a deferred
import. Layers follow ``../shared/STYLE.md``: audio, dsp and model know nothing of analysis; analysis
knows nothing of capture, cli or ui; training stands apart.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "hitdesk"
MAX_LINES = 450
QT_MODULES = ("PySide6", "pyqtgraph", "shiboken6")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, module: str) -> list[tuple[str, bool]]:
    """(imported module, at module level) for every import that can run."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[tuple[str, bool]] = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub, top)
                continue
            if isinstance(child, ast.Import):
                out.extend((alias.name, top) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                out.append((base, top))
                out.extend((f"{base}.{alias.name}", top) for alias in child.names)
            inner_top = top and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, inner_top)

    visit(tree, True)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for name, _ in _imports(path, module):
            # "from hitdesk.ui import theme" names a module; "from hitdesk.ui.x import Y" names x.
            target = name
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != module and not module.startswith(target + "."):
                graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_qt_is_imported_at_module_level_only_in_the_app() -> None:
    offenders = []
    for module, path in _modules().items():
        if module == "hitdesk.ui" or module.startswith("hitdesk.ui."):
            continue
        for name, top in _imports(path, module):
            if top and name.split(".")[0] in QT_MODULES:
                offenders.append(f"{module} imports {name}")
    assert offenders == []


def test_no_module_over_the_ceiling() -> None:
    long = {m: n for m, p in _modules().items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


# Lower layers never import higher ones (STYLE.md); training is the only one that may use all.
# hitdesk.explain sits above analysis and model and below cli and ui; results and insights under all.
_ABOVE_ANALYSIS = {"hitdesk.explain", "hitdesk.capture", "hitdesk.cli", "hitdesk.ui", "hitdesk.training"}
LAYERS = {
    "hitdesk.results": {"hitdesk.analysis", "hitdesk.model", *_ABOVE_ANALYSIS},
    "hitdesk.insights": {"hitdesk.analysis", "hitdesk.model", "hitdesk.dsp", *_ABOVE_ANALYSIS},
    "hitdesk.audio": {"hitdesk.analysis", *_ABOVE_ANALYSIS},
    "hitdesk.dsp": {"hitdesk.analysis", *_ABOVE_ANALYSIS},
    "hitdesk.model": {"hitdesk.analysis", *_ABOVE_ANALYSIS},
    "hitdesk.analysis": _ABOVE_ANALYSIS,
    "hitdesk.explain": {"hitdesk.capture", "hitdesk.cli", "hitdesk.ui", "hitdesk.training"},
    "hitdesk.present": {"hitdesk.explain", "hitdesk.capture", "hitdesk.cli", "hitdesk.ui", "hitdesk.training"},
    "hitdesk.ranking": {"hitdesk.explain", "hitdesk.capture", "hitdesk.cli", "hitdesk.ui", "hitdesk.training"},
    "hitdesk.capture": {"hitdesk.cli", "hitdesk.ui", "hitdesk.training"},
    "hitdesk.ui": {"hitdesk.cli", "hitdesk.training"},
}


def test_layers_point_one_way() -> None:
    wrong = []
    for module, targets in _graph().items():
        for layer, forbidden in LAYERS.items():
            if module == layer or module.startswith(layer + "."):
                wrong += [
                    f"{module} -> {t}" for t in targets if any(t == f or t.startswith(f + ".") for f in forbidden)
                ]
    assert wrong == []


def test_no_two_classes_share_a_name() -> None:
    """A ``Take`` in the app and another in capture made every reader ask which one is meant."""
    seen: dict[str, list[str]] = {}
    for module, path in _modules().items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                seen.setdefault(node.name, []).append(module)
    assert {name: where for name, where in seen.items() if len(where) > 1} == {}


TESTS = REPO / "tests"
AREAS = {"audio", "dsp", "model", "analysis", "cli", "capture", "ui", "training", "packaging", "project"}


def test_tests_live_in_their_area_with_unique_names_and_import_no_other_test_file() -> None:
    """pytest imports each test file by its base name (no ``__init__.py``: the helpers beside
    conftest.py stay importable), so two files with one name would clash; a test file that imports
    another's private helpers ties them together, so shared helpers are modules beside conftest."""
    files = sorted(TESTS.rglob("test_*.py"))
    assert {p.parent.name for p in files} <= AREAS, [p for p in files if p.parent.name not in AREAS]
    assert not list(TESTS.rglob("__init__.py"))
    names = [p.name for p in files]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    stems = {p.stem for p in files}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            imported = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                imported = [node.module or ""]
            assert not set(imported) & stems, f"{path.relative_to(REPO)} imports {set(imported) & stems}"
        # Code run in a child process, as a string, counts too.
        for stem in stems:
            assert f"from {stem} import" not in path.read_text(encoding="utf-8"), f"{path.name} imports {stem}"
