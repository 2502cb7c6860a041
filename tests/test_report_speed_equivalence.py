"""The fast report path against straightforward references, bit for bit.

- A node's view (``Result.at``: each frame split by node once) is the frame's rows of
  that node found by a mask and relabelled as the base node.
- The tables of a plan over time, computed for every node at once (one groupby over
  all nodes, ``reports.tables._Frames``), are each node's tables computed from its
  view alone: same rows, keys, order and floats (``repr``).
- Stages in report order are pandas' stable sort by (material's first order, material
  name case-folded, order), on random stage lists with ties.
- ``write_json`` is ``json.dumps(indent=2, ensure_ascii=False)`` of the object with
  NaN and ±inf replaced by null, on random nested objects.
"""

from __future__ import annotations

import json
import math
import random
from collections import namedtuple
from functools import cache

import numpy as np
import pandas as pd
import pytest
from generator import random_dataset
from planner.models.data import Basis

from planner.io.write import write_json
from planner.reports.tables import BASE_NODE, _Frames, _in_order, _node_tables, path_tables
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


@pytest.mark.parametrize("knobs", range(len(KNOBS)))
def test_every_node_at_once_equals_each_node_alone(knobs):
    for result in _paths(knobs):
        tables = path_tables(result)
        for period, branch in result.nodes():
            alone = _node_tables(_Frames.one(result.at(period, branch)), BASE_NODE)
            for name, rows in alone.items():
                tagged = [{key: value for key, value in row.items()
                           if key not in ("period", "branch")}
                          for row in tables[name] if row["period"] == period
                          and row.get("branch", BASE) == branch]
                assert repr(tagged) == repr(rows), (name, period, branch)


def _pandas_order(stages: list) -> list:
    """The stages' report order by pandas: material's first order, name, order; stable."""
    frame = pd.DataFrame({"material": [s.material for s in stages],
                          "order": [s.order for s in stages]})
    keys = pd.DataFrame({"first": frame.groupby("material")["order"].transform("min"),
                         "name": frame["material"].str.lower(), "order": frame["order"]})
    return [stages[i] for i in keys.sort_values(["first", "name", "order"], kind="stable").index]


def test_stage_order_is_pandas_stable_sort():
    stage = namedtuple("Stage", ["key", "material", "order"])
    rng = random.Random(5)
    for _ in range(300):
        materials = rng.sample(["", "NdPr", "ndpr", "DyTb", "cela", "Magnet", "é"], 4)
        stages = [stage(f"s{i}", rng.choice(materials), rng.randint(0, 4))
                  for i in range(rng.randint(1, 9))]
        assert _in_order(stages) == _pandas_order(stages)


def _random_value(rng: random.Random, depth: int):
    scalars = [None, True, False, rng.randint(-10**12, 10**12), rng.uniform(-1e9, 1e9),
               rng.random() * 1e-12, -0.0, math.nan, math.inf, -math.inf,
               np.float64(rng.uniform(-5, 5)), Basis.VOLUME,
               "".join(rng.choice('aé"\\\n\t\x00\x1f\u2028😀 ,{}[]:') for _ in range(6))]
    if depth >= 4 or rng.random() < 0.6:
        return rng.choice(scalars)
    if rng.random() < 0.5:
        items = [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
        return tuple(items) if rng.random() < 0.2 else items
    keys = ["key", "é \"q\"", 3, 2.5, True, None, Basis.VOLUME, ""]
    return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def _finite(value):
    """The reference: every non-finite float replaced by None, walking the object."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def test_write_json_is_json_dumps_with_null_for_non_finite_numbers():
    rng = random.Random(11)
    for _ in range(2000):
        value = {"report": _random_value(rng, 0)}
        assert write_json(value) == json.dumps(_finite(value), indent=2, ensure_ascii=False)


def test_write_json_refuses_what_json_refuses():
    for value in ({"n": np.int64(1)}, {"s": {1, 2}}, {(1, 2): 0}):
        with pytest.raises(TypeError):
            json.dumps(value)
        with pytest.raises(TypeError):
            write_json(value)
