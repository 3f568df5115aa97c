"""The package has no import cycle, at module level or hidden in a function, and every module imports alone.

The graph is read from the source with ``ast``: every ``import`` / ``from ... import`` of a genmix module,
wherever it stands (module body, function, class, ``try``), is an edge. ``from package import name`` is an
edge to the submodule ``package.name`` when that is a module, otherwise to the package's ``__init__``.
"""
import ast
import pathlib
import subprocess
import sys


import genmix

ROOT = pathlib.Path(genmix.__file__).parent

#: Cycles known today, each the set of modules of one strongly connected component. Any other cycle
#: fails the test, and an entry that no longer matches a cycle fails too (so it is deleted, not kept).


def _module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules():
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(node, module, is_package):
    """The absolute names a ``from`` import refers to, before deciding module or attribute."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level > 1:
        base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph():
    """``{module: set of genmix modules it imports}`` for every module of the package."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node, name, is_package)
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:  # ``import genmix.x.y`` names a module or attribute
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph):
    """The strongly connected components with more than one module (Tarjan's algorithm), as frozensets."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return set(found)


def _describe(component, graph):
    return "{" + ", ".join(f"{m} -> {sorted(graph[m] & component)}" for m in sorted(component)) + "}"


def test_the_graph_sees_module_and_function_level_imports():
    graph = import_graph()
    assert "genmix.distributions._base" in graph["genmix.distributions.normal"]  # module level, relative
    assert "genmix._registry" in graph["genmix.io"]
    assert "genmix.cli" in graph["genmix.__main__"]
    assert "genmix.datasets" in graph["genmix.cli"]  # inside a function
    assert "genmix" in graph["genmix.cli"]  # ``from . import GeneralMixtureModel``: the package itself


def test_cycle_finder_reports_a_hidden_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == {frozenset("abc")}
    assert cycles({"a": {"b"}, "b": set()}) == set()


def test_no_import_cycle():
    graph = import_graph()
    unexpected = cycles(graph)
    assert not unexpected, "import cycles: " + "; ".join(_describe(c, graph) for c in unexpected)


def test_every_module_imports_alone():
    """Each module, imported first in a fresh set of genmix modules, loads (no cycle hidden by load order)."""
    names = sorted(m for m in _modules() if m != "genmix.__main__")
    script = (
        "import importlib, sys\n"
        f"failed = []\n"
        f"for name in {names!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'genmix' or m.startswith('genmix.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        failed.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(failed))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=ROOT.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", done.stdout
