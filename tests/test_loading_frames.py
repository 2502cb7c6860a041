"""A dataset from a dict of pandas DataFrames (SPEC §7) is validated exactly like files,
and validation yields typed frames without building a record per row."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import load, main
from planner.io.problems import InputError
from planner.io.read import read_dataset, read_frames
from planner.io.validate import ROW, validate, validate_frames

TINY = Path(__file__).parent / "data" / "tiny-chain"


def tiny_frames(**read_csv) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p, **read_csv) for p in sorted(TINY.glob("*.csv"))}


def without_origins(dataset):
    """The records with their origins blanked (they name the file or the frame)."""
    def strip(record):
        return replace(record, origin="") if "origin" in {f.name for f in fields(record)} \
            else record
    return {f.name: (tuple(strip(r) for r in getattr(dataset, f.name))
                     if isinstance(getattr(dataset, f.name), tuple)
                     else getattr(dataset, f.name)) for f in fields(dataset)}


@pytest.mark.parametrize("read_csv", [{}, {"dtype": str, "keep_default_na": False}],
                         ids=["inferred dtypes", "all text"])
def test_frames_give_the_dataset_the_folder_gives(read_csv):
    from_folder, _ = validate(read_dataset(TINY))
    from_frames, _ = validate(read_frames(tiny_frames(**read_csv)))
    assert without_origins(from_frames) == without_origins(from_folder)
    assert from_frames.offers[1].origin == "frames['offers'] row 3"


def problems_of(raw) -> list[str]:
    with pytest.raises(InputError) as caught:
        validate(raw)
    return [str(p) for p in caught.value.problems]


def test_a_bad_value_in_a_frame_is_reported_like_one_in_a_csv(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    frames = tiny_frames(dtype=str, keep_default_na=False)
    frames["offers"].loc[1, "price_usd_per_t"] = "fifty"
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    from_csv = problems_of(read_dataset(folder))
    from_frames = problems_of(read_frames(frames))
    assert from_csv == ["error: offers.csv, row 3, column price_usd_per_t: value 'fifty': "
                        "a number ≥ 0"]
    assert from_frames == [line.replace("offers.csv", "frames['offers']") for line in from_csv]


def test_typed_frame_cells_are_checked_like_excel_cells():
    frames = tiny_frames()
    frames["offers"].loc[0, "price_usd_per_t"] = -100.0             # row 2
    frames["offers"]["min_t"] = frames["offers"]["min_t"].astype(object)
    frames["offers"].loc[1, "min_t"] = dt.date(2025, 1, 3)            # row 3
    frames["offers"].loc[2, "country"] = np.nan                        # row 4: blank
    frames["stages"]["order"] = frames["stages"]["order"].astype(float)
    frames["stages"].loc[1, "order"] = 1.5                             # row 3
    lines = problems_of(read_frames(frames))
    assert lines == [
        "error: frames['stages'], row 3, column order: value '1.5': a whole number "
        "(not a whole number)",
        "error: frames['offers'], row 4, column country: value '': a country code of two "
        "capital letters (the cell is blank)",
        "error: frames['offers'], row 2, column price_usd_per_t: value '-100': a number ≥ 0",
        "error: frames['offers'], row 3, column min_t: value '2025-01-03': a number ≥ 0 (the "
        "cell is a date; type the value as the column expects)",
    ]


def test_rows_are_numbered_as_a_sheet_shows_them_whatever_the_index():
    frames = tiny_frames()
    offers = frames["offers"]
    blank = pd.DataFrame([[np.nan] * offers.shape[1]], columns=offers.columns)
    offers = pd.concat([offers.iloc[:1], blank, offers.iloc[1:]], ignore_index=True)
    offers.index = offers.index + 100   # the index is not a row number
    offers.loc[102, "price_usd_per_t"] = -5.0  # ox_au, after the blank row: sheet row 4
    frames["offers"] = offers
    assert problems_of(read_frames(frames)) == [
        "error: frames['offers'], row 4, column price_usd_per_t: value '-5': a number ≥ 0"]


def test_missing_misnamed_and_foreign_tables_are_named():
    frames = tiny_frames()
    frames["Offers"] = frames.pop("offers")
    frames["stages"] = "not a frame"
    lines = problems_of(read_frames(frames, source="data"))
    assert "error: data['Offers']: a table named 'offers' (table names are lower case, " \
           "without spaces); rename 'Offers'" in lines
    assert "error: data['stages']: a pandas DataFrame (got str)" in lines
    assert not any("required table" in line for line in lines)  # reported once, as above
    del frames["stages"]
    assert "error: data['stages']: required table stages is missing (in data)" in \
        problems_of(read_frames(frames, source="data"))


def test_cli_load_takes_a_dict_of_frames():
    data, warnings = load(tiny_frames())
    assert len(data.offers) == 4
    assert warnings == []


def test_validate_frames_gives_typed_columns_and_row_numbers():
    tables, warnings = validate_frames(read_dataset(TINY))
    offers = tables["offers"]
    assert warnings == []
    assert offers[ROW].tolist() == [2, 3, 4, 5]
    assert offers["price_usd_per_t"].dtype == np.float64
    assert offers["capacity_t"].isna().all()           # blank = unlimited
    assert offers["offer"].dtype == object
    assert tables["stages"]["order"].dtype == np.int64
    assert tables["countries"]["zone_member"].dtype == bool
    assert tables.source("offers") == "offers.csv"
    assert tables.scenario_names()[0] == "order"


def test_check_never_builds_records(monkeypatch):
    import planner.io.validate as validation

    def refuse(*_):
        raise AssertionError("planner check built per-row records")

    monkeypatch.setattr(validation, "to_dataset", refuse)
    result = CliRunner().invoke(main, ["check", "--inputs", str(TINY)])
    assert result.exit_code == 0, result.output
    assert "4 offers" in result.output
