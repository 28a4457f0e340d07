"""The package's imports form layers: no module reaches, directly or round about, back to one that imports it
(a circle makes import order matter and hides which code is the library and which the command line)."""
from __future__ import annotations

import ast
from pathlib import Path

from tests.support import REPO

PACKAGE = REPO / "zoo"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The zoo modules ``path`` imports anywhere in it (functions too: a lazy import is an import)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            for alias in node.names:  # `from . import api` imports the module zoo.api
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in modules else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {module for module in found if module in modules and module != name}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, circles, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for successor in graph[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_the_package_has_no_import_circles():
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(path) for path in paths}
    graph = {_module_name(path): _imports(path, modules) for path in paths}
    assert _circles(graph) == []
    assert "zoo.cli" in graph["zoo.train"] and graph["zoo.cli"]  # (the graph is read: the shims import the CLI)


def test_the_library_never_imports_the_command_line_or_the_release_code():
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(path) for path in paths}
    upward = {_module_name(path): sorted(m for m in _imports(path, modules) if m.startswith(("zoo.cli", "zoo.release")))
              for path in paths if not _module_name(path).startswith(("zoo.cli", "zoo.release"))
              and _module_name(path) not in ("zoo.train", "zoo.evaluate", "zoo.__main__")}  # the command shims
    assert {name: deps for name, deps in upward.items() if deps} == {}


def test_no_code_edits_sys_path_to_reach_another_folder():
    """The package, the tests and the benchmarks import each other's code as packages from the repository root
    (``tests.support``, ``benchmarks.peers``), never by editing ``sys.path`` (which made what runs depend on what ran
    first). Code that a test runs in another interpreter, as a user would, is a string and not looked at."""
    reaching = []
    for folder in ("zoo", "tests", "benchmarks"):
        for path in sorted((REPO / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Attribute) and node.attr in ("insert", "append", "extend")
                        and isinstance(node.value, ast.Attribute) and node.value.attr == "path"
                        and isinstance(node.value.value, ast.Name) and node.value.value.id == "sys"):
                    reaching.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert reaching == []
