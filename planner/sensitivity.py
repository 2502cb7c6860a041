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

from dataclasses import dataclass

import numpy as np

from .models.highs import BASIC, INF, HighsSolver, LinearProgram, LpSolution, SolveStatus

SHARE_TOLERANCE = 1e-7
RANGE_TOLERANCE = 1e-9
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
    one-sided rates d(cost)/dσ (USD per unit share) where it ends at σ itself."""

    valid_from: float
    valid_to: float
    unique: bool
    rate_down: float
    rate_up: float


class Sensitivity:
    """Ranging and one-sided rates on a solved ``HighsSolver`` (restores it after)."""

    def __init__(self, solver: HighsSolver, lp: LinearProgram, solution: LpSolution):
        self.solver, self.lp, self.solution = solver, lp, solution
        self.base_basis = solver.basis()
        self.ranging = solver.ranging()
        self.solver.highs.setOptionValue("presolve", "off")
        self.budget = ONE_SIDED_BUDGET

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
        self.solver.set_row_bounds(row, moved_lower, moved_upper)
        status, _ = self.solver.run(presolve=False)
        objective = self.solver.objective()
        self.solver.set_row_bounds(row, lower, upper)
        self.solver.set_basis(self.base_basis)
        if status is not SolveStatus.OPTIMAL:
            return INF if step > 0 else -INF
        return (objective - self.solution.objective) / step

    def share_range(self, row: int, total_col: int, share: float, total: float) -> ShareRange:
        """Interval of σ (the coefficient −σ of T in ``row``) with the same optimal basis."""
        rate = float(self.solution.row_dual[row]) * total   # d(cost)/dσ at the basis
        if total <= 0:
            return ShareRange(share, share, True, rate, rate)
        if self.solution.row_basis[row] == BASIC:  # holds with equality at dual 0
            guess_low = guess_high = share
        else:
            guess_low = share + float(self.ranging.row_down[row]) / total
            guess_high = share + float(self.ranging.row_up[row]) / total
        low = self._share_edge(row, total_col, share, max(0.0, guess_low), 0.0)
        high = self._share_edge(row, total_col, share, min(1.0, guess_high), 1.0)
        step = 1e-5
        rate_down = rate_up = rate
        if share - low <= SHARE_TOLERANCE and share > 0:
            rate_down = self._share_rate(row, total_col, share, -min(step, share))
        if high - share <= SHARE_TOLERANCE and share < 1:
            rate_up = self._share_rate(row, total_col, share, min(step, 1 - share))
        self.solver.set_coefficient(row, total_col, -share)
        self.solver.set_basis(self.base_basis)
        unique = _close(rate_down, rate) and _close(rate_up, rate)
        return ShareRange(low, high, unique, rate_down, rate_up)

    def _share_rate(self, row: int, col: int, share: float, step: float) -> float:
        """Finite-difference rate d(cost)/dσ over [σ, σ + step]."""
        self.solver.set_coefficient(row, col, -(share + step))
        self.solver.set_basis(self.base_basis)
        status, _ = self.solver.run(presolve=False)
        if status is not SolveStatus.OPTIMAL:
            return INF if step > 0 else -INF
        return (self.solver.objective() - self.solution.objective) / step

    def _share_edge(self, row: int, col: int, share: float, guess: float, bound: float) -> float:
        """Last σ from ``share`` towards ``bound`` where the basis stays optimal.

        ``guess`` (the RHS range converted at fixed T) is checked first, with one
        re-solve just past it; bisection to 1e-7 runs only when it is off.
        """
        direction = 1.0 if bound > share else -1.0
        if self._same_basis(row, col, guess):
            if guess == bound:
                return bound
            beyond = guess + direction * SHARE_TOLERANCE
            if not self._same_basis(row, col, beyond):
                return guess
            if self._same_basis(row, col, bound):
                return bound
            inside, outside = beyond, bound
        else:
            inside, outside = share, guess
        while abs(outside - inside) > SHARE_TOLERANCE:
            middle = 0.5 * (inside + outside)
            if self._same_basis(row, col, middle):
                inside = middle
            else:
                outside = middle
        return inside

    def _same_basis(self, row: int, col: int, share: float) -> bool:
        """Whether the base basis is still optimal at σ: a warm re-solve needs no pivot."""
        self.solver.set_coefficient(row, col, -share)
        self.solver.set_basis(self.base_basis)
        status, iterations = self.solver.run(presolve=False)
        return status is SolveStatus.OPTIMAL and iterations == 0


def _close(a: float, b: float, tol: float = 1e-6) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))
