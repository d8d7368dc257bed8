"""The shape of service/ the team agreed on (issue 10), checked on every run: no import cycles between
modules or packages, no module over the size limit, and the shared leaf package importing nothing
above it.

Measured by ``bench.service_shape`` (which also writes the figures for docs/benchmarks.md)."""

from __future__ import annotations

from bench.service_shape import LINE_LIMIT, cycles, module_graph, modules, package_graph
from tests.conftest import REPO

SERVICE = modules(REPO / "service")


def test_no_module_imports_itself_back_through_others() -> None:
    assert cycles(module_graph(SERVICE)) == []


def test_packages_are_layered_without_cycles() -> None:
    """Folders follow the answer: no package imports one that imports it back (e.g. the flow never
    imports the HTTP layer; the settings of shared systems import no component)."""
    assert cycles(package_graph(SERVICE)) == []


def test_no_module_is_over_the_size_limit() -> None:
    assert [(m.name, m.lines) for m in SERVICE.values() if m.lines > LINE_LIMIT] == []


def test_the_leaf_package_imports_nothing_above_it() -> None:
    upward = {
        (m.name, target)
        for m in SERVICE.values()
        if m.package == "service.core"
        for target in m.imports
        if SERVICE[target].package != "service.core"
    }
    assert upward == set()


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
