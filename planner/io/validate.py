"""Check raw tables against the schema and the cross-table rules (SPEC §6),
collecting every problem, column by column.

``validate_frames`` gives typed pandas frames, one per table (one typed column
per schema column, plus ``_row``, the spreadsheet row of each row, for
messages); ``validate`` also turns them into the ``Dataset`` of records a solve
builds its model from (``to_dataset``, the one place where records are made).

Checks run over whole columns (numpy / pandas); only the cells that fail, and
cells of unusual types (Excel dates, formulas, booleans in a number column),
go through the cell-by-cell parser, which writes the message and its hints
(thousands separators, decimal commas, currency signs, invisible characters).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.io.problems import InputError, Problem, Severity, errors
from planner.io.read import Cell, Formula, Noted, RawDataset, RawTable, cell_kinds
from planner.io.schema import MISSING, TABLES, Column, Kind, Table
from planner.models.data import (
    ALL_STAGES,
    EACH,
    NON_ZONE,
    ZONE,
    Basis,
    ContentShare,
    Country,
    Dataset,
    Disruption,
    Expansion,
    Limit,
    Offer,
    Period,
    Process,
    ProcessFlow,
    Role,
    ScenarioStep,
    Scope,
    Stage,
    Stock,
    TariffRule,
    ZoneStatus,
)
from planner.models.groups import is_country_code
from planner.models.settings import SHARE_SETTINGS

CONTENT_TOLERANCE = 1e-6
MAGNITUDE_LIMIT = 1e12  # USD/t or t: far above any real price or tonnage
_BAD = object()  # marks a cell that failed to parse
TRUE_WORDS = {"true", "yes", "1", "y", "t"}
FALSE_WORDS = {"false", "no", "0", "n", "f"}
MAX_ID_LENGTH = 200      # ids and stage names; longer is a pasted blob, not an id
MAX_TEXT_LENGTH = 1000   # names and other text
SHOWN_VALUE_LENGTH = 80  # longer values are clipped in messages
ROW = "_row"             # column of a typed frame: the spreadsheet row, for messages
DISTINCT_SAMPLE = 1000   # cells looked at to tell a column of repeated values
# Characters that make two ids look equal while they differ (controls, zero-width and
# other format characters, bidirectional overrides), refused in ids ...
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\xad\u034f\u061c\u115f\u1160\u17b4\u17b5"
                        "\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164"
                        "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U000e0000-\U000e0fff]")
# ... and, in free text, controls (terminal escapes; tab and line breaks are fine)
# and bidirectional overrides, which reorder what a report shows.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ID_KINDS = (Kind.ID, Kind.STAGE, Kind.STAGE_OR_ANY)
_TEXT_KINDS = (Kind.ID, Kind.TEXT, Kind.STAGE, Kind.STAGE_OR_ANY)
_NUMBER_KINDS = (Kind.NUMBER, Kind.INT)


@dataclass
class TypedTable:
    """One validated table: its typed frame, where it came from, and which cells
    failed to parse (cross-table checks skip those)."""

    name: str
    source: str
    frame: pd.DataFrame
    bad: dict[str, np.ndarray] = field(default_factory=dict)  # column -> failed cells

    def __len__(self) -> int:
        return len(self.frame)

    def values(self, column: str) -> np.ndarray:
        """The typed values of ``column``."""
        return self.frame[column].to_numpy()

    @property
    def numbers(self) -> np.ndarray:
        """Spreadsheet row of each row."""
        return self.frame[ROW].to_numpy()

    def ok(self, *columns: str) -> np.ndarray:
        """Rows whose cells in ``columns`` parsed."""
        mask = np.ones(len(self.frame), dtype=bool)
        for column in columns:
            if column in self.bad:
                mask &= ~self.bad[column]
        return mask

    def records(self, *columns: str) -> Iterator[tuple]:
        """(position, row number, values of ``columns``...) for every row, as Python
        values (NaN kept): for the small tables checked row by row."""
        lists = [self.frame[c].tolist() for c in columns]
        yield from zip(range(len(self.frame)), self.numbers.tolist(), *lists, strict=True)


@dataclass
class Tables:
    """The validated dataset as typed frames, one per table (SPEC §2 columns, typed,
    plus ``_row``): ``tables["offers"]`` is the offers frame."""

    location: str
    tables: dict[str, TypedTable]

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name].frame

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def source(self, name: str) -> str:
        """Where table ``name`` came from ("offers.csv", "book.xlsx sheet offers")."""
        return self.tables[name].source

    def scenario_names(self) -> list[str]:
        """Scenario names in order of first appearance."""
        return list(dict.fromkeys(self["scenarios"]["scenario"].tolist()))


def _series(values: np.ndarray) -> pd.Series:
    """A Series of these values, kept as they are (no inference of a string dtype)."""
    return pd.Series(values, dtype=values.dtype, copy=False)


def _isin(values: np.ndarray, allowed: set | list) -> np.ndarray:
    """Elementwise membership by hashing (object arrays may hold None)."""
    return _series(values).isin(list(allowed)).to_numpy()


def _typed_empty(column: Column, count: int) -> np.ndarray:
    """A column of ``count`` default values, typed for the column's kind."""
    default = None if column.default is MISSING else column.default
    if column.kind is Kind.NUMBER:
        return np.full(count, np.nan if default is None else default, dtype=np.float64)
    if column.kind is Kind.INT:
        return np.full(count, 0 if default is None else default, dtype=np.int64)
    if column.kind is Kind.BOOL:
        return np.full(count, bool(default), dtype=bool)
    values = np.empty(count, dtype=object)
    values[:] = [default] * count if default is not None else None
    return values


class Validator:
    """Parses every table column by column, then checks references across tables."""

    def __init__(self, raw: RawDataset):
        self.raw = raw
        self.problems: list[Problem] = list(raw.problems)
        self.tables: dict[str, TypedTable] = {}
        # tables that could not be read or lack columns: other tables are not checked
        # against them (every reference would fail and bury the real problem)
        self.broken: set[str] = set(raw.unreadable)

    def problem(self, table: str, expected: str, row: int | None = None,
                column: str | None = None, value: object = None,
                severity: Severity = Severity.ERROR) -> None:
        """Record one problem; a long value is clipped, non-ASCII characters are named."""
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(row, np.integer):
            row = int(row)
        shown = None if value is None else str(value)
        if (shown is not None and severity is Severity.ERROR and not shown.isascii()
                and "U+" not in expected):
            expected += _non_ascii_note(shown)
        if shown is not None and len(shown) > SHOWN_VALUE_LENGTH:
            shown = f"{shown[:60]}… ({len(shown):,} characters)"
        self.problems.append(Problem(table, expected, row, column, shown, severity))

    # -- pass 1: each table alone -------------------------------------------------
    def parse_tables(self) -> None:
        """Check presence, columns and every cell of every table."""
        for spec in TABLES:
            table = self.raw.tables.get(spec.name)
            if table is None:
                if spec.required and spec.name not in self.raw.unreadable:
                    self.broken.add(spec.name)
                    self.problem(self.raw.source_of(spec.name), f"required table {spec.name} "
                                 f"is missing (in {self.raw.location})")
                self.tables[spec.name] = _empty_table(spec, self.raw.source_of(spec.name))
                continue
            self.tables[spec.name] = self._parse_table(spec, table)

    def _parse_table(self, spec: Table, table: RawTable) -> TypedTable:
        seen: dict[str, int] = {}
        for position, name in enumerate(table.header, start=1):
            if name in seen and name:
                self.problem(table.source, "each column name once", 1, name,
                             f"column {position} repeats column {seen[name]}")
            seen.setdefault(name, position)
        missing = [c for c in spec.columns if c.required and c.name not in table.header]
        for column in missing:
            self.problem(table.source, f"a column {column.name} ({column.doc})"
                         f"{_missing_column_hint(spec, table, column.name)}", 1, column.name)
        if missing:
            self.broken.add(spec.name)
            return _empty_table(spec, table.source)
        if spec.required and not len(table):
            self.broken.add(spec.name)
            self.problem(table.source, f"at least one row under the header (required table "
                         f"{spec.name} has only its header)", 2)
            return _empty_table(spec, table.source)
        columns, bad = [], {}
        for column in spec.columns:
            values, failed = self._parse_column(table, column)
            columns.append(values)
            if failed is not None:
                bad[column.name] = failed
        typed = TypedTable(spec.name, table.source, _frame(spec, table.numbers, columns), bad)
        self._check_unique(spec, typed)
        return typed

    def _parse_column(self, table: RawTable, column: Column
                      ) -> tuple[np.ndarray, np.ndarray | None]:
        """Typed values of one column (defaults in blank cells) and the cells that failed
        (None if none): whole-column checks, and the cell-by-cell parser for the cells
        they flag and for cells of unusual types."""
        count = len(table)
        values = _typed_empty(column, count)
        at = table.position(column.name)
        if at is None:  # an optional column left out: every cell takes the default
            return values, None
        cells = table.columns[at]
        slow = np.zeros(count, dtype=bool)  # cells for the cell-by-cell parser
        if cells.dtype.kind == "f":  # a float column of a DataFrame: NaN is blank
            blank = np.isnan(cells)
            self._blanks(column, blank, slow)
            if column.kind in _NUMBER_KINDS:
                filled = np.flatnonzero(~blank)
                _put(values, slow, filled, *_checked_numbers(column, cells[filled]))
            else:
                slow |= ~blank
        elif table.text_only:
            self._texts(column, cells, np.arange(count), values, slow)
        else:
            codes = cell_kinds(cells)  # 1 text, 2 number, 3 None, 0 cell by cell
            texts = np.flatnonzero(codes == 1)
            if len(texts):
                self._texts(column, cells[texts], texts, values, slow)
            numbers = np.flatnonzero(codes == 2)
            if len(numbers) and column.kind in _NUMBER_KINDS:
                try:
                    parsed = cells[numbers].astype(np.float64)
                except (OverflowError, TypeError, ValueError):
                    slow[numbers] = True
                else:
                    _put(values, slow, numbers, *_checked_numbers(column, parsed))
            else:
                slow[numbers] = True
            self._blanks(column, codes == 3, slow)
            slow |= codes == 0
        failed = None
        numbers_of_rows = table.numbers
        for i in np.flatnonzero(slow).tolist():
            value = self._parse_cell(table.source, int(numbers_of_rows[i]), column, cells[i])
            if value is _BAD:
                if failed is None:
                    failed = np.zeros(count, dtype=bool)
                failed[i] = True
            else:
                values[i] = np.nan if value is None and column.kind is Kind.NUMBER else value
        return values, failed

    @staticmethod
    def _blanks(column: Column, blank: np.ndarray, slow: np.ndarray) -> None:
        """Blank cells keep the default; without one, the cell parser reports them."""
        if column.default is MISSING:
            slow |= blank

    def _texts(self, column: Column, texts: np.ndarray, at: np.ndarray, values: np.ndarray,
               slow: np.ndarray) -> None:
        """Text cells (``at``: their rows), parsed for the column's kind; a column that
        repeats its values (stages, countries, suppliers) is parsed value by value."""
        sample = texts[:DISTINCT_SAMPLE]
        if len(set(sample.tolist())) * 2 <= len(sample):
            codes, distinct = pd.factorize(texts)
            converted, failed, blank = (a[codes] for a in _parsed_texts(column, distinct))
        else:
            converted, failed, blank = _parsed_texts(column, texts)
        if blank.any():
            marks = np.zeros(len(slow), dtype=bool)
            marks[at[blank]] = True
            self._blanks(column, marks, slow)
        _put(values, slow, at[~blank], converted[~blank], failed[~blank])

    def _parse_cell(self, source: str, row: int, column: Column, cell: Cell) -> object:
        if isinstance(cell, np.generic):
            cell = cell.item()
        if type(cell) is float and cell.is_integer() and abs(cell) < 1e15:
            cell = int(cell)  # a whole number as Excel stores it ("2", read as 2.0)
        if isinstance(cell, Formula):
            self.problem(source, f"{column.expectation()}, not a formula without a saved result "
                         "(the workbook was not saved by a program that computes formulas; "
                         "open and save it in Excel, or type the value)", row, column.name, cell)
            return _BAD
        text = cell.strip() if isinstance(cell, str) else cell
        if text is None or text == "":
            if column.default is MISSING:
                self.problem(source, f"{column.expectation()} (the cell is blank)", row,
                             column.name, "")
                return _BAD
            return column.default
        try:
            value = _convert(column, text)
        except ValueError as exc:
            note = exc.args[0] if exc.args else ""
            if isinstance(cell, Noted):
                note += f" (the cell is {cell.note}; type the value as the column expects)"
            self.problem(source, f"{column.expectation()}{note}", row, column.name, cell)
            return _BAD
        return value

    def _check_unique(self, spec: Table, table: TypedTable) -> None:
        if not spec.key:
            return
        at = np.flatnonzero(table.ok(*spec.key))
        keys = [table.values(c)[at] for c in spec.key]
        if len(keys) == 1:
            repeated = _series(keys[0]).duplicated().to_numpy()
        else:
            repeated = pd.DataFrame({i: _series(k) for i, k in enumerate(keys)},
                                    copy=False).duplicated().to_numpy()
        if not repeated.any():
            return
        label = ", ".join(spec.key)
        numbers = table.numbers[at].tolist()
        first: dict[tuple, int] = {}
        for number, key in zip(numbers, zip(*(k.tolist() for k in keys), strict=True),
                               strict=True):
            if key in first:
                self.problem(table.source, f"a unique {label} (also on row {first[key]})",
                             number, spec.key[0], "/".join(map(str, key)))
            else:
                first[key] = number

    # -- pass 2: references across tables -----------------------------------------
    def check_references(self) -> None:
        """Stages, groups, countries, content, minimums, cycles, settings, scenarios."""
        stages = _valid(self.tables["stages"], "stage")
        if "stages" not in self.broken:
            self._check_stage_refs(stages)
        self._check_offers()
        self._check_processes()
        countries = _valid(self.tables["countries"], "country")
        tags = {t for groups in _valid(self.tables["countries"], "groups") for t in _tags(groups)}
        groups_known = "countries" not in self.broken
        if groups_known:
            self._check_unlisted_countries(countries)
        limits = self.tables["limits"]
        group_ok, shares_ok = limits.ok("group"), limits.ok("min_share", "max_share")
        for i, number, group, lo, hi in limits.records("group", "min_share", "max_share"):
            if group_ok[i] and groups_known:
                self._check_group(limits.source, number, "group", group, tags)
                self._warn_unlisted_group(limits.source, number, "group", group, countries)
            if shares_ok[i] and not math.isnan(lo) and not math.isnan(hi) and lo > hi:
                self.problem(limits.source, f"min_share ≤ max_share ({hi})", number,
                             "min_share", lo)
        self._check_content()
        self._check_settings()
        self._check_scenarios(stages, tags, countries,
                              groups_known and "stages" not in self.broken)
        self._check_periods(stages, tags)
        self._check_stocks()
        self._check_expansions()
        self._check_disruptions(stages, tags)

    def _check_stage_refs(self, stages: set[str]) -> None:
        known = ", ".join(sorted(stages)) or "none defined"
        allowed = stages | {ALL_STAGES}
        for name, columns in (("offers", ("stage",)), ("processes", ("from_stage", "to_stage")),
                              ("process_flows", ("stage",)), ("tariffs", ("stage",)),
                              ("benchmarks", ("stage",)), ("limits", ("stage",)),
                              ("stocks", ("stage",))):
            table = self.tables[name]
            found: list[tuple[int, int, str, str]] = []
            for k, column in enumerate(columns):
                values, ok = table.values(column), table.ok(column)
                for i in np.flatnonzero(ok & ~_isin(values, allowed)).tolist():
                    found.append((i, k, column, f"a stage from stages ({known})"))
                if name in ("offers", "processes", "process_flows", "benchmarks", "stocks"):
                    for i in np.flatnonzero(ok & (values == ALL_STAGES)).tolist():
                        found.append((i, k, column, f"a stage from stages ({known}); * is not "
                                      "allowed here"))
            numbers = table.numbers
            for i, _, column, expected in sorted(found):
                self.problem(table.source, expected, numbers[i], column,
                             table.values(column)[i])

    def _check_offers(self) -> None:
        offers = self.tables["offers"]
        cap, low = offers.values("capacity_t"), offers.values("min_t")
        with np.errstate(invalid="ignore"):
            wrong = offers.ok("capacity_t", "min_t") & ~np.isnan(cap) & (low > cap)
        for i in np.flatnonzero(wrong).tolist():
            self.problem(offers.source, f"min_t ≤ capacity_t ({cap[i]:g})", offers.numbers[i],
                         "min_t", low[i])

    def _check_processes(self) -> None:
        """A process's main stages differ; its flows name a known process and none of
        its main stages; the processes, flows included, form no cycle."""
        processes = self.tables["processes"]
        ok = processes.ok("process", "from_stage", "to_stage")
        rows = [r for r in processes.records("process", "from_stage", "to_stage") if ok[r[0]]]
        mains = {process: (start, end) for _, _, process, start, end in rows}
        inputs = {process: {start} for process, (start, _) in mains.items()}
        outputs = {process: {end} for process, (_, end) in mains.items()}
        for _, number, _, start, end in rows:
            if start == end:
                self.problem(processes.source, "to_stage different from from_stage (a process "
                             "cannot feed its own input)", number, "to_stage", end)
        flows = self.tables["process_flows"]
        flow_ok = flows.ok("process", "stage", "role")
        flow_rows = [r for r in flows.records("process", "stage", "role") if flow_ok[r[0]]]
        flow_of: dict[tuple[str, str], tuple[int, str]] = {}   # (process, stage) -> row
        for _, number, process, stage, role in flow_rows:
            if process not in mains:
                if "processes" not in self.broken:
                    known = ", ".join(sorted(mains)) or "none defined"
                    self.problem(flows.source, f"a process from processes ({known})", number,
                                 "process", process)
            elif stage in mains[process]:
                self.problem(flows.source, "a stage other than the process's from_stage and "
                             f"to_stage ({' and '.join(mains[process])})", number, "stage",
                             stage)
            elif (process, stage) not in flow_of:   # a repeat is reported as a duplicate
                flow_of[(process, stage)] = (number, role)
                (inputs if role == "input" else outputs)[process].add(stage)
        edges: dict[str, set[str]] = defaultdict(set)
        for process in mains:
            for start in inputs[process]:
                edges[start] |= outputs[process]
        cycle = _find_cycle(edges)
        if not cycle:
            return
        steps = set(zip(cycle, cycle[1:], strict=False))
        expected = f"processes without a cycle (stages {' → '.join(cycle)})"
        for _, number, _process, start, end in rows:   # a main input → main output step
            if (start, end) in steps:
                self.problem(processes.source, expected, number, "to_stage", end)
        for (process, stage), (number, role) in flow_of.items():   # a step through a flow
            through = ({(start, stage) for start in inputs[process]} if role == "output"
                       else {(stage, end) for end in outputs[process]})
            if through & steps:
                self.problem(flows.source, expected, number, "stage", stage)

    def _check_unlisted_countries(self, countries: set[str]) -> None:
        if not len(self.tables["countries"]) and "countries" not in self.raw.tables:
            return
        for name, column in (("offers", "country"), ("content", "origin")):
            table = self.tables[name]
            values = table.values(column)
            at = np.flatnonzero(table.ok(column) & ~_isin(values, countries))
            if not len(at):
                continue
            first = ~_series(values[at]).duplicated().to_numpy()
            for i in at[first].tolist():
                self.problem(table.source, "a country listed in countries (an unlisted "
                             "country is in no group and not a zone member)", table.numbers[i],
                             column, values[i], Severity.WARNING)

    def _warn_unlisted_group(self, source: str, number: int, column: str, group: str,
                             countries: set[str]) -> None:
        """A limit on a country that supplies nothing listed is probably a typo."""
        if is_country_code(group) and group not in countries and len(self.tables["countries"]):
            self.problem(source, "a country listed in countries (a limit on an unlisted "
                         "country holds only its own offers; is the code a typo?)", number,
                         column, group, Severity.WARNING)

    def _check_group(self, source: str, number: int, column: str, group: str,
                     tags: set[str], allow_each: bool = True) -> None:
        if group in (ZONE, NON_ZONE) or (group == EACH and allow_each):
            return
        if is_country_code(group) or group in tags:
            return
        known = ", ".join(sorted(tags)) or "none defined"
        self.problem(source, "a group: a country code of two capital letters, a tag from "
                     f"countries.groups ({known}), zone, non-zone or each", number, column, group)

    def _check_content(self) -> None:
        content = self.tables["content"]
        at = np.flatnonzero(content.ok("offer", "share"))
        if not len(at):
            return
        ids, shares = content.values("offer")[at], content.values("share")[at]
        numbers = content.numbers[at]
        if "offers" not in self.broken:
            offers = _valid(self.tables["offers"], "offer")
            for j in np.flatnonzero(~_isin(ids, offers)).tolist():
                self.problem(content.source, "an offer id from offers", numbers[j], "offer",
                             ids[j])
        codes, offers_named = pd.factorize(_series(ids))  # in order of first appearance
        totals = np.zeros(len(offers_named))
        np.add.at(totals, codes, shares)  # row by row, as the rows are listed
        _, first = np.unique(codes, return_index=True)
        for k, offer in enumerate(offers_named):
            total = float(totals[k])
            if abs(total - 1.0) > CONTENT_TOLERANCE:
                j = first[k]
                self.problem(content.source, f"shares of offer {offer} summing to 1 (they sum "
                             f"to {total:.6g})", numbers[j], "share", shares[j])

    def _check_settings(self) -> None:
        settings = self.tables["settings"]
        ok = settings.ok("key", "value")
        for i, number, key, value in settings.records("key", "value"):
            if not ok[i]:
                continue
            if key == "buyer" and not is_country_code(value):
                self.problem(settings.source, Kind.COUNTRY.value, number, "value", value)
            if key == "zone" and value not in (ZoneStatus.JOINED, ZoneStatus.OBSERVER):
                self.problem(settings.source, "joined or observer", number, "value", value)
            number_value = _as_float(value)
            if key == "risk_weight" and not (number_value is not None
                                             and 0.0 <= number_value <= 1.0):
                self.problem(settings.source, "a number in [0, 1]", number, "value", value)
            if key == "cvar_alpha" and not (number_value is not None
                                            and 0.0 <= number_value < 1.0):
                self.problem(settings.source, "a number in [0, 1)", number, "value", value)

    def _check_scenarios(self, stages: set[str], tags: set[str], countries: set[str],
                         targets: bool = True) -> None:
        """Every scenario row; ``targets`` False skips the targets (stages or countries
        could not be read, so they cannot be checked)."""
        scenarios = self.tables["scenarios"]
        ok = scenarios.ok("setting", "target", "value")
        for i, number, setting, target, value in scenarios.records("setting", "target",
                                                                     "value"):
            if not ok[i]:
                continue
            if ":" in target and targets:
                self._warn_unlisted_group(scenarios.source, number, "target",
                                          target.partition(":")[0], countries)
            row = {"setting": setting, "target": target, "value": value}
            for column, expected in scenario_step_problems(setting, target, value, stages,
                                                           tags):
                if column == "target" and not targets:
                    continue
                self.problem(scenarios.source, expected, number, column, row[column])


    def _periods_known(self) -> tuple[set[str], str]:
        """Period ids, and how a message lists them."""
        periods = _valid(self.tables["periods"], "period")
        return periods, f"a period id from periods ({', '.join(sorted(periods)) or 'none defined'})"

    def _check_periods(self, stages: set[str], tags: set[str]) -> None:
        """Period orders are unique; period_values and scenario rows name known periods;
        each period_values row is a valid setting (as a scenario row)."""
        periods = self.tables["periods"]
        ok = periods.ok("order")
        first: dict[int, int] = {}
        for i, number, order in periods.records("order"):
            if ok[i] and order in first:
                self.problem(periods.source, f"a unique order (also on row {first[order]})",
                             number, "order", order)
            elif ok[i]:
                first[order] = number
        if "periods" in self.broken:
            return
        known, expected = self._periods_known()
        values = self.tables["period_values"]
        ok = values.ok("period", "setting", "target", "value")
        for i, number, period, setting, target, value in values.records(
                "period", "setting", "target", "value"):
            if not ok[i]:
                continue
            if period not in known:
                self.problem(values.source, expected, number, "period", period)
            row = {"setting": setting, "target": target, "value": value}
            for column, wrong in scenario_step_problems(setting, target, value, stages, tags):
                self.problem(values.source, wrong, number, column, row[column])
        scenarios = self.tables["scenarios"]
        ok = scenarios.ok("period")
        for i, number, period in scenarios.records("period"):
            if ok[i] and period and period not in known:
                self.problem(scenarios.source, expected + " or blank (every period)", number,
                             "period", period)

    def _check_stocks(self) -> None:
        stocks = self.tables["stocks"]
        capacity = stocks.values("capacity_t")
        for column in ("min_t", "initial_t"):
            amount = stocks.values(column)
            with np.errstate(invalid="ignore"):
                wrong = stocks.ok("capacity_t", column) & ~np.isnan(capacity) & (amount > capacity)
            for i in np.flatnonzero(wrong).tolist():
                self.problem(stocks.source, f"{column} ≤ capacity_t ({capacity[i]:g})",
                             stocks.numbers[i], column, amount[i])

    def _check_expansions(self) -> None:
        """A target is one offer or process that has a capacity; from_period is a period."""
        expansions = self.tables["expansions"]
        capacities = {}
        for name, key in (("offers", "offer"), ("processes", "process")):
            table = self.tables[name]
            ok = table.ok(key, "capacity_t")
            capacities[name] = {k: c for i, _, k, c in table.records(key, "capacity_t")
                                if ok[i]}
        known, expected = self._periods_known()
        ok_target, ok_from = expansions.ok("target"), expansions.ok("from_period")
        for i, number, target, start in expansions.records("target", "from_period"):
            if ok_from[i] and start and start not in known:
                self.problem(expansions.source, expected + " or blank (the first)", number,
                             "from_period", start)
            if not ok_target[i] or {"offers", "processes"} & self.broken:
                continue
            holders = [name for name in ("offers", "processes") if target in capacities[name]]
            if not holders:
                self.problem(expansions.source, "an offer id from offers or a process id from "
                             "processes", number, "target", target)
            elif len(holders) > 1:
                self.problem(expansions.source, "an id that is an offer or a process, not both "
                             "(rename one)", number, "target", target)
            elif math.isnan(capacities[holders[0]][target]):
                self.problem(expansions.source, f"a target with a capacity_t (its capacity in "
                             f"{holders[0]} is blank: unlimited, nothing to expand; set it, 0 "
                             "for a plant not yet open)", number, "target", target)


    def _check_disruptions(self, stages: set[str], tags: set[str]) -> None:
        """Rows of one id agree on probability, period and duration; the ids' probabilities
        sum to at most 1; a period is known (blank only without a periods table); each
        row's setting is valid (as a scenario row)."""
        table = self.tables["disruptions"]
        columns = ("disruption", "probability", "period", "duration", "setting", "target",
                   "value")
        ok = table.ok(*columns)
        known, expected = self._periods_known()
        first: dict[str, tuple[int, float, str, int]] = {}
        for i, number, name, probability, period, duration, setting, target, value in \
                table.records(*columns):
            if not ok[i]:
                continue
            if name in first:
                row, *described = first[name]
                for column, mine, theirs in zip(("probability", "period", "duration"),
                                                (probability, period, duration), described,
                                                strict=True):
                    if mine != theirs:
                        self.problem(table.source, f"the same {column} as disruption {name}'s "
                                     f"row {row} ({theirs})", number, column, mine)
            else:
                first[name] = (number, probability, period, duration)
                if known and period not in known:
                    self.problem(table.source, expected, number, "period", period)
                elif not known and period:
                    self.problem(table.source, "blank (no periods table: the only period)",
                                 number, "period", period)
            row = {"setting": setting, "target": target, "value": value}
            for column, wrong in scenario_step_problems(setting, target, value, stages, tags):
                self.problem(table.source, wrong, number, column, row[column])
        total = sum(probability for _, probability, _, _ in first.values())
        if total > 1.0 + 1e-9:
            number, probability, _, _ = min(first.values())   # the first disruption's row
            self.problem(table.source, f"probabilities summing to at most 1 over the "
                         f"disruptions (they sum to {total:.6g})", number, "probability",
                         probability)


def _empty_table(spec: Table, source: str) -> TypedTable:
    """A table without rows (absent, unreadable or broken), typed."""
    return TypedTable(spec.name, source, _frame(spec, np.zeros(0, dtype=np.int64),
                                                [_typed_empty(c, 0) for c in spec.columns]))


def _frame(spec: Table, numbers: np.ndarray, columns: list[np.ndarray]) -> pd.DataFrame:
    data = {ROW: _series(np.asarray(numbers, dtype=np.int64))}
    data.update({c.name: _series(v) for c, v in zip(spec.columns, columns, strict=True)})
    return pd.DataFrame(data, copy=False)


def _valid(table: TypedTable, column: str) -> set:
    """The distinct values of a column among the cells that parsed."""
    return set(pd.unique(table.values(column)[table.ok(column)]).tolist())


def _put(values: np.ndarray, slow: np.ndarray, at: np.ndarray, converted: np.ndarray,
         failed: np.ndarray) -> None:
    """Store the cells that converted; mark the others for the cell-by-cell parser."""
    if failed.any():
        slow[at[failed]] = True
        at, converted = at[~failed], converted[~failed]
    values[at] = converted


def _parsed_texts(column: Column, texts: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, failed, blank) of text cells: values are meaningful where a cell is
    neither blank nor failed."""
    stripped = np.fromiter(map(str.strip, texts), dtype=object, count=len(texts))
    blank = stripped == ""
    failed = np.zeros(len(texts), dtype=bool)
    values = _typed_empty(column, len(texts))
    filled = np.flatnonzero(~blank)
    if len(filled):
        values[filled], failed[filled] = _checked_texts(column, stripped[filled])
    return values, failed, blank


def _checked_texts(column: Column, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values of non-blank, stripped text cells and which of them fail (the cell
    parser then says why): the same rules as ``_convert``, over the whole column."""
    kind, count = column.kind, len(texts)
    failed = np.zeros(count, dtype=bool)
    if kind in _TEXT_KINDS:
        limit, odd = ((MAX_ID_LENGTH, _INVISIBLE) if kind in _ID_KINDS
                      else (MAX_TEXT_LENGTH, _CONTROL))
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=count)
        failed |= lengths > limit
        if odd.search(" ".join(texts)):  # a space is neither invisible nor a control
            failed |= np.fromiter((odd.search(t) is not None for t in texts), bool, count)
        return texts, failed
    if kind in _NUMBER_KINDS:
        try:
            numbers = texts.astype(np.float64)  # Python's float() on each cell
        except (OverflowError, ValueError):
            numbers = np.full(count, np.nan)
            for i, text in enumerate(texts):
                try:
                    numbers[i] = float(text)
                except (OverflowError, ValueError):
                    failed[i] = True
        converted, wrong = _checked_numbers(column, numbers)
        return converted, failed | wrong
    distinct = pd.unique(texts).tolist()
    if kind is Kind.BOOL:
        words = {u: u.lower() for u in distinct}
        wrong = [u for u, w in words.items() if w not in TRUE_WORDS and w not in FALSE_WORDS]
        truth = _isin(texts, [u for u, w in words.items() if w in TRUE_WORDS])
        return truth, _isin(texts, wrong) if wrong else failed
    if kind is Kind.CHOICE:
        wrong = [u for u in distinct if u not in column.choices]
    else:  # country codes
        wrong = [u for u in distinct if not (is_country_code(u) or (
            kind is Kind.COUNTRY_OR_ANY and u == ALL_STAGES))]
    return texts, _isin(texts, wrong) if wrong else failed


def _checked_numbers(column: Column, numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of a number or whole-number column and which of them fail: NaN,
    infinite, beyond the magnitude limit, not whole, out of range (``_convert``'s
    rules, over the whole column)."""
    with np.errstate(invalid="ignore"):
        failed = ~np.isfinite(numbers) | (np.abs(numbers) > MAGNITUDE_LIMIT)
        if column.kind is Kind.INT:
            failed |= numbers != np.trunc(numbers)
            if column.minimum is not None:
                failed |= numbers < column.minimum
            return np.where(failed, 0, numbers).astype(np.int64), failed
        low, high = column.minimum, column.maximum
        if low is not None:
            failed |= (numbers <= low) if column.strict_minimum else (numbers < low)
        if high is not None:
            failed |= numbers > high
    return numbers, failed



def scenario_step_problems(setting: str, target: str, value: str, stages: set[str],
                           tags: set[str]) -> list[tuple[str, str]]:
    """Problems of one scenario step as (column, expectation); empty when valid."""
    found: list[tuple[str, str]] = []
    known = ", ".join(sorted(stages))
    if setting == "zone":
        if value not in (ZoneStatus.JOINED, ZoneStatus.OBSERVER):
            found.append(("value", "joined or observer"))
        return found
    if setting == "zone_member":
        if not is_country_code(target):
            found.append(("target", "a country code of two capital letters"))
        if value.strip().lower() not in ("true", "false"):
            found.append(("value", "true or false"))
        return found
    if setting in ("benchmark", "demand_factor"):
        if target not in stages:
            found.append(("target", f"a stage from stages ({known})"))
    elif setting == "stock_floor_days":
        if target not in stages and target != ALL_STAGES:
            found.append(("target", f"a stage from stages ({known}) or * (every stock)"))
    else:
        group, sep, stage = target.partition(":")
        if not sep or (stage not in stages and stage != ALL_STAGES):
            found.append(("target", f"GROUP:STAGE with a stage from stages ({known}) or *"))
        elif setting in ("capacity_factor", "price_factor"):
            if not (group == ALL_STAGES or group in (ZONE, NON_ZONE) or is_country_code(group)
                    or group in tags):
                found.append(("target", "GROUP:STAGE with a group: a country code, a tag "
                              "from countries.groups, zone, non-zone or *"))
        elif not (group in (ZONE, NON_ZONE, EACH) or is_country_code(group) or group in tags):
            found.append(("target", "GROUP:STAGE with a group: a country code, a tag from "
                          "countries.groups, zone, non-zone or each"))
    number = _as_float(value)
    if number is None:
        found.append(("value", "a number"))
    elif setting in SHARE_SETTINGS and not 0.0 <= number <= 1.0:
        found.append(("value", "a share in [0, 1]"))
    elif number < 0:
        found.append(("value", "a number ≥ 0"))
    return found


def _as_float(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _convert(column: Column, value: str | int | float | bool) -> object:
    """Convert one non-blank cell; ValueError carries a note for the message."""
    kind = column.kind
    if kind in (Kind.ID, Kind.TEXT, Kind.STAGE, Kind.STAGE_OR_ANY):
        if not isinstance(value, str):
            value = _number_text(value)
        _check_text(kind, value)
        return str(value)  # plain text, also from an annotated Excel cell
    if kind is Kind.CHOICE:
        if str(value) not in column.choices:
            raise ValueError()
        return str(value)
    if kind in (Kind.COUNTRY, Kind.COUNTRY_OR_ANY):
        text = str(value)
        if is_country_code(text) or (kind is Kind.COUNTRY_OR_ANY and text == ALL_STAGES):
            return text
        raise ValueError()
    if kind is Kind.BOOL:
        if isinstance(value, bool):
            return value
        word = str(value).lower()
        if word in TRUE_WORDS | FALSE_WORDS:
            return word in TRUE_WORDS
        raise ValueError()
    number = _number(value)
    if kind is Kind.INT:
        if number != int(number):
            raise ValueError(" (not a whole number)")
        _check_range(column, number)
        return int(number)
    _check_range(column, number)
    return number


def _number(value: str | int | float | bool) -> float:
    if isinstance(value, bool):
        raise ValueError(" (a boolean)")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(_number_hint(str(value))) from None
    if math.isnan(number):
        raise ValueError(" (NaN is not a number)")
    if math.isinf(number):
        raise ValueError(" (infinite; leave the cell blank where unlimited is allowed)")
    if abs(number) > MAGNITUDE_LIMIT:
        raise ValueError(f" (beyond ±{MAGNITUDE_LIMIT:g}: larger numbers defeat the solver's "
                         "tolerances; rescale the units)")
    return number


def _check_range(column: Column, number: float) -> None:
    low, high = column.minimum, column.maximum
    if low is not None and (number < low or (column.strict_minimum and number == low)):
        raise ValueError()
    if high is not None and number > high:
        raise ValueError()


def _check_text(kind: Kind, text: str) -> None:
    """Ids: at most MAX_ID_LENGTH characters, none invisible; text: at most
    MAX_TEXT_LENGTH characters, no control characters."""
    limit, odd = (MAX_ID_LENGTH, _INVISIBLE) if kind in _ID_KINDS else (MAX_TEXT_LENGTH, _CONTROL)
    if len(text) > limit:
        raise ValueError(f" of at most {limit} characters (this one has {len(text):,})")
    found = odd.search(text)
    if found:
        what, why = (("an invisible character", "ids that look the same would differ")
                     if kind in _ID_KINDS else
                     ("a control character", "it can change what a terminal or report shows"))
        raise ValueError(f" without {what} (it has {_describe(found.group())} at position "
                         f"{found.start() + 1}: {why})")


def _describe(char: str) -> str:
    """``U+200B ZERO WIDTH SPACE``; ``U+001B (a control character)``."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X} (a control character)"


def _non_ascii_note(text: str) -> str:
    """Name the non-ASCII characters of a rejected value: lookalikes such as Cyrillic С
    for Latin C are invisible in a message otherwise."""
    odd: list[str] = []
    for char in text[:SHOWN_VALUE_LENGTH]:
        if not char.isascii() and char not in odd:
            odd.append(char)
    if not odd:
        return ""
    names = ", ".join(f"{c!r} is {_describe(c)}" for c in odd[:3])
    return f" (the value is not plain ASCII: {names}{', …' if len(odd) > 3 else ''})"


_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:([,'\u00a0\u202f ])\d{3})(?:\1\d{3})*(?:\.\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?(?:\d{1,3}(?:[.\u00a0\u202f ]\d{3})+|\d+),\d+")
_CURRENCY = re.compile(r"\s*(?:[$€£¥₩]|USD|US\$|EUR|KRW)\s*|\s*(?:USD|EUR|KRW|t|/t)\s*$")


def _number_hint(text: str) -> str:
    """Why a cell that looks numeric did not read as a number."""
    text = text.strip()
    if _THOUSANDS.fullmatch(text):
        plain = re.sub(r"[,'\u00a0\u202f ]", "", text)
        return (f" (write it without thousands separators: {plain}; '.' is the decimal "
                "mark)")
    if _DECIMAL_COMMA.fullmatch(text):
        plain = re.sub(r"[.\u00a0\u202f ]", "", text).replace(",", ".")
        return f" (use '.' as the decimal mark, without separators: {plain})"
    if text.endswith("%") and _as_float(text[:-1]) is not None:
        return f" (without a % sign: {text} is {_as_float(text[:-1]) / 100:g})"
    stripped = _CURRENCY.sub("", text)
    if stripped != text and _as_float(stripped) is not None:
        return f" (a plain number, without a currency or unit: {stripped})"
    return ""


def _missing_column_hint(spec: Table, table: RawTable, name: str) -> str:
    """Why a required column may seem absent: a different case, or a header below row 1."""
    for found in table.header:
        if found != name and found.lower().replace(" ", "_") == name:
            return f" (found {found!r}: column names are lower case, as listed)"
    required = {c.name for c in spec.columns if c.required}
    for number, cells in table.preview:
        if required <= {str(c).strip() for c in cells if isinstance(c, str)}:
            return f" (the header seems to be on row {number}: it must be row 1)"
    return ""


def _number_text(value: int | float | bool) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _disruptions(tables: Tables) -> tuple[Disruption, ...]:
    """Disruption rows grouped by id, in order of first appearance."""
    table = tables.tables["disruptions"]
    grouped: dict[str, list[tuple]] = {}
    for _, number, *row in table.records("disruption", "probability", "period", "duration",
                                         "setting", "target", "value"):
        grouped.setdefault(row[0], []).append((number, *row))
    found = []
    for name, rows in grouped.items():
        number, _, probability, period, duration = rows[0][:5]
        steps = tuple(ScenarioStep(name, setting, target, value,
                                   f"{table.source} row {n}")
                      for n, _, _, _, _, setting, target, value in rows)
        found.append(Disruption(name, float(probability), period or None, int(duration), steps,
                                f"{table.source} row {number}"))
    return tuple(found)


def _tags(text: str) -> list[str]:
    return [t.strip() for t in text.split(";") if t.strip()]


def _find_cycle(edges: dict[str, set[str]]) -> list[str]:
    """A list of stages forming a cycle, or [] (iterative depth-first search)."""
    state: dict[str, int] = {}
    for start in sorted(edges):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(edges.get(start, ()))))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return [*path[path.index(child):], child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return []


def validate_frames(raw: RawDataset) -> tuple[Tables, list[Problem]]:
    """The dataset as typed frames, one per table, or ``InputError`` with every error;
    returns the warnings too. Builds no per-row records."""
    checker = Validator(raw)
    checker.parse_tables()
    checker.check_references()
    if errors(checker.problems):
        raise InputError(checker.problems)
    return Tables(raw.location, checker.tables), checker.problems


def validate(raw: RawDataset) -> tuple[Dataset, list[Problem]]:
    """Build the dataset of records or raise ``InputError`` with every error; returns
    warnings too."""
    tables, warnings = validate_frames(raw)
    return to_dataset(tables), warnings


def to_dataset(tables: Tables) -> Dataset:
    """The records a solve builds its model from, made from the validated frames (the
    one place where rows become objects). A blank optional number (NaN) is None."""

    def columns(name: str, *names: str) -> Iterator[tuple]:
        table = tables.tables[name]
        lists = [[None if v != v else v for v in table.frame[c].tolist()]
                 if table.frame[c].dtype.kind == "f" else table.frame[c].tolist()
                 for c in names]
        origins = [f"{table.source} row {n}" for n in table.numbers.tolist()]
        return zip(*lists, origins, strict=True)

    settings = dict(zip(tables["settings"]["key"].tolist(), tables["settings"]["value"].tolist(),
                        strict=True))
    return Dataset(
        stages=tuple(Stage(stage, order, demand, origin, material, shortage, value)
                     for stage, order, demand, material, shortage, value, origin in columns(
                         "stages", "stage", "order", "demand_t", "material",
                         "shortage_usd_per_t", "value_usd_per_t")),
        offers=tuple(Offer(*fields, origin=origin, members_only=members)
                     for *fields, members, origin in columns(
                         "offers", "offer", "stage", "supplier", "country", "price_usd_per_t",
                         "capacity_t", "min_t", "freight_usd_per_t", "members_only")),
        processes=tuple(Process(*r) for r in columns(
            "processes", "process", "from_stage", "to_stage", "yield", "cost_usd_per_t",
            "capacity_t")),
        process_flows=tuple(ProcessFlow(process, stage, Role(role), t_per_t, origin)
                            for process, stage, role, t_per_t, origin in columns(
                                "process_flows", "process", "stage", "role", "t_per_t")),
        countries=tuple(Country(country, name, member, frozenset(_tags(groups)), origin)
                        for country, name, member, groups, origin in columns(
                            "countries", "country", "name", "zone_member", "groups")),
        tariffs=tuple(TariffRule(*r) for r in columns(
            "tariffs", "country", "stage", "mfn_rate", "zone_rate")),
        benchmarks={stage: price for stage, price, _ in columns(
            "benchmarks", "stage", "benchmark_usd_per_t")},
        limits=tuple(Limit(group, stage, low, high, Basis(basis), Scope(scope), origin, cost)
                     for group, stage, low, high, basis, scope, cost, origin in columns(
                         "limits", "group", "stage", "min_share", "max_share", "basis",
                         "scope", "max_cost_usd_per_pp")),
        content=tuple(ContentShare(*r) for r in columns("content", "offer", "origin",
                                                        "share")),
        scenarios=tuple(ScenarioStep(scenario, setting, target, value, origin, period or None)
                        for scenario, setting, target, value, period, origin in columns(
                            "scenarios", "scenario", "setting", "target", "value", "period")),
        periods=tuple(sorted((Period(*r) for r in columns(
            "periods", "period", "order", "years", "discount_factor")), key=lambda p: p.order)),
        period_values=tuple(ScenarioStep(*r) for r in columns(
            "period_values", "period", "setting", "target", "value")),
        stocks=tuple(Stock(stage, initial, capacity, holding, floor, origin, initial_origin)
                     for stage, initial, capacity, holding, floor, initial_origin, origin
                     in columns("stocks", "stage", "initial_t", "capacity_t",
                                "holding_usd_per_t_yr", "min_t", "initial_origin")),
        expansions=tuple(Expansion(name, target, cost, most, lead, start or None, origin)
                         for name, target, cost, most, lead, start, origin in columns(
                             "expansions", "expansion", "target", "usd_per_t_yr", "max_t_yr",
                             "lead_periods", "from_period")),
        disruptions=_disruptions(tables),
        risk_weight=float(settings.get("risk_weight", 0.0)),
        cvar_alpha=float(settings.get("cvar_alpha", 0.9)),
        buyer=settings.get("buyer", "KR"),
        zone=ZoneStatus(settings.get("zone", ZoneStatus.OBSERVER)),
        name=settings.get("name", ""),
    )
