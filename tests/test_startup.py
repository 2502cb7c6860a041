"""Start-up: each command loads only what it needs (issue 13). About WHAT is imported,
in a fresh interpreter; how long it takes is measured by bench/startup_benchmark.py."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
HEAVY = {"pandas", "numpy", "scipy", "pyomo", "highspy", "rich", "matplotlib", "dask",
         "distributed", "openpyxl", "python_calamine", "defusedxml"}
SOLVER = {"pyomo", "highspy", "scipy"}
# What Pyomo imports as soon as scipy is loaded, unless planner.models.scipy_sparse
# drops that callback first; and the plugins pyomo.environ would add to pyomo.core.
NEEDLESS = {"scipy.stats", "scipy.integrate", "scipy.spatial", "pyomo.environ", "pyomo.dae",
            "pyomo.gdp", "matplotlib", "dask", "distributed", "openpyxl", "python_calamine"}


def loaded(code: str) -> set[str]:
    """The modules loaded once ``code`` has run in a fresh interpreter."""
    probe = code + "\nimport json, sys\nprint('\\n' + json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


def command(*args: str) -> str:
    """Code that runs ``planner ARGS`` and expects exit code 0."""
    return ("from planner.cli import main\n"
            f"try:\n    main({list(args)!r})\n"
            "except SystemExit as done:\n    assert done.code == 0, done.code\n")


def packages(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_importing_the_cli_loads_no_heavy_package():
    assert not packages(loaded("import planner.cli")) & HEAVY


def test_help_loads_no_heavy_package():
    assert not packages(loaded(command("--help"))) & HEAVY


def test_check_loads_no_solver_and_no_plotting():
    found = packages(loaded(command("check")))
    assert {"pandas", "numpy"} <= found
    assert not found & (SOLVER | {"matplotlib", "dask", "distributed", "openpyxl"})


def test_solve_loads_the_solver_without_what_it_does_not_use():
    found = loaded(command("solve", "--format", "json"))
    assert {"pyomo.core", "highspy", "scipy.sparse"} <= found
    assert not {name for name in found if name in NEEDLESS
                or name.split(".")[0] in NEEDLESS}


def test_the_import_check_can_fail():
    """scipy imported before the planner's models: Pyomo's callback loads scipy.stats
    (what test_solve_... rules out), and a plot loads matplotlib."""
    assert "scipy.stats" in loaded("import scipy.sparse\nimport planner.models.highs")
    assert "matplotlib" in packages(loaded("import planner.reports.plots"))
