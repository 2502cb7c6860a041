"""Write docs/constraints.md from the model's own docstrings.

Each constraint family is a rule in ``models/constraints.py`` whose docstring
carries a sentence, the formula (``.. math::``) and the input columns
(STYLE §3); ``create_model`` in ``models/build.py`` wires each rule to a named
Pyomo component; the notation table is in the docstring of ``models/__init__.py``.
This script puts the three together as one Markdown page, so the reference
cannot drift from the code: ``tests/test_model_docs.py`` fails when the
committed page differs from what this script writes.

    python docs/gen_constraints.py           # rewrite docs/constraints.md
    python docs/gen_constraints.py --check   # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import planner.models as models
from planner.models import build, constraints, horizon

PAGE = Path(__file__).with_name("constraints.md")
SOURCE = "../models/constraints.py"


@dataclass(frozen=True)
class Component:
    """One objective or constraint family as ``create_model`` declares it."""

    name: str          # the Pyomo component, e.g. ``balance``
    kind: str          # ``Objective`` or ``Constraint``
    rule: str          # the rule function in models/constraints.py
    index: str | None  # the index set, e.g. ``STAGES``


def components() -> list[Component]:
    """Every ``m.<name> = pyo.Objective|Constraint(..., rule=rules.<rule>)``, in order:
    a period's model (``build.populate``), then the links over time
    (``horizon.create_horizon``)."""
    found = []
    for function in (build.populate, horizon.create_horizon):
        found += _declared(function)
    return found


def _declared(function) -> list[Component]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        call, target = node.value, node.targets[0]
        kind = getattr(call.func, "attr", None)
        rule = next((k.value for k in call.keywords if k.arg == "rule"), None)
        if kind not in ("Objective", "Constraint") or not isinstance(rule, ast.Attribute):
            continue
        index = call.args[0].attr if call.args and isinstance(call.args[0], ast.Attribute) \
            else None
        found.append((node.lineno, Component(target.attr, kind, rule.attr, index)))
    return [component for _, component in sorted(found, key=lambda pair: pair[0])]


def signature(component: Component) -> str:
    """``balance[s]``: the component with the rule's index names."""
    params = list(inspect.signature(getattr(constraints, component.rule)).parameters)[1:]
    return f"{component.name}[{','.join(params)}]" if params else component.name


def rst_to_markdown(text: str) -> str:
    """The reStructuredText used in the docstrings, as GitHub Markdown."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(".. math::"):
            formula = [line[len(".. math::"):].strip()]
            i += 1
            while i < len(lines) and lines[i].startswith(" ") and lines[i].strip():
                formula.append(lines[i].strip())
                i += 1
            out += ["```math", *formula, "```"]
            continue
        line = re.sub(r":math:`([^`]+)`", r"$`\1`$", line)
        line = re.sub(r"``([^`]+)``", r"`\1`", line)
        if line.startswith("Inputs:"):    # its own paragraph
            line = "**Inputs:**" + line[len("Inputs:"):]
            if out and out[-1]:
                out.append("")
        out.append(line)
        i += 1
    return "\n".join(out)


def notation_table() -> list[str]:
    """The notation table of ``models/__init__.py`` (an RST simple table) as Markdown."""
    doc = inspect.getdoc(models) or ""
    lines = doc[doc.index("Notation"):].splitlines()
    rules = [n for n, line in enumerate(lines) if re.fullmatch(r"=+( +=+)+", line)]
    starts = [m.start() for m in re.finditer(r"=+", lines[rules[0]])]
    header = re.split(r" {2,}", lines[rules[0] + 1].strip())
    rows: list[list[str]] = []
    for line in lines[rules[1] + 1:rules[2]]:
        if line.startswith(" "):          # continuation: add each piece to its column
            for piece in re.finditer(r"\S+(?: \S+)*", line):
                col = max(n for n, s in enumerate(starts) if s <= piece.start())
                rows[-1][col] = f"{rows[-1][col]} {piece.group()}".strip()
        else:
            cells = re.split(r" {2,}", line.strip())
            rows.append(cells + [""] * (len(starts) - len(cells)))

    def cell(col: int, text: str) -> str:
        text = re.sub(r"``([^`]+)``", r"`\1`", text)
        return f"`{text}`" if col == 0 else text

    table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    table += ["| " + " | ".join(cell(c, t) for c, t in enumerate(row)) + " |" for row in rows]
    return table


def render() -> str:
    """The whole page."""
    parts = [
        "# Constraint reference",
        "",
        "<!-- Generated by docs/gen_constraints.py from the docstrings of "
        "models/constraints.py; do not edit by hand: run `make docs`. -->",
        "",
        "One section per objective or constraint family of the sourcing LP, in the",
        "order `populate` ([models/build.py](../models/build.py)) builds one period's model,",
        "then the rules that link periods over time (`create_horizon`,",
        "[models/horizon.py](../models/horizon.py): on the top model, each period a block). Each",
        "is one rule in [models/constraints.py](../models/constraints.py); its",
        "sentence, formula and input columns below are that rule's docstring.",
        "The model in words, landed costs and the reading of each family:",
        "[model.md](model.md).",
        "",
        "| component | rule | indexed over |",
        "|---|---|---|",
    ]
    comps = components()
    parts += [f"| [`{signature(c)}`](#{c.name}) | `{c.rule}` | "
              f"{f'`{c.index}`' if c.index else '–'} |" for c in comps]
    parts += ["", "## Notation", "", "From the docstring of",
              "[models/\\_\\_init\\_\\_.py](../models/__init__.py).", "",
              *notation_table(), ""]
    for c in comps:
        doc = inspect.getdoc(getattr(constraints, c.rule)) or ""
        first, _, rest = doc.partition("\n")
        what = (f"constraint, indexed over `{c.index}`" if c.kind == "Constraint"
                else "the objective (minimised)")
        parts += [f"## {c.name}", "",
                  f"`{signature(c)}` — {what}; rule "
                  f"[`{c.rule}`]({SOURCE}).", "",
                  rst_to_markdown(first), "", rst_to_markdown(rest.strip()), ""]
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the page, or with ``--check`` report whether it is current."""
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/constraints.md is out of date; write nothing")
    args = parser.parse_args(argv)
    page = render()
    if args.check:
        if PAGE.exists() and PAGE.read_text(encoding="utf-8") == page:
            return 0
        print(f"{PAGE} is out of date: run `make docs`", file=sys.stderr)
        return 1
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
