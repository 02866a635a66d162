"""The import graph: data flows one way (DESIGN), no package cycle, studies use public API only."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# the bottom layer: imports nothing from the subpackages (they may import each other)
BOTTOM = {"_types", "_validate", "_rng", "_special", "_kde", "_color", "claims"}
# what each subpackage may import besides the bottom layer (DESIGN's one-way flow; cpa's
# output-law check composes info's entropies and stats' two-sample test, accepted explicitly)
ALLOWED = {
    "generative": set(),
    "data": set(),
    "models": set(),
    "stats": set(),
    "info": {"generative"},
    "cpa": {"info", "stats"},
    "objectives": {"info"},
    "train": {"generative", "data", "models", "objectives", "stats", "info"},
}


def _imports(path: Path) -> set[str]:
    """Top-level ``mitheory`` units a file imports (``mitheory.x`` -> ``x``)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for n in names:
            parts = n.split(".")
            if parts[0] == "mitheory" and len(parts) > 1:
                out.add(parts[1])
    return out


def _unit(path: Path) -> str:
    rel = path.relative_to(ROOT / "mitheory").parts
    return rel[0].removesuffix(".py")


def _graph() -> dict[str, set[str]]:
    g: dict[str, set[str]] = {}
    for f in (ROOT / "mitheory").rglob("*.py"):
        u = _unit(f)
        g.setdefault(u, set()).update(_imports(f) - {u})
    return g


def test_bottom_layer_imports_no_subpackage():
    g = _graph()
    for u in BOTTOM:
        assert g.get(u, set()) <= BOTTOM, f"{u} imports {g[u] - BOTTOM}"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_subpackage_imports_only_below_it(package):
    deps = _graph()[package] - BOTTOM
    assert deps <= ALLOWED[package], f"{package} imports {deps - ALLOWED[package]}"


def test_no_cycle_between_packages():
    g = {u: d for u, d in _graph().items()}
    state: dict[str, int] = {}

    def visit(u, stack):
        state[u] = 1
        for v in g.get(u, ()):
            assert state.get(v) != 1, f"import cycle: {' -> '.join([*stack, u, v])}"
            if v not in state:
                visit(v, [*stack, u])
        state[u] = 2

    for u in g:
        if u not in state:
            visit(u, [])


@pytest.mark.parametrize("study", sorted(p.name for p in (ROOT / "studies").glob("*.py")
                                         if p.name != "__init__.py"))
def test_studies_import_public_modules_only(study):
    tree = ast.parse((ROOT / "studies" / study).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            assert parts[0] != "studies", f"{study} imports another study ({node.module})"
            assert not any(p.startswith("_") for p in parts[1:]), \
                f"{study} imports a private module ({node.module})"
            assert not any(a.name.startswith("_") for a in node.names), \
                f"{study} imports a private name from {node.module}"
