"""The shape of the source tree: imports run one way, and modules and functions stay readable in one sitting.

Both checks read the source with ast, so an import inside a function counts as much as one at the top.
A module or function may be longer than the limit when it says why: a ``# long: <reason>`` line in a
module's docstring or first 15 lines, or in a function's first lines (from the ``def`` to two lines after
its docstring).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
PACKAGE = "gigawatt"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
MARKER = "# long:"


def module_files(root: Path = SRC / PACKAGE) -> dict[str, Path]:
    """Dotted module name → file, for every module of the package."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its body (top level or inside functions)."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            # `from a import b` imports the module a.b when b is a module, else a name from a
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import a.b.c` of a name: the closest module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {name: imported_modules(name, path, known) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None. Depth-first search with colours."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def has_reason(lines: list[str]) -> bool:
    return any(line.strip().startswith(MARKER) and len(line.strip()) > len(MARKER) + 3 for line in lines)


def long_functions(path: Path, root: Path = SRC) -> list[str]:
    """Functions over the limit whose first lines give no reason."""
    source = path.read_text()
    lines = source.splitlines()
    offenders = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            first = node.body[0]
            is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                and isinstance(first.value.value, str)
            top = first.end_lineno if is_doc else first.lineno - 1
            head = lines[node.lineno - 1: top + 2]  # the signature, the docstring, and two lines after it
            if length > MAX_FUNCTION_LINES and not has_reason(head):
                offenders.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({length} lines)")
    return offenders


def module_is_long_without_reason(path: Path) -> bool:
    source = path.read_text()
    n = len(source.splitlines())
    if n <= MAX_MODULE_LINES:
        return False
    docstring = ast.get_docstring(ast.parse(source), clean=False) or ""
    return not has_reason(docstring.splitlines() + source.splitlines()[:15])


def room_of(module: str) -> str:
    """gigawatt.risk.build -> risk; gigawatt.cli -> cli; gigawatt -> gigawatt."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def documented_rooms(text: str) -> dict[str, set[str]]:
    """docs/architecture.md's table: room -> the rooms it may import."""
    rooms = {}
    for line in text.splitlines():
        m = re.match(r"^\| `(\w+)` \|[^|]*\|([^|]*)\|\s*$", line)
        if m:
            rooms[m.group(1)] = set(re.findall(r"`(\w+)`", m.group(2)))
    return rooms


def room_violations(graph: dict[str, set[str]], allowed: dict[str, set[str]]) -> list[str]:
    """Imports between rooms that the table does not allow, and modules in no documented room."""
    out = []
    for module, deps in sorted(graph.items()):
        room = room_of(module)
        if room not in allowed:
            out.append(f"{module}: room '{room}' is not in docs/architecture.md")
            continue
        for dep in sorted(deps):
            if room_of(dep) != room and room_of(dep) not in allowed[room]:
                out.append(f"{module} imports {dep}: '{room}' may not import '{room_of(dep)}'")
    return out


# which rooms may import each library (docs/architecture.md, "Libraries")
LIBRARIES = {"linopy": {"optimize"}, "highspy": {"optimize"}, "numba": {"risk"}, "ray": {"sweep"},
             "pyarrow": {"sweep"}, "plotly": {"report"}, "pint": {"units"}, "pydantic": {"scenario"},
             "typer": {"cli", "commands"}, "rich": {"cli", "commands"}, "duckdb": {"runs", "sweep"},
             "SALib": {"sensitivity"}}


def library_violations() -> list[str]:
    out = []
    for module, path in module_files().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                lib = name.split(".")[0]
                if lib in LIBRARIES and room_of(module) not in LIBRARIES[lib]:
                    out.append(f"{module} imports {lib} (only {', '.join(sorted(LIBRARIES[lib]))} may)")
    return out


# --- the checks' own tests: each can fail --------------------------------------------------------------


def test_find_cycle_names_the_cycle_and_passes_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_imports_inside_functions_and_relative_imports_are_seen(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from pkg.sub import c\n    import pkg.sub.c.thing\n")
    (pkg / "sub" / "c.py").write_text("from ..sub.b import f\n")
    files = module_files(pkg)
    known = set(files)
    graph = {name: imported_modules(name, path, known) for name, path in files.items()}
    assert graph["pkg.sub"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.sub.c"}
    assert graph["pkg.sub.c"] == {"pkg.sub.b"}
    assert find_cycle(graph) == ["pkg.sub.b", "pkg.sub.c", "pkg.sub.b"]


def test_a_long_function_needs_a_reason_at_its_top(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    plain = tmp_path / "gigawatt_plain.py"
    plain.write_text(f"def f():\n{body}\n")
    reasoned = tmp_path / "gigawatt_reasoned.py"
    reasoned.write_text(f'def f():\n    """Doc."""\n    # long: one hot loop the compiler must see whole\n{body}\n')
    assert long_functions(plain, tmp_path) == [f"gigawatt_plain.py:1 f ({MAX_FUNCTION_LINES + 1} lines)"]
    assert long_functions(reasoned, tmp_path) == []


def test_the_rooms_table_is_read_and_enforced():
    table = "| `a` | x | |\n| `b` | y | `a` |\n"
    assert documented_rooms(table) == {"a": set(), "b": {"a"}}
    graph = {"pkg.b.m": {"pkg.a.n"}, "pkg.a.n": {"pkg.b.m"}, "pkg.c": set()}
    assert room_violations(graph, documented_rooms(table)) == [
        "pkg.a.n imports pkg.b.m: 'a' may not import 'b'", "pkg.c: room 'c' is not in docs/architecture.md"]


# --- the source tree -----------------------------------------------------------------------------------


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_imports_follow_the_rooms_of_docs_architecture():
    allowed = documented_rooms(ARCHITECTURE.read_text())
    assert len(allowed) > 10, "the rooms table of docs/architecture.md was not found"
    violations = room_violations(import_graph(), allowed)
    assert not violations, "\n".join(violations)
    order = list(allowed)  # the table's rows, top to bottom: a room may import only rooms above it
    upward = [f"{room} may import {dep}, listed below it" for room, deps in allowed.items() for dep in deps
              if dep not in order or order.index(dep) >= order.index(room)]
    assert not upward, "\n".join(upward)


def test_libraries_stay_in_their_rooms():
    violations = library_violations()
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("name", sorted(module_files()))
def test_module_is_short_or_says_why(name):
    path = module_files()[name]
    assert not module_is_long_without_reason(path), (
        f"{path.relative_to(SRC)} has {len(path.read_text().splitlines())} lines (limit {MAX_MODULE_LINES}); "
        f"split it, or give the reason in its docstring as '{MARKER} <reason>'")


@pytest.mark.parametrize("name", sorted(module_files()))
def test_functions_are_short_or_say_why(name):
    offenders = long_functions(module_files()[name])
    assert not offenders, (f"functions over {MAX_FUNCTION_LINES} lines without a '{MARKER} <reason>' line at "
                           "their top: " + "; ".join(offenders))
