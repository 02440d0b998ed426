"""The package's shape: imports go one way (no cycle, never up the layers), modules stay under 400
lines and functions under 60 (STYLE.md: "a module that grows past ~400 lines is two").

Every import counts, function-level ones included: ``import explain_utils.x``,
``from explain_utils import x``, ``from explain_utils.x import y`` and relative imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "explain_utils"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

# Bottom to top: a module may import from its own layer or a lower one, never a higher one.
LAYERS: dict[str, int] = {
    # shared names, checks, files, ListOps and its explanations
    "__init__": 0,
    "vocabulary": 0,
    "validation": 0,
    "storage": 0,
    "progress": 0,
    "listops": 0,
    "explanations": 0,
    "formats": 0,  # the book's explanation formats (on top of explanations)
    "data": 1,
    "own_data": 1,  # one's own explained data (CSV / JSONL) written as a task directory
    # the engine's parts, then the engine
    "tokenization": 2,
    "models": 2,
    "runs": 2,
    "prompt_loss_data": 2,  # chapter 5's data types along R_g and its pre-training corpus
    "batching": 3,
    "losses": 4,
    "evaluation": 4,
    "train_config": 4,
    "trainer": 5,
    "training": 5,
    # tidy results and what reads them
    "results": 6,
    "stats": 6,  # paired bootstrap and verdicts
    "baselines": 6,  # trivial baselines on the same rows
    "step_errors": 6,  # where a generated explanation first goes wrong
    "plw_fit": 7,
    "plots_core": 7,
    "plots_prompt_loss": 7,
    "plots_claims": 7,
    "plots": 7,
    "claims_core": 7,
    "claims_tables": 7,
    "claims_listops": 8,
    "claims_prompt_loss": 8,
    "claims_formats": 8,
    "claims": 8,
    # the parameter sets of the chapters
    "profile_checks": 9,
    "experiment_profiles": 9,
    "ablation_profiles": 9,
    "profiles": 9,
    # entries: grids, chapter 5, tools
    "experiments": 10,
    "prompt_loss": 10,
    "bench": 10,
    "own_data_lab": 10,  # chapter 6: the own-data lab's parameters, runs and tables
    "calibrate": 11,
    "run_book": 11,
    "lab": 12,
}
# (importer, imported): reason. Only for modules being rewritten by someone else right now.
ALLOWED_UPWARD_IMPORTS: dict[tuple[str, str], str] = {}
# "module" (its length) or "module.function" / "module.Class.method": reason
ALLOWED_LONG: dict[str, str] = {}


def _modules() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(ROOT.glob("*.py"))}


def _imported(node: ast.AST, modules: set[str]) -> set[str]:
    """The package's modules one import statement names (``__init__`` for the package itself)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
        return {n.split(".")[1] if "." in n else "__init__" for n in names if _ours(n)}
    if not isinstance(node, ast.ImportFrom):
        return set()
    if node.level > 1:
        raise AssertionError(f"import from outside the package: {ast.unparse(node)}")
    base = node.module or ""
    if node.level == 1:
        base = f"{PACKAGE}.{base}" if base else PACKAGE
    if not _ours(base):
        return set()
    if base != PACKAGE:
        return {base.split(".")[1]}
    # from explain_utils import x: a module, or a name of __init__
    return {a.name if a.name in modules else "__init__" for a in node.names}


def _ours(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def import_graph() -> dict[str, set[str]]:
    """module -> the package's modules it imports anywhere in its file."""
    trees = _modules()
    graph = {}
    for name, tree in trees.items():
        found = set().union(*(_imported(node, set(trees)) for node in ast.walk(tree)))
        graph[name] = found - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or None."""
    state: dict[str, str] = {}  # "open" while on the path, "done" after
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def long_functions(tree: ast.Module, module: str) -> dict[str, int]:
    """``module.[Class.]function`` -> lines from ``def`` to the end of its body (decorators excluded)."""
    out: dict[str, int] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                out[f"{prefix}.{child.name}"] = child.end_lineno - child.lineno + 1
                walk(child, f"{prefix}.{child.name}")
            elif isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}.{child.name}")

    walk(tree, module)
    return {name: n for name, n in out.items() if n > MAX_FUNCTION_LINES}


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_graph_sees_every_kind_of_import():
    tree = ast.parse(
        "import explain_utils.data\n"
        "from explain_utils import runs, __version__\n"
        "from .models import x\n"
        "def f():\n    from explain_utils.listops import parse\n"
    )
    modules = {"data", "runs", "models", "listops"}
    found = set().union(*(_imported(node, modules) for node in ast.walk(tree)))
    assert found == {"data", "runs", "__init__", "models", "listops"}


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_every_module_has_a_layer():
    missing = sorted(set(import_graph()) - set(LAYERS))
    assert not missing, f"give {missing} a layer in LAYERS (tests/test_architecture.py)"


def test_no_module_imports_from_a_higher_layer():
    upward = sorted(
        f"{module} (layer {LAYERS[module]}) imports {other} (layer {LAYERS[other]})"
        for module, imported in import_graph().items()
        for other in imported
        if module in LAYERS
        and other in LAYERS
        and LAYERS[other] > LAYERS[module]
        and (module, other) not in ALLOWED_UPWARD_IMPORTS
    )
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_allowed_upward_imports_are_still_needed():
    graph = import_graph()
    stale = [pair for pair in ALLOWED_UPWARD_IMPORTS if pair[1] not in graph.get(pair[0], ())]
    assert not stale, f"remove {stale} from ALLOWED_UPWARD_IMPORTS: the import is gone"


@pytest.mark.parametrize("module", sorted(p.stem for p in ROOT.glob("*.py")))
def test_module_and_function_sizes(module):
    path = ROOT / f"{module}.py"
    lines = len(path.read_text(encoding="utf-8").splitlines())
    too_long = {module: lines} if lines > MAX_MODULE_LINES else {}
    too_long |= long_functions(ast.parse(path.read_text(encoding="utf-8")), module)
    over = {k: v for k, v in too_long.items() if k not in ALLOWED_LONG}
    assert not over, (
        f"over {MAX_MODULE_LINES} lines (module) or {MAX_FUNCTION_LINES} (function): {over}; split them"
    )
    stale = [k for k in ALLOWED_LONG if k.split(".")[0] == module and k not in too_long]
    assert not stale, f"remove {stale} from ALLOWED_LONG: now short enough"
