"""The package layout's rules, read from the source (every import statement, those inside functions too):
no import cycles, and nothing the serving image ships refers to training, tools or the CLI."""

import ast
from pathlib import Path

import pricing

ROOT = Path(pricing.__file__).parent
SHIPPED = (
    "pricing.serving",
    "pricing.models",
    "pricing.artifacts",
    "pricing.config",
    "pricing.numbers",
    "pricing.encodings",
)
SHIPPED_DATA = ("pricing.data.features", "pricing.data.preprocess", "pricing.data.incidence")
NEVER_SHIPPED = ("pricing.training", "pricing.tools", "pricing.cli", "pricing.data.load", "pricing.data.prepare")


def module_name(path: Path) -> str:
    return ".".join(("pricing", *path.relative_to(ROOT).with_suffix("").parts)).removesuffix(".__init__")


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports anywhere in its source (`from a import b` counts a.b when b is
    a module)."""
    modules = {module_name(path): path for path in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
            elif isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_picture_has_no_cycle():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_nothing_the_image_ships_refers_to_training_tools_or_the_cli():
    graph = import_graph()
    shipped = [name for name in graph if name.startswith(SHIPPED) or name in SHIPPED_DATA]
    assert "pricing.serving.app" in shipped and "pricing.models.network" in shipped
    offenders = {name: sorted(t for t in graph[name] if t.startswith(NEVER_SHIPPED)) for name in shipped}
    assert {name: targets for name, targets in offenders.items() if targets} == {}
