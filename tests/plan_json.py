"""The JSON object of a solve, for tests that solve through the engine directly."""

from planner.reports.tables import as_json as _as_json
from planner.solving.result import labelled


def as_json(plan) -> dict:
    """``as_json`` of a ``PlanResult`` (labelled first, as the CLI and the API do)."""
    return _as_json(labelled(plan))
