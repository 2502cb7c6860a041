"""Check raw tables against the schema and the cross-table rules (SPEC §6),
collecting every problem, and build the typed ``Dataset``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from planner.io.problems import InputError, Problem, Severity, errors
from planner.io.read import Cell, Formula, Noted, RawDataset, RawTable
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
    Limit,
    Offer,
    Process,
    ScenarioStep,
    Scope,
    Stage,
    TariffRule,
    ZoneStatus,
)
from planner.models.groups import COUNTRY_CODE, is_country_code

CONTENT_TOLERANCE = 1e-6
MAGNITUDE_LIMIT = 1e12  # USD/t or t: far above any real price or tonnage
_BAD = object()  # marks a cell that failed to parse
TRUE_WORDS = {"true", "yes", "1", "y", "t"}
FALSE_WORDS = {"false", "no", "0", "n", "f"}
MAX_ID_LENGTH = 200      # ids and stage names; longer is a pasted blob, not an id
MAX_TEXT_LENGTH = 1000   # names and other text
SHOWN_VALUE_LENGTH = 80  # longer values are clipped in messages
# Characters that make two ids look equal while they differ (controls, zero-width and
# other format characters, bidirectional overrides), refused in ids ...
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\xad\u034f\u061c\u115f\u1160\u17b4\u17b5"
                        "\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164"
                        "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U000e0000-\U000e0fff]")
# ... and, in free text, controls (terminal escapes; tab and line breaks are fine)
# and bidirectional overrides, which reorder what a report shows.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ID_KINDS = (Kind.ID, Kind.STAGE, Kind.STAGE_OR_ANY)


@dataclass
class Row:
    """A parsed row: its values by column and where it came from."""

    values: dict[str, object]
    number: int
    source: str
    bad: frozenset[str] = frozenset()

    def ok(self, *columns: str) -> bool:
        """True when these cells parsed (cross-table checks skip broken cells)."""
        return not self.bad or not self.bad.intersection(columns)

    def __getitem__(self, column: str) -> object:
        return self.values[column]

    @property
    def origin(self) -> str:
        """``"offers.csv row 4"``: where a planner finds this row."""
        return f"{self.source} row {self.number}"


class Validator:
    """Parses every table, then checks references across tables."""

    def __init__(self, raw: RawDataset):
        self.raw = raw
        self.problems: list[Problem] = list(raw.problems)
        self.rows: dict[str, list[Row]] = {}
        # tables that could not be read or lack columns: other tables are not checked
        # against them (every reference would fail and bury the real problem)
        self.broken: set[str] = set(raw.unreadable)

    def problem(self, table: str, expected: str, row: int | None = None,
                column: str | None = None, value: object = None,
                severity: Severity = Severity.ERROR) -> None:
        """Record one problem; a long value is clipped, non-ASCII characters are named."""
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
                if spec.name in self.raw.unreadable:  # already reported by the reader
                    self.rows[spec.name] = []
                    continue
                if spec.required:
                    self.broken.add(spec.name)
                    self.problem(self.raw.source_of(spec.name), f"required table {spec.name} "
                                 f"is missing (in {self.raw.location})")
                self.rows[spec.name] = []
                continue
            self.rows[spec.name] = self._parse_table(spec, table)

    def _parse_table(self, spec: Table, table: RawTable) -> list[Row]:
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
            return []
        if spec.required and not table.rows:
            self.broken.add(spec.name)
            self.problem(table.source, f"at least one row under the header (required table "
                         f"{spec.name} has only its header)", 2)
            return []
        numbers = [number for number, _ in table.rows]
        columns = [self._parse_column(table, column, numbers) for column in spec.columns]
        names = [column.name for column in spec.columns]
        broken = [(n, values) for n, values in zip(names, columns, strict=True)
                  if any(v is _BAD for v in values)]
        parsed: list[Row] = []
        for i, (number, values) in enumerate(zip(numbers, zip(*columns, strict=True),
                                                 strict=True)):
            bad = frozenset(n for n, column_values in broken if column_values[i] is _BAD)
            parsed.append(Row(dict(zip(names, values, strict=True)), number, table.source,
                              bad))
        self._check_unique(spec, table, parsed)
        return parsed

    def _parse_column(self, table: RawTable, column: Column, numbers: list[int]) -> list:
        """Every cell of one column: a fast path for clean text and numbers, and the
        cell-by-cell path (with its messages) when anything in the column is off."""
        at = table.position(column.name)
        cells = [None if at is None or at >= len(row) else row[at] for _, row in table.rows]
        fast = _fast_column(column, cells)
        if fast is not None:
            return fast
        return [self._parse_cell(table.source, number, column, cell)
                for number, cell in zip(numbers, cells, strict=True)]

    def _parse_cell(self, source: str, row: int, column: Column, cell: Cell) -> object:
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

    def _check_unique(self, spec: Table, table: RawTable, rows: list[Row]) -> None:
        if not spec.key:
            return
        first: dict[tuple, int] = {}
        for row in rows:
            if not row.ok(*spec.key):
                continue
            key = tuple(row[c] for c in spec.key)
            if key in first:
                label = ", ".join(spec.key)
                self.problem(table.source, f"a unique {label} (also on row {first[key]})",
                             row.number, spec.key[0], "/".join(map(str, key)))
            else:
                first[key] = row.number

    # -- pass 2: references across tables -----------------------------------------
    def check_references(self) -> None:
        """Stages, groups, countries, content, minimums, cycles, settings, scenarios."""
        stages = {r["stage"] for r in self.rows["stages"] if r.ok("stage")}
        self._check_orders()
        if "stages" not in self.broken:
            self._check_stage_refs(stages)
        self._check_offers()
        self._check_processes(stages)
        countries = {r["country"] for r in self.rows["countries"] if r.ok("country")}
        tags = {t for r in self.rows["countries"] if r.ok("groups") for t in _tags(r["groups"])}
        groups_known = "countries" not in self.broken
        if groups_known:
            self._check_unlisted_countries(countries)
        for row in self.rows["limits"]:
            if row.ok("group") and groups_known:
                self._check_group(row.source, row.number, "group", row["group"], tags)
                self._warn_unlisted_group(row.source, row.number, "group", row["group"],
                                          countries)
            lo, hi = row["min_share"], row["max_share"]
            if row.ok("min_share", "max_share") and lo is not None and hi is not None and lo > hi:
                self.problem(row.source, f"min_share ≤ max_share ({hi})", row.number,
                             "min_share", lo)
        self._check_content()
        self._check_settings()
        self._check_scenarios(stages, tags, countries,
                              groups_known and "stages" not in self.broken)

    def _check_orders(self) -> None:
        first: dict[int, int] = {}
        for row in self.rows["stages"]:
            if not row.ok("order"):
                continue
            if row["order"] in first:
                self.problem(row.source, f"a unique order (also on row {first[row['order']]})",
                             row.number, "order", row["order"])
            first.setdefault(row["order"], row.number)

    def _check_stage_refs(self, stages: set[str]) -> None:
        known = ", ".join(sorted(stages)) or "none defined"
        for table, columns in (("offers", ("stage",)), ("processes", ("from_stage", "to_stage")),
                               ("tariffs", ("stage",)), ("benchmarks", ("stage",)),
                               ("limits", ("stage",))):
            for row in self.rows[table]:
                for column in filter(row.ok, columns):
                    value = row[column]
                    if value not in stages and value != ALL_STAGES:
                        self.problem(row.source, f"a stage from stages ({known})", row.number,
                                     column, value)
                    elif value == ALL_STAGES and table in ("offers", "processes", "benchmarks"):
                        self.problem(row.source, f"a stage from stages ({known}); * is not "
                                     "allowed here", row.number, column, value)

    def _check_offers(self) -> None:
        for row in self.rows["offers"]:
            cap = row["capacity_t"]
            if row.ok("capacity_t", "min_t") and cap is not None and row["min_t"] > cap:
                self.problem(row.source, f"min_t ≤ capacity_t ({cap:g})", row.number, "min_t",
                             row["min_t"])

    def _check_processes(self, stages: set[str]) -> None:
        edges: dict[str, set[str]] = defaultdict(set)
        for row in self.rows["processes"]:
            if not row.ok("from_stage", "to_stage"):
                continue
            if row["from_stage"] == row["to_stage"]:
                self.problem(row.source, "to_stage different from from_stage (a process "
                             "cannot feed its own input)", row.number, "to_stage",
                             row["to_stage"])
            edges[row["from_stage"]].add(row["to_stage"])
        cycle = _find_cycle(edges)
        if cycle:
            rows = [r for r in self.rows["processes"] if r.ok("from_stage", "to_stage")
                    and r["from_stage"] in cycle and r["to_stage"] in cycle]
            for row in rows:
                self.problem(row.source, "processes without a cycle (stages "
                             f"{' → '.join(cycle)})", row.number, "to_stage", row["to_stage"])

    def _check_unlisted_countries(self, countries: set[str]) -> None:
        if not self.rows["countries"] and "countries" not in self.raw.tables:
            return
        for table, column in (("offers", "country"), ("content", "origin")):
            reported: set[str] = set()
            for row in filter(lambda r, c=column: r.ok(c), self.rows[table]):
                code = row[column]
                if code not in countries and code not in reported:
                    reported.add(code)
                    self.problem(row.source, "a country listed in countries (an unlisted "
                                 "country is in no group and not a zone member)", row.number,
                                 column, code, Severity.WARNING)

    def _warn_unlisted_group(self, source: str, number: int, column: str, group: str,
                             countries: set[str]) -> None:
        """A limit on a country that supplies nothing listed is probably a typo."""
        if is_country_code(group) and group not in countries and self.rows["countries"]:
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
        offers = {r["offer"] for r in self.rows["offers"] if r.ok("offer")}
        totals: dict[str, float] = defaultdict(float)
        first_row: dict[str, Row] = {}
        for row in self.rows["content"]:
            if not row.ok("offer", "share"):
                continue
            if row["offer"] not in offers and "offers" not in self.broken:
                self.problem(row.source, "an offer id from offers", row.number, "offer",
                             row["offer"])
            totals[row["offer"]] += row["share"]
            first_row.setdefault(row["offer"], row)
        for offer, total in totals.items():
            if abs(total - 1.0) > CONTENT_TOLERANCE:
                row = first_row[offer]
                self.problem(row.source, f"shares of offer {offer} summing to 1 (they sum to "
                             f"{total:.6g})", row.number, "share", row["share"])

    def _check_settings(self) -> None:
        for row in self.rows["settings"]:
            if not row.ok("key", "value"):
                continue
            key, value = row["key"], row["value"]
            if key == "buyer" and not is_country_code(value):
                self.problem(row.source, Kind.COUNTRY.value, row.number, "value", value)
            if key == "zone" and value not in (ZoneStatus.JOINED, ZoneStatus.OBSERVER):
                self.problem(row.source, "joined or observer", row.number, "value", value)

    def _check_scenarios(self, stages: set[str], tags: set[str], countries: set[str],
                         targets: bool = True) -> None:
        """Every scenario row; ``targets`` False skips the targets (stages or countries
        could not be read, so they cannot be checked)."""
        for row in self.rows["scenarios"]:
            if not row.ok("setting", "target", "value"):
                continue
            if ":" in row["target"] and targets:
                self._warn_unlisted_group(row.source, row.number, "target",
                                          row["target"].partition(":")[0], countries)
            for column, expected in scenario_step_problems(
                    row["setting"], row["target"], row["value"], stages, tags):
                if column == "target" and not targets:
                    continue
                value = row[column]
                self.problem(row.source, expected, row.number, column, value)


SHARE_SETTINGS = ("max_share", "min_share", "embedded_max_share", "embedded_min_share")


def scenario_step_problems(setting: str, target: str, value: str, stages: set[str],
                           tags: set[str]) -> list[tuple[str, str]]:
    """Problems of one scenario step as (column, expectation); empty when valid."""
    found: list[tuple[str, str]] = []
    known = ", ".join(sorted(stages))
    if setting == "zone":
        if value not in (ZoneStatus.JOINED, ZoneStatus.OBSERVER):
            found.append(("value", "joined or observer"))
        return found
    if setting in ("benchmark", "demand_factor"):
        if target not in stages:
            found.append(("target", f"a stage from stages ({known})"))
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
        return int(number)
    _check_range(column, number)
    return number


def _fast_column(column: Column, cells: list[Cell]) -> list | None:
    """Values of a clean column in one pass, or None to take the cell-by-cell path.

    Covers the big columns (ids, text, country codes, numbers); anything unusual —
    a blank without a default, a bad number, a value out of range — returns None.
    """
    if not all(type(cell) is str for cell in cells):  # not Excel values, dates, formulas
        return None
    texts = [cell.strip() for cell in cells]
    blank_ok = column.default is not MISSING
    if not blank_ok and not all(texts):
        return None
    kind = column.kind
    if kind in (Kind.ID, Kind.TEXT, Kind.STAGE, Kind.STAGE_OR_ANY):
        limit, odd = ((MAX_ID_LENGTH, _INVISIBLE) if kind in _ID_KINDS
                      else (MAX_TEXT_LENGTH, _CONTROL))
        if max(map(len, texts), default=0) > limit or odd.search("".join(texts)):
            return None
        return [text if text else column.default for text in texts]
    if kind is Kind.COUNTRY:
        valid = all(COUNTRY_CODE.fullmatch(t) for t in texts if t)
        return [t if t else column.default for t in texts] if valid else None
    if kind is not Kind.NUMBER:
        return None
    try:
        values = [float(t) if t else column.default for t in texts]
    except ValueError:
        return None
    numbers = np.array([v for v in values if v is not None], dtype=float)
    low, high = column.minimum, column.maximum
    if not np.all(np.isfinite(numbers)) or np.any(np.abs(numbers) > MAGNITUDE_LIMIT):
        return None
    if low is not None and (np.any(numbers < low)
                            or (column.strict_minimum and np.any(numbers == low))):
        return None
    if high is not None and np.any(numbers > high):
        return None
    return values


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
    for number, cells in table.rows[:20]:
        if required <= {str(c).strip() for c in cells if isinstance(c, str)}:
            return f" (the header seems to be on row {number}: it must be row 1)"
    return ""


def _number_text(value: int | float | bool) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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


def validate(raw: RawDataset) -> tuple[Dataset, list[Problem]]:
    """Build the dataset or raise ``InputError`` with every error; returns warnings too."""
    checker = Validator(raw)
    checker.parse_tables()
    checker.check_references()
    if errors(checker.problems):
        raise InputError(checker.problems)
    return _dataset(checker.rows), checker.problems


def _dataset(rows: dict[str, list[Row]]) -> Dataset:
    settings = {r["key"]: r["value"] for r in rows["settings"]}
    return Dataset(
        stages=tuple(Stage(r["stage"], r["order"], r["demand_t"], r.origin)
                     for r in rows["stages"]),
        offers=tuple(Offer(r["offer"], r["stage"], r["supplier"], r["country"],
                           r["price_usd_per_t"], r["capacity_t"], r["min_t"],
                           r["freight_usd_per_t"], r.origin) for r in rows["offers"]),
        processes=tuple(Process(r["process"], r["from_stage"], r["to_stage"], r["yield"],
                                r["cost_usd_per_t"], r["capacity_t"], r.origin)
                        for r in rows["processes"]),
        countries=tuple(Country(r["country"], r["name"], r["zone_member"],
                                frozenset(_tags(r["groups"])), r.origin)
                        for r in rows["countries"]),
        tariffs=tuple(TariffRule(r["country"], r["stage"], r["mfn_rate"], r["zone_rate"],
                                 r.origin) for r in rows["tariffs"]),
        benchmarks={r["stage"]: r["benchmark_usd_per_t"] for r in rows["benchmarks"]},
        limits=tuple(Limit(r["group"], r["stage"], r["min_share"], r["max_share"],
                           Basis(r["basis"]), Scope(r["scope"]), r.origin,
                           r["max_cost_usd_per_pp"])
                     for r in rows["limits"]),
        content=tuple(ContentShare(r["offer"], r["origin"], r["share"], r.origin)
                      for r in rows["content"]),
        scenarios=tuple(ScenarioStep(r["scenario"], r["setting"], r["target"], r["value"],
                                     r.origin) for r in rows["scenarios"]),
        buyer=settings.get("buyer", "KR"),
        zone=ZoneStatus(settings.get("zone", ZoneStatus.OBSERVER)),
        name=settings.get("name", ""),
    )
