"""The report workbook (``--format xlsx``) read back with openpyxl: Summary first with
the headline figures, a chart and the manifest; every table sheet with a frozen bold
header, a filter, fitted widths and number formats by column; compare side by side."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from planner.cli import main
from planner.reports import cell_formats as cf
from planner.reports.workbook_charts import OTHER, mix_rows

TINY = Path(__file__).parent / "data" / "tiny-chain"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book") / "plan.xlsx"
    result = run("solve", "--inputs", TINY, "--format", "xlsx", "--output", out)
    assert result.exit_code == 0, result.output
    return out


def table(sheet) -> tuple[list, list[tuple]]:
    rows = list(sheet.iter_rows())
    return [c.value for c in rows[0]], rows[1:]


def width_of(sheet, column: int) -> float:
    """A column's width (xlsxwriter writes neighbours of equal width as one range)."""
    found = [d.width for d in sheet.column_dimensions.values() if d.min <= column <= d.max]
    assert found, column
    return found[0]


def test_summary_comes_first_with_headline_chart_and_manifest(solved):
    book = load_workbook(solved)
    assert book.sheetnames[0] == "Summary"
    assert "summary" not in book.sheetnames   # its rows are on Summary
    summary = book["Summary"]
    cells = {summary.cell(r, 1).value: summary.cell(r, 2) for r in range(1, summary.max_row + 1)}
    assert summary["A1"].value == "planner solve — tiny-chain"
    assert summary["A1"].font.b
    assert cells["objective_usd"].value == pytest.approx(4100.0)
    assert cells["objective_usd"].number_format == cf.USD
    assert cells["command"].value == "solve"                  # the run manifest
    assert any(str(k).startswith("input ") for k in cells)
    assert "Run manifest" in cells
    assert "Sheets in this workbook" in cells
    assert cells["purchases"].value.startswith("Purchases by stage")   # what each sheet says
    assert len(summary._charts) == 1
    chart = summary._charts[0]
    assert chart.tagname == "barChart"
    assert chart.grouping == "percentStacked"
    assert len(chart.series) == 2   # CN, AU


def test_mix_sheet_is_tonnes_by_stage_and_country(solved):
    header, rows = table(load_workbook(solved)["mix"])
    assert header[:2] == ["stage", "total_t"]
    mix = {r[0].value: {h: c.value for h, c in zip(header[2:], r[2:], strict=True)}
           for r in rows}
    assert mix == {"oxide": {"CN": 8.0, "AU": 12.0}, "magnet": {"CN": 10.0, "AU": None}}
    assert rows[0][2].number_format == cf.TONNES


def test_every_table_sheet_has_frozen_bold_header_filter_and_widths(solved):
    book = load_workbook(solved)
    for name in book.sheetnames[1:]:
        sheet = book[name]
        header, rows = table(sheet)
        assert sheet.freeze_panes == "A2", name
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}" \
                                        f"{len(rows) + 1}", name
        assert all(c.font.b for c in next(sheet.iter_rows(max_row=1))), name
        for column, name_ in enumerate(header, start=1):
            width = width_of(sheet, column)
            longest = max((len(str(r[column - 1].value)) for r in rows
                           if isinstance(r[column - 1].value, str)), default=0)
            assert min(longest, 50) <= width <= 52, (name, name_, width)


def test_number_formats_follow_column_names(solved):
    header, rows = table(load_workbook(solved)["purchases"])
    row = {h: c for h, c in zip(header, rows[0], strict=True)}
    assert row["tonnes"].number_format == cf.TONNES
    assert row["share"].number_format == cf.SHARE
    assert row["landed_usd_per_t"].number_format == cf.USD_RATE
    assert row["cost_usd"].number_format == cf.USD
    assert row["duty_rate"].number_format == cf.SHARE
    assert row["supplier"].number_format == "General"
    assert isinstance(row["tonnes"].value, int | float)


@pytest.mark.parametrize(("name", "table_name", "code"), [
    ("objective_usd", "", cf.USD), ("whole_cost_usd", "", cf.USD),
    ("cost_usd_per_yr", "", cf.USD), ("usd_per_pp", "", cf.USD_RATE),
    ("reduced_cost_usd_per_t_yr", "", cf.USD_RATE), ("USD M/yr", "", cf.USD_RATE),
    ("share_by_value", "", cf.SHARE), ("cn_after", "", cf.SHARE), ("top3_before", "", cf.SHARE),
    ("limit", "", cf.SHARE), ("valid_to", "limit_prices", cf.SHARE),
    ("valid_to", "demand_prices", cf.TONNES), ("CN % NdPr", "", cf.PERCENT),
    ("growth_pct", "", cf.PERCENT), ("tonnes", "", cf.TONNES), ("capacity_t", "", cf.TONNES),
    ("added_t_yr", "", cf.TONNES), ("t_per_t", "", cf.RATIO), ("days_of_cover", "", cf.DAYS),
    ("reserve_days ndpr-oxide", "stress", cf.DAYS), ("hhi_after", "", cf.INDEX),
    ("discount_factor", "", cf.FACTOR), ("supplier", "", None), ("order", "", None),
    ("JP", "mix", cf.TONNES), ("stage", "mix", None)])
def test_format_of_a_name(name, table_name, code):
    assert cf.number_format(name, table_name) == code


@pytest.mark.parametrize(("metric", "code"), [
    ("total cost (USD)", cf.USD), ("2028: cost a year (USD)", cf.USD),
    ("China share magnet, by origin", cf.SHARE), ("HHI magnet", cf.INDEX),
    ("2030: days of cover, ndpr-oxide", cf.DAYS), ("unmet [cn-cut] (t)", cf.TONNES),
    ("status", None)])
def test_format_of_a_compare_metric(metric, code):
    assert cf.metric_format(metric) == code


def test_compare_is_one_sheet_side_by_side(tmp_path):
    out = tmp_path / "compare.xlsx"
    result = run("compare", "--inputs", TINY, "--format", "xlsx", "--output", out)
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert book.sheetnames == ["Summary", "comparison", "manifest"]
    sheet = book["comparison"]
    header, rows = table(sheet)
    assert header[0] == "metric"
    assert len(header) > 2
    assert sheet.freeze_panes == "B2"
    by_metric = {r[0].value: r for r in rows}
    assert all(c.number_format == cf.USD for c in by_metric["total cost (USD)"][1:])
    share = next(r for m, r in by_metric.items() if m.startswith("China share"))
    assert all(c.number_format == cf.SHARE for c in share[1:])
    summary = book["Summary"]
    values = [[c.value for c in row] for row in summary.iter_rows()]
    assert ["scenario", *header[1:]] in values                # headline, side by side
    assert any(row[0] == "total cost (USD)" for row in values)
    assert summary._charts
    assert summary._charts[0].tagname == "barChart"


def test_sweep_draws_its_cost_curve(tmp_path):
    out = tmp_path / "sweep.xlsx"
    result = run("sweep", "--inputs", TINY, "--cap", "CN:oxide", "--from", "1", "--to",
                 "0.5", "--steps", "3", "--format", "xlsx", "--output", out)
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    assert book.sheetnames[:2] == ["Summary", "sweep"]
    assert [c.tagname for c in book["Summary"]._charts] == ["scatterChart"]
    header, rows = table(book["points"])
    assert rows[0][header.index("cap")].number_format == cf.SHARE


def test_an_infeasible_plan_still_makes_a_workbook(tmp_path):
    out = tmp_path / "none.xlsx"
    result = run("solve", "--inputs", TINY, "--cap", "CN:oxide=0.1", "--cap", "AU:oxide=0.1",
                 "--format", "xlsx", "--output", out)
    assert result.exit_code == 1, result.output
    book = load_workbook(out)
    assert book.sheetnames[0] == "Summary"
    assert "conflicts" in book.sheetnames
    assert not book["Summary"]._charts   # nothing bought, no mix


def test_mix_keeps_the_largest_countries_and_sums_the_rest():
    purchases = [{"stage": "ore", "country": f"C{n}", "tonnes": 10.0 + n} for n in range(12)]
    purchases += [{"stage": "ore", "country": "C0", "tonnes": 0.0},
                  {"stage": "metal", "country": "C11", "tonnes": 5.0}]
    rows = mix_rows(purchases, keep=3)
    assert [list(r) for r in rows] == [["stage", "total_t", "C11", "C10", "C9", OTHER]] * 2
    ore, metal = rows
    assert ore["total_t"] == pytest.approx(sum(10.0 + n for n in range(12)))
    assert ore[OTHER] == pytest.approx(sum(10.0 + n for n in range(9)))
    assert metal == {"stage": "metal", "total_t": 5.0, "C11": 5.0, "C10": None, "C9": None,
                     OTHER: None}


def test_mix_over_periods_reads_the_base_branch():
    purchases = [{"period": p, "branch": b, "stage": "ore", "country": "CN", "tonnes": t}
                 for p, b, t in (("2025", "base", 1.0), ("2026", "base", 2.0),
                                 ("2026", "cut", 9.0))]
    assert mix_rows(purchases) == [
        {"period": "2025", "stage": "ore", "total_t": 1.0, "CN": 1.0},
        {"period": "2026", "stage": "ore", "total_t": 2.0, "CN": 2.0}]


def test_widths_and_shown_width():
    assert cf.shown_width(0.583, cf.SHARE) == len("58.3%")
    assert cf.shown_width(2_500_979_208.8, cf.USD) == len("2,500,979,209")
    assert cf.shown_width(math.inf, cf.USD) == 3
    assert cf.shown_width("two\nlines", None) == 5
