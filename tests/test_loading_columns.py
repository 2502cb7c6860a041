"""Column-wise validation gives, cell for cell, what the cell-by-cell parser gives.

``Validator._parse_column`` checks a whole column at once and sends only the
cells that fail (and cells of unusual types) to ``_parse_cell``, which writes the
message. These tests run both on the same cells, for every column of the schema,
and require the same typed values, the same failed cells and the same messages.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.io.read import Formula, Noted, RawDataset, RawTable, _objects
from planner.io.schema import TABLES
from planner.io.validate import _BAD, Validator

COLUMNS = [pytest.param(table, column, id=f"{table.name}.{column.name}")
           for table in TABLES for column in table.columns]

WORDS = ["", " ", "0", "1", "-1", "0.5", " 7 ", "1e13", "1e12", "nan", "NaN", "inf", "-inf",
         "1,000", "74,000", "0,4", "40%", "$50", "50 USD", "1_000", "fifty", "true", "False",
         "yes", "n", "CN", "cn", "СN", "CHN", "*", "volume", "value", "direct", "embedded",
         "buyer", "zone", "name", "max_share", "ox_cn", "ox_\u200bau", "\u202eabc", "a\x1bb",
         "Oxide China", "x" * 201, "y" * 1001]
EXCEL = [None, 0.0, 1.0, 2.5, -3.0, 12.0, 1e13, True, False, 7, Noted("2025-01-03",
         "an Excel date"), Noted("#N/A", "an Excel error value"), Formula("=E2*2")]


def parsed(column, cells: list, text_only: bool):
    """(values, failed, messages) by the column-wise path and by the cell parser."""
    numbers = np.arange(2, len(cells) + 2, dtype=np.int64)
    table = RawTable("t", "t.csv", [column.name], [_objects(cells)], numbers,
                     text_only=text_only)
    raw = RawDataset("x", {}, [])
    whole = Validator(raw)
    values, failed = whole._parse_column(table, column)
    one = Validator(raw)
    reference = [one._parse_cell("t.csv", int(n), column, c) for n, c in zip(numbers, cells,
                                                                            strict=True)]
    return (values, failed, [str(p) for p in whole.problems], reference,
            [str(p) for p in one.problems])


def same_value(got, expected) -> bool:
    if expected is None:
        return got is None or (isinstance(got, float) and math.isnan(got))
    return got == expected and type(got) is type(expected) or (
        isinstance(got, np.generic) and got.item() == expected)


def check(column, cells, text_only):
    values, failed, messages, reference, expected = parsed(column, cells, text_only)
    assert messages == expected
    for i, want in enumerate(reference):
        if want is _BAD:
            assert failed is not None, cells[i]
            assert failed[i], (cells[i], values[i])
        else:
            assert failed is None or not failed[i]
            assert same_value(values[i].item() if isinstance(values[i], np.generic)
                              else values[i], want), (cells[i], values[i], want)


@pytest.mark.parametrize(("table", "column"), COLUMNS)
def test_every_word_in_every_column(table, column):
    check(column, list(WORDS), text_only=True)


@pytest.mark.parametrize(("table", "column"), COLUMNS)
def test_repeated_words_in_every_column(table, column):
    """A column of few distinct values is parsed value by value, then spread out."""
    check(column, [*WORDS, *WORDS, *WORDS[::-1]], text_only=True)


@pytest.mark.parametrize(("table", "column"), COLUMNS)
def test_excel_cells_in_every_column(table, column):
    check(column, [*EXCEL, *WORDS], text_only=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_columns(data):
    table = data.draw(st.sampled_from(TABLES))
    column = data.draw(st.sampled_from(table.columns))
    cells = data.draw(st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(EXCEL),
                                         st.text(max_size=6)), max_size=12))
    check(column, cells, text_only=False)
