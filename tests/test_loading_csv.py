"""CSV files read by pandas' C engine give exactly what Python's csv module reads.

The reader takes pandas' result only where it can vouch for it from the file's
bytes (line ends, quotes checked by a strict csv pass, no NUL bytes, cells under
the csv limit, rows no wider than the header); otherwise the csv module reads
the file and reports what is wrong. These tests pin that: whenever the fast path
answers, its header, cells and spreadsheet row numbers are the csv module's.
"""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.io.read import _csv_frame, _parse_csv, _read_csv, read_dataset


def by_csv_module(data: bytes):
    return _parse_csv(io.StringIO(data.decode("utf-8"), newline=""), "t.csv", "offers")


def same_table(fast, slow) -> None:
    assert fast.header == slow.header
    assert fast.numbers.tolist() == slow.numbers.tolist()
    assert [c.tolist() for c in fast.columns] == [c.tolist() for c in slow.columns]
    assert fast.preview == slow.preview


def check_parity(data: bytes) -> bool:
    """True when the fast path answered (and agreed with the csv module)."""
    fast = _csv_frame(data, "t.csv", "offers")
    if fast is None:
        return False
    slow, problems = by_csv_module(data)
    assert problems == [], problems
    same_table(fast, slow)
    return True


CASES = {
    "plain": b"offer,price\na,1\nb,2\n",
    "no final newline": b"offer,price\na,1\nb,2",
    "crlf": b"offer,price\r\na,1\r\nb,2\r\n",
    "cr only": b"offer,price\ra,1\rb,2\r",
    "blank line counts as a row": b"offer,price\na,1\n\nb,2\n",
    "trailing blank lines": b"offer,price\na,1\n\n\n",
    "spaces-only row": b"offer,price\na,1\n   ,  \nb,2\n",
    "short row padded": b"offer,price,min\na,1\nb,2,3\n",
    "quoted comma": b'offer,name\na,"Lynas, Malaysia"\n',
    "quoted newline keeps row numbers": b'offer,name\na,"two\nlines"\nb,x\n',
    "doubled quote": b'offer,name\na,"say ""hi"""\n',
    "quote inside a bare cell": b'offer,name\na,5" pipe\n',
    "header with spaces": b" offer , price \na,1\n",
    "unicode": "offer,name\na,Société Générale\n".encode(),
}


@pytest.mark.parametrize("data", list(CASES.values()), ids=list(CASES))
def test_fast_path_reads_what_the_csv_module_reads(data):
    assert check_parity(data)


REFUSED = {
    "quote then text (strict csv refuses)": b'offer,name\na,"x"y\n',
    "unclosed quote": b'offer,name\na,"open\nb,2\n',
    "row wider than the header": b"offer,price\na,1,extra\n",
    "trailing comma": b"offer,price\na,1,\n",
    "blank first line": b"\noffer,price\na,1\n",
    "only blank lines": b"\n\n\n",
    "empty": b"",
    "NUL byte": b"offer,price\na,1\x00\n",
}


@pytest.mark.parametrize("data", list(REFUSED.values()), ids=list(REFUSED))
def test_the_csv_module_reads_what_the_fast_path_cannot_vouch_for(data):
    assert _csv_frame(data, "t.csv", "offers") is None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet='ab1 ,"\n\r\t;é\u200b', max_size=60))
def test_fast_path_agrees_with_the_csv_module_on_any_text(text):
    check_parity(("offer,price\n" + text).encode())


def test_row_numbers_and_problems_match_through_either_path(tmp_path):
    """The same defect is reported alike whether the file needs the csv module (a quote
    it refuses elsewhere in the file) or not."""
    clean = b"offer,stage,price_usd_per_t\na,x,1\n\nb,x,fifty\n"
    (tmp_path / "fast").mkdir()
    (tmp_path / "slow").mkdir()
    (tmp_path / "fast" / "offers.csv").write_bytes(clean)
    (tmp_path / "slow" / "offers.csv").write_bytes(clean + b'c,"x"y,2\n')
    fast, _ = _read_csv(tmp_path / "fast" / "offers.csv", "offers")
    slow, problems = _read_csv(tmp_path / "slow" / "offers.csv", "offers")
    assert fast is not None
    assert fast.numbers.tolist() == [2, 4]
    assert slow is None
    assert "well-formed CSV" in problems[0].expected


def test_a_bom_is_not_part_of_the_first_column(tmp_path):
    (tmp_path / "offers.csv").write_bytes(b"\xef\xbb\xbfoffer,price\na,1\n")
    raw = read_dataset(tmp_path)
    assert raw.tables["offers"].header == ["offer", "price"]
