"""Where the shipped dataset lives: installed with the package as ``planner.inputs``.

Apart from ``planner.api`` so that every command finds it without loading the API.
"""

from importlib.resources import files
from pathlib import Path


def default_inputs() -> Path:
    """The shipped default dataset (installed with the package)."""
    return Path(str(files("planner.inputs")))
