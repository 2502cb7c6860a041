"""Number formats of the report workbook, chosen from a column's name (or a row's key
or metric): money with thousands separators, shares as percentages, tonnes with one
to three decimals.

| name | format | shows |
|---|---|---|
| ``…usd_per…`` (a price or rate), ``USD M…`` | ``#,##0.00`` | 54,126.50 |
| other ``…usd…`` (a cost, ``…_usd_per_yr`` too) | ``#,##0`` | 2,500,979,209 |
| ``…share…``, ``…_rate``, ``cn_…``, ``top3_…``, ``limit``, ``cap…`` | ``0.0%`` | 58.3% |
| ``…_pct``, ``… % …`` (already in percent) | ``0.0`` | 60.4 |
| ``tonnes``, ``…_t``, ``…_t_yr``, ``level_t``… | ``#,##0.0##`` | 90.882 |
| ``t_per_t`` | ``0.000##`` | 7.07714 |
| ``…days…`` | ``#,##0.0`` | 39.5 |
| ``hhi…`` | ``#,##0`` | 4,012 |
| ``discount_factor`` | ``0.0000`` | 0.9157 |
| ``seconds`` | ``0.000`` | 0.412 |

``valid_from``/``valid_to`` are shares in ``limit_prices`` and tonnes elsewhere; the
``mix`` table's columns are tonnes. Text,
booleans and names that match nothing keep Excel's General format.
"""

from __future__ import annotations

import re

USD = "#,##0"
USD_RATE = "#,##0.00"
SHARE = "0.0%"
PERCENT = "0.0"
TONNES = "#,##0.0##"
RATIO = "0.000##"
DAYS = "#,##0.0"
INDEX = "#,##0"
FACTOR = "0.0000"
SECONDS = "0.000"

_SHARE_NAMES = {"limit", "cap", "cap2", "cap_from", "cap_to", "probability", "alpha",
                "cvar_alpha", "tightest_feasible_cap", "risk_weight",
                "break_even_probability", "probability_now", "max_probability"}
_TONNES = re.compile(r"(^|_)t(_yr)?$|^tonnes$|(^|_)t_yr$")


def number_format(name: str, table: str = "") -> str | None:
    """The Excel number format for values under ``name`` (a column, a key or a
    compare metric), or None for General."""
    key = name.strip().lower()
    if table == "limit_prices" and key in ("valid_from", "valid_to"):
        return SHARE
    if table == "mix" and key not in ("period", "stage"):
        return TONNES   # tonnes by country
    if key == "t_per_t":
        return RATIO
    if "usd m" in key or ("usd_per" in key and not key.endswith("_per_yr")):
        return USD_RATE
    if "usd" in key:
        return USD
    if key.endswith("_pct") or " % " in key:
        return PERCENT
    if ("share" in key or key.endswith("_rate") or key in _SHARE_NAMES
            or re.match(r"(cn|top3)_(before|after)$", key)):
        return SHARE
    if "days" in key:
        return DAYS
    if key.startswith("hhi"):
        return INDEX
    if key == "discount_factor":
        return FACTOR
    if key == "seconds":
        return SECONDS
    if _TONNES.search(key) or key in ("valid_from", "valid_to") or key.endswith("(t)"):
        return TONNES
    return None


def metric_format(metric: str) -> str | None:
    """The format of a ``planner compare`` row, from its metric text: "(USD)", "share",
    "HHI", "days of cover", "(t)"."""
    text = metric.lower()
    if "(usd)" in text:
        return USD
    if "share" in text:
        return SHARE
    if text.startswith("hhi") or ": hhi" in text:
        return INDEX
    if "days of cover" in text:
        return DAYS
    if text.endswith("(t)"):
        return TONNES
    return None


def shown_width(value: object, code: str | None) -> int:
    """About how many characters ``value`` takes shown with format ``code``."""
    if isinstance(value, bool):
        return 5
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            return 3
        if code == SHARE:
            return len(f"{100 * value:,.1f}%")
        if code in (USD, INDEX):
            return len(f"{value:,.0f}")
        if code in (USD_RATE, DAYS, PERCENT):
            return len(f"{value:,.2f}")
        if code in (TONNES, RATIO, FACTOR, SECONDS):
            return len(f"{value:,.3f}")
        return min(len(f"{value:.10g}"), 12)
    return max((len(line) for line in str(value).splitlines()), default=0)
