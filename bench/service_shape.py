"""The shape of ``service/``: modules, their sizes, and import cycles between modules and packages.

Every import of a ``service.…`` module counts, those under ``if TYPE_CHECKING:`` included (a cycle
hidden from the interpreter is still a cycle for the reader). ``from service.x import y`` counts
as an import of ``service.x.y`` when that is a module, else of ``service.x``.

    python -m bench.service_shape [--root service]

Writes bench/results/service_shape.json; ``tests/unit/test_architecture.py`` holds the limits.
"""

from __future__ import annotations

import argparse
import ast
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import REPO, write_result

LINE_LIMIT = 400


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. service.answers.flow
    path: Path
    lines: int
    imports: frozenset[str]

    @property
    def package(self) -> str:
        """The first-level package (``service.answers``), or the module itself at the top."""
        parts = self.name.split(".")
        return ".".join(parts[:2])


def _dotted(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Module]:
    """Every module below ``root`` (a package folder), with the ``root`` modules it imports."""
    paths = sorted(root.rglob("*.py"))
    names = {_dotted(p, root) for p in paths}
    top = root.name
    found: dict[str, Module] = {}
    for path in paths:
        name = _dotted(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.split(".")[0] == top)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] != top:
                    continue
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    targets.add(sub if sub in names else node.module)
        targets = {t for t in targets if t in names and t != name}
        lines = len(path.read_text(encoding="utf-8").splitlines())
        found[name] = Module(name, path, lines, frozenset(targets))
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def module_graph(found: dict[str, Module]) -> dict[str, set[str]]:
    return {m.name: set(m.imports) for m in found.values()}


def package_graph(found: dict[str, Module]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for m in found.values():
        edges = graph.setdefault(m.package, set())
        edges.update(found[t].package for t in m.imports if found[t].package != m.package)
    return graph


def shape(root: Path) -> dict[str, Any]:
    found = modules(root)
    # Modules with code: a package's __init__ holding only its docstring is not one.
    code = [m for m in found.values() if not (m.path.name == "__init__.py" and m.lines <= 3)]
    sizes = sorted(m.lines for m in code)
    return {
        "root": str(root.relative_to(REPO)),
        "modules": len(code),
        "packages": sorted({m.package for m in found.values() if m.package != root.name}),
        "lines": sum(sizes),
        "lines_median": statistics.median(sizes),
        "lines_max": sizes[-1],
        "largest": [(m.name, m.lines) for m in sorted(code, key=lambda m: -m.lines)[:8]],
        "over_limit": sorted((m.name, m.lines) for m in code if m.lines > LINE_LIMIT),
        "module_cycles": cycles(module_graph(found)),
        "package_cycles": cycles(package_graph(found)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default="service", help="package folder, relative to the repository")
    args = parser.parse_args(argv)
    figures = shape(REPO / args.root)
    shown = ("modules", "lines", "lines_median", "lines_max", "over_limit", "module_cycles", "package_cycles")
    for key in shown:
        print(f"{key}: {figures[key]}")
    write_result("service_shape", figures)


if __name__ == "__main__":
    main()
