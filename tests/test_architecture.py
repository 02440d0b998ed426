"""The package's shape, read from its folders: each subpackage is a layer, and imports go one way.

The layers, bottom to top, are ``LAYERS``; the command-line tools sit above them all at the top of
the package. A module may import from its own folder or a lower layer, never a higher one, and the
imports form no cycle. Every import counts, function-level ones included:
``import explain_utils.x.y``, ``from explain_utils.x import y``, ``from explain_utils import x``
and relative imports. The package docstring (``explain_utils/__init__.py``) is the prose map; a
test keeps it naming every layer and tool.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

import explain_utils

PACKAGE = "explain_utils"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE
# bottom to top: the data flow (shared names -> tasks and data -> engine -> analysis -> claims
# -> plots -> profiles -> studies -> chapters), then the command-line tools at the top
LAYERS: tuple[str, ...] = (
    "common",
    "tasks",
    "engine",
    "analysis",
    "claims",
    "plots",
    "profiles",
    "studies",
    "chapters",
)
TOOLS_RANK = len(LAYERS)
MAX_FUNCTION_LINES = 60
# "module.function" / "module.Class.method": reason
ALLOWED_LONG: dict[str, str] = {}


def _module_name(path: Path) -> str:
    """``engine/training.py`` -> ``engine.training``; a folder's ``__init__`` is the folder."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "__init__"


def _trees() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text(encoding="utf-8")) for p in ROOT.rglob("*.py")}


def rank(module: str) -> int:
    """A module's layer: its folder's place in ``LAYERS``; the tools (top-level modules) above all;
    the package itself (``__version__``) below all."""
    if module == "__init__":
        return -1
    folder = module.split(".")[0]
    return LAYERS.index(folder) if folder in LAYERS else TOOLS_RANK


def _imported(node: ast.AST, here: str, modules: set[str]) -> set[str]:
    """The package's modules one import statement names, as dotted names below the package."""
    if isinstance(node, ast.Import):
        return {_resolve(a.name, modules) for a in node.names if _ours(a.name)}
    if not isinstance(node, ast.ImportFrom):
        return set()
    if node.level:
        package = here.split(".")[: -node.level] if "." in here else []
        base = ".".join([PACKAGE, *package, *([node.module] if node.module else [])])
    else:
        base = node.module or ""
    if not _ours(base):
        return set()
    found = set()
    for alias in node.names:  # from x import y: y is a module, or a name of x
        candidate = f"{base}.{alias.name}"
        found.add(_resolve(candidate if _strip(candidate) in modules else base, modules))
    return found


def _ours(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def _strip(name: str) -> str:
    return name[len(PACKAGE) + 1 :] if name != PACKAGE else "__init__"


def _resolve(name: str, modules: set[str]) -> str:
    inner = _strip(name)
    if inner not in modules:
        raise AssertionError(f"import of {name!r}, which is not a module of the package")
    return inner


def import_graph() -> dict[str, set[str]]:
    """module -> the package's modules it imports anywhere in its file."""
    trees = _trees()
    modules = set(trees)
    graph = {}
    for name, tree in trees.items():
        found = set().union(*(_imported(node, name, modules) for node in ast.walk(tree)))
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
    modules = {"__init__", "tasks", "tasks.splits", "tasks.listops", "engine", "engine.models"}
    tree = ast.parse(
        "import explain_utils.tasks.splits\n"
        "from explain_utils import __version__\n"
        "from explain_utils.engine import models\n"
        "from .listops import x\n"
        "def f():\n    from explain_utils.tasks.listops import parse\n"
    )
    found = set().union(*(_imported(node, "tasks.formats", modules) for node in ast.walk(tree)))
    assert found == {"tasks.splits", "__init__", "engine.models", "tasks.listops"}


def test_rank_follows_the_folders():
    assert rank("common.names") < rank("tasks.listops") < rank("engine.training")
    assert rank("chapters.own_data") < rank("lab") == rank("run_book")


def test_every_folder_is_a_layer_and_every_top_module_a_tool():
    folders = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file())
    assert folders == sorted(LAYERS), f"folders {folders} against LAYERS {LAYERS}"
    for path in ROOT.glob("*.py"):
        if path.stem == "__init__":
            continue
        text = path.read_text(encoding="utf-8")
        assert '__name__ == "__main__"' in text, (
            f"{path.name} sits at the top of the package, where only command-line tools live; "
            "move it into the folder of its layer"
        )


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_module_imports_from_a_higher_layer():
    upward = sorted(
        f"{module} (layer {rank(module)}) imports {other} (layer {rank(other)})"
        for module, imported in import_graph().items()
        for other in imported
        if rank(other) > rank(module)
    )
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_folders_only_document():
    """A folder's ``__init__`` holds its docstring and nothing else: no re-exports."""
    for path in ROOT.glob("*/__init__.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{path.parent.name}/__init__.py: say what the layer holds"
        assert len(tree.body) == 1, f"{path.parent.name}/__init__.py re-exports or runs code"


def test_no_module_only_re_exports():
    for name, tree in _trees().items():
        if name == "__init__" or "." not in name:
            continue
        own = [n for n in tree.body if not isinstance(n, ast.Import | ast.ImportFrom | ast.Expr)]
        assert own, f"{name} defines nothing of its own: import from where the names live"


def test_the_package_docstring_maps_every_module():
    """The one prose map names every layer, every module in it and every tool."""
    doc = explain_utils.__doc__
    missing = [f"{layer}/" for layer in LAYERS if f"``{layer}/``" not in doc]
    for module in _trees():
        leaf = module.split(".")[-1]
        if module not in ("__init__", *LAYERS) and f"``{leaf}``" not in doc:
            missing.append(module)
    assert not missing, f"explain_utils/__init__.py's module map does not name {missing}"


@pytest.mark.parametrize("module", sorted(_trees()))
def test_function_sizes(module):
    too_long = long_functions(_trees()[module], module)
    over = {k: v for k, v in too_long.items() if k not in ALLOWED_LONG}
    assert not over, f"over {MAX_FUNCTION_LINES} lines: {over}; split them by what they do"


def _defined(tree: ast.Module) -> set[str]:
    """The names a module defines at its top level (functions, classes, assignments)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _sources_using_the_package() -> list[tuple[Path, ast.Module]]:
    """The package, the tests and the notebooks' code cells, parsed."""
    repo = ROOT.parent
    sources = [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in ROOT.rglob("*.py")]
    sources += [
        (p, ast.parse(p.read_text(encoding="utf-8"))) for p in (repo / "tests").glob("*.py")
    ]
    for path in [*(repo / "notebooks").glob("*.ipynb"), *(repo / "book").glob("*.ipynb")]:
        cells = nbformat.read(path, as_version=4).cells
        code = "\n".join(c.source for c in cells if c.cell_type == "code")
        sources.append((path, ast.parse(code)))
    return sources


def test_names_are_imported_from_where_they_live():
    """``from explain_utils.x import y``: ``y`` is defined in ``x`` (or is a module of it), so no
    module passes on a name it only imported, and a reader finds a name where it is written."""
    trees = _trees()
    second_hand = []
    for path, tree in _sources_using_the_package():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module):
                continue
            if not _ours(node.module) or node.module == PACKAGE:
                continue
            module = _strip(node.module)
            for alias in node.names:
                if alias.name not in _defined(trees[module]) | {
                    m.split(".")[-1] for m in trees if m.startswith(module + ".")
                }:
                    second_hand.append(f"{path.name}: {alias.name} from {module}")
    assert not second_hand, "import these from the module that defines them:\n" + "\n".join(
        sorted(set(second_hand))
    )
