"""The layering of `au2bs/` and `tune/`: no import cycles, no Ray in the core, and tune's rooms in order
(runfolder imports neither Ray nor the experiment; the console no experiment; outcome nothing of Ray).

Imports are read from the source (ast), so imports inside functions count
too, while imports under `if TYPE_CHECKING:` do not (they never run). An
edge goes to the module an import names; the parent packages that Python
initialises on the way are left out, as every submodule would otherwise
form a cycle with a package `__init__` that re-exports it.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import au2bs
import tune

ROOT = Path(au2bs.__file__).parent.parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    _module_name(path): path
    for package in (au2bs, tune)
    for path in sorted(Path(package.__file__).parent.rglob("*.py"))
}
CORE = [m for m in MODULES if m == "au2bs" or m.startswith("au2bs.")]


class _ImportCollector(ast.NodeVisitor):
    """Absolute names of every module an import statement may load, run time only."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.package = module if is_package else module.rpartition(".")[0]
        self.names: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.names.update(alias.name for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.rsplit(".", node.level - 1)[0] if node.level > 1 else self.package
            base = f"{base}.{node.module}" if node.module else base
        else:
            base = node.module or ""
        self.names.add(base)
        # `from package import submodule` loads the submodule too.
        self.names.update(f"{base}.{alias.name}" for alias in node.names)


def _imported_names(module: str) -> set[str]:
    path = MODULES[module]
    collector = _ImportCollector(module, path.name == "__init__.py")
    collector.visit(ast.parse(path.read_text(), filename=str(path)))
    return collector.names


def _edges(module: str) -> Iterator[str]:
    """The au2bs and tune modules `module` imports: for each name, the longest prefix that is a module."""
    for name in _imported_names(module):
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            target = ".".join(parts[:end])
            if target in MODULES:
                if target != module:
                    yield target
                break


def test_the_package_was_found() -> None:
    assert {"au2bs", "au2bs.align", "au2bs.synth.targets", "au2bs.synth.utterance"} <= MODULES.keys()
    assert {
        "tune.run",
        "tune.runfolder.layout",
        "tune.experiment.driver",
        "tune.console.lines",
    } <= MODULES.keys()


def test_collector_reads_relative_and_function_level_imports() -> None:
    source = "def f():\n    from ..a import b\n    from . import c\nif TYPE_CHECKING:\n    import d\n"
    collector = _ImportCollector("pkg.sub.mod", is_package=False)
    collector.visit(ast.parse(source))
    assert collector.names == {"pkg.a", "pkg.a.b", "pkg.sub", "pkg.sub.c"}


def test_no_import_cycles() -> None:
    graph = {module: set(_edges(module)) for module in MODULES}
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def test_synth_targets_and_utterance_import_at_most_one_way() -> None:
    targets, utterance = set(_edges("au2bs.synth.targets")), set(_edges("au2bs.synth.utterance"))
    assert not ("au2bs.synth.utterance" in targets and "au2bs.synth.targets" in utterance)


@pytest.mark.parametrize("layer", ["ray", "tune"])
def test_core_never_imports_the_distributed_layer(layer: str) -> None:
    offenders = {
        module: sorted(
            name for name in _imported_names(module) if name == layer or name.startswith(f"{layer}.")
        )
        for module in CORE
    }
    assert not {module: names for module, names in offenders.items() if names}


def _in(module: str, room: str) -> bool:
    return module == room or module.startswith(f"{room}.")


# room -> what no module of it may import (modules of tune, or third-party packages)
FORBIDDEN = {
    "tune.runfolder": ("ray", "optuna", "tune.experiment", "tune.console", "tune.report", "tune.flags"),
    "tune.outcome": ("ray", "optuna", "tune.experiment", "tune.console", "tune.runfolder"),
    "tune.console": ("tune.experiment",),
    "tune.console.lines": ("ray",),
    "tune.report": ("ray", "tune.experiment"),
    "tune.flags": ("ray", "tune.experiment"),
}


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_tune_rooms_import_only_downwards(room: str) -> None:
    offenders = {
        module: sorted(
            name for name in _imported_names(module) if any(_in(name, bad) for bad in FORBIDDEN[room])
        )
        for module in MODULES
        if _in(module, room)
    }
    assert any(_in(m, room) for m in MODULES), room
    assert not {module: names for module, names in offenders.items() if names}


def test_no_tune_module_is_over_300_lines() -> None:
    long = {
        m: n
        for m, p in MODULES.items()
        if m.startswith("tune") and (n := len(p.read_text().splitlines())) > 300
    }
    assert not long
