"""The one module that talks to HiGHS (``highspy``); its quirks stay here.

Path: the Pyomo model is compiled to matrix form with Pyomo's
``LinearStandardFormCompiler`` (``mixed_form=True``: rows keep their sense) and
passed to a ``highspy.Highs`` object that this module owns, so row and column
maps, ranging, IIS and warm re-solves need no private Pyomo attributes.

Sign convention (pinned by tests): duals are ∂objective/∂(right-hand side) in
the model's own sense. For this minimisation a binding ``≥`` row (demand) has a
dual ≥ 0, a binding ``≤`` row (capacity, max share) a dual ≤ 0; a column's dual
is its reduced cost, c_j − Σ_i a_ij y_i.

Versions relied on: pyomo 6.10.1, highspy 1.16 (pinned in pyproject.toml).
Measured facts: HiGHS prints a banner on the first ``Highs()`` of a process,
even before ``output_flag`` can be set, so construction silences stdout; the
IIS needs ``iis_strategy = 6`` (from LP, irreducible) — the default light
strategy returns an empty set.
"""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler
from scipy import sparse

INF = highspy.kHighsInf
IIS_FROM_LP_IRREDUCIBLE = 6
BASIC = int(highspy.HighsBasisStatus.kBasic)
AT_LOWER = int(highspy.HighsBasisStatus.kLower)
AT_UPPER = int(highspy.HighsBasisStatus.kUpper)


class SolveStatus(StrEnum):
    """Typed outcome of a solve; only OPTIMAL carries a plan to read."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    TIME_LIMIT = "time_limit"
    ERROR = "error"


_STATUS = {
    highspy.HighsModelStatus.kOptimal: SolveStatus.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: SolveStatus.INFEASIBLE,
    highspy.HighsModelStatus.kUnbounded: SolveStatus.UNBOUNDED,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: SolveStatus.INFEASIBLE_OR_UNBOUNDED,
    highspy.HighsModelStatus.kTimeLimit: SolveStatus.TIME_LIMIT,
    highspy.HighsModelStatus.kModelEmpty: SolveStatus.OPTIMAL,
}


@dataclass
class LinearProgram:
    """min c·x + offset  s.t.  row_lower ≤ A x ≤ row_upper,  col_lower ≤ x ≤ col_upper."""

    A: sparse.csc_array
    c: np.ndarray
    offset: float
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    rows: list          # ConstraintData per row
    columns: list       # VarData per column

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return self.A.shape

    @cached_property
    def magnitude(self) -> sparse.csc_array:
        """|A| entrywise, for residual scales (cached; ``set_entry`` keeps it in step)."""
        return abs(self.A)

    def set_entry(self, row: int, col: int, value: float) -> None:
        """Change (or add) one matrix entry in place."""
        start, end = self.A.indptr[col], self.A.indptr[col + 1]
        hits = np.flatnonzero(self.A.indices[start:end] == row)
        if hits.size:   # an existing entry: same sparsity, so |A| stays aligned
            self.A.data[start + hits[0]] = value
            if "magnitude" in self.__dict__:
                self.magnitude.data[start + hits[0]] = abs(value)
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sparse.SparseEfficiencyWarning)
            self.A[row, col] = value
        self.__dict__.pop("magnitude", None)

    def row_of(self) -> dict[int, int]:
        """Map id(ConstraintData) → row index."""
        return {id(con): i for i, con in enumerate(self.rows)}

    def column_of(self) -> dict[int, int]:
        """Map id(VarData) → column index."""
        return {id(var): j for j, var in enumerate(self.columns)}


def compile_lp(model: pyo.ConcreteModel) -> LinearProgram:
    """Compile a linear Pyomo model (one objective, minimise) to matrix form."""
    form = LinearStandardFormCompiler().write(model, mixed_form=True)
    rows = [entry.constraint for entry in form.rows]
    if len({id(c) for c in rows}) != len(rows):
        raise ValueError("range constraints are not supported by this adapter")
    sense = np.array([entry.bound_type for entry in form.rows], dtype=np.int8)
    rhs = np.asarray(form.rhs, dtype=float)
    row_lower = np.where(sense <= 0, rhs, -INF)
    row_upper = np.where(sense >= 0, rhs, INF)
    c = np.asarray(form.c.toarray()).ravel() if form.c.shape[0] else np.zeros(len(form.columns))
    col_lower = np.array([-INF if v.lb is None else v.lb for v in form.columns], dtype=float)
    col_upper = np.array([INF if v.ub is None else v.ub for v in form.columns], dtype=float)
    offset = float(form.c_offset[0]) if len(form.c_offset) else 0.0
    matrix = sparse.csc_array(form.A) if form.A.shape[0] else sparse.csc_array(
        (0, len(form.columns)))
    return LinearProgram(matrix, c, offset, row_lower, row_upper, col_lower, col_upper,
                         rows, list(form.columns))


@dataclass
class LpSolution:
    """What a solve returned; arrays are empty unless status is OPTIMAL."""

    status: SolveStatus
    message: str
    objective: float = float("nan")
    col_value: np.ndarray | None = None
    col_dual: np.ndarray | None = None
    row_value: np.ndarray | None = None
    row_dual: np.ndarray | None = None
    col_basis: np.ndarray | None = None
    row_basis: np.ndarray | None = None
    iterations: int = 0


@dataclass
class Ranging:
    """Right-hand-side ranging per row: bounds over which the optimal basis holds.

    Meaningful for nonbasic (binding) rows only: for a basic row HiGHS's values
    are not a range of its bound, so callers derive those from the activity.
    """

    row_down: np.ndarray
    row_up: np.ndarray


@dataclass
class Iis:
    """An irreducible infeasible subset: row and column indices."""

    rows: list[int]
    columns: list[int]


@contextmanager
def _quiet_stdout():
    """Silence C-level stdout (HiGHS's first-construction banner)."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def _new_highs() -> highspy.Highs:
    try:
        with _quiet_stdout():
            highs = highspy.Highs()
    except OSError:  # no usable fd 1 (embedded use): accept the banner
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    return highs


class HighsSolver:
    """A HiGHS instance holding one LP, for solves, re-solves, ranging and IIS."""

    def __init__(self, lp: LinearProgram, time_limit: float | None = None):
        self.lp = lp
        self.highs = _new_highs()
        if time_limit is not None:
            self.highs.setOptionValue("time_limit", float(time_limit))
        self._pass(lp)

    def _pass(self, lp: LinearProgram) -> None:
        model = highspy.HighsLp()
        m, n = lp.shape
        model.num_col_, model.num_row_ = n, m
        model.col_cost_ = lp.c
        model.col_lower_, model.col_upper_ = lp.col_lower, lp.col_upper
        model.row_lower_, model.row_upper_ = lp.row_lower, lp.row_upper
        model.offset_ = lp.offset
        matrix = model.a_matrix_
        matrix.format_ = highspy.MatrixFormat.kColwise
        matrix.start_ = lp.A.indptr.astype(np.int32)
        matrix.index_ = lp.A.indices.astype(np.int32)
        matrix.value_ = lp.A.data.astype(float)
        status = self.highs.passModel(model)
        if status == highspy.HighsStatus.kError:
            raise RuntimeError("HiGHS rejected the model (passModel returned an error)")

    def run(self, presolve: bool = True) -> tuple[SolveStatus, int]:
        """Solve with simplex (a basis is needed for ranging); status and iterations only.

        Cheap for warm re-solves: nothing is copied out of HiGHS.
        """
        self.highs.setOptionValue("presolve", "on" if presolve else "off")
        self.highs.setOptionValue("solver", "simplex")
        run = self.highs.run()
        status = _STATUS.get(self.highs.getModelStatus(), SolveStatus.ERROR)
        if run == highspy.HighsStatus.kError:
            status = SolveStatus.ERROR
        return status, int(self.highs.getInfo().simplex_iteration_count)

    def objective(self) -> float:
        """Objective value of the last solve (offset included)."""
        return float(self.highs.getInfo().objective_function_value)

    def solve(self, presolve: bool = True) -> LpSolution:
        """Solve and read primal and dual values and the basis."""
        status, iterations = self.run(presolve)
        message = self.highs.modelStatusToString(self.highs.getModelStatus())
        info = self.highs.getInfo()
        result = LpSolution(status, message, iterations=iterations)
        if status is not SolveStatus.OPTIMAL and not self._has_primal(info):
            return result
        solution = self.highs.getSolution()
        result.objective = float(info.objective_function_value)
        result.col_value = np.asarray(solution.col_value, dtype=float)
        result.row_value = np.asarray(solution.row_value, dtype=float)
        if status is SolveStatus.OPTIMAL:
            result.col_dual = np.asarray(solution.col_dual, dtype=float)
            result.row_dual = np.asarray(solution.row_dual, dtype=float)
            basis = self.highs.getBasis()
            result.col_basis = np.array([int(s) for s in basis.col_status], dtype=np.int8)
            result.row_basis = np.array([int(s) for s in basis.row_status], dtype=np.int8)
        return result

    @staticmethod
    def _has_primal(info) -> bool:
        return info.primal_solution_status == 2  # kSolutionStatusFeasible

    def ranging(self) -> Ranging:
        """RHS ranging at the current optimal basis."""
        status, rng = self.highs.getRanging()
        if status != highspy.HighsStatus.kOk:
            raise RuntimeError("HiGHS could not compute ranging for this solve")
        return Ranging(np.asarray(rng.row_bound_dn.value_), np.asarray(rng.row_bound_up.value_))

    def iis(self) -> Iis:
        """An irreducible infeasible subset of rows and column bounds."""
        self.highs.setOptionValue("iis_strategy", IIS_FROM_LP_IRREDUCIBLE)
        status, iis = self.highs.getIis()
        if status == highspy.HighsStatus.kError:
            return Iis([], [])
        return Iis(list(iis.row_index_), list(iis.col_index_))

    def set_coefficient(self, row: int, col: int, value: float) -> None:
        """Change one matrix entry (keeps the basis for a warm re-solve)."""
        self.highs.changeCoeff(row, col, value)

    def set_costs(self, cols: np.ndarray, costs: np.ndarray) -> None:
        """Change objective coefficients of ``cols`` (keeps the basis for a warm re-solve)."""
        cols = np.asarray(cols, dtype=np.int32)
        self.highs.changeColsCost(len(cols), cols, np.asarray(costs, dtype=float))

    def set_col_bounds(self, col: int, lower: float, upper: float) -> None:
        """Change one column's bounds (keeps the basis for a warm re-solve)."""
        self.highs.changeColBounds(col, lower, upper)

    def clear_basis(self) -> None:
        """Forget the basis and solution, so the next solve starts cold."""
        self.highs.clearSolver()

    def set_row_bounds(self, row: int, lower: float, upper: float) -> None:
        """Change one row's bounds (keeps the basis for a warm re-solve)."""
        self.highs.changeRowBounds(row, lower, upper)

    def basic_variables(self) -> np.ndarray:
        """Variable in each basis position: column j as j, row i as −1−i."""
        status, index = self.highs.getBasicVariables()
        _check(status, "getBasicVariables")
        return np.asarray(index, dtype=np.int64)

    def basis_solve(self, rhs: np.ndarray) -> np.ndarray:
        """B⁻¹·rhs, indexed by basis position (see ``basic_variables``)."""
        status, values = self.highs.getBasisSolve(np.asarray(rhs, dtype=float))
        _check(status, "getBasisSolve")
        return np.asarray(values, dtype=float)

    def basis_inverse_row(self, position: int) -> np.ndarray:
        """Row ``position`` of B⁻¹, indexed by constraint row."""
        status, values = self.highs.getBasisInverseRow(int(position))
        _check(status, "getBasisInverseRow")
        return np.asarray(values, dtype=float)

    def reduced_row(self, position: int) -> np.ndarray:
        """Row ``position`` of B⁻¹A, indexed by column."""
        status, values = self.highs.getReducedRow(int(position))
        _check(status, "getReducedRow")
        return np.asarray(values, dtype=float)

    def basis(self) -> highspy.HighsBasis:
        """The current basis, to restore with ``set_basis``."""
        return self.highs.getBasis()

    def set_basis(self, basis: highspy.HighsBasis) -> None:
        """Warm-start the next solve from ``basis``."""
        self.highs.setBasis(basis)


def _check(status, call: str) -> None:
    if status == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS {call} failed (no valid basis?)")


def solution_residuals(lp: LinearProgram, sol: LpSolution) -> dict[str, float]:
    """Scaled primal, dual and objective residuals of an optimal solution.

    Computed from the matrix, not from HiGHS's own row activities:
    primal = max bound violation of A x (relative to Σ|a_ij x_j|) and of x;
    dual = max |c − Aᵀy − z| (relative to 1 + max|c| + Σ|a_ij y_i|: a cost's scale is
    the largest cost, so a column whose own terms are tiny — the total T under a cap
    of 1e-9 — is not held to a tolerance finer than the prices) and wrong-signed
    multipliers; gap = |c·x − (bᵀy + boundsᵀz)|, each relative to
    max(1, magnitude of the values involved).
    """
    x, y, z = sol.col_value, sol.row_dual, sol.col_dual
    ax = lp.A @ x
    scale = 1.0 + lp.magnitude @ np.abs(x)   # size of the terms, not of their (cancelling) sum
    primal = max(_violation(ax, lp.row_lower, lp.row_upper, scale),
                 _violation(x, lp.col_lower, lp.col_upper, 1.0 + np.abs(x)))
    stationarity = lp.c - lp.A.T @ y - z
    dual_scale = 1.0 + np.max(np.abs(lp.c), initial=0.0) + lp.magnitude.T @ np.abs(y)
    dual = float(np.max(np.abs(stationarity) / dual_scale, initial=0.0))
    dual = max(dual, _wrong_sign(y, lp.row_lower, lp.row_upper),
               _wrong_sign(z, lp.col_lower, lp.col_upper))
    dual_objective = (_bound_term(y, lp.row_lower, lp.row_upper)
                      + _bound_term(z, lp.col_lower, lp.col_upper) + lp.offset)
    primal_objective = float(lp.c @ x) + lp.offset
    gap = abs(primal_objective - dual_objective) / (1.0 + abs(primal_objective))
    return {"primal": primal, "dual": dual, "gap": gap}


def _violation(values, lower, upper, scale) -> float:
    below = np.where(np.isfinite(lower), lower - values, 0.0)
    above = np.where(np.isfinite(upper), values - upper, 0.0)
    worst = np.maximum(np.maximum(below, above), 0.0) / scale
    return float(np.max(worst, initial=0.0))


def _wrong_sign(multiplier, lower, upper) -> float:
    """Size of multipliers that point at a side with no finite bound."""
    bad = np.where(multiplier > 0, ~np.isfinite(lower), ~np.isfinite(upper))
    return float(np.max(np.abs(multiplier) * bad, initial=0.0))


def _bound_term(multiplier, lower, upper) -> float:
    active = np.where(multiplier > 0, lower, upper)
    active = np.where(np.isfinite(active), active, 0.0)
    return float(multiplier @ active)
