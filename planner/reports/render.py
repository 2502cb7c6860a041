"""Terminal rendering of the report tables with rich: titles say the units."""

from __future__ import annotations

import os
import sys
import time

from rich.console import Console
from rich.measure import Measurement
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from planner.io.write import columns_of

TITLES = {
    "summary": "Summary",
    "path": "The path: cost (USD M a year; discounted, with holding and new capacity), "
            "China's share of imports by value per material (%), stock cover (days of demand)",
    "periods": "Periods: cost in USD (a year, the period, holding, new capacity, discounted)",
    "stocks": "Stocks: level at the end of each period (t), net put or release (t/yr), "
              "days of cover",
    "stock_prices": "Stock prices in each period's money: one more t of initial stock, of "
                    "reserve floor, of stock capacity (USD/t)",
    "expansions": "New capacity: t/yr added by each decision and the first period it serves",
    "expansion_prices": "New capacity prices: USD per t/yr its cost must fall before the plan "
                        "builds it (reduced cost), break-even cost, value of a higher maximum",
    "purchases": "Purchases by stage and supplier (t; landed USD/t = price + freight + duty + "
                 "levy)",
    "production": "Domestic production (t of main output)",
    "process_flows": "Process inputs and outputs (t; t_per_t per t of main output)",
    "cost_by_stage": "Cost by stage (USD; t supplied, used by processes, surplus, unmet)",
    "shares": "Shares of each stage's supply",
    "direct_and_embedded": "Bought from (direct) vs originating in (embedded), volume share "
                           "of each stage; custody: how origin is traced",
    "demand_prices": "Demand: USD per t of extra final demand (valid over demand_t range)",
    "capacity_prices": "Capacity: USD saved per t of extra offer capacity (valid over "
                       "capacity range)",
    "process_capacity_prices": "Process capacity: USD saved per t of extra domestic capacity",
    "minimum_prices": "Contract minimums: USD per t of the minimum",
    "limit_prices": "Share limits: USD per percentage point of tightening (valid over share "
                    "range)",
    "reduced_costs": "Unused offers: USD/t their cost must fall before the plan uses them",
    "concentration": "Concentration by stage: HHI (0–10,000), top-3 share, China share — "
                     "least-cost plan without share limits (before) vs this plan (after)",
    "import_shares": "Dependence by value of imports: each seller's share of import spend, "
                     "per stage and per material",
    "conflicts": "Why no plan exists: these cannot all hold",
    "comparison": "Scenarios side by side",
    "tightest_feasible": "Tightest feasible value of each violated limit",
    "sweep": "Sweep",
    "points": "Points solved (objective in USD; usd_per_pp for a cap: its dual at that "
              "point, one side's rate where the point is a breakpoint)",
    "walk": "Solves of the exact walk (each just past a breakpoint, or a check of the "
            "tightest cap; read the curve from the segments)",
    "segments": "Exact curve: one optimal basis per segment (cap from → to, USD, USD/pp)",
    "breakpoints": "Breakpoints: what changes where the marginal supplier changes",
    "manifest": "Run manifest: versions, inputs (sha256), arguments, time, verification",
}
HIDDEN = {"unique"}


def render(tables: dict[str, list[dict]], console: Console) -> None:
    """Print every non-empty table."""
    for name, rows in tables.items():
        if not rows:
            continue
        table = Table(title=TITLES.get(name, name), title_justify="left", title_style="bold")
        header = [c for c in columns_of(rows) if c not in HIDDEN or name == "limit_prices"]
        cells = [[_text(row.get(c)) for c in header] for row in rows]
        for column in header:
            numeric = _numeric(rows, column)
            table.add_column(column, justify="right" if numeric else "left",
                             overflow="fold")
        for line in cells:
            table.add_row(*[Text(cell) for cell in line])  # never markup
        # A column is never narrower than its longest word, so no number is split: where
        # the console is narrower than that, the table is printed wider than the console.
        narrowest = Measurement.get(console, console.options.update(max_width=100_000),
                                    table).minimum
        width = console.width
        console.width = max(width, narrowest)
        console.print(table)
        console.width = width


def _numeric(rows: list[dict], column: str) -> bool:
    """Whether every value of ``column`` that is there is a number (booleans are not)."""
    return all(isinstance(r.get(column), int | float) and not isinstance(r.get(column), bool)
               for r in rows if r.get(column) is not None)


class PipeConsole(Console):
    """A console that stops writing, quietly, when the reader closes the pipe
    (``planner solve | head``): the plan's exit code stands (rich exits 1 there, which
    would read as "infeasible")."""

    def on_broken_pipe(self) -> None:
        """Send the rest of the output nowhere and carry on."""
        silence_stdout()
        self.quiet = True


def silence_stdout() -> None:
    """Point stdout at /dev/null, so no later write or the final flush fails again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _text(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if abs(value) >= 1e20:
            return "∞" if value > 0 else "−∞"
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1 else f"{value:,.2f}"
    return str(value)


class LazyProgress:
    """A progress bar on stderr that appears once the work has taken a second (and only
    on a terminal); call it once per finished item."""

    def __init__(self, label: str, total: int | None = None, delay: float = 1.0):
        self.label, self.total, self.delay = label, total, delay
        self.start, self.done, self.bar, self.task = time.perf_counter(), 0, None, None

    def __call__(self, _item: object = None) -> None:
        """One more item done."""
        self.done += 1
        if (self.bar is None and sys.stderr.isatty()
                and time.perf_counter() - self.start > self.delay):
            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=self.total)
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)

    def advance(self, done: int, total: int) -> None:
        """``done`` of ``total`` items finished (for work whose size is known only once it
        starts)."""
        self.total, self.done = total, done - 1
        self()

    def __enter__(self) -> LazyProgress:
        return self

    def __exit__(self, *_exc) -> None:
        if self.bar is not None:
            self.bar.stop()
