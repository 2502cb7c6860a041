"""The run manifest (SPEC §5): enough to reproduce a number a year later.

Package and solver versions, the Python it ran on, each input file with its
sha256 (or each table handed over as a DataFrame, hashed as CSV text), the
command's arguments, the time it ran (UTC) and the verification residuals.
Every output carries it: a ``manifest`` key in JSON, a ``manifest`` file or sheet
in csv and xlsx, a closing table on the terminal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import pandas as pd

PACKAGE = "supply-planner"
LIBRARIES = ("pyomo", "highspy", "pandas", "numpy")


def build_manifest(command: str, arguments: Mapping[str, object], inputs: list[dict],
                   verification: Mapping[str, object] | None = None) -> dict:
    """The manifest of one run of ``command`` with ``arguments`` on ``inputs`` (the
    digests ``input_digests`` took when the data was read)."""
    return {"package": PACKAGE, "version": _version(PACKAGE),
            "python": platform.python_version(),
            "libraries": {name: _version(name) for name in LIBRARIES},
            "command": command,
            "arguments": {k: _plain(v) for k, v in arguments.items()},
            "inputs": list(inputs),
            "ran_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "verification": dict(verification or {})}


def input_digests(source: Path | Mapping[str, pd.DataFrame]) -> list[dict]:
    """Each input file (a folder's ``*.csv``, or the workbook) with its size and sha256;
    for tables given as DataFrames, each table's CSV text hashed."""
    if isinstance(source, Mapping):
        return [{"table": str(name), "rows": len(frame),
                 "sha256": hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()}
                for name, frame in sorted(source.items(), key=lambda item: str(item[0]))
                if isinstance(frame, pd.DataFrame)]
    path = Path(source)
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    return [{"file": str(file.resolve()), "bytes": file.stat().st_size, "sha256": _sha256(file)}
            for file in files if file.is_file()]


def manifest_rows(manifest: Mapping[str, object]) -> list[dict]:
    """The manifest as key/value rows for a csv file, a sheet or the terminal."""
    rows = []
    for key, value in manifest.items():
        if key == "inputs":
            rows += [{"key": f"input {item.get('file', item.get('table'))}",
                      "value": f"sha256 {item['sha256']} ("
                               + (f"{item['bytes']:,} bytes)" if "bytes" in item
                                  else f"{item['rows']:,} rows)")} for item in value]
        elif key == "libraries":
            rows.append({"key": key, "value": ", ".join(f"{k} {v}" for k, v in value.items())})
        elif isinstance(value, Mapping):   # arguments left unset are not shown
            rows += [{"key": f"{key} {k}", "value": _text(v)} for k, v in value.items()
                     if not _unset(v)]
        else:
            rows.append({"key": key, "value": _text(value)})
    return rows


def _unset(value: object) -> bool:
    """None, False or an empty text, list or mapping (a 0 is a value: kept)."""
    return value is None or value is False or (
        isinstance(value, str | list | tuple | Mapping) and not value)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def _plain(value: object) -> object:
    """An argument as JSON: paths and enums as text, sequences as lists."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}={_text(v)}" for k, v in value.items())
    return "" if value is None else str(value)
