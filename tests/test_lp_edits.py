"""One place changes the LP: the solver's edits keep the LP copy and HiGHS equal.

Permanent edits (``HighsSolver.set_*``) change both; temporary ones
(``HighsSolver.temporary``) change HiGHS only (or both, ``in_copy``) and put back
values and basis, so the warm re-solve after them takes no iteration. Each test
compares the copy with what HiGHS holds (``Highs.getLp()``), array by array.
"""

from __future__ import annotations

from dataclasses import replace

import highspy
import numpy as np
import pytest
from planner.models.build import create_model, share_columns
from planner.models.data import Bound, Dataset, Limit, Offer, Process, Stage
from planner.models.highs import INF, HighsSolver, LinearProgram, SolveStatus, compile_lp
from scipy import sparse

from planner.analysis.sweep import CapSweep, CapTarget
from planner.solving.diagnosis import ConflictFilter
from planner.solving.engine import finish, start
from planner.solving.variants import VariantSolver


def offer(name: str, stage: str, country: str, price: float, capacity: float | None = None,
          min_t: float = 0.0) -> Offer:
    return Offer(name, stage, f"supplier {name}", country, price, capacity, min_t)


CHAIN = Dataset(
    stages=(Stage("oxide", 0, 40.0), Stage("metal", 1, 60.0)),
    offers=(offer("ox_cn", "oxide", "CN", 100.0), offer("ox_au", "oxide", "AU", 150.0, 80.0),
            offer("ox_jp", "oxide", "JP", 170.0, min_t=2.0),
            offer("mt_cn", "metal", "CN", 400.0), offer("mt_jp", "metal", "JP", 450.0, 40.0),
            offer("mt_us", "metal", "US", 480.0)),
    processes=(Process("kr_metal", "oxide", "metal", 0.8, 50.0, 25.0),),
    limits=(Limit("CN", "oxide", max_share=0.5),
            Limit("CN", "metal", max_share=0.4, max_cost_usd_per_pp=30.0),
            Limit("JP", "metal", min_share=0.2)),
)
"""Two stages and a process, a hard max, a soft max and a min share: every kind of row
and column the edits touch (share coefficients, an excess column, bounds both ways)."""


# ---------------------------------------------------------------- helpers

def highs_arrays(solver: HighsSolver) -> dict[str, np.ndarray]:
    """What HiGHS holds: costs, bounds and the dense matrix."""
    model = solver.highs.getLp()
    matrix = model.a_matrix_
    m, n = model.num_row_, model.num_col_
    start, index, value = (np.asarray(matrix.start_), np.asarray(matrix.index_),
                           np.asarray(matrix.value_))
    if matrix.format_ == highspy.MatrixFormat.kRowwise:
        dense = sparse.csr_array((value, index, start), shape=(m, n)).toarray()
    else:
        dense = sparse.csc_array((value, index, start), shape=(m, n)).toarray()
    return {"c": np.asarray(model.col_cost_), "row_lower": np.asarray(model.row_lower_),
            "row_upper": np.asarray(model.row_upper_), "col_lower": np.asarray(model.col_lower_),
            "col_upper": np.asarray(model.col_upper_), "A": dense}


def copy_arrays(lp: LinearProgram) -> dict[str, np.ndarray]:
    return {"c": lp.c.copy(), "row_lower": lp.row_lower.copy(), "row_upper": lp.row_upper.copy(),
            "col_lower": lp.col_lower.copy(), "col_upper": lp.col_upper.copy(),
            "A": lp.A.toarray()}


def assert_same(left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> None:
    for key in left:
        np.testing.assert_array_equal(left[key], right[key], err_msg=key)


def assert_in_step(solver: HighsSolver) -> None:
    """The copy equals HiGHS, and the cached |A| equals the copy's |A|."""
    assert_same(copy_arrays(solver.lp), highs_arrays(solver))
    if "magnitude" in solver.lp.__dict__:
        np.testing.assert_array_equal(solver.lp.magnitude.toarray(), abs(solver.lp.A).toarray())


def basis_of(solver: HighsSolver) -> tuple[list[int], list[int]]:
    basis = solver.basis()
    return [int(s) for s in basis.col_status], [int(s) for s in basis.row_status]


BUILT = {}   # solver id → the model its LP was compiled from


@pytest.fixture
def solved() -> HighsSolver:
    """CHAIN compiled and solved to optimality, |A| cached (as after verification)."""
    built = create_model(CHAIN)
    lp = compile_lp(built.model)
    solver = HighsSolver(lp)
    BUILT[id(solver)] = built
    assert solver.solve().status is SolveStatus.OPTIMAL
    _ = lp.magnitude
    assert_in_step(solver)
    return solver


def placed_rows(solver: HighsSolver):
    """The share rows of the fixture's LP: hard max, soft max, min (CHAIN's order)."""
    return share_columns(BUILT[id(solver)], solver.lp)


# ---------------------------------------------------------------- permanent edits

def test_set_costs_changes_copy_and_highs(solved):
    cols = np.array([3, 0, 2])
    solved.set_costs(cols, [11.0, 12.0, 13.0])
    assert_in_step(solved)
    assert solved.lp.c[cols].tolist() == [11.0, 12.0, 13.0]
    solved.set_costs(1, 7.5)      # one column, one value
    assert_in_step(solved)
    assert solved.lp.c[1] == 7.5


def test_set_row_bounds_changes_copy_and_highs(solved):
    solved.set_row_bounds([0, 1], [5.0, -INF], [INF, 3.0])
    assert_in_step(solved)
    assert (solved.lp.row_lower[0], solved.lp.row_upper[1]) == (5.0, 3.0)
    solved.set_row_bounds(np.arange(solved.lp.shape[0]), -INF, INF)   # one pair for all
    assert_in_step(solved)
    assert np.all(np.isinf(solved.lp.row_lower))


def test_set_col_bounds_changes_copy_and_highs(solved):
    solved.set_col_bounds([2, 4], 0.0, [1.0, 2.0])
    assert_in_step(solved)
    assert solved.lp.col_upper[[2, 4]].tolist() == [1.0, 2.0]


def test_set_coefficients_changes_copy_highs_and_magnitude(solved):
    (hard, *_) = placed_rows(solved)
    # an existing entry (the share's −σ), a new entry, and an entry set to 0
    solved.set_coefficients(hard.lp_row, hard.total, -0.3)
    assert_in_step(solved)
    assert solved.lp.entry(hard.lp_row, hard.total) == -0.3
    absent = next(j for j in range(solved.lp.shape[1]) if solved.lp.entry(hard.lp_row, j) == 0.0)
    solved.set_coefficients([hard.lp_row, hard.lp_row], [absent, hard.group], [2.5, 0.0])
    assert_in_step(solved)   # HiGHS drops the 0; the copy keeps it as an explicit 0
    assert solved.lp.entry(hard.lp_row, absent) == 2.5
    residual_scale = solved.lp.magnitude   # rebuilt after the new entry: still |A|
    np.testing.assert_array_equal(residual_scale.toarray(), abs(solved.lp.A).toarray())


def test_set_coefficients_broadcasts_one_value_over_rows(solved):
    placed = placed_rows(solved)
    solved.set_coefficients([p.lp_row for p in placed], [p.total for p in placed], -0.25)
    assert_in_step(solved)
    assert all(solved.lp.entry(p.lp_row, p.total) == -0.25 for p in placed)


def test_a_bad_index_raises_instead_of_drifting(solved):
    with pytest.raises(RuntimeError, match="HiGHS"):
        solved.set_costs([0, 0], [1.0, 2.0])       # HiGHS refuses a repeated index


# ---------------------------------------------------------------- temporary edits

def edit_everything(edits, solver: HighsSolver) -> None:
    hard, soft, _ = placed_rows(solver)
    edits.set_costs([0, 3], [1.0, 2.0])
    edits.set_row_bounds(hard.lp_row, -INF, INF)
    edits.set_col_bounds(soft.excess, 0.0, 0.0)
    edits.set_coefficients(soft.lp_row, soft.total, -0.9)
    edits.set_costs(0, 5.0)                       # the same column twice: undone in order


def test_temporary_changes_highs_only_and_restores_values_and_basis(solved):
    before, basis, objective = copy_arrays(solved.lp), basis_of(solved), solved.objective()
    with solved.temporary() as edits:
        edit_everything(edits, solved)
        assert_same(copy_arrays(solved.lp), before)      # the copy keeps the model
        inside = highs_arrays(solved)
        assert inside["c"][[0, 3]].tolist() == [5.0, 2.0]
        assert not np.array_equal(inside["A"], before["A"])
        assert solved.run(presolve=False)[0] is SolveStatus.OPTIMAL
    assert_same(copy_arrays(solved.lp), before)
    assert_in_step(solved)
    assert basis_of(solved) == basis
    assert solved.run(presolve=False) == (SolveStatus.OPTIMAL, 0)
    assert solved.objective() == pytest.approx(objective, rel=1e-12)


def test_temporary_without_resolve_leaves_the_basis_for_a_warm_solve(solved):
    basis, objective = basis_of(solved), solved.objective()
    with solved.temporary(resolve=False) as edits:
        edit_everything(edits, solved)
        solved.run(presolve=False)
    assert_in_step(solved)
    assert basis_of(solved) == basis
    assert solved.run(presolve=False) == (SolveStatus.OPTIMAL, 0)
    assert solved.objective() == pytest.approx(objective, rel=1e-12)


def test_temporary_in_copy_moves_both_and_restores_both(solved):
    before, basis = copy_arrays(solved.lp), basis_of(solved)
    soft = placed_rows(solved)[1]
    with solved.temporary(in_copy=True) as edits:
        edit_everything(edits, solved)
        assert_in_step(solved)
        assert solved.lp.entry(soft.lp_row, soft.total) == -0.9
        solved.run(presolve=False)
    assert_same(copy_arrays(solved.lp), before)
    assert_in_step(solved)
    assert basis_of(solved) == basis
    assert solved.run(presolve=False) == (SolveStatus.OPTIMAL, 0)


def test_temporary_restores_on_error_and_to_a_given_basis(solved):
    before, basis = copy_arrays(solved.lp), solved.basis()

    def failing() -> None:
        with solved.temporary(basis=basis) as edits:
            edits.set_costs([1, 2], 0.0)
            solved.clear_basis()
            raise KeyError("fails inside the block")

    with pytest.raises(KeyError):
        failing()
    assert_same(copy_arrays(solved.lp), before)
    assert_in_step(solved)
    assert solved.run(presolve=False) == (SolveStatus.OPTIMAL, 0)


def test_permanent_edits_and_nesting_are_refused_inside_a_temporary_block(solved):
    with solved.temporary() as edits:
        with pytest.raises(RuntimeError, match="permanent"):
            solved.set_costs(0, 1.0)
        with pytest.raises(RuntimeError, match="nest"), solved.temporary():
            pass
    with pytest.raises(RuntimeError, match="ended"):
        edits.set_costs(0, 1.0)
    assert_in_step(solved)


# ---------------------------------------------------------------- share rows

def test_share_columns_are_the_rows_coefficients():
    built = create_model(CHAIN)
    lp = compile_lp(built.model)
    placed = share_columns(built, lp)
    assert [p.share_row for p in placed] == built.share_rows
    for p in placed:
        row = sparse.csr_array(lp.A)[[p.lp_row]].toarray().ravel()
        expected = {p.group: 1.0, p.total: -p.share_row.share}
        if p.excess is not None:
            expected[p.excess] = -1.0 if p.share_row.bound is Bound.MAX else 1.0
        assert {j: row[j] for j in np.flatnonzero(row)} == expected
        assert (p.excess is not None) == (p.share_row.penalty_usd_per_pp is not None)


# ---------------------------------------------------------------- call sites

def test_engine_leaves_the_lp_in_step_and_the_basis_optimal():
    result, solver = start(CHAIN, None)
    result = finish(result, solver, None, sensitivity=True, context=True)
    assert result.optimal
    assert result.unconstrained is not None
    assert result.other_zone_objective is not None
    assert_in_step(solver)
    assert solver.lp is result.lp
    assert solver.run(presolve=False) == (SolveStatus.OPTIMAL, 0)
    assert solver.objective() == pytest.approx(result.solution.objective, rel=1e-12)


def test_variants_write_numbers_into_both():
    variants = VariantSolver()
    variants.solve(CHAIN)
    cheaper = replace(CHAIN, offers=tuple(o if o.offer != "mt_jp" else
                                          offer("mt_jp", "metal", "JP", 390.0, 45.0)
                                          for o in CHAIN.offers),
                      limits=(Limit("CN", "oxide", max_share=0.45), *CHAIN.limits[1:]))
    result = variants.solve(cheaper)
    assert variants.reused == 1
    assert result.optimal
    (_, solver), = variants.models.values()
    assert_in_step(solver)
    hard = share_columns(result.built, solver.lp)[0]
    assert solver.lp.entry(hard.lp_row, hard.total) == -0.45


def test_sweep_moves_the_cap_in_both():
    sweep = CapSweep(CHAIN, [CapTarget("CN", "oxide")])
    soft = [p.excess for p in share_columns(sweep.horizon.slices[0], sweep.lp)
            if p.excess is not None]
    assert soft
    assert all(sweep.lp.col_upper[j] == 0.0 for j in soft)
    for cap in (0.45, 0.2, 0.0):
        sweep.solve_at((cap,))
        assert_in_step(sweep.solver)
        (row, total, _), = sweep.rows[0]
        assert sweep.lp.entry(row, total) == -cap


def test_conflict_filter_leaves_the_model_lp_alone():
    lp = compile_lp(create_model(CHAIN).model)
    before = copy_arrays(lp)
    rows = list(range(lp.shape[0]))
    conflicts = ConflictFilter(lp, rows)
    conflicts._infeasible(set())
    conflicts._infeasible({0})
    assert_same(copy_arrays(lp), before)
    assert_in_step(conflicts.solver)
