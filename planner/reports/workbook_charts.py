"""The charts of the report workbook, and the table each one reads.

* The mix: tonnes bought by stage and country (``purchases``, the base branch),
  a row per stage (per period and stage over periods); the countries with the
  largest shares as columns, the rest summed in ``other``. Drawn as a 100 %
  stacked column per stage: who supplies each stage. Over periods: one chart for
  the first period and one for the last.
* ``planner compare``: the change in total cost against the first scenario, a
  column per scenario.
* ``planner sweep`` of one cap: the optimal cost against the cap (points solved).
"""

from __future__ import annotations

from collections import defaultdict

KEEP = 8                 # countries drawn one by one; the rest are "other"
OTHER = "other"
# Muted, distinguishable in print; China, the subject of most caps, in red.
PALETTE = ["#1F4E79", "#4F81BD", "#9BBB59", "#F79646", "#8064A2", "#4BACC6", "#7F7F7F",
           "#C4BD97", "#D99694"]
CHINA = "#C0392B"
OTHER_COLOUR = "#BFBFBF"
SIZE = {"width": 640, "height": 330}
MILLIONS = '#,##0,," M"'          # USD in millions, on an axis
MILLIONS_LABEL = '#,##0.0,," M"'  # and on a column


def mix_rows(purchases: list[dict], keep: int = KEEP) -> list[dict]:
    """Tonnes bought by stage and country: a row per (period,) stage, stages in the
    order the purchases list them; a column per country with the largest shares
    (summed over stages), the rest in ``other``; zero as blank."""
    rows = [r for r in purchases if r.get("branch", "base") == "base" and r.get("tonnes")]
    timed = any("period" in r for r in rows)
    tonnes: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        tonnes[(r.get("period"), r["stage"])][r["country"]] += r["tonnes"]
    weight: dict[str, float] = defaultdict(float)
    for by_country in tonnes.values():
        total = sum(by_country.values())
        for country, t in by_country.items():
            weight[country] += t / total if total else 0.0
    ranked = sorted(weight, key=lambda c: (-weight[c], c))
    shown = ranked if len(ranked) <= keep + 1 else ranked[:keep]
    out = []
    for (period, stage), by_country in tonnes.items():
        row = {"period": period} if timed else {}
        row |= {"stage": stage, "total_t": sum(by_country.values())}
        row |= {c: by_country.get(c) or None for c in shown}
        if len(shown) < len(ranked):
            row[OTHER] = sum(t for c, t in by_country.items() if c not in shown) or None
        out.append(row)
    return out


def mix_charts(book, sheet: str, rows: list[dict]) -> list:
    """A 100 % stacked column chart of ``rows`` (as written on ``sheet``, header in
    row 1): the first period's, and the last period's when there are several."""
    if not rows:
        return []
    header = list(rows[0])
    countries = header[header.index("total_t") + 1:]
    stage = header.index("stage")
    periods = list(dict.fromkeys(r.get("period") for r in rows))
    charts = []
    for period in dict.fromkeys([periods[0], periods[-1]]):
        lines = [n for n, r in enumerate(rows, start=1) if r.get("period") == period]
        first, last = lines[0], lines[-1]
        chart = book.add_chart({"type": "column", "subtype": "percent_stacked"})
        for index, country in enumerate(countries):
            column = header.index(country)
            chart.add_series({
                "name": [sheet, 0, column],
                "categories": [sheet, first, stage, last, stage],
                "values": [sheet, first, column, last, column],
                "fill": {"color": _colour(country, index)},
                "border": {"color": "#FFFFFF", "width": 0.5},
                "gap": 55})
        when = "" if period is None else f", {period}"
        _style(chart, f"Who supplies each stage{when} (share of tonnes bought)", "0%")
        charts.append(chart)
    return charts


def change_chart(book, sheet: str, row: int, scenarios: int):
    """Columns: a scenario's total cost over the first one's (row ``row`` of the
    comparison sheet, scenarios in columns B onwards)."""
    chart = book.add_chart({"type": "column"})
    chart.add_series({"name": [sheet, row, 0],
                      "categories": [sheet, 0, 1, 0, scenarios],
                      "values": [sheet, row, 1, row, scenarios],
                      "fill": {"color": PALETTE[0]}, "gap": 80,
                      "data_labels": {"value": True, "num_format": MILLIONS_LABEL}})
    _style(chart, "Total cost against the first scenario (USD)", MILLIONS)
    chart.set_legend({"none": True})
    return chart


def sweep_chart(book, sheet: str, x: int, y: int, rows: int, cap: bool):
    """Optimal cost (column ``y``) against the swept value (column ``x``; a share
    when ``cap``)."""
    chart = book.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    chart.add_series({"name": "optimal cost (USD)",
                      "categories": [sheet, 1, x, rows, x],
                      "values": [sheet, 1, y, rows, y],
                      "line": {"color": PALETTE[0], "width": 1.75},
                      "marker": {"type": "circle", "size": 4,
                                 "fill": {"color": PALETTE[0]},
                                 "border": {"color": PALETTE[0]}}})
    _style(chart, "Optimal cost (USD) against the " + ("cap" if cap else "swept value"),
           MILLIONS)
    axis = {"name": "cap (share)" if cap else "value", "num_font": {"size": 9},
            "name_font": {"size": 9, "bold": False}, "line": {"color": "#BFBFBF"}}
    if cap:
        axis |= {"num_format": "0%", "min": 0, "max": 1}
    chart.set_x_axis(axis)
    chart.set_legend({"none": True})
    return chart


def _style(chart, title: str, number_format: str) -> None:
    chart.set_title({"name": title, "name_font": {"size": 11, "bold": True,
                                                  "color": "#1F3864"}})
    chart.set_y_axis({"num_format": number_format, "num_font": {"size": 9},
                      "line": {"none": True},
                      "major_gridlines": {"visible": True,
                                          "line": {"color": "#E0E0E0", "width": 0.75}}})
    chart.set_x_axis({"num_font": {"size": 9}, "line": {"color": "#BFBFBF"}})
    chart.set_legend({"position": "right", "font": {"size": 9}})
    chart.set_chartarea({"border": {"color": "#D9D9D9"}})
    chart.set_size(SIZE)


def _colour(country: str, index: int) -> str:
    if country == "CN":
        return CHINA
    if country == OTHER:
        return OTHER_COLOUR
    return PALETTE[index % len(PALETTE)]
