"""The house stays livable (docs/development.md "Where code lives"): no import cycles in studio/
and accounts/, counting imports inside functions and under TYPE_CHECKING too, and no views module
imports another views module (shared helpers live in each domain's access.py, pages.py or
panels.py)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("studio", "accounts")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Every module of the project's packages and the project modules it imports anywhere in it:
    at the top, inside functions and under TYPE_CHECKING alike."""
    paths = [
        path
        for package in PACKAGES
        for path in sorted((root / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]
    modules = {module_name(path, root): path for path in paths}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in node.names:
                    # `from studio.takes import create` imports the module studio.takes.create.
                    found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        graph[name] = {target for target in found if target in modules and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def is_views(module: str) -> bool:
    leaf = module.rpartition(".")[2]
    return leaf == "views" or leaf.endswith("_views") or ".views." in module


def views_importing_views(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if is_views(module)
        for target in targets
        if is_views(target)
    )


def test_there_is_no_import_cycle():
    assert cycles(import_graph()) == []


def test_no_views_module_imports_another():
    assert views_importing_views(import_graph()) == []


def test_the_graph_sees_every_kind_of_import(tmp_path):
    """The checks above would pass on a graph that missed imports: this one has a cycle made of
    a function-level import, a TYPE_CHECKING import and a relative one, and two views modules."""
    package = tmp_path / "studio"
    (package / "takes").mkdir(parents=True)
    (tmp_path / "accounts").mkdir()
    (package / "__init__.py").write_text("")
    (package / "takes" / "__init__.py").write_text("")
    (package / "takes" / "models.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from studio.takes import views\n"
    )
    (package / "takes" / "views.py").write_text(
        "def page():\n    from . import gallery_views\n    from .access import take_for\n"
    )
    (package / "takes" / "gallery_views.py").write_text("import studio.takes.models\n")
    (package / "takes" / "access.py").write_text("")
    graph = import_graph(tmp_path)
    assert graph["studio.takes.views"] == {"studio.takes.gallery_views", "studio.takes.access"}
    assert cycles(graph) == [
        ["studio.takes.gallery_views", "studio.takes.models", "studio.takes.views"]
    ]
    assert views_importing_views(graph) == ["studio.takes.views imports studio.takes.gallery_views"]
