"""msgpt's architecture, read from its imports: no import circle, and each layer imports
only the layers below it (docs/architecture.md). Imports inside functions count too: a
lazy import is still a dependency, only a later one."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "msgpt"

#: Bottom to top. A module may import its own layer and those listed before it.
LAYERS = ("runtime", "backend", "tokens", "data", "models", "training", "inference", "recipes")
#: Top-level modules: the lazy-export helper (imports nothing), the public API and the
#: bug report (which probe every layer).
TOP = {"msgpt._lazy": -1, "msgpt": len(LAYERS), "msgpt.env": len(LAYERS)}


def module_names(root: Path = PACKAGE) -> dict[str, Path]:
    names = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imports(path: Path, known: set[str]) -> set[str]:
    """The msgpt modules ``path`` imports, anywhere in it, plus the modules its lazy-export
    table (``_EXPORTS``) names."""
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_EXPORTS" for t in node.targets):
            found.update(value.value for value in node.value.values if isinstance(value, ast.Constant))
    return found & known


def graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    names = module_names(root)
    return {name: imports(path, set(names)) - {name} for name, path in names.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def layer(module: str) -> int:
    if module in TOP:
        return TOP[module]
    return LAYERS.index(module.split(".")[1])


def test_no_import_circle():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_circle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]


def test_every_module_sits_in_a_layer_package():
    for module in module_names():
        assert module in TOP or module.split(".")[1] in LAYERS, f"{module} is in no layer package"


def test_layers_import_only_downwards():
    upward = [
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets
        if layer(target) > layer(module)
    ]
    assert upward == []


def test_runtime_never_imports_mindnlp_at_module_level():
    """``msgpt.runtime`` runs before the device is fixed: mindnlp (or anything that imports
    it) only inside functions."""
    for module, path in module_names().items():
        if module.split(".")[1:2] != ["runtime"]:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            for name in names:
                assert not name.startswith(("mindnlp", "torch", "transformers", "msgpt.backend")), (
                    f"{module} imports {name} at module level")


def test_every_package_says_its_job():
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and doc.strip(), f"{init.relative_to(PACKAGE.parent)} has no docstring"
