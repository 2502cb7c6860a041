"""What a benchmark's child interpreter (``python -P -c``) runs first: import the
``planner`` of this checkout, with ``planner.models`` from the same checkout (an
installed copy elsewhere would otherwise answer), and name the checkout's ``root``."""

SAME_CHECKOUT = r"""
import importlib.util, sys
from pathlib import Path

import planner
root = Path(planner.__file__).resolve().parent.parent
if (root / "models" / "__init__.py").exists():  # planner.models from the same checkout
    spec = importlib.util.spec_from_file_location(
        "planner.models", root / "models" / "__init__.py",
        submodule_search_locations=[str(root / "models")])
    module = importlib.util.module_from_spec(spec)
    sys.modules["planner.models"] = module
    spec.loader.exec_module(module)
    planner.models = module
"""
