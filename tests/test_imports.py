"""The project's import rules, read from the source with `ast` (nothing is imported):

- no import cycles between the project's modules and the tests' modules, counting imports inside functions too;
- no function-level import of a project module, in the packages or the tests (a lazy import may only defer a heavy
  third-party library);
- the Dagster code location (`orchestration`) never imports the demo simulator;
- only orchestration/warehouse.py calls `duckdb.connect`;
- every third-party package imported by the project's code is declared in pyproject.toml.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("orchestration", "simulator", "c360_cli", "models", "expectations")
CODE_LOCATION = "orchestration"
SIMULATOR = "simulator"
WAREHOUSE_MODULE = "orchestration.warehouse"
#: The test suite's modules (tests and their helpers) follow the same import rules as the packages they test.
TESTS = "tests"


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str  # the module (or module.attribute) as written, resolved to absolute
    line: int
    in_function: bool
    type_checking: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    return {module_name(p): p for package in packages for p in sorted((REPO / package).rglob("*.py"))}


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str, path: Path) -> list[Import]:
    found: list[Import] = []
    is_package = path.name == "__init__.py"

    def visit(node: ast.AST, in_function: bool, type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(Import(name, alias.name, child.lineno, in_function, type_checking))
            elif isinstance(child, ast.ImportFrom):
                module = _resolve(name, is_package, child)
                for alias in child.names:
                    found.append(Import(name, f"{module}.{alias.name}", child.lineno, in_function, type_checking))
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, True, type_checking)
            elif isinstance(child, ast.If) and _is_type_checking(child):
                visit(child, in_function, True)
            else:
                visit(child, in_function, type_checking)

    visit(ast.parse(path.read_text(), filename=str(path)), False, False)
    return found


def project_module(imported: str, modules: set[str]) -> str | None:
    """The project module an import names (`pkg.mod.attr` -> `pkg.mod`), or None for third-party/stdlib."""
    parts = imported.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, Path], list[Import]]:
    """The packages' and the tests' modules with their imports."""
    files = source_files((*PACKAGES, TESTS))
    return files, [imp for name, path in files.items() for imp in imports_of(name, path)]


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle in the directed graph, as a path that starts and ends on the same module, or None."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_walk_sees_the_project() -> None:
    files = source_files((*PACKAGES, TESTS))
    assert {"orchestration.definitions", "simulator.retailer", "c360_cli.main", "models.bgnbd"} <= set(files)
    assert {"tests.conftest", "tests.test_imports", "tests.dbt_harness"} <= set(files)
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles(graph: tuple[dict[str, Path], list[Import]]) -> None:
    files, imports = graph
    modules = set(files)
    edges: dict[str, set[str]] = {}
    for imp in imports:
        target = project_module(imp.imported, modules)
        # A package's __init__ is imported on the way to any of its modules; an import of the package itself counts.
        if target and target != imp.importer and not imp.type_checking:
            edges.setdefault(imp.importer, set()).add(target)
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_function_level_imports_of_project_modules(graph: tuple[dict[str, Path], list[Import]]) -> None:
    files, imports = graph
    lazy = [
        f"{files[i.importer].relative_to(REPO)}:{i.line} imports {i.imported} inside a function"
        for i in imports
        if i.in_function and project_module(i.imported, set(files))
    ]
    assert not lazy, "import project modules at module level (a lazy import only defers a heavy library):\n" + (
        "\n".join(lazy)
    )


def test_the_code_location_never_imports_the_simulator(graph: tuple[dict[str, Path], list[Import]]) -> None:
    files, imports = graph
    offending = [
        f"{files[i.importer].relative_to(REPO)}:{i.line} imports {i.imported}"
        for i in imports
        if i.importer.split(".")[0] == CODE_LOCATION and i.imported.split(".")[0] == SIMULATOR
    ]
    assert not offending, "orchestration/ must not import the demo simulator:\n" + "\n".join(offending)


def test_only_the_warehouse_module_opens_duckdb() -> None:
    callers = [
        f"{path.relative_to(REPO)}"
        for name, path in source_files().items()
        if name != WAREHOUSE_MODULE and re.search(r"\bduckdb\.connect\(", path.read_text())
    ]
    assert not callers, f"open DuckDB through orchestration/warehouse.py, not duckdb.connect: {callers}"


def _declared_distributions(groups: tuple[str, ...] = ()) -> set[str]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    requirements = list(pyproject["project"]["dependencies"])
    for group in groups:
        requirements += pyproject["dependency-groups"][group]
    names = set()
    for requirement in requirements:
        names.add(re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0])
    return {_canonical(n) for n in names}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


#: Modules that run only in the benchmark's own environment (.venv-bench, benchmarks/requirements.lock): the
#: unmaintained `lifetimes` baseline is never a dependency of the project.
BENCH_ENV_MODULES = {"benchmarks.lifetimes_fit"}


def test_benchmark_environment_modules_import_only_what_its_requirements_declare() -> None:
    declared = {
        _canonical(re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0])
        for line in (REPO / "benchmarks" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for name in BENCH_ENV_MODULES:
        path = REPO / (name.replace(".", "/") + ".py")
        roots = {imp.imported.split(".")[0] for imp in imports_of(name, path)}
        third_party = {
            r for r in roots if r and r not in sys.stdlib_module_names and r not in ("__future__", "benchmarks")
        }
        assert {_canonical(r) for r in third_party} <= declared, (name, third_party, declared)


@pytest.mark.parametrize(
    ("folders", "groups"), [(PACKAGES, ()), (("tests", "benchmarks"), ("dev",))], ids=["project", "tests+benchmarks"]
)
def test_every_imported_third_party_package_is_declared(folders: tuple[str, ...], groups: tuple[str, ...]) -> None:
    files = {module_name(p): p for folder in folders for p in sorted((REPO / folder).rglob("*.py"))}
    files = {name: path for name, path in files.items() if name not in BENCH_ENV_MODULES}
    imports = [imp for name, path in files.items() for imp in imports_of(name, path)]
    top_level = {name.split(".")[0] for name in source_files()} | {folder.split("/")[0] for folder in folders}
    providers = packages_distributions()
    declared = _declared_distributions(groups)
    undeclared = {}
    for imp in imports:
        root = imp.imported.split(".")[0]
        if not root or root in top_level or root in sys.stdlib_module_names or root == "__future__":
            continue
        distributions = {_canonical(d) for d in providers.get(root, [])}
        assert distributions, f"{imp.importer}: no installed distribution provides {root!r}"
        if not distributions & declared:
            undeclared.setdefault(root, f"{imp.importer}:{imp.line} ({', '.join(sorted(distributions))})")
    assert not undeclared, f"imported but not declared in pyproject.toml [project] dependencies: {undeclared}"
