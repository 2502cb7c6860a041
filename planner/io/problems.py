"""Input problems: each names where it is and what was expected (SPEC §6)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """An error stops the run (exit 2); a warning is reported and the run goes on."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One problem in the input: table (file or sheet), spreadsheet row, column, value."""

    table: str
    expected: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = [self.table]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        shown = "" if self.value is None else f": value {self.value!r}"
        return f"{self.severity.value}: {', '.join(where)}{shown}: {self.expected}"


class InputError(Exception):
    """Raised with every error found, so the user can fix them all in one pass."""

    SHOWN = 20  # problems listed in the message; ``.problems`` holds them all

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = [str(p) for p in problems[:self.SHOWN]]
        if len(problems) > self.SHOWN:
            lines.append(f"… and {len(problems) - self.SHOWN} more (see .problems)")
        super().__init__(f"{len(problems)} problem(s) in the input:\n" + "\n".join(lines))


def errors(problems: list[Problem]) -> list[Problem]:
    """The problems that stop a run."""
    return [p for p in problems if p.severity is Severity.ERROR]
