"""Terminal rendering of the report tables: titles say the units.

Each table is printed as rich prints ``Table(title=..., title_justify="left",
title_style="bold")`` with a column per field (``overflow="fold"``, numbers right-justified)
and a ``Text`` per cell, byte for byte, but laid out here from the cells' lengths: rich
measures and wraps every cell, which took 6.7 s for the 9,800 lines of ``planner solve``.
Rich still draws the title, the header and any cell wider than its column.
tests/test_render.py compares the two.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.measure import Measurement
from rich.padding import Padding
from rich.progress import Progress
from rich.segment import Segment
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
    "points": "Points (objective in USD; usd_per_pp for a cap: the rate there, one "
              "side's where the point is a breakpoint; method: solved, or read off the "
              "exact piece of an earlier solve)",
    "walk": "Solves of the exact walk (each just past a breakpoint, or a check of the "
            "tightest cap; read the curve from the segments)",
    "segments": "Exact curve: one optimal basis per segment (cap from → to, USD, USD/pp)",
    "breakpoints": "Breakpoints: what changes where the marginal supplier changes",
    "manifest": "Run manifest: versions, inputs (sha256), arguments, time, verification",
}
HIDDEN = {"unique"}


PAD = (0, 1, 0, 1)  # rich's cell padding: a space either side


def render(tables: dict[str, list[dict]], console: Console) -> None:
    """Print every non-empty table."""
    for name, rows in tables.items():
        if not rows:
            continue
        header = [c for c in columns_of(rows) if c not in HIDDEN or name == "limit_prices"]
        values = [[row.get(c) for row in rows] for c in header]
        table = ReportTable(TITLES.get(name, name), header,
                            [list(map(_text, column)) for column in values],
                            [_numeric(column) for column in values])
        # A column is never narrower than its longest word, so no number is split: where
        # the console is narrower than that, the table is printed wider than the console.
        narrowest = Measurement.get(console, console.options.update(max_width=100_000),
                                    table).minimum
        width = console.width
        console.width = max(width, narrowest)
        # Every line fits the console as widened: cropping would only measure each line again.
        console.print(table, crop=False)
        console.width = width


def _numeric(values: list) -> bool:
    """Whether every value that is there is a number (booleans are not)."""
    return all(v is None or isinstance(v, int | float) and not isinstance(v, bool)
               for v in values)


class ReportTable:
    """Text cells, a list per column, that print as rich prints a ``Table`` of them (box
    HEAVY_HEAD, padding (0, 1), edges, a bold header, a left-justified bold title, columns
    that fold, numeric ones right-justified): laid out here from the cells' lengths, with
    rich rendering only the title, the header and the cells wider than their column."""

    def __init__(self, title: str, header: list[str], columns: list[list[str]],
                 numeric: list[bool]):
        self.title, self.header, self.columns = title, header, columns
        self.justify = ["right" if n else "left" for n in numeric]
        self.lengths = [_plain_lengths(cells) for cells in columns]
        self.extents = [_extent(cells, lengths)
                        for cells, lengths in zip(columns, self.lengths, strict=True)]
        self.extra = len(header) + 1  # the edges and the lines between columns

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        """The narrowest and widest the table prints, as rich's ``Table`` measures."""
        inner = options.update_width(options.max_width - self.extra)
        fitted = options.update_width(sum(self._widths(console, inner)))
        measured = [self._measure(console, fitted, i) for i in range(len(self.header))]
        return Measurement(sum(m.minimum for m in measured) + self.extra,
                           sum(m.maximum for m in measured) + self.extra)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        """The title and the table, as rich's ``Table`` renders them."""
        if not self.header:  # as rich: a table without columns is an empty line
            yield Segment.line()
            return
        widths = self._widths(console, options.update_width(options.max_width - self.extra))
        options = options.update(width=sum(widths) + self.extra, highlight=False, height=None)
        title = console.render_str(self.title, style="bold", highlight=False)
        yield from console.render(title, options.update(justify="left"))
        frame = box.HEAVY_HEAD.substitute(options, safe=console.safe_box)
        yield Segment(frame.get_top(widths) + "\n")
        yield from self._header(console, options, widths, frame)
        yield Segment(frame.get_row(widths, "head") + "\n")
        yield Segment(self._body(console, widths, frame))
        yield Segment(frame.get_bottom(widths) + "\n")

    def _measure(self, console: Console, options: ConsoleOptions, index: int) -> Measurement:
        """Column ``index`` measured in ``options.max_width`` as rich's
        ``Table._measure_column`` measures it: rich measures the header, the cells' extents
        give the rest."""
        header = Measurement.get(console, options, Padding(self.header[index], PAD))
        word, line = self.extents[index]
        return Measurement(max(header.minimum, word + 2),
                           max(header.maximum, line + 2)).with_maximum(options.max_width)

    def _widths(self, console: Console, options: ConsoleOptions) -> list[int]:
        """Each column's width, padding included, in ``options.max_width`` as rich's
        ``Table._calculate_column_widths`` lays them out (no expand, no fixed widths, every
        column may wrap): as wide as its widest cell; where that is too wide, the widest
        columns narrowed first."""
        width, count = options.max_width, len(self.header)
        widths = [self._measure(console, options, i).maximum or 1 for i in range(count)]
        if sum(widths) > width:  # every column may wrap: rich's last resort is never needed
            widths = Table._collapse_widths(widths, [True] * count, width)
            widths = [self._measure(console, options.update_width(w), i).maximum
                      for i, w in enumerate(widths)]
        return widths

    def _header(self, console: Console, options: ConsoleOptions, widths: list[int],
                frame: box.Box) -> Iterator[Segment]:
        """The header row as rich renders it: each name (markup and all) in the header
        style, bottom-aligned."""
        style = console.get_style("table.header")
        cells = [console.render_lines(Padding(name, PAD), options.update(
                     width=width, justify=justify, no_wrap=False, overflow="fold", height=None,
                     highlight=False), style=style)
                 for name, width, justify in zip(self.header, widths, self.justify, strict=True)]
        height = max(len(lines) for lines in cells)
        cells = [Segment.set_shape(Segment.align_bottom(lines, width, height, style), width,
                                   max(height, 1))
                 for lines, width in zip(cells, widths, strict=True)]
        for line in range(max(height, 1)):
            yield Segment(frame.head_left)
            for index, cell in enumerate(cells):
                if index:
                    yield Segment(frame.head_vertical)
                yield from cell[line]
            yield Segment(frame.head_right + "\n")

    def _body(self, console: Console, widths: list[int], frame: box.Box) -> str:
        """The rows, a line each (more where a cell folds, the others blank below it), edges
        and newlines included."""
        columns, folded = [], {}
        for index, width in enumerate(widths):
            first, tall = self._column(console, index, width)
            columns.append(first)
            for row, lines in tall.items():
                folded.setdefault(row, {})[index] = lines
        mid = frame.mid_left, frame.mid_vertical, frame.mid_right
        foot = frame.foot_left, frame.foot_vertical, frame.foot_right
        last, out = len(columns[0]) - 1, []
        for row, cells in enumerate(zip(*columns, strict=True)):
            left, divider, right = foot if row == last else mid
            if row not in folded:
                out.append(f"{left}{divider.join(cells)}{right}\n")
                continue
            stacks = [folded[row].get(index, [cell]) for index, cell in enumerate(cells)]
            for line in range(max(map(len, stacks))):
                parts = [lines[line] if line < len(lines) else " " * width
                         for lines, width in zip(stacks, widths, strict=True)]
                out.append(f"{left}{divider.join(parts)}{right}\n")
        return "".join(out)

    def _column(self, console: Console, index: int,
                width: int) -> tuple[list[str], dict[int, list[str]]]:
        """Column ``index``, ``width`` wide (padding included): each cell's first line, and
        all the lines of each cell that takes more than one, by row. A cell that fits is
        padded here; rich's ``Text.wrap`` folds the others as rich's ``Text`` does in its
        ``Padding``."""
        room, justify = width - 2, self.justify[index]
        cells, lengths = self.columns[index], self.lengths[index]
        if justify == "right":
            first = [f" {' ' * (room - n)}{cell} " for cell, n in zip(cells, lengths, strict=True)]
        else:
            first = [f" {cell}{' ' * (room - n)} " for cell, n in zip(cells, lengths, strict=True)]
        tall = {}
        for row in [row for row, n in enumerate(lengths) if n < 0 or n > room]:  # do not fit
            wrapped = Text(cells[row]).wrap(console, room, justify=justify, overflow="fold",
                                            tab_size=console.tab_size or 8) if room > 0 else []
            lines = [f" {line.plain} " for line in wrapped] or [" " * width]
            first[row] = lines[0]
            if len(lines) > 1:
                tall[row] = lines
        return first, tall


def _plain_lengths(cells: list[str]) -> list[int]:
    """Each cell's width in terminal cells where rich prints the cell as it is wherever it
    fits (one line, no control codes, no trailing space), else -1."""
    joined = "".join(cells)
    if joined.isascii() and joined.isprintable() and " " not in joined:  # a cell a character
        return list(map(len, cells))
    return [cell_len(cell) if cell.isprintable() and not cell.endswith(" ") else -1
            for cell in cells]


def _extent(cells: list[str], lengths: list[int]) -> tuple[int, int]:
    """The widest word and the widest line of a column's cells in terminal cells, as rich's
    ``Text`` measures each cell; ``lengths`` as ``_plain_lengths`` gives them."""
    if min(lengths) >= 0 and " " not in "".join(cells):  # a word a cell: most columns
        return max(lengths), max(lengths)
    word = line = 0
    for cell in cells:
        plain = cell if cell.isprintable() else Text(cell).plain  # rich drops control codes
        widest = max(map(cell_len, plain.splitlines()), default=0)
        word = max(word, max(map(cell_len, plain.split()), default=widest))
        line = max(line, widest)
    return word, line


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
