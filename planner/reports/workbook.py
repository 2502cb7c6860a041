"""The report workbook (``--format xlsx``): a file a planner can hand on.

* ``Summary`` first: the headline figures (the ``summary``, ``stress``,
  ``break_even`` or ``sweep`` table; for ``compare`` the status and cost of each
  scenario), a chart (the mix by country per stage, the change in cost per
  scenario, or a cap sweep's cost curve), the list of sheets with what each says,
  and the run manifest.
* Then one sheet per report table (``mix``: the chart's tonnes by stage and
  country), each with a frozen bold header row, a filter, columns fitted to their
  content (capped) and number formats chosen from the column names
  (``planner.reports.cell_formats``). ``compare`` gets one sheet with the scenarios
  side by side, a format per row.

Written with xlsxwriter in constant-memory mode (a row at a time), atomically.
Text that a spreadsheet would read as a formula is prefixed with ``'`` and no
text is ever written as a formula or a link.
"""

from __future__ import annotations

import json
import math
from numbers import Real
from pathlib import Path

import xlsxwriter

from planner.io.write import _atomic, columns_of, safe_cell
from planner.reports import workbook_charts as charts
from planner.reports.cell_formats import metric_format, number_format, shown_width
from planner.reports.render import TITLES

# Key/value tables shown on Summary, with their heading when there is more than one.
HEADLINES = {"stress": "Under disruption", "break_even": "Joining or observing: break-even",
             "sweep": "The sweep", "summary": "The plan"}
# What the sheets without a terminal title say (the Summary lists every sheet).
WHAT = {"mix": "Tonnes bought by stage and country (the charts' data)",
        "stress": "Under disruption: expected cost, CVaR, value of the reserve and of "
                  "planning for the disruptions (USD), reserve days",
        "branches": "Disruption branches: probability, cost (USD), demand left unmet (t)",
        "samples": "Sampled futures: what was drawn and how it ran",
        "sampled_futures": "Each distinct sampled future: count, cost (USD), unmet (t)",
        "break_even": "Probability of the disruptions above which joining the zone is "
                      "cheaper than observing it",
        "break_even_curve": "Cost joined and observing against that probability (USD)"}
COMPARE_HEADLINES = ("status", "total cost (USD)", "change vs first (USD)",
                     "expected cost (USD)", "CVaR (USD)")
MAX_WIDTH = 50           # characters; longer text runs on (or wraps, in compare)
HEADER_WIDTH = 26        # a column name longer than this wraps
WIDTH_SAMPLE = 2_000     # rows looked at to fit a column
MAX_TEXT = 32_767        # characters in one cell
CHART_ROWS = 18          # rows of the Summary sheet a chart takes, with a gap
NAVY, PALE, RULE = "#1F3864", "#DCE6F1", "#8EA9DB"


def write_report_workbook(path: Path, tables: dict[str, list[dict]]) -> None:
    """Write the report ``tables`` (name -> rows, ``manifest`` among them) as the
    workbook described above, atomically."""
    _atomic(path, lambda handle: _write(handle, tables))


def _write(handle, tables: dict[str, list[dict]]) -> None:
    book = xlsxwriter.Workbook(handle, {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
        "strings_to_numbers": False})
    book.set_properties({"title": "supply-planner report", "creator": "supply-planner"})
    styles = _Styles(book)
    summary = book.add_worksheet("Summary")
    written: list[str] = []
    chart_list: list = []
    mix = charts.mix_rows(tables.get("purchases") or [])
    if mix:
        _table_sheet(book.add_worksheet("mix"), "mix", mix, styles)
        chart_list = charts.mix_charts(book, "mix", mix)
        written.append("mix")
    for name, rows in tables.items():
        if not rows or name == "summary":   # "summary" is the Summary sheet
            continue
        sheet = book.add_worksheet(name[:31])
        if name == "comparison":
            _comparison_sheet(sheet, rows, styles)
            change = _metric_row(rows, "change vs first (USD)")
            if change is not None and len(rows[0]) > 2:
                chart_list.append(charts.change_chart(book, name, change, len(rows[0]) - 1))
        else:
            _table_sheet(sheet, name, rows, styles)
            chart_list += _sweep_chart(book, name, rows)
        written.append(name)
    _summary_sheet(summary, tables, written, chart_list, styles)
    book.close()


class _Styles:
    """The workbook's formats, made once; number formats by code."""

    def __init__(self, book):
        self.book = book
        self.header = book.add_format({"bold": True, "bg_color": PALE, "bottom": 1,
                                       "bottom_color": RULE, "text_wrap": True,
                                       "valign": "top", "font_color": NAVY})
        self.header_right = book.add_format({"bold": True, "bg_color": PALE, "bottom": 1,
                                             "bottom_color": RULE, "text_wrap": True,
                                             "valign": "top", "font_color": NAVY,
                                             "align": "right"})
        self.title = book.add_format({"bold": True, "font_size": 16, "font_color": NAVY})
        self.subtitle = book.add_format({"italic": True, "font_color": "#595959"})
        self.section = book.add_format({"bold": True, "font_size": 12, "font_color": NAVY,
                                        "bottom": 2, "bottom_color": NAVY})
        self.key = book.add_format({"font_color": "#404040"})
        self.link = book.add_format({"font_color": "#0563C1", "underline": 1})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self._numbers: dict[tuple[str | None, bool], object] = {}

    def number(self, code: str | None, wrap: bool = False):
        """The format of a cell with number format ``code`` (None: General)."""
        key = (code, wrap)
        if key not in self._numbers:
            spec = {"num_format": code} if code else {}
            if wrap:
                spec |= {"text_wrap": True, "valign": "top"}
            self._numbers[key] = self.book.add_format(spec) if spec else None
        return self._numbers[key]


def _table_sheet(sheet, name: str, rows: list[dict], styles: _Styles) -> None:
    """One report table: header, rows, formats by column (by key in key/value tables),
    widths fitted, header frozen, a filter."""
    header = columns_of(rows)
    key_value = header == ["key", "value"]
    codes = [number_format(column, name) for column in header]

    def code(row: dict, column: int) -> str | None:
        if key_value and column == 1:
            return number_format(str(row.get("key", "")), name)
        return codes[column]

    widths = _widths(header, rows, code)
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    _header(sheet, header, widths, styles, [_numeric(rows, field) for field in header])
    for number, row in enumerate(rows, start=1):
        for column, field in enumerate(header):
            _cell(sheet, number, column, row.get(field), styles.number(code(row, column)))
    _finish(sheet, len(rows), len(header))


def _comparison_sheet(sheet, rows: list[dict], styles: _Styles) -> None:
    """Scenarios side by side: a metric per row, formatted by its metric text; long
    text wraps; the metric column and the header stay in view."""
    header = columns_of(rows)
    widths = [min(max(len(str(r["metric"])) for r in rows) + 2, 46)]
    widths += [min(max(18, len(str(name)) + 2), 30) for name in header[1:]]
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width)
    _header(sheet, header, widths, styles, [False] + [True] * (len(header) - 1))
    for number, row in enumerate(rows, start=1):
        code = metric_format(str(row["metric"]))
        _cell(sheet, number, 0, row["metric"], styles.key)
        for column, field in enumerate(header[1:], start=1):
            _cell(sheet, number, column, row.get(field), styles.number(code, wrap=True))
    _finish(sheet, len(rows), len(header), freeze_columns=1)


def _summary_sheet(sheet, tables: dict[str, list[dict]], written: list[str], chart_list,
                   styles: _Styles) -> None:
    """Title, headline figures, charts to the right, the sheets, the run manifest."""
    manifest = {r["key"]: r["value"] for r in tables.get("manifest", [])}
    figures = {name: tables[name] for name in HEADLINES if tables.get(name)}
    plan = {r["key"]: r["value"] for r in tables.get("summary", [])}
    comparison = tables.get("comparison")
    scenarios = len(columns_of(comparison)) - 1 if comparison else 0
    keys = [str(r["key"]) for name in (*figures, "manifest") for r in tables.get(name, [])]
    sheet.set_column(0, 0, min(max([32, *map(len, keys)]) + 2, 64))
    if comparison:
        sheet.set_column(1, scenarios, 18)
    else:
        sheet.set_column(1, 1, 26)
        sheet.set_column(2, 2, 2)
    title = f"planner {manifest.get('command', '')}".strip()
    if plan.get("dataset"):
        title += f" — {plan['dataset']}"
    sheet.write_string(0, 0, safe_cell(title), styles.title)
    sheet.write_string(1, 0, safe_cell(" · ".join(
        f"{label} {manifest[key]}" for label, key in (
            ("ran", "ran_at"), ("supply-planner", "version")) if manifest.get(key))),
        styles.subtitle)
    line = 3
    if comparison:
        line = _compare_headline(sheet, line, comparison, styles)
    for name, rows in figures.items():
        line = _key_values(sheet, line, "Headline figures" if len(figures) == 1
                           else HEADLINES[name], [(r["key"], r["value"]) for r in rows],
                           name, styles)
    # Charts beside the headline figures (below them for compare, whose figures are
    # as wide as the scenarios), then the rest below the charts.
    top, left = (line, 0) if comparison else (3, 3)
    for index, chart in enumerate(chart_list):
        sheet.insert_chart(top + CHART_ROWS * index, left, chart,
                           {"y_offset": 4, "object_position": 3})
    line = max(line, top + CHART_ROWS * len(chart_list) + 1)
    sheet.write_string(line, 0, "Sheets in this workbook", styles.section)
    sheet.write_blank(line, 1, None, styles.section)
    line += 1
    for name in written:
        sheet.write_url(line, 0, f"internal:'{name}'!A1", styles.link, name)
        sheet.write_string(line, 1, TITLES.get(name) or WHAT.get(name, ""))
        line += 1
    _key_values(sheet, line + 1, "Run manifest",
                [(r["key"], r["value"]) for r in tables.get("manifest", [])], "manifest",
                styles)
    sheet.hide_gridlines(2)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    sheet.activate()


def _key_values(sheet, line: int, heading: str, pairs: list[tuple[str, object]], table: str,
                styles: _Styles) -> int:
    sheet.write_string(line, 0, heading, styles.section)
    sheet.write_blank(line, 1, None, styles.section)
    line += 1
    for key, value in pairs:
        _cell(sheet, line, 0, key, styles.key)
        _cell(sheet, line, 1, value, styles.number(number_format(str(key), table)))
        line += 1
    return line + 1


def _compare_headline(sheet, line: int, rows: list[dict], styles: _Styles) -> int:
    """Status and cost of each scenario, side by side."""
    header = columns_of(rows)
    sheet.write_string(line, 0, "Headline figures", styles.section)
    for column in range(1, len(header)):
        sheet.write_blank(line, column, None, styles.section)
    line += 1
    for column, name in enumerate(header):
        _cell(sheet, line, column, "scenario" if column == 0 else name, styles.header)
    line += 1
    for row in rows:
        if row["metric"] in COMPARE_HEADLINES:
            _cell(sheet, line, 0, row["metric"], styles.key)
            for column, name in enumerate(header[1:], start=1):
                _cell(sheet, line, column, row.get(name),
                      styles.number(metric_format(str(row["metric"]))))
            line += 1
    return line + 1


def _sweep_chart(book, name: str, rows: list[dict]) -> list:
    """The cost curve of a sweep's points (when the swept value is a number)."""
    if name not in ("points", "walk"):
        return []
    header = columns_of(rows)
    x = "cap" if "cap" in header else "value"
    if (x not in header or "objective_usd" not in header or "cap2" in header
            or not all(isinstance(r.get(x), Real) for r in rows)):
        return []
    return [charts.sweep_chart(book, name, header.index(x), header.index("objective_usd"),
                               len(rows), x == "cap")]


def _header(sheet, header: list[str], widths: list[float], styles: _Styles,
            right: list[bool] | None = None) -> None:
    """The header row: bold on a pale band, over numbers aligned right like them; a
    name wider than its column wraps (the row is made tall enough)."""
    lines = max(math.ceil(len(str(name)) / max(width - 2, 1)) for name, width in
                zip(header, widths, strict=True))
    sheet.set_row(0, 15 * min(lines, 4) + 3)
    right = right or [False] * len(header)
    for column, name in enumerate(header):
        sheet.write_string(0, column, safe_cell(str(name)),
                           styles.header_right if right[column] else styles.header)


def _finish(sheet, rows: int, columns: int, freeze_columns: int = 0) -> None:
    sheet.freeze_panes(1, freeze_columns)
    sheet.autofilter(0, 0, rows, columns - 1)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)


def _widths(header: list[str], rows: list[dict], code) -> list[float]:
    """Each column as wide as its widest value shown (of the first rows) or its name
    (a name longer than HEADER_WIDTH wraps), at most MAX_WIDTH."""
    sample = rows[:WIDTH_SAMPLE]
    widths = []
    for column, field in enumerate(header):
        content = max((shown_width(row.get(field), code(row, column)) for row in sample
                       if row.get(field) is not None), default=0)
        widths.append(min(max(content, min(len(str(field)), HEADER_WIDTH)) + 2, MAX_WIDTH))
    return widths


def _numeric(rows: list[dict], field: str) -> bool:
    """Whether the column holds numbers (and nothing but numbers and blanks)."""
    values = [row.get(field) for row in rows[:WIDTH_SAMPLE] if row.get(field) is not None]
    return bool(values) and all(isinstance(v, Real) and not isinstance(v, bool)
                                for v in values)


def _metric_row(rows: list[dict], metric: str) -> int | None:
    return next((n for n, r in enumerate(rows, start=1) if r["metric"] == metric), None)


def _cell(sheet, row: int, column: int, value: object, style) -> None:
    """One value: a number as a number (NaN blank, infinity as ∞), a boolean as a
    boolean, anything else as formula-safe text."""
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, column, value, style)
    elif isinstance(value, Real):
        number = float(value)
        if math.isfinite(number):
            sheet.write_number(row, column, value, style)
        elif number == number:
            sheet.write_string(row, column, "∞" if number > 0 else "−∞", style)
    else:
        text = json.dumps(value) if isinstance(value, list | tuple | dict) else str(value)
        text = safe_cell(text)
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT - 80] + f" … (cut: {len(text):,} characters; csv and json " \
                                          "have it whole)"
        sheet.write_string(row, column, text, style)
