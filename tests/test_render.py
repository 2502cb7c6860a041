"""The terminal tables print byte for byte as rich's Table prints them (render lays them out
itself, for speed): the shipped solve, compare and sweep reports and random tables, piped,
written to a file and on a terminal, at several widths."""

import io
import random
import time
from collections.abc import Callable

import pytest
from conftest import write_first_year
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from planner import api
from planner.analysis.compare import compare_scenarios, default_names
from planner.io.write import columns_of
from planner.reports.compare_tables import comparison, comparison_rows
from planner.reports.manifest import manifest_rows
from planner.reports.render import HIDDEN, TITLES, PipeConsole, ReportTable, _text, render
from planner.reports.sweep_tables import sweep_tables
from planner.reports.tables import report_tables


def rich_render(tables: dict[str, list[dict]], console: Console) -> None:
    """The reference: render as it was, every table a rich ``Table`` measured, wrapped and
    drawn by rich."""
    for name, rows in tables.items():
        if not rows:
            continue
        table = Table(title=TITLES.get(name, name), title_justify="left", title_style="bold")
        header = [c for c in columns_of(rows) if c not in HIDDEN or name == "limit_prices"]
        for column in header:
            numeric = all(isinstance(r.get(column), int | float)
                          and not isinstance(r.get(column), bool)
                          for r in rows if r.get(column) is not None)
            table.add_column(column, justify="right" if numeric else "left", overflow="fold")
        for row in rows:
            table.add_row(*[Text(_text(row.get(c))) for c in header])
        narrowest = Measurement.get(console, console.options.update(max_width=100_000),
                                    table).minimum
        width = console.width
        console.width = max(width, narrowest)
        console.print(table)
        console.width = width


class AsciiFile(io.StringIO):
    """A file whose encoding has no box-drawing characters (rich draws ASCII boxes)."""

    encoding = "ascii"


# Where cli.emit prints: a pipe (PipeConsole, 200 wide), --output file.txt (a recording
# console, exported as text) and a terminal (styles on; recording too, so that one reference
# print checks both); and a console that is not UTF-8.
SITUATIONS = ("pipe", "file", "terminal", "ascii")


def printed(draw: Callable[[Console], None], situation: str, width: int) -> str:
    """What ``draw(console)`` prints in ``situation`` on a console ``width`` columns wide."""
    if situation == "pipe":
        console = PipeConsole(width=width, file=io.StringIO())
    elif situation == "file":
        console = Console(record=True, width=width, file=io.StringIO())
    elif situation == "terminal":
        console = Console(force_terminal=True, color_system="truecolor", record=True,
                          width=width, file=io.StringIO())
    else:
        console = Console(width=width, file=AsciiFile())
    draw(console)
    out = console.file.getvalue()
    return out + "\f" + console.export_text() if console.record else out


def assert_same(tables: dict[str, list[dict]], situation: str, width: int) -> str:
    """render prints ``tables`` as rich does; returns what rich printed."""
    expected = printed(lambda console: rich_render(tables, console), situation, width)
    got = printed(lambda console: render(tables, console), situation, width)
    if got != expected:  # the first line that differs, not a 10,000-line diff
        for number, (a, b) in enumerate(zip(got.splitlines(), expected.splitlines(),
                                            strict=False)):
            assert a == b, f"line {number}"
    assert got == expected
    return expected


# -- the shipped data ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def solved() -> dict[str, list[dict]]:
    """The tables ``planner solve`` prints on the shipped dataset, manifest included."""
    plan = api.solve(api.load())
    return {**report_tables(plan.result), "manifest": manifest_rows(plan.manifest)}


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> list[dict[str, list[dict]]]:
    """``planner compare``'s tables: every shipped scenario side by side on the calibration
    year (wider than 200 columns), and two over the whole horizon (long)."""
    year = api.load(write_first_year(tmp_path_factory.mktemp("year"))).dataset
    whole = api.load().dataset
    return [{"comparison": side_by_side(year, default_names(year))},
            {"comparison": side_by_side(whole, ["base", "joined"])}]


def side_by_side(data, names: list[str]) -> list[dict]:
    """The rows ``planner compare`` prints (as cli.compare builds them)."""
    stages = [s.stage for s in sorted(data.stages, key=lambda s: s.order)]
    return comparison_rows(comparison(compare_scenarios(data, names)), stages)


@pytest.fixture(scope="module")
def swept() -> list[dict[str, list[dict]]]:
    """``planner sweep``'s tables on the shipped dataset, manifest included: the exact curve
    of the China cap on magnets in 2025 (walk, segments, breakpoints), and a grid."""
    inputs = api.load()
    return [{**sweep_tables(out), "manifest": manifest_rows(out["manifest"])}
            for out in (api.sweep(inputs, "CN:magnet", exact=True, period="2025").report,
                        api.sweep(inputs, "CN:magnet", steps=3).report)]


@pytest.mark.parametrize("situation", ["pipe", "terminal"])
def test_the_solve_report_prints_as_rich_prints_it(solved, situation):
    expected = assert_same(solved, situation, 200)
    assert expected.count("\n") > 9_000  # every period and branch


@pytest.mark.parametrize("situation", SITUATIONS)
@pytest.mark.parametrize("width", [80, 200])
def test_compare_and_sweep_print_as_rich_prints_them(compared, swept, situation, width):
    for tables in [*compared, *swept]:
        assert_same(tables, situation, width)


def test_the_shipped_reports_fold_and_widen(solved, compared):
    """At 200 columns the purchases fold (rich narrows the widest columns), and some tables
    print wider than the console (no word is split): every scenario side by side too."""
    lines = printed(lambda console: render(solved, console), "pipe", 200).splitlines()
    heights = dict(zip([name for name, rows in solved.items() if rows], body_heights(lines),
                       strict=True))
    assert heights["purchases"] > len(solved["purchases"])
    assert max(map(cell_len, lines)) > 200
    lines = printed(lambda console: render(compared[0], console), "pipe", 200).splitlines()
    assert max(map(cell_len, lines)) > 200


def test_render_is_fast(solved):
    """The 9,800 lines of the solve report in well under a second of CPU (rich's Table took
    6.7 s)."""
    console = Console(width=200, file=io.StringIO())
    start = time.process_time()
    render(solved, console)
    assert time.process_time() - start < 1.0


def body_heights(lines: list[str]) -> list[int]:
    """The number of body lines of each table printed in ``lines`` (HEAVY_HEAD box)."""
    heights, inside = [], False
    for line in lines:
        if line.startswith("┡"):
            heights.append(0)
            inside = True
        elif line.startswith("└"):
            inside = False
        elif inside:
            heights[-1] += 1
    return heights


# -- random tables -------------------------------------------------------------------------

WORDS = ["CN", "tonnes", "Lynas Rare Earths", "–", "∞", "−∞", "−12.5", "é", "Éire", "naïve",
         "日本", "供应商名称很长", "Ｆｕｌｌ", "1,234,567.89", "0.0001", "[bold]no markup[/]",
         "x" * 45, "ab" * 110, ""]
# Cells rich does not print as they are: lines, tabs, spaces at the ends, control codes,
# emoji with a variation selector or joiner, combining marks.
ODD = ["two\nlines", "tab\there", " leading", "trailing ", "double  space", "bell\x07",
       "❤️ heart", "e\u0301", "👩‍🔬 sci", "\n", "   ", "a\r\nb", "\u2028", "carriage\rreturn",
       "form\x0cfeed"]
NAMES = ["offer", "tonnes", "usd_per_t", "名前", "share [%]", "a long column name with words",
         "unique", "y" * 30, "é", ":smile:", ""]


def random_value(rng: random.Random, kind: str) -> object:
    """A value for a column of ``kind``: numbers, text, or both (None anywhere)."""
    if rng.random() < 0.1:
        return None
    if kind == "text" or (kind == "mixed" and rng.random() < 0.5):
        if rng.random() < 0.1:
            return rng.choice([True, False, *ODD])
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5)))
    if rng.random() < 0.4:
        return rng.randint(-10 ** rng.randint(1, 12), 10 ** rng.randint(1, 12))
    return rng.choice([rng.uniform(-1e9, 1e9), rng.uniform(-1, 1), 1e21, -1e25, 0.0, 2.5,
                       1e-7, 123456.0])


def random_tables(rng: random.Random) -> dict[str, list[dict]]:
    """One to three tables of up to six columns and eight rows, some cells missing."""
    tables = {}
    for name in rng.sample([*TITLES, "t", "odd [i]title[/i]: 日本 – ∞ " * 3], rng.randint(1, 3)):
        kinds = {column: rng.choice(["numbers", "text", "mixed"])
                 for column in rng.sample(NAMES, rng.randint(1, 6))}
        tables[name] = [{c: random_value(rng, kind) for c, kind in kinds.items()
                         if rng.random() < 0.9} for _ in range(rng.randint(1, 8))]
    return tables


EDGES = {  # a table without columns, hidden and empty ones, words wider than any console
    "no columns": [{}, {}], "summary": [{"unique": 1}], "limit_prices": [{"unique": 2}],
    "empty": [{"a": "", "b": None}, {"a": "", "b": None}],
    "wide": [{"word": "w" * 300, "n": 1.5}, {"word": "short", "n": None}],
    "spaces": [{"s": "   "}, {"s": " x "}]}
CASES = [EDGES, *(random_tables(random.Random(seed)) for seed in range(30))]


@pytest.mark.parametrize("situation", SITUATIONS)
@pytest.mark.parametrize("width", [40, 80, 120, 200])
def test_random_tables_print_as_rich_prints_them(situation, width):
    for case, tables in enumerate(CASES):
        try:
            assert_same(tables, situation, width)
        except AssertionError as failed:
            raise AssertionError(f"CASES[{case}]: {failed}") from None


def test_the_random_tables_fold_widen_and_style():
    """The random tables are not all easy: at 40 columns some print wider than the console
    (a word is wider), some have cells that fold, and on a terminal the header is bold."""
    plain = [printed(lambda console, t=tables: render(t, console), "pipe", 40).splitlines()
             for tables in CASES]
    assert sum(max(map(cell_len, lines)) > 40 for lines in plain) >= 10
    rows = [sum(len(r) for r in tables.values() if columns_of(r)) for tables in CASES]
    assert sum(sum(body_heights(lines)) > count for lines, count in zip(plain, rows,
                                                                         strict=True)) >= 10
    assert "\x1b[1m" in printed(lambda console: render(CASES[1], console), "terminal", 40)


def rich_table(title: str, header: list[str], columns: list[list[str]],
               numeric: list[bool]) -> Table:
    """The rich ``Table`` a ``ReportTable`` of the same cells stands for."""
    table = Table(title=title, title_justify="left", title_style="bold")
    for name, right in zip(header, numeric, strict=True):
        table.add_column(name, justify="right" if right else "left", overflow="fold")
    for row in zip(*columns, strict=True):
        table.add_row(*map(Text, row))
    return table


@pytest.mark.parametrize("situation", SITUATIONS)
def test_a_report_table_prints_as_rich_in_any_width(situation):
    """Printed as it is (not widened to its words), in 1 to 90 columns, any column
    right-justified, text too: the same lines as rich's Table, folded and cropped alike."""
    rng = random.Random(situation)
    for case in range(100):
        for name, rows in random_tables(rng).items():
            header = columns_of(rows)
            parts = (name, header, [[_text(r.get(c)) for r in rows] for c in header],
                     [rng.random() < 0.5 for _ in header])
            width = rng.randint(1, 90)
            expected, got = (printed(lambda console, t=table: console.print(t), situation, width)
                             for table in (rich_table(*parts), ReportTable(*parts)))
            assert got == expected, (case, name, width)
