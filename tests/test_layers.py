"""The package's layout is its pipeline: imports only go down, and reports never
touch the model or the solver (they read the labelled result)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
# Lower layers first; a module may import its own layer and those below it.
LAYERS = ["planner.models", "planner.io", "planner.solving", "planner.analysis",
          "planner.reports", "planner"]


def layer(module: str) -> int:
    """The layer of the most specific package that holds ``module``."""
    home = max((name for name in LAYERS if module == name or module.startswith(name + ".")),
               key=len)
    return LAYERS.index(home)


def modules() -> list[tuple[str, Path]]:
    found = [(f"planner.models.{p.stem}", p) for p in (ROOT / "models").glob("*.py")]
    for path in (ROOT / "planner").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found.append((".".join(parts), path))
    return [(name.removesuffix(".__init__"), path) for name, path in found]


def imports(path: Path) -> list[str]:
    """Modules of the planner imported at run time (not under ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text())
    typing_only = {id(node) for stmt in ast.walk(tree) if isinstance(stmt, ast.If)
                   and getattr(stmt.test, "id", None) == "TYPE_CHECKING"
                   for node in ast.walk(stmt)}
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return [name for name in found if name == "planner" or name.startswith("planner.")]


@pytest.mark.parametrize(("module", "path"), modules(), ids=lambda v: str(v))
def test_imports_only_go_down(module, path):
    upward = [name for name in imports(path) if layer(name) > layer(module)]
    assert not upward, f"{module} imports from a higher layer: {upward}"


def test_the_layer_check_can_fail():
    assert layer("planner.reports.tables") > layer("planner.solving.engine")
    assert layer("planner.cli") > layer("planner.reports.tables")
    assert layer("planner.models.build") < layer("planner.io.read")


def test_reports_run_without_pyomo_or_highspy():
    """Importing every report module (and the labelled result) loads neither Pyomo nor
    HiGHS: a report cannot reach into the model."""
    reports = sorted(f"planner.reports.{p.stem}" for p in (ROOT / "planner" / "reports")
                     .glob("*.py") if p.stem not in ("__init__", "plots"))
    code = ("import sys\n" + "".join(f"import {m}\n" for m in reports)
            + "print(sorted({m.split('.')[0] for m in sys.modules} & {'pyomo', 'highspy'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_no_report_module_names_pyomo_or_highspy():
    for path in (ROOT / "planner" / "reports").glob("*.py"):
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                  and n.module]
        assert not [n for n in names if n.split(".")[0] in ("pyomo", "highspy")], path
