"""Hostile and malformed inputs (issue 3, part 4): the corpus in tests/malformed/.

Every folder with a ``case.json`` is one case, discovered here ("test cases as
files"): the folder is a CSV dataset with ONE defect, or ``case.json`` says how to
build the input at run time (a 1 MiB id, a workbook, a zip bomb — nothing large
or binary-and-hostile is committed). Both ``planner check`` and ``planner solve``
run on it and must exit as ``case.json`` says (2 for bad input), without a
traceback or an internal error, print every line ``expect`` lists (table, row,
column, value and a fragment of what was expected), none of ``absent``, and
leave the input byte-identical. tests/malformed/README.md describes the format.

``test_bombs_are_refused_quickly_in_bounded_memory`` runs the cases marked
``bounded`` (zip bombs, XML entity expansion) in a fresh process and checks the
time and the growth of its peak memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from planner.cli import main

CORPUS = Path(__file__).parent / "malformed"
CASES = sorted(p.parent for p in CORPUS.glob("*/case.json"))
MAX_LINE = 1000          # no message may echo a huge value
BOMB_SECONDS = 5.0
BOMB_MEMORY_MB = 200


def spec_of(case: Path) -> dict:
    return json.loads((case / "case.json").read_text(encoding="utf-8"))


def params() -> list:
    found = []
    for case in CASES:
        xfail = spec_of(case).get("xfail", {})
        for command in ("check", "solve"):
            marks = ([pytest.mark.xfail(reason=xfail[command], strict=True)]
                     if command in xfail else [])
            found.append(pytest.param(case, command, id=f"{case.name}-{command}", marks=marks))
    return found


# -- building inputs at run time -------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """Inputs built once per case: its copied folder, or the workbook ``book.xlsx``."""
    return {"root": tmp_path_factory.mktemp("malformed")}


def inputs_for(case: Path, cache: dict[str, Path]) -> Path:
    build = spec_of(case).get("build")
    if build is None:
        return case  # a committed CSV folder, read in place (and checked unchanged)
    if case.name not in cache:
        folder = cache["root"] / case.name
        folder.mkdir()
        if "workbook" in build:
            cache[case.name] = build_workbook(folder / "book.xlsx", build["workbook"])
        else:
            for path in case.glob("*.csv"):
                shutil.copy(path, folder / path.name)
            edit_cell(folder, **build["cell"])
            cache[case.name] = folder
    return cache[case.name]


def edit_cell(folder: Path, table: str, row: int, column: str, repeat: str, times: int) -> None:
    """Set one CSV cell (spreadsheet row, header = 1) to ``repeat * times``."""
    path = folder / f"{table}.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[row - 1].split(",")
    cells[lines[0].split(",").index(column)] = repeat * times
    lines[row - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def build_workbook(path: Path, spec: dict) -> Path:
    """``spec["sheets"]``: table → rows of JSON values; ``spec["edits"]``: one defect."""
    book = Workbook()
    book.remove(book.active)
    for name, rows in spec["sheets"].items():
        sheet = book.create_sheet(title=name)
        for row in rows:
            sheet.append(row)
    later = []
    for edit in spec["edits"]:
        (kind, args), = edit.items()
        if kind in ("date", "formula", "value"):
            cell = book[args["sheet"]][args["cell"]]
            cell.value = (dt.datetime.fromisoformat(args["value"]) if kind == "date"
                          else args["value"])
        elif kind == "merge":
            book[args["sheet"]].merge_cells(args["range"])
        elif kind == "hide":
            book[args["sheet"]].sheet_state = args["state"]
        else:
            later.append((kind, args))
    book.save(path)
    for kind, args in later:  # edits of the saved file
        {"rename": rename_sheet, "xml": patch_xml, "entities": add_entities,
         "zip_bomb": zip_bomb, "parts": add_parts, "bytes": replace_bytes,
         "truncate": truncate}[kind](path, **args)
    return path


def parts_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rewrite(path: Path, parts: dict[str, bytes]) -> None:
    write_zip(path, [(name, *deflate(data)) for name, data in parts.items()])


def patch_xml(path: Path, part: str, old: str, new: str) -> None:
    parts = parts_of(path)
    assert parts[part].count(old.encode()) == 1, f"{old!r} not once in {part}"
    parts[part] = parts[part].replace(old.encode(), new.encode())
    rewrite(path, parts)


def rename_sheet(path: Path, sheet: str, to: str) -> None:
    """Rename in xl/workbook.xml: openpyxl itself refuses names equal but for case."""
    patch_xml(path, "xl/workbook.xml", f'name="{sheet}"', f'name="{to}"')


LAUGHS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
DTDS = {
    "billion-laughs": (f'<!DOCTYPE lolz [<!ENTITY lol0 "lol">{LAUGHS}]>', "&lol9;"),
    "external": ('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"),
}


def add_entities(path: Path, part: str, kind: str) -> None:
    """A DTD before the root element of ``part`` and a reference to its entity."""
    dtd, reference = DTDS[kind]
    parts = parts_of(path)
    xml = parts[part].decode()
    root = re.search(r"<[A-Za-z]", xml).start()
    xml = xml[:root] + dtd + xml[root:]
    if part == "xl/workbook.xml":
        xml = xml.replace('name="stages"', f'name="{reference}"')
    else:
        xml = xml.replace("<t>Oxide China</t>", f"<t>{reference}</t>")
    parts[part] = xml.encode()
    rewrite(path, parts)


def zip_bomb(path: Path, part: str, expanded_mb: int) -> None:
    """Replace ``part`` by a valid sheet that expands to ``expanded_mb`` MiB of rows:
    one MiB of rows deflated once (full flush: it decodes alone) and repeated, so
    building takes a fraction of a second and the file stays about 3 KB per MiB."""
    parts = parts_of(path)
    head, tail = parts[part].split(b"</sheetData>")
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    chunk = row * ((1 << 20) // len(row))
    body = piece(head) + piece(chunk) * expanded_mb + piece(b"</sheetData>" + tail, final=True)
    crc = zlib.crc32(head)
    for _ in range(expanded_mb):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(b"</sheetData>" + tail, crc)
    size = len(head) + len(chunk) * expanded_mb + len(b"</sheetData>" + tail)
    entries = [(name, *deflate(data)) for name, data in parts.items() if name != part]
    write_zip(path, [*entries, (part, body, crc, size)])


def add_parts(path: Path, count: int) -> None:
    """``count`` more (empty) parts: a directory that would cost memory to load."""
    parts = parts_of(path)
    parts.update({f"customXml/item{i}.xml": b"" for i in range(count)})
    rewrite(path, parts)


def piece(data: bytes, final: bool = False) -> bytes:
    """Raw deflate of ``data`` that ends byte-aligned with an empty history, so pieces
    concatenate into one stream (the last one final)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH if final
                                                        else zlib.Z_FULL_FLUSH)


def deflate(data: bytes) -> tuple[bytes, int, int]:
    return piece(data, final=True), zlib.crc32(data), len(data)


def write_zip(path: Path, entries: list[tuple[str, bytes, int, int]]) -> None:
    """A zip archive of already-deflated parts (name, raw deflate, crc, size)."""
    out, directory = bytearray(), bytearray()
    for name, data, crc, size in entries:
        encoded = name.encode()
        offset = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), size,
                           len(encoded), 0) + encoded + data
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc,
                                 len(data), size, len(encoded), 0, 0, 0, 0, 0,
                                 offset) + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                      len(directory), len(out), 0)
    path.write_bytes(bytes(out + directory + end))


def replace_bytes(path: Path, text: str | None = None, ole: bool = False) -> None:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) if ole else text.encode())


def truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


# -- checking the output ---------------------------------------------------------------------

def matches(line: str, expect: dict) -> bool:
    value = expect.get("value")
    return (line.startswith(f"{expect.get('severity', 'error')}: ")
            and expect["table"] in line
            and (expect.get("row") is None or f"row {expect['row']}" in line)
            and (expect.get("column") is None or f"column {expect['column']}" in line)
            and (value is None or f"value {repr(value)[:-1]}" in line)
            and expect["expected"] in line)


def snapshot(path: Path) -> dict[str, str]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.mark.parametrize(("case", "command"), params())
def test_malformed_case(case: Path, command: str, built):
    spec = spec_of(case)
    inputs = inputs_for(case, built)
    before = snapshot(inputs)
    result = CliRunner().invoke(main, [command, "--inputs", str(inputs)])
    out = result.output
    assert result.exit_code == spec["exit"], f"exit {result.exit_code}:\n{out[:3000]}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))
    assert "Traceback" not in out
    assert "internal error" not in out
    assert max(map(len, out.splitlines()), default=0) <= MAX_LINE, "a message echoes a huge value"
    lines = out.splitlines()
    for expect in spec["expect"]:
        assert any(matches(line, expect) for line in lines), (
            f"no line matches {expect}; got:\n{out[:3000]}")
    for fragment in spec.get("absent", []):
        assert fragment not in out, f"{fragment!r} should not be reported:\n{out[:3000]}"
    if spec["exit"] == 2:
        assert "error(s) in the input; nothing was solved." in out
    else:
        assert not [line for line in lines if line.startswith("error")], out[:3000]
    assert snapshot(inputs) == before


# -- bombs: refused quickly, in bounded memory -----------------------------------------------

PROBE = """
import json, resource, sys, time
from planner.cli import main
import python_calamine, defusedxml.ElementTree  # imports before the baseline
unit = 1 if sys.platform == "darwin" else 1024        # ru_maxrss: bytes on macOS, KiB on Linux
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit / 2**20
try:  # fail fast instead of swapping if the guard ever breaks: 1 GiB more address space
    with open("/proc/self/statm") as statm:
        size = int(statm.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (size + (1 << 30), resource.RLIM_INFINITY))
except (OSError, ValueError):
    pass
before, start = peak(), time.perf_counter()
try:
    main(["check", "--inputs", sys.argv[1]])
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "seconds": time.perf_counter() - start,
                  "grew_mb": peak() - before}))
"""


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES
                                  if spec_of(c).get("bounded")])
def test_bombs_are_refused_quickly_in_bounded_memory(case: Path, built):
    inputs = inputs_for(case, built)
    proc = subprocess.run([sys.executable, "-c", PROBE, str(inputs)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    measured = json.loads(proc.stdout.strip().splitlines()[-1])
    assert measured["code"] == 2, proc.stderr[-3000:]
    assert measured["seconds"] < BOMB_SECONDS, measured
    assert measured["grew_mb"] < BOMB_MEMORY_MB, measured


def test_corpus_size_and_format():
    """At least 40 malformed cases, each naming its defect and what must be reported."""
    malformed = [c for c in CASES if spec_of(c)["exit"] == 2]
    assert len(malformed) >= 40, len(malformed)
    for case in CASES:
        spec = spec_of(case)
        assert spec["defect"], case.name
        assert isinstance(spec["expect"], list), case.name
        assert spec["exit"] == 0 or spec["expect"], f"{case.name}: say what is reported"
