"""Layers point one way: models never import analysis or figures; stats and store import no model.

Every module's AST is walked, so imports inside functions (which ``import`` at module load would
never see) count too, as do ``importlib.import_module("...")`` calls with a literal name.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "homeoplastic"
MODELS = ("assemblies", "balancing", "reduced")
ABOVE_MODELS = ("homeoplastic.analysis", "homeoplastic.figures", "homeoplastic.cli",
                "homeoplastic.paramdocs", "homeoplastic.jobs", "homeoplastic.export")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports, at any nesting depth."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and ast.unparse(node.func) in ("importlib.import_module", "import_module",
                                             "__import__")):
            found.add(node.args[0].value)
    return found


def _violations(packages: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for package in packages:
        files = sorted((PACKAGE / package).rglob("*.py")) if (PACKAGE / package).is_dir() \
            else [PACKAGE / f"{package}.py"]
        assert files, f"no modules found for {package}"
        for path in files:
            for name in sorted(imported_modules(path)):
                if any(name == f or name.startswith(f + ".") for f in forbidden):
                    bad.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return bad


def test_models_never_import_analysis_or_figures():
    assert _violations(MODELS, ABOVE_MODELS) == []


def test_stats_store_config_and_parameters_import_no_model():
    models = tuple(f"homeoplastic.{m}" for m in MODELS) + ABOVE_MODELS
    assert _violations(("stats", "store", "config", "parameters"), models) == []


@pytest.mark.parametrize("source, expected", [
    ("from homeoplastic.analysis.counts import roc_auc\n", "homeoplastic.analysis.counts"),
    ("def f():\n    import homeoplastic.figures.probe as fp\n", "homeoplastic.figures.probe"),
    ("def f():\n    from homeoplastic import analysis\n", "homeoplastic.analysis"),
    ("def f():\n    from ...analysis import summary\n", "homeoplastic.analysis.summary"),
    ("import importlib\nimportlib.import_module('homeoplastic.figures')\n", "homeoplastic.figures"),
])
def test_the_walk_sees_every_kind_of_import(tmp_path, monkeypatch, source, expected):
    """A module-level, function-level, relative or dynamic import in a model module is found."""
    fake = tmp_path / "homeoplastic"
    (fake / "assemblies" / "experiments").mkdir(parents=True)
    path = fake / "assemblies" / "experiments" / "bad.py"
    path.write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert expected in imported_modules(path)
    assert _violations(("assemblies",), ABOVE_MODELS), "the walk missed a forbidden import"


def _import_graph() -> dict[str, set[str]]:
    """Module -> the project's modules it imports (``from pkg import sub`` counts as ``pkg.sub``
    when ``sub`` is a module, else as ``pkg``)."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        found = {t for t in imported_modules(path) if t in paths and t != name}
        # `from pkg import submodule` names `pkg` too: keep only the submodule
        graph[name] = {t for t in found if not any(o.startswith(t + ".") for o in found)}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def test_no_module_import_cycle():
    """No two modules import each other, directly or through others (lazy imports included),
    apart from a package's ``__init__`` re-exporting its own modules."""
    assert _cycles(_import_graph()) == []


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
