"""Supply-diversification planner for critical minerals.

The Python API (SPEC §7), loaded on first use so that ``planner --help`` and
``planner check`` do not pay for the solver stack::

    import planner
    plan = planner.solve(planner.load("inputs/"), caps={"CN:magnet": 0.6})
    plan.purchases
"""

from importlib import import_module

__version__ = "0.1.0"
__all__ = ["InputError", "Inputs", "Plan", "Stress", "Sweep", "compare", "load", "solve",
           "stress", "sweep"]

_HOMES = {"InputError": "planner.io.problems", **{name: "planner.api" for name in __all__
                                                  if name != "InputError"}}


def __getattr__(name: str):
    """``planner.solve`` and the rest of the API, imported when first asked for."""
    if name not in _HOMES:
        raise AttributeError(f"module 'planner' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
