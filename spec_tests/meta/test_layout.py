"""[M-LAYOUT-1]: the package's imports point one way: refrope never imports the test suite, and its module
graph (every import, at module level or inside a function) has no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import refrope

PACKAGE = Path(refrope.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The refrope (and spec_tests) modules ``name`` imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                out.add(candidate if candidate in known else base)
    return {m for m in out if m.split(".")[0] in ("refrope", "spec_tests")}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) - {name} for name, path in modules.items()}


def test_refrope_imports_nothing_from_the_test_suite():
    """[M-LAYOUT-1] No module of refrope imports spec_tests (the report, the figure and the adapters live in
    refrope; the suite depends on refrope, never the reverse)."""
    offenders = {name: sorted(m for m in deps if m.startswith("spec_tests")) for name, deps in _graph().items()}
    assert {name: deps for name, deps in offenders.items() if deps} == {}


def test_the_module_graph_has_no_cycle():
    """[M-LAYOUT-1] Following every import between refrope's modules (package ``__init__`` files included, lazy
    imports inside functions included) never leads back to the importing module."""
    graph = {name: {d for d in deps if d in _modules()} for name, deps in _graph().items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep):] + [dep] if dep in stack else [node, dep])
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_modules_stay_small():
    """[M-LAYOUT-1] Every module of refrope stays under 300 lines (split a module by what it holds before it grows)."""
    long = {name: n for name, path in _modules().items() if (n := len(path.read_text().splitlines())) > 300}
    assert long == {}
