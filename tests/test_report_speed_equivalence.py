"""The fast report path against straightforward references, bit for bit.

- A node's view (``Result.at``: each frame split by node once) is the frame's rows of
  that node found by a mask and relabelled as the base node.
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pytest
from generator import random_dataset

from planner.solving.engine import solve_plan
from planner.solving.result import BASE, PERIOD_FRAMES, labelled

KNOBS = [dict(periods=True, disruptions=True),
         dict(periods=True, disruptions=True, network=True, embedded=True),
         dict(periods=True, network=True, embedded=True)]


@cache
def _paths(knobs: int, wanted: int = 2) -> list:
    """The first ``wanted`` optimal plans over time of the generator's seeds, with
    ``KNOBS[knobs]``."""
    found = []
    for seed in range(40):
        data = random_dataset(seed, infeasible=0.0, **KNOBS[knobs])
        result = labelled(solve_plan(data, context=True))
        if result.optimal and len(result.periods):
            found.append(result)
        if len(found) == wanted:
            return found
    raise AssertionError(f"fewer than {wanted} optimal plans over time for {KNOBS[knobs]}")


def _masked(frame: pd.DataFrame, period: str, branch: str) -> pd.DataFrame:
    """A node's rows the straightforward way: a mask on each level, then relabelled."""
    if frame.empty:
        return frame
    rows = frame[(frame.index.get_level_values("period") == period)
                 & (frame.index.get_level_values("branch") == branch)]
    return rows.rename(index={period: BASE}, level="period").rename(
        index={branch: BASE}, level="branch")


@pytest.mark.parametrize("knobs", range(len(KNOBS)))
def test_a_nodes_view_is_its_rows_relabelled(knobs):
    for result in _paths(knobs):
        for period, branch in result.nodes():
            view = result.at(period, branch)
            for name in PERIOD_FRAMES:
                pd.testing.assert_frame_equal(getattr(view, name),
                                              _masked(getattr(result, name), period, branch),
                                              check_exact=True)
