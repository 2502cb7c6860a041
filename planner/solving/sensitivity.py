"""Marginal-cost analysis at an optimal basis (SPEC §4).

- Right-hand-side rows (demand, capacities, minimums): the dual is the rate;
  HiGHS RHS ranging gives the interval over which the optimal basis, and so the
  rate, holds.
- Share limits ``G − σ·T ≤ 0``: σ multiplies the total T, so
  d(cost)/dσ = dual · T*, and the rate per percentage point of tightening is
  ``−dual · T* / 100`` for a max share (``+dual · T* / 100`` for a min share).
  The basis holds over an interval of σ found by moving σ itself (one matrix
  coefficient) and re-solving warm: the HiGHS RHS range, converted at fixed T*,
  is the first guess, then bisection on "same optimal basis" refines it to 1e-7.
- A rate is marked not unique when the basis changes right at the current value
  on one side (degenerate optimum): the one-sided rates there differ, and both
  are reported, measured by re-solving with the right-hand side moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from planner.models.highs import (
    AT_LOWER,
    AT_UPPER,
    BASIC,
    INF,
    HighsSolver,
    LinearProgram,
    LpSolution,
    SolveStatus,
    TemporaryEdits,
)

SHARE_TOLERANCE = 1e-7
RANGE_TOLERANCE = 1e-9
MOVE_TOLERANCE = 1e-12  # directions below this are solver noise
ONE_SIDED_BUDGET = 40  # re-solves spent on degenerate rows; beyond it uniqueness is unknown


@dataclass(frozen=True)
class RowRate:
    """Rate of one row's right-hand side and where it holds (in the row's own units)."""

    dual: float
    valid_from: float
    valid_to: float
    unique: bool | None   # None: degenerate here, but past the re-solve budget
    rate_down: float      # d(cost)/d(rhs) when the rhs decreases
    rate_up: float        # d(cost)/d(rhs) when the rhs increases


@dataclass(frozen=True)
class ShareRange:
    """Interval of the share value over which the optimal basis holds, and the
    one-sided rates d(cost)/dσ (USD per unit share) where it ends at σ itself, with
    the interval over which each one-sided rate holds (None: not measured)."""

    valid_from: float
    valid_to: float
    unique: bool
    rate_down: float
    rate_up: float
    range_down: tuple[float, float] | None = None
    range_up: tuple[float, float] | None = None


class Sensitivity:
    """Ranging and one-sided rates on a solved ``HighsSolver`` (restores it after)."""

    def __init__(self, solver: HighsSolver, lp: LinearProgram, solution: LpSolution):
        if lp is not solver.lp:
            raise ValueError("Sensitivity needs the LP copy the solver holds (solver.lp)")
        self.solver, self.lp, self.solution = solver, lp, solution
        self.base_basis = solver.basis()
        self.ranging = solver.ranging()
        self.solver.highs.setOptionValue("presolve", "off")
        self.budget = ONE_SIDED_BUDGET
        self.basic = solver.basic_variables()

    def row_rates(self, rows: list[int]) -> dict[int, RowRate]:
        """Dual, RHS range and uniqueness of each ``≤``/``≥`` row, by LP row index.

        Vectorised over the rows; only degenerate rows (the basis changes right at
        the current value on one side) are re-solved, in the order given, within
        the budget.
        """
        index = np.asarray(rows, dtype=np.int64)
        sol, lp = self.solution, self.lp
        lower, upper = lp.row_lower[index], lp.row_upper[index]
        rhs = np.where(np.isfinite(lower), lower, upper)
        activity = sol.row_value[index]
        dual = np.where(sol.row_basis[index] == BASIC, 0.0, sol.row_dual[index])
        basic = sol.row_basis[index] == BASIC
        scale = RANGE_TOLERANCE * np.maximum(1.0, np.abs(rhs))
        slack = basic & (np.abs(activity - rhs) > scale)
        upper_row = np.isfinite(upper)
        # slack or basic-at-bound rows: free from their activity to the loose side
        low = np.where(basic, np.where(upper_row, activity, -INF), self.ranging.row_down[index])
        high = np.where(basic, np.where(upper_row, INF, activity), self.ranging.row_up[index])
        collapsed_down = ~slack & (rhs - low <= scale)
        collapsed_up = ~slack & (high - rhs <= scale)
        rates = {}
        for k, row in enumerate(index.tolist()):
            d, lo, hi = float(dual[k]), float(low[k]), float(high[k])
            down, up = bool(collapsed_down[k]), bool(collapsed_up[k])
            if not (down or up):
                rates[row] = RowRate(d, lo, hi, True, d, d)
            elif self.budget <= 0:
                rates[row] = RowRate(d, lo, hi, None, d, d)
            else:
                self.budget -= down + up
                step = 1e-4 * max(1.0, abs(float(rhs[k])))
                rate_down = self._rhs_rate(row, -step) if down else d
                rate_up = self._rhs_rate(row, step) if up else d
                unique = _close(rate_down, d) and _close(rate_up, d)
                rates[row] = RowRate(d, lo, hi, unique, rate_down, rate_up)
        return rates

    def _rhs_rate(self, row: int, step: float) -> float:
        """Finite-difference rate d(cost)/d(rhs) over [rhs, rhs + step]."""
        lower, upper = self.lp.row_lower[row], self.lp.row_upper[row]
        moved_lower = lower + step if np.isfinite(lower) else lower
        moved_upper = upper + step if np.isfinite(upper) else upper
        objective = self._resolve_with(
            lambda edits: edits.set_row_bounds(row, moved_lower, moved_upper))
        return _rate(objective, self.solution.objective, step)

    def unmet_demand_rate(self, row: int, unmet_col: int) -> RowRate:
        """Rate of the demand of a balance ``row`` whose unmet demand u (column
        ``unmet_col``, bounded by the demand) sits at that bound: all of it unmet, or none
        there. More demand raises u's bound with the row, so the row's own dual (which
        holds u's bound fixed) does not price it; the one-sided rates are measured by
        re-solving with both moved, at the current demand (the range is that point; no
        demand: from above only). Past the re-solve budget: the basis's rate for that
        move, uniqueness unknown: the row's dual, plus u's reduced cost where that is
        negative (u rises with its bound; otherwise u stays and the row's dual holds)."""
        demand = float(self.lp.row_lower[row])
        sol = self.solution
        basis_rate = float(sol.row_dual[row] + min(0.0, sol.col_dual[unmet_col]))
        if self.budget <= 0:
            return RowRate(basis_rate, demand, demand, None, basis_rate, basis_rate)
        step = 1e-4 * max(1.0, abs(demand))
        rate_up = self._demand_rate(row, unmet_col, step)
        rate_down = self._demand_rate(row, unmet_col, -step) if demand >= step else rate_up
        self.budget -= 1 + (demand >= step)
        unique = _close(rate_down, rate_up)
        rate = (rate_down + rate_up) / 2 if unique else basis_rate
        return RowRate(rate, demand, demand, unique, rate_down, rate_up)

    def _demand_rate(self, row: int, unmet_col: int, step: float) -> float:
        """d(cost)/d(demand) over [demand, demand + step], the balance row's bound and
        u's upper bound moved together."""
        lower, upper = self.lp.row_lower[row], self.lp.row_upper[row]
        low_col, high_col = self.lp.col_lower[unmet_col], self.lp.col_upper[unmet_col]

        def move(edits: TemporaryEdits) -> None:
            edits.set_row_bounds(row, lower + step, upper)
            edits.set_col_bounds(unmet_col, low_col, high_col + step)

        return _rate(self._resolve_with(move), self.solution.objective, step)

    def whole_costs(self, rows: list[int]) -> dict[int, float | None]:
        """What the rule of each row costs in total: the optimum with the row removed,
        subtracted from the optimum with it (≥ 0); None if the plan without it fails.
        One warm re-solve per row, each from the optimal basis; the optimal basis is
        factored again once, after the last."""
        costs = {}
        for row in rows:
            without = self._resolve_with(
                lambda edits, row=row: edits.set_row_bounds(row, -INF, INF), restore=False)
            costs[row] = None if without is None else self.solution.objective - without
        if rows:
            self.solver.run(presolve=False)
        return costs

    def _resolve_with(self, change: Callable[[TemporaryEdits], None],
                      restore: bool = True) -> float | None:
        """Objective after ``change`` (a temporary edit, warm from the optimal basis; None
        if not optimal); leaving the edit sets the optimal basis back and, with
        ``restore``, re-solves so that basis is factored again and the solution is the
        plan's (without: the caller re-solves before reading the solver)."""
        with self.solver.temporary(basis=self.base_basis, resolve=restore) as edits:
            change(edits)
            self.solver.set_basis(self.base_basis)
            status, _ = self.solver.run(presolve=False)
            return self.solver.objective() if status is SolveStatus.OPTIMAL else None

    def share_range(self, row: int, total_col: int, share: float) -> ShareRange:
        """Interval of σ (the coefficient −σ of T in ``row``) with the same optimal basis.

        Exact, from the basis: moving σ changes one entry of B (T's column in the
        limit row), so by Sherman–Morrison every basic value and every reduced cost
        is linear in τ = δ/(1 + δ·u_k), δ = σ − σ', u = B⁻¹e_row, k = T's position:

            x_B(τ) = x_B − τ·x_T·u,    y(τ) = y − τ·y_row·(e_kᵀB⁻¹),
            d_j(τ) = d_j + τ·y_row·(B⁻¹A)_kj.

        The basis stays optimal while these keep their bounds and signs; the ends
        in τ map back to σ. Where an end is σ itself (degenerate optimum) the
        one-sided rates are measured by re-solving.
        """
        piece = basis_share_interval(self.solver, self.lp, self.solution, self.basic, row,
                                     total_col, share)
        rate, (low, high) = piece.rate, piece.interval   # rate: d(cost)/dσ at the basis
        step = 1e-5
        (rate_down, range_down), (rate_up, range_up) = (rate, None), (rate, None)
        if share - low <= SHARE_TOLERANCE and share > 0:
            rate_down, range_down = self._share_rate(row, total_col, share, -min(step, share))
        if high - share <= SHARE_TOLERANCE and share < 1:
            rate_up, range_up = self._share_rate(row, total_col, share, min(step, 1 - share))
        unique = _close(rate_down, rate) and _close(rate_up, rate)
        return ShareRange(low, high, unique, rate_down, rate_up, range_down, range_up)

    def _share_rate(self, row: int, col: int, share: float,
                    step: float) -> tuple[float, tuple[float, float] | None]:
        """One-sided d(cost)/dσ at σ toward σ + step: the derivative at σ of the cost
        function of the basis optimal at σ + step (exact, no difference quotient), and
        the interval of σ over which that basis holds; ±∞ (and no interval) when no
        plan exists there or that function does not meet the optimum at σ (the cost
        jumps at σ)."""
        base = self.solution.objective
        # in the copy too: the interval of the moved basis reads the matrix at σ + step
        with self.solver.temporary(basis=self.base_basis, in_copy=True) as edits:
            edits.set_coefficients(row, col, -(share + step))
            self.solver.set_basis(self.base_basis)
            moved = self.solver.solve(presolve=False)
            rate, interval = _rate(None, base, step), None
            if moved.status is SolveStatus.OPTIMAL:
                piece = basis_share_interval(self.solver, self.lp, moved,
                                             self.solver.basic_variables(), row, col,
                                             share + step)
                if abs(piece.cost_at(share) - base) > 1e-9 * max(1.0, abs(base)):   # a jump
                    rate = INF if (moved.objective - base) / step > 0 else -INF
                else:
                    rate, interval = piece.rate_at(share), piece.interval
        return rate, interval


@dataclass(frozen=True)
class SharePiece:
    """The optimal cost as a function of a share limit σ' while one basis stays optimal.

    With δ = σ − σ' (σ the share the basis was found at), by Sherman–Morrison the cost
    is linear in τ = δ/(1 + δ·u_k), so it is linear-fractional in σ':

        cost(σ') = cost(σ) − rate·δ/(1 + δ·u_k),   rate = d(cost)/dσ at σ = dual·T*.
    """

    share: float
    cost: float
    rate: float
    u_k: float
    interval: tuple[float, float]   # σ' over which the basis stays optimal, within [0, 1]
    # columns' move per unit τ, −x_T·B⁻¹e_row (None: T nonbasic, nothing moves)
    column_move: np.ndarray | None = field(default=None, repr=False, compare=False)

    def columns_at(self, values: np.ndarray, share: float) -> np.ndarray:
        """Column ``values`` (the basis's solution at ``self.share``) moved to ``share``."""
        if self.column_move is None:
            return values
        delta = self.share - share
        return values + delta / (1.0 + delta * self.u_k) * self.column_move

    def cost_at(self, share: float) -> float:
        """Optimal cost at ``share`` (inside ``interval``; +∞ at or past the pole
        1 + δ·u_k = 0, where this basis can no longer hold)."""
        delta = self.share - share
        denominator = 1.0 + delta * self.u_k
        return self.cost - self.rate * delta / denominator if denominator > 0 else INF

    def rate_at(self, share: float) -> float:
        """d(cost)/dσ' at ``share`` (inside ``interval``; ±∞ at or past the pole)."""
        delta = self.share - share
        denominator = 1.0 + delta * self.u_k
        if denominator <= 0:
            return -INF if self.rate < 0 else INF
        return self.rate / denominator ** 2


def basis_share_interval(solver: HighsSolver, lp: LinearProgram, solution: LpSolution,
                         basic: np.ndarray, row: int, total_col: int,
                         share: float) -> SharePiece:
    """Interval of σ (the coefficient −σ of T in ``row``) with the same optimal basis,
    and the cost function over it (see ``SharePiece``).

    T nonbasic (at 0: nothing flows into the stage): B does not change with σ, so
    neither do the plan and the cost; only T's reduced cost moves,
    d_T(σ') = d_T + y_row·(σ' − σ), and the basis holds while it stays ≥ 0. Past
    that point supply into the stage pays, and the cost may drop at once.
    """
    positions = np.flatnonzero(basic == total_col)
    if positions.size == 0:
        return SharePiece(share, solution.objective, 0.0, 0.0,
                          _idle_interval(solution, row, total_col, share))
    k = int(positions[0])
    (tau_low, tau_high), u_k, column_move = _tau_interval(solver, lp, solution, basic, row, k,
                                                          total_col)
    low = max(0.0, share - _delta(tau_high, u_k))
    high = min(1.0, share - _delta(tau_low, u_k))
    rate = float(solution.row_dual[row]) * float(solution.col_value[total_col])
    return SharePiece(share, solution.objective, rate, u_k, (low, high), column_move)


def _idle_interval(solution: LpSolution, row: int, total_col: int,
                   share: float) -> tuple[float, float]:
    """Where d_T(σ') = d_T + y_row·(σ' − σ) stays ≥ 0 (T nonbasic at its bound 0)."""
    reduced = max(float(solution.col_dual[total_col]), 0.0)
    y_row = float(solution.row_dual[row])
    if y_row > MOVE_TOLERANCE:
        return max(0.0, share - reduced / y_row), 1.0
    if y_row < -MOVE_TOLERANCE:
        return 0.0, min(1.0, share + reduced / -y_row)
    return 0.0, 1.0


def _tau_interval(solver: HighsSolver, lp: LinearProgram, sol: LpSolution, basic: np.ndarray,
                  row: int, k: int, total_col: int
                  ) -> tuple[tuple[float, float], float, np.ndarray]:
    """[τ_low, τ_high] ∋ 0 over which the basis stays primal and dual feasible, u_k, and
    the columns' move per unit τ."""
    m, n = lp.shape
    e_row = np.zeros(m)
    e_row[row] = 1.0
    u = solver.basis_solve(e_row)
    u_k = float(u[k])
    x_t = float(sol.col_value[total_col])
    structural = basic >= 0
    u_cols = np.zeros(n)
    u_cols[basic[structural]] = u[structural]
    # primal: columns move by −x_T·u per unit τ, row activities by x_T·(e_row − A u)
    column_move = -x_t * u_cols
    bounds = [_tau_bounds(sol.col_value, column_move, lp.col_lower, lp.col_upper)]
    # only basic rows can leave their bounds: a nonbasic row stays at its bound by
    # construction, so its move is rounding noise (and would block τ spuriously)
    basic_rows = sol.row_basis == BASIC
    row_move = np.where(basic_rows, x_t * (e_row - lp.A @ u_cols), 0.0)
    bounds.append(_tau_bounds(sol.row_value, row_move, lp.row_lower, lp.row_upper))
    # dual: nonbasic reduced costs and row duals keep their signs
    y_row = float(sol.row_dual[row])
    col_move = y_row * solver.reduced_row(k)
    row_dual_move = -y_row * solver.basis_inverse_row(k)
    bounds.append(_sign_bounds(sol.col_dual, col_move, sol.col_basis,
                               lp.col_lower == lp.col_upper))
    bounds.append(_sign_bounds(sol.row_dual, row_dual_move, sol.row_basis,
                               lp.row_lower == lp.row_upper))
    low = max(b[0] for b in bounds)
    high = min(b[1] for b in bounds)
    if u_k > 0:   # keep 1 − τ·u_k > 0 (B stays invertible along the path)
        high = min(high, (1.0 - 1e-12) / u_k)
    elif u_k < 0:
        low = max(low, (1.0 - 1e-12) / u_k)
    return (min(low, 0.0), max(high, 0.0)), u_k, column_move


def _rate(moved: float | None, base: float, step: float) -> float:
    """(moved − base)/step; an infeasible move costs +∞ (so the rate is ±∞ by direction)."""
    if moved is None:
        return INF if step > 0 else -INF
    return (moved - base) / step


def _delta(tau: float, u_k: float) -> float:
    """δ = τ / (1 − τ·u_k), the inverse of τ = δ / (1 + δ·u_k); ±∞ stays ±∞ in the limit."""
    if np.isinf(tau):
        return -1.0 / u_k if u_k != 0 else tau
    return tau / (1.0 - tau * u_k)


def _tau_bounds(value, move, lower, upper) -> tuple[float, float]:
    """Largest [lo, hi] with lower ≤ value + τ·move ≤ upper for every entry."""
    significant = np.abs(move) > MOVE_TOLERANCE
    value, move = value[significant], move[significant]
    lower, upper = lower[significant], upper[significant]
    room_up = np.maximum(upper - value, 0.0)      # ≥ 0: noise counts as at the bound
    room_down = np.maximum(value - lower, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rising = move > 0
        high = np.where(rising, room_up / move, room_down / -move)
        low = np.where(rising, -room_down / move, -room_up / -move)
    return float(np.max(low, initial=-INF)), float(np.min(high, initial=INF))


def _sign_bounds(dual, move, status, fixed) -> tuple[float, float]:
    """Largest [lo, hi] keeping each nonbasic multiplier's sign: ≥ 0 at a lower bound,
    ≤ 0 at an upper bound (any sign for equality rows and fixed columns)."""
    at_lower = (status == AT_LOWER) & ~fixed
    at_upper = (status == AT_UPPER) & ~fixed
    # at an upper bound the multiplier is ≤ 0: flip it to the ≥ 0 case
    sign = np.where(at_upper, -1.0, 1.0)
    keep = (at_lower | at_upper) & (np.abs(move) > MOVE_TOLERANCE)
    value = np.maximum(sign[keep] * dual[keep], 0.0)
    slope = sign[keep] * move[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        high = np.where(slope < 0, value / -slope, INF)
        low = np.where(slope > 0, -value / slope, -INF)
    return float(np.max(low, initial=-INF)), float(np.min(high, initial=INF))


def _close(a: float, b: float, tol: float = 1e-6) -> bool:
    if np.isinf(a) or np.isinf(b):  # an impossible side is never "the same rate"
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))
