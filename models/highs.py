"""The one module that talks to HiGHS (``highspy``); its quirks stay here.

Path: the Pyomo model is compiled to matrix form with Pyomo's
``LinearStandardFormCompiler`` (``mixed_form=True``: rows keep their sense) and
passed to a ``highspy.Highs`` object that this module owns, so row and column
maps, ranging, IIS and warm re-solves need no private Pyomo attributes.

The solver owns the compiled ``LinearProgram`` it was given (the copy residuals,
ranging and reports read) and is the one place that changes it: each edit is one
call that changes the copy and HiGHS together (``HighsSolver.set_*``), or HiGHS
alone for a while (``HighsSolver.temporary``), values and basis put back after.

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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

import highspy
import numpy as np
import pyomo.core as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from .scipy_sparse import sparse

INF = highspy.kHighsInf
IIS_FROM_LP_IRREDUCIBLE = 6
BASIC = int(highspy.HighsBasisStatus.kBasic)
AT_LOWER = int(highspy.HighsBasisStatus.kLower)
AT_UPPER = int(highspy.HighsBasisStatus.kUpper)
AT_ZERO = int(highspy.HighsBasisStatus.kZero)   # a free nonbasic variable


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

    def entry(self, row: int, col: int) -> float:
        """One matrix entry (0 where the matrix has none)."""
        start, end = self.A.indptr[col], self.A.indptr[col + 1]
        hits = np.flatnonzero(self.A.indices[start:end] == row)
        return float(self.A.data[start + hits[0]]) if hits.size else 0.0

    def set_entry(self, row: int, col: int, value: float) -> None:
        """Change (or add) one matrix entry in place.

        On an LP a ``HighsSolver`` holds, change entries through the solver
        (``set_coefficients``), which keeps HiGHS in step.
        """
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
        """Map id(ConstraintData) → row index (built once; rows never change)."""
        if "_row_of" not in self.__dict__:
            self.__dict__["_row_of"] = {id(con): i for i, con in enumerate(self.rows)}
        return self.__dict__["_row_of"]

    def column_of(self) -> dict[int, int]:
        """Map id(VarData) → column index (built once; columns never change)."""
        if "_column_of" not in self.__dict__:
            self.__dict__["_column_of"] = {id(var): j for j, var in enumerate(self.columns)}
        return self.__dict__["_column_of"]


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
    """A HiGHS instance holding one LP, for solves, re-solves, ranging and IIS.

    The solver owns ``lp``, the copy of the LP that residuals, ranging and reports
    read, and keeps it equal to the model inside HiGHS. Change the LP only through
    the solver, never by writing to ``lp``'s arrays or calling ``highs.change*``:

    - permanent: ``set_costs``, ``set_row_bounds``, ``set_col_bounds`` and
      ``set_coefficients`` change the copy and HiGHS together;
    - temporary: inside ``with solver.temporary() as edits``, the same methods of
      ``edits`` change HiGHS only (the copy keeps the model's values; with
      ``in_copy=True`` the copy follows too), and on leaving every changed value is
      put back and the basis restored, so a warm re-solve takes no iteration.

    Every edit keeps the basis, so the next solve is warm.
    """

    def __init__(self, lp: LinearProgram, time_limit: float | None = None):
        self.lp = lp
        self._edits: TemporaryEdits | None = None   # open ``temporary`` block, if any
        self._basis_rows: dict[tuple[str, int], np.ndarray] = {}   # see ``_basis_row``
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
        self._basis_rows.clear()
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
            result.col_basis, result.row_basis = self._statuses(result)
        return result

    def _statuses(self, solution: LpSolution) -> tuple[np.ndarray, np.ndarray]:
        """Basis status of every column and row: basic as HiGHS's basic variables say, a
        nonbasic one at the bound its value sits at (the nearer; free: zero). Read this
        way it costs a tenth of converting HiGHS's status lists (~2 ms a solve on the
        shipped plan), which grids and re-solves pay at every point; the bounds are the
        copy's, so inside a ``temporary`` block that leaves the copy alone, HiGHS's lists."""
        if self._edits is not None and not self._edits.in_copy:
            basis = self.highs.getBasis()
            return (np.array([int(s) for s in basis.col_status], dtype=np.int8),
                    np.array([int(s) for s in basis.row_status], dtype=np.int8))
        lp, basic = self.lp, self.basic_variables()
        cols = _nonbasic_side(solution.col_value, lp.col_lower, lp.col_upper)
        rows = _nonbasic_side(solution.row_value, lp.row_lower, lp.row_upper)
        cols[basic[basic >= 0]] = BASIC
        rows[-1 - basic[basic < 0]] = BASIC
        return cols, rows

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

    # -- permanent edits: the LP copy and HiGHS together ----------------------------------
    def set_costs(self, cols, costs) -> None:
        """Change objective coefficients of ``cols`` (``costs``: one per column, or one
        for all)."""
        self._permanent()
        cols, (costs,) = _edit(cols, costs)
        self._apply(_COST, cols, (costs,), in_copy=True)

    def set_row_bounds(self, rows, lower, upper) -> None:
        """Change the bounds of ``rows`` (``lower``/``upper``: one per row, or one for all)."""
        self._permanent()
        rows, bounds = _edit(rows, lower, upper)
        self._apply(_ROW, rows, bounds, in_copy=True)

    def set_col_bounds(self, cols, lower, upper) -> None:
        """Change the bounds of ``cols`` (``lower``/``upper``: one per column, or one for all)."""
        self._permanent()
        cols, bounds = _edit(cols, lower, upper)
        self._apply(_COL, cols, bounds, in_copy=True)

    def set_coefficients(self, rows, cols, values) -> None:
        """Change matrix entries (rows[k], cols[k]) to values[k]; each argument may be
        one number for all. An entry not in the matrix is added; HiGHS drops an entry
        set to 0, the copy keeps it as an explicit 0 (same LP)."""
        self._permanent()
        where, (values,) = _entries(rows, cols, values)
        self._apply(_COEFFICIENT, where, (values,), in_copy=True)

    # -- temporary edits: HiGHS only, undone on leaving ------------------------------------
    @contextmanager
    def temporary(self, basis: highspy.HighsBasis | None = None, resolve: bool = True,
                  in_copy: bool = False) -> Iterator[TemporaryEdits]:
        """Change the LP for a while: ``edits.set_*`` (same arguments as the permanent
        methods) reach HiGHS only, or the copy too with ``in_copy`` (for code that
        reads the matrix at the changed point). On leaving, also on an error, every
        changed value is put back in HiGHS (and the copy), last change first, and
        ``basis`` (default: the basis on entering) is set; then, unless ``resolve``
        is off or an error is raised, HiGHS re-solves warm from it (no iteration),
        so the basis is factored again and the solution is the model's.

        Permanent edits inside the block are refused (leaving would undo them in
        HiGHS only), and blocks do not nest.
        """
        if self._edits is not None:
            raise RuntimeError("temporary() blocks do not nest")
        restore = self.basis() if basis is None else basis
        self._edits = edits = TemporaryEdits(self, in_copy)
        try:
            yield edits
        finally:
            self._edits = None
            edits._undo()
            if restore.valid:
                self.set_basis(restore)
            else:
                self.clear_basis()
        if resolve:
            self.run(presolve=False)

    def _permanent(self) -> None:
        if self._edits is not None:
            raise RuntimeError("a permanent LP edit inside solver.temporary() would be undone "
                               "in HiGHS only on leaving; edit through the block's object")

    def _current(self, kind: str, index) -> tuple[np.ndarray, ...]:
        """The copy's values of ``kind`` at ``index`` (what HiGHS holds outside a block)."""
        lp = self.lp
        if kind == _COST:
            return (lp.c[index].copy(),)
        if kind == _ROW:
            return lp.row_lower[index].copy(), lp.row_upper[index].copy()
        if kind == _COL:
            return lp.col_lower[index].copy(), lp.col_upper[index].copy()
        rows, cols = index
        return (np.array([lp.entry(i, j) for i, j in zip(rows.tolist(), cols.tolist(),
                                                        strict=True)], dtype=float),)

    def _apply(self, kind: str, index, values: tuple[np.ndarray, ...], in_copy: bool) -> None:
        """Write one edit to HiGHS and, with ``in_copy``, to the copy."""
        self._basis_rows.clear()
        lp, highs = self.lp, self.highs
        if kind == _COEFFICIENT:
            rows, cols = index
            for i, j, v in zip(rows.tolist(), cols.tolist(), values[0].tolist(), strict=True):
                _check(highs.changeCoeff(i, j, v), "changeCoeff")
                if in_copy:
                    lp.set_entry(i, j, v)
            return
        if index.size == 0:
            return
        n = index.size
        index32 = index.astype(np.int32)
        if kind == _COST:
            _check(highs.changeColsCost(n, index32, values[0]), "changeColsCost")
            if in_copy:
                lp.c[index] = values[0]
        elif kind == _ROW:
            _check(highs.changeRowsBounds(n, index32, *values), "changeRowsBounds")
            if in_copy:
                lp.row_lower[index], lp.row_upper[index] = values
        else:
            _check(highs.changeColsBounds(n, index32, *values), "changeColsBounds")
            if in_copy:
                lp.col_lower[index], lp.col_upper[index] = values

    def clear_basis(self) -> None:
        """Forget the basis and solution, so the next solve starts cold."""
        self._basis_rows.clear()
        self.highs.clearSolver()

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
        """Row ``position`` of B⁻¹, indexed by constraint row (read-only)."""
        return self._basis_row("getBasisInverseRow", int(position))

    def reduced_row(self, position: int) -> np.ndarray:
        """Row ``position`` of B⁻¹A, indexed by column (read-only)."""
        return self._basis_row("getReducedRow", int(position))

    def _basis_row(self, method: str, position: int) -> np.ndarray:
        """A row of B⁻¹ or B⁻¹A from HiGHS, kept until the basis or the LP changes: the
        share limits of one stage all ask for the row of that stage's total."""
        key = (method, position)
        if key not in self._basis_rows:
            status, values = getattr(self.highs, method)(position)
            _check(status, method)
            row = np.asarray(values, dtype=float)
            row.setflags(write=False)
            self._basis_rows[key] = row
        return self._basis_rows[key]

    def basis(self) -> highspy.HighsBasis:
        """The current basis, to restore with ``set_basis``."""
        return self.highs.getBasis()

    def set_basis(self, basis: highspy.HighsBasis) -> None:
        """Warm-start the next solve from ``basis``."""
        self._basis_rows.clear()
        self.highs.setBasis(basis)


def _check(status, call: str) -> None:
    if status == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS {call} failed (no valid basis, or a bad index?)")


_COST, _ROW, _COL, _COEFFICIENT = "cost", "row bounds", "column bounds", "coefficient"


class TemporaryEdits:
    """The edits of one ``HighsSolver.temporary`` block, undone when it ends."""

    def __init__(self, solver: HighsSolver, in_copy: bool):
        self._solver, self.in_copy = solver, in_copy
        self._saved: list[tuple[str, object, tuple[np.ndarray, ...]]] = []
        self._open = True

    def set_costs(self, cols, costs) -> None:
        """As ``HighsSolver.set_costs``, until the block ends."""
        cols, values = _edit(cols, costs)
        self._change(_COST, cols, values)

    def set_row_bounds(self, rows, lower, upper) -> None:
        """As ``HighsSolver.set_row_bounds``, until the block ends."""
        rows, bounds = _edit(rows, lower, upper)
        self._change(_ROW, rows, bounds)

    def set_col_bounds(self, cols, lower, upper) -> None:
        """As ``HighsSolver.set_col_bounds``, until the block ends."""
        cols, bounds = _edit(cols, lower, upper)
        self._change(_COL, cols, bounds)

    def set_coefficients(self, rows, cols, values) -> None:
        """As ``HighsSolver.set_coefficients``, until the block ends."""
        where, values = _entries(rows, cols, values)
        self._change(_COEFFICIENT, where, values)

    def _change(self, kind: str, index, values: tuple[np.ndarray, ...]) -> None:
        if not self._open:
            raise RuntimeError("this temporary() block has ended")
        # saved before applying: a failed HiGHS call may have changed some entries
        self._saved.append((kind, index, self._solver._current(kind, index)))
        self._solver._apply(kind, index, values, self.in_copy)

    def _undo(self) -> None:
        """Put back every changed value, last change first (the copy holds the model's
        values unless ``in_copy``, when the saved values are what it held)."""
        self._open = False
        for kind, index, values in reversed(self._saved):
            self._solver._apply(kind, index, values, self.in_copy)
        self._saved.clear()


def _edit(index, *values) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Indices as an int64 array and each value array broadcast to one per index."""
    index = np.atleast_1d(np.asarray(index, dtype=np.int64))
    return index, tuple(np.array(np.broadcast_to(np.asarray(v, dtype=float), index.shape))
                        for v in values)


def _entries(rows, cols, values) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray]]:
    """Matrix positions and values, broadcast together to one value per position."""
    rows, cols, values = (np.atleast_1d(a) for a in np.broadcast_arrays(
        np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64),
        np.asarray(values, dtype=float)))
    return (rows.ravel(), cols.ravel()), (values.ravel().astype(float),)


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


def _nonbasic_side(values: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The status a nonbasic entry has at ``values``: at upper where that bound is the
    nearer one, at lower otherwise (a fixed entry: lower), zero where both are infinite."""
    with np.errstate(invalid="ignore"):
        nearer_upper = np.abs(upper - values) < np.abs(values - lower)
    side = np.where(nearer_upper, AT_UPPER, AT_LOWER).astype(np.int8)
    side[~np.isfinite(lower) & ~np.isfinite(upper)] = AT_ZERO
    return side
