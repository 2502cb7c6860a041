"""The basis statuses a solve reports (``LpSolution.col_basis`` / ``row_basis``) are
read from HiGHS's basic variables and each nonbasic entry's bound, not from HiGHS's
status lists (issue 13: the lists cost ~2 ms a solve). They must say what HiGHS says:
the same basic set, and each nonbasic entry at the same bound wherever the side
matters (not for fixed columns or equality rows, where both bounds are one)."""

from __future__ import annotations

import numpy as np
import pytest
from generator import random_dataset
from planner.models.highs import HighsSolver, SolveStatus, compile_lp
from planner.models.horizon import create_horizon

from planner.cli import default_inputs, load


def highs_lists(solver: HighsSolver) -> tuple[np.ndarray, np.ndarray]:
    basis = solver.highs.getBasis()
    return (np.array([int(s) for s in basis.col_status]),
            np.array([int(s) for s in basis.row_status]))


def assert_same_statuses(solver: HighsSolver, solution) -> None:
    cols, rows = highs_lists(solver)
    lp = solver.lp
    for ours, theirs, fixed in ((solution.col_basis, cols, lp.col_lower == lp.col_upper),
                                (solution.row_basis, rows, lp.row_lower == lp.row_upper)):
        differ = (ours != theirs) & ~fixed
        assert not differ.any(), (np.flatnonzero(differ)[:5], ours[differ][:5],
                                  theirs[differ][:5])


def solved(data) -> tuple[HighsSolver, object]:
    solver = HighsSolver(compile_lp(create_horizon(data).model))
    return solver, solver.solve()


def test_the_shipped_plan_and_warm_re_solves_after_edits():
    data, _ = load(default_inputs())
    solver, solution = solved(data)
    assert solution.status is SolveStatus.OPTIMAL
    assert_same_statuses(solver, solution)
    rng = np.random.default_rng(3)
    rows = np.flatnonzero(np.isfinite(solver.lp.row_upper) & ~np.isfinite(solver.lp.row_lower))
    for row in rng.choice(rows, size=10, replace=False):   # tighten a ≤ row, in the copy too
        solver.set_row_bounds(int(row), -np.inf, 0.9 * solver.lp.row_upper[row])
        moved = solver.solve(presolve=False)
        if moved.status is SolveStatus.OPTIMAL:
            assert_same_statuses(solver, moved)


@pytest.mark.parametrize("seed", range(12))
def test_random_datasets(seed):
    solver, solution = solved(random_dataset(seed))
    if solution.status is not SolveStatus.OPTIMAL:
        pytest.skip("no optimum to read a basis of")
    assert_same_statuses(solver, solution)


def test_inside_a_block_that_leaves_the_copy_alone_highs_lists_are_read():
    data, _ = load(default_inputs())
    solver, _ = solved(data)
    rows = np.flatnonzero(np.isfinite(solver.lp.row_upper))[:40]
    with solver.temporary(resolve=False) as edits:
        edits.set_row_bounds(rows, -np.inf, np.inf)
        moved = solver.solve(presolve=False)
        cols, row_status = highs_lists(solver)
        assert (moved.col_basis == cols).all()
        assert (moved.row_basis == row_status).all()
