"""Optimal cost against a share cap: exact parametric curves and grid sweeps.

One model is built and compiled once; every point is the same HiGHS instance
with the cap's coefficient changed (``changeCoeff``: the cap σ multiplies the
stage total T in the row ``G − σ·T ≤ 0``) and a warm re-solve.

**Exact curve.** While one basis stays optimal the cost is a known function of
σ (linear-fractional, linear when T is fixed; ``sensitivity.SharePiece``), and
the interval of σ over which the basis holds comes from the basis itself
(Sherman–Morrison, no re-solve). The walk solves at the start, records that
piece over its interval, steps ``STEP`` past the interval's lower end, re-solves
warm, and repeats down to the end: one solve per piece, so breakpoints + 1
solves when no basis is degenerate.

**Grid.** Where the cap is one row of the model, a grid point inside the piece of
the last solve is read off that piece (its cost and rate are closed-form in σ)
instead of solved: a solve is made only at a grid point no earlier piece holds,
so a grid takes at most as many solves as it has points, and at most one per
piece of the exact curve that holds a grid point. A point at a piece's end (a
breakpoint, where the rate depends on the side) or near its pole is solved.

Soft limits elsewhere in the dataset are held hard during a sweep (their excess
is fixed at 0): the curve is that of hard caps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from planner.analysis.scenarios import apply_step, set_share
from planner.io.problems import InputError, Problem
from planner.models.build import share_columns
from planner.models.data import Basis, Bound, Dataset, ScenarioStep, Scope
from planner.models.highs import (
    HighsSolver,
    LpSolution,
    SolveStatus,
    compile_lp,
    solution_residuals,
)
from planner.models.horizon import create_horizon
from planner.solving.diagnosis import extreme_share
from planner.solving.engine import RESIDUAL_TOLERANCE
from planner.solving.sensitivity import SharePiece, basis_share_interval
from planner.solving.variants import VariantSolver

STEP = 1e-7            # how far past a breakpoint the next piece is solved (share units)
UNREAD = 4             # solves in a row with no point read off: then fewer pieces taken
POLE_CONDITION = 1e-3  # 1 + δ·u below this: a grid point is solved, not read off its piece
SOLVED, READ_OFF = "solved", "exact piece"   # how a point was obtained (``Point.method``)
TONNES_EPS = 1e-9
MAX_PIECES = 10_000
CUSHIONS = (0.0, 1e-9, 1e-6, 1e-4, 1e-2)   # tried above the tightest cap until one solves


# What a sweep's run manifest says of verification (it keeps no residuals per point).
VERIFICATION = {"tolerance": RESIDUAL_TOLERANCE,
                "rule": "every point's primal and dual residuals checked; a point above "
                        "the tolerance is reported as error"}

@dataclass(frozen=True)
class CapTarget:
    """The cap a sweep moves: the max share of ``group`` at ``stage``."""

    group: str
    stage: str
    scope: Scope = Scope.DIRECT
    basis: Basis = Basis.VOLUME
    period: str | None = None   # over time: the cap of that period only (None: of every one)

    def as_dict(self) -> dict:
        """SPEC §5 ``cap`` object."""
        return {"group": self.group, "stage": self.stage, "scope": self.scope.value,
                "basis": self.basis.value,
                **({"period": self.period} if self.period is not None else {})}


@dataclass(frozen=True)
class Point:
    """One point: the cap(s) or parameter value, its outcome, cost and marginal cost, and
    how it was obtained (``SOLVED``, or ``READ_OFF`` the piece of an earlier solve)."""

    value: float | str | tuple[float, ...]
    status: str
    objective_usd: float | None
    usd_per_pp: float | None = None
    method: str = SOLVED


@dataclass(frozen=True)
class Segment:
    """A piece of the exact curve: one optimal basis from ``cap_from`` to ``cap_to``."""

    cap_from: float
    cap_to: float
    piece: SharePiece
    used: frozenset[str]            # offers and processes with tonnes > 0
    full: frozenset[str]            # offers and processes at capacity
    weight: float = 1.0             # a one-period cap's rates in that period's money

    def as_dict(self) -> dict:
        """SPEC §5 segment, with the slope (USD per pp tighter) at both ends."""
        return {"cap_from": self.cap_from, "cap_to": self.cap_to,
                "objective_from": self.piece.cost_at(self.cap_from),
                "objective_to": self.piece.cost_at(self.cap_to),
                "usd_per_pp_from": usd_per_pp(self.piece, self.cap_from, self.weight),
                "usd_per_pp_to": usd_per_pp(self.piece, self.cap_to, self.weight),
                "formula": {"anchor_cap": self.piece.share, "anchor_objective": self.piece.cost,
                            "rate_usd_per_share": self.piece.rate, "u": self.piece.u_k,
                            "rate_weight": self.weight}}


@dataclass
class Curve:
    """The exact curve, its breakpoints and how many solves it took."""

    segments: list[Segment] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    tightest_feasible_cap: float | None = None
    unconstrained_share: float | None = None

    def breakpoints(self) -> list[dict]:
        """Where the marginal supplier changes: who enters, leaves, fills or frees up."""
        out = []
        for before, after in zip(self.segments, self.segments[1:], strict=False):
            out.append({"cap": before.cap_to,
                        "enter": sorted(after.used - before.used),
                        "leave": sorted(before.used - after.used),
                        "capacity_full": sorted(after.full - before.full),
                        "capacity_freed": sorted(before.full - after.full),
                        "usd_per_pp_above": usd_per_pp(before.piece, before.cap_to,
                                                       before.weight),
                        "usd_per_pp_below": usd_per_pp(after.piece, after.cap_from,
                                                       after.weight)})
        return out


class CapSweep:
    """One built model and HiGHS instance whose cap coefficient(s) a sweep moves."""

    def __init__(self, data: Dataset, targets: list[CapTarget], time_limit: float | None = None):
        for t in targets:   # make sure each cap is a row of the model (in every period)
            data = set_share(data, t.group, t.stage, "max_share", 1.0, "sweep", t.scope, t.basis)
        self.data, self.targets = data, targets
        self.horizon = create_horizon(data)
        self.lp = compile_lp(self.horizon.model)
        self.solver = HighsSolver(self.lp, time_limit=time_limit)
        columns = self.lp.column_of()
        linked = self.horizon.linked
        periods = [(p.period.period, p.weight, built)
                   for p, built in zip(self.horizon.periods, self.horizon.slices, strict=True)]
        placed = {period: share_columns(built, self.lp) for period, _, built in periods}
        # soft limits are held hard during a sweep
        self.solver.set_col_bounds([p.excess for rows in placed.values() for p in rows
                                    if p.excess is not None], 0.0, 0.0)
        self.rows: list[list[tuple[int, int, int]]] = []   # per target: (row, T col, G col)
        self.weights: list[float] = []   # a one-period cap's rate is in that period's money
        for t in targets:
            self.rows.append([(p.lp_row, p.total, p.group) for period, _, _ in periods
                              if t.period in (None, period) for p in placed[period]
                              if p.share_row.bound is Bound.MAX and p.share_row.stage == t.stage
                              and p.share_row.limit.key == (t.group, t.stage, t.basis, t.scope)])
            self.weights.append(next(w for period, w, _ in periods if period == t.period)
                                if t.period is not None else 1.0)
        self.solves = 0
        self.observer = None    # called with each Point as it is solved (progress display)

        def name(item: str, period: str) -> str:
            return f"{item} ({period})" if linked else item

        self._offer_cols = [(name(o.offer, period), columns.get(id(built.model.buy[o.offer])))
                            for period, _, built in periods for o in built.data.offers]
        self._process_cols = [(name(p.process, period),
                               columns.get(id(built.model.make[p.process])))
                              for period, _, built in periods for p in built.data.processes]
        self._capacity = {name(o.offer, period): o.capacity_t
                          for period, _, built in periods for o in built.data.offers}
        self._capacity |= {name(p.process, period): p.capacity_t
                           for period, _, built in periods for p in built.data.processes}

    # -- one point ---------------------------------------------------------------------
    def solve_at(self, caps: tuple[float, ...]) -> tuple[Point, LpSolution]:
        """Set every target's cap and re-solve warm."""
        for cap, rows in zip(caps, self.rows, strict=True):
            self.solver.set_coefficients([row for row, _, _ in rows],
                                         [total for _, total, _ in rows], -cap)
        solution = self.solver.solve(presolve=False)
        if solution.status is not SolveStatus.OPTIMAL:   # confirm from a cold start
            self.solver.clear_basis()
            solution = self.solver.solve(presolve=True)
        self.solves += 1
        point = self._point(caps[0] if len(caps) == 1 else caps, solution)
        if self.observer is not None:
            self.observer(point)
        return point, solution

    def _point(self, value, solution: LpSolution) -> Point:
        if solution.status is not SolveStatus.OPTIMAL:
            return Point(value, solution.status.value, None)
        if max(solution_residuals(self.lp, solution).values()) > RESIDUAL_TOLERANCE:
            return Point(value, SolveStatus.ERROR.value, None)
        rate = sum(-float(solution.row_dual[row]) * float(solution.col_value[total]) / 100
                   for row, total, _ in self.rows[0]) / self.weights[0]
        return Point(value, "optimal", float(solution.objective), rate + 0.0)

    def default_range(self, k: int) -> tuple[float, float, float | None]:
        """(start, end, tightest feasible cap) of target ``k`` with the other caps at 1:
        from where it starts to bind down to the tightest feasible cap (1 → 0 for
        ``each``, whose countries share one cap)."""
        if len(self.rows[k]) != 1:
            return 1.0, 0.0, None
        (row, total, group), = self.rows[k]
        tightest = extreme_share(self.lp, row, group, total, 1.0)
        point, solution = self.solve_at(tuple(1.0 for _ in self.rows))
        start = 1.0
        if point.status == "optimal":
            piece = basis_share_interval(self.solver, self.lp, solution,
                                         self.solver.basic_variables(), row, total, 1.0)
            start = piece.interval[0] if piece.rate == 0 else 1.0
        return start, 0.0 if tightest is None else tightest, tightest

    def grid(self, values: list[tuple[float, ...]], read_off: bool = True) -> list[Point]:
        """Every point of a grid, in the order given (warm from the previous one).

        With ``read_off`` and one cap row (``reads_off_pieces``), a point that the piece
        of the last solve holds is read off it (``_read_off``), any other is solved. A
        solve's piece comes from its basis (no solve); it is not taken for the last
        point, nor where the breakpoints are denser than the grid (``_worth_a_piece``).
        """
        if not (read_off and self.reads_off_pieces()):
            return [self.solve_at(caps)[0] for caps in values]
        points, piece, unread = [], None, 0   # unread: solves in a row, no point read off
        for k, caps in enumerate(values):
            point = None if piece is None else self._read_off(piece, caps[0])
            if point is None:
                point, solution = self.solve_at(caps)
                unread += 1
                wanted = k < len(values) - 1 and _worth_a_piece(unread)
                piece = (self._basis_piece(solution, caps[0])
                         if wanted and point.status == "optimal" else None)
            else:
                unread = 0
                if self.observer is not None:
                    self.observer(point)
            points.append(point)
        return points

    def reads_off_pieces(self) -> bool:
        """Whether a grid may read points off exact pieces: one cap moving one row (the
        cost along it is one basis's closed form; two caps, ``each``, or a cap in several
        periods or branches move several rows at once)."""
        return len(self.rows) == 1 and len(self.rows[0]) == 1

    def _read_off(self, piece: SharePiece, cap: float) -> Point | None:
        """The point at ``cap`` from ``piece`` (exact: its basis is optimal there); None
        where it must be solved: outside the piece or within ``STEP`` of an end (a
        breakpoint, where the rate depends on the side), or near its pole (the closed
        form is ill-conditioned there)."""
        low, high = piece.interval
        if not low + STEP < cap < high - STEP or _pole_near(piece, cap, POLE_CONDITION):
            return None
        return Point(cap, "optimal", piece.cost_at(cap),
                     usd_per_pp(piece, cap, self.weights[0]) + 0.0, READ_OFF)

    # -- the exact curve ---------------------------------------------------------------
    def tightest_feasible(self) -> float | None:
        """Smallest feasible cap of the (single) target: the least share the group can
        have over the plans that meet every other row (Charnes–Cooper LP)."""
        (row, total, group), = self.rows[0]
        return extreme_share(self.lp, row, group, total, 1.0)

    def exact(self, start: float | None = None, end: float | None = None) -> Curve:
        """The exact curve from ``start`` (default: the share the group has when the
        cap does not bind) down to ``end`` (default: the tightest feasible cap)."""
        if len(self.rows[0]) != 1:
            raise InputError([Problem("--cap", "one cap row for an exact curve: a country, "
                                      "tag, zone or non-zone, not each; over periods, the "
                                      "cap of one period (--period)", column="GROUP:STAGE",
                                      value=f"{self.targets[0].group}:{self.targets[0].stage}")])
        tightest = self.tightest_feasible()
        curve = Curve(tightest_feasible_cap=tightest)
        if tightest is None:   # no plan even without the cap
            curve.points.append(self.solve_at((1.0,))[0])
            return curve
        floor = max(tightest, 0.0 if end is None else end)
        piece = self._piece(1.0 if start is None else start, curve)
        cap = start
        if start is None:   # from where the cap starts to bind (the whole range if never)
            curve.unconstrained_share = piece.interval[0] if piece.rate == 0 else 1.0
            cap = curve.unconstrained_share if curve.unconstrained_share > floor + 1e-6 else 1.0
        upper = cap
        while piece is not None and len(curve.segments) < MAX_PIECES:
            low = max(piece.interval[0], floor)
            if low <= floor + 1e-12 and _pole_near(piece, floor):
                floor = low = self._lowest_solvable(floor, curve)
            if upper - low > 1e-12:   # a basis optimal at one point only adds no piece
                curve.segments.append(Segment(upper, low, piece,
                                              *self._plan_sets(piece, upper, low),
                                              weight=self.weights[0]))
            if low <= floor + 1e-12:
                break
            upper, piece = low, self._piece(max(low - STEP, floor), curve)
            if piece is None and low - STEP <= floor:   # the floor itself has no plan
                floor = self._lowest_solvable(floor, curve)
                piece = self._piece(floor, curve) if floor < upper else None
        return curve

    def _lowest_solvable(self, floor: float, curve: Curve) -> float:
        """The lowest of ``floor`` + CUSHIONS that has a plan: the least share is only
        known to solver precision, or it is an infimum that a contracted minimum from
        the group keeps out of reach (the cost rises without bound toward it)."""
        for cushion in CUSHIONS[1:]:
            cap = min(floor + cushion, 1.0)
            point, _ = self.solve_at((cap,))
            curve.points.append(point)
            if point.status == "optimal":
                return cap
        return 1.0

    def _piece(self, cap: float, curve: Curve) -> SharePiece | None:
        """Solve at ``cap`` and return its basis's cost function (None: no plan)."""
        point, solution = self.solve_at((cap,))
        curve.points.append(point)
        if point.status != "optimal":
            return None
        self._solution = solution
        return self._basis_piece(solution, cap)

    def _basis_piece(self, solution: LpSolution, cap: float) -> SharePiece:
        """The cost function of the basis just solved at ``cap`` (the one cap row), and
        the interval over which that basis stays optimal."""
        (row, total, _), = self.rows[0]
        return basis_share_interval(self.solver, self.lp, solution,
                                    self.solver.basic_variables(), row, total, cap)

    def _plan_sets(self, piece: SharePiece, upper: float,
                   low: float) -> tuple[frozenset[str], frozenset[str]]:
        """Offers/processes used, and those at capacity, inside the segment (at its
        midpoint, moved there along the basis: the solved point may be an end)."""
        x = piece.columns_at(self._solution.col_value, (upper + low) / 2)
        capacity = self._capacity
        used, full = set(), set()
        for name, col in self._offer_cols + self._process_cols:
            value = 0.0 if col is None else float(x[col])
            if value > TONNES_EPS:
                used.add(name)
                cap = capacity[name]
                if cap is not None and value >= cap * (1 - 1e-9):
                    full.add(name)
        return frozenset(used), frozenset(full)


@dataclass
class SweepResult:
    """A finished sweep: caps or a parameter, the points solved, the exact curve."""

    points: list[Point]
    targets: list[CapTarget] = field(default_factory=list)
    parameter: dict | None = None        # {"setting", "target"} for a parameter sweep
    curve: Curve | None = None
    tightest_feasible_cap: float | None = None
    solves: int = 0
    seconds: float = 0.0

    @property
    def status(self) -> str:
        """Overall: optimal if any point has a plan, error if a solve failed, else infeasible."""
        statuses = {p.status for p in self.points}
        if "optimal" in statuses:
            return "optimal"
        return "infeasible" if statuses <= {"infeasible"} else "error"


def cap_sweep(data: Dataset, targets: list[CapTarget], exact: bool, start: float | None,
              end: float | None, steps: int, observer=None) -> SweepResult:
    """A cap sweep: the exact curve of one cap, or a grid over one or two caps (each
    from ``start`` to ``end``; defaults: from where the cap starts to bind down to the
    tightest feasible cap, each cap with the other left at 1)."""
    clock = time.perf_counter()
    sweep = CapSweep(data, targets)
    sweep.observer = observer
    if exact:
        curve = sweep.exact(start, end)
        return SweepResult(curve.points, targets, curve=curve,
                           tightest_feasible_cap=curve.tightest_feasible_cap,
                           solves=sweep.solves, seconds=time.perf_counter() - clock)
    ranges = [sweep.default_range(k) for k in range(len(targets))]
    axes = [linear_values(lo if start is None else start, hi if end is None else end, steps)
            for lo, hi in ((lo if lo - hi > 1e-9 else 1.0, hi) for lo, hi, _ in ranges)]
    grid = [(v,) for v in axes[0]] if len(axes) == 1 else serpentine(axes[0], axes[1])
    points = sweep.grid(grid)
    if len(targets) > 1:
        points.sort(key=lambda p: (-p.value[0], -p.value[1]))
    return SweepResult(points, targets, tightest_feasible_cap=ranges[0][2],
                       solves=sweep.solves, seconds=time.perf_counter() - clock)


def usd_per_pp(piece: SharePiece, share: float, weight: float) -> float:
    """The piece's marginal cost at ``share``: USD per percentage point tighter, in the
    money of the cap's period (``weight``: that period's discount weight, 1 for all)."""
    return -piece.rate_at(share) / 100 / weight


def _worth_a_piece(unread: int) -> bool:
    """Whether a grid takes the piece of its latest solve, the ``unread``-th in a row
    with no point read off: always up to ``UNREAD``, then every ``UNREAD``-th (a piece
    costs a tenth to a fifth of a solve, and such a run means the curve's breakpoints
    are denser than the grid there)."""
    return unread <= UNREAD or unread % UNREAD == 0


def _pole_near(piece: SharePiece, share: float, within: float = 1e-6) -> bool:
    """Whether the piece's cost runs off to infinity at ``share`` (|1 + δ·u| < ``within``)."""
    return abs(1.0 + (piece.share - share) * piece.u_k) < within


def linear_values(start: float, end: float, steps: int) -> list[float]:
    """``steps`` evenly spaced values from ``start`` to ``end`` (both included)."""
    return [float(v) for v in np.linspace(start, end, steps)] if steps > 1 else [start]


def serpentine(first: list[float], second: list[float]) -> list[tuple[float, float]]:
    """Every pair, the second index running back and forth so each point is next to
    the previous one (warm starts stay close)."""
    pairs = []
    for i, a in enumerate(first):
        for b in (second if i % 2 == 0 else second[::-1]):
            pairs.append((a, b))
    return pairs


def parameter_sweep(data: Dataset, setting: str, target: str, values: list[str],
                    observer=None) -> SweepResult:
    """Cost at each value of a scenario setting (``benchmark``, ``capacity_factor``,
    ``zone``), on one built model where the structure allows (``VariantSolver``)."""
    clock = time.perf_counter()
    variants = VariantSolver()
    points = []
    for value in values:
        variant = apply_step(data, ScenarioStep("sweep", setting, target, value, "sweep"))
        result = variants.solve(variant, sensitivity=False)
        points.append(Point(value, "optimal" if result.optimal else result.status.value,
                            result.cost_usd if result.optimal else None))
        if observer is not None:
            observer(points[-1])
    return SweepResult(points, parameter={"setting": setting, "target": target},
                       solves=len(points), seconds=time.perf_counter() - clock)
