"""The documentation stays true to the code.

Every constraint family is documented with its formula and inputs (STYLE §3),
every component the model builds comes from a documented rule, and the
constraint reference docs/constraints.md is what docs/gen_constraints.py makes
of those docstrings today. The README (the front page) and docs/*.md (the
reference) link only to what exists, and the output they show is still what the
product prints."""

from __future__ import annotations

import functools
import importlib.util
import inspect
import json
import math
import re
import shlex
import sys
from dataclasses import replace
from pathlib import Path

import pyomo.environ as pyo
import pytest
from click.testing import CliRunner
from planner.models import constraints
from planner.models.build import create_model
from planner.models.data import (
    Country,
    Dataset,
    Expansion,
    Limit,
    Offer,
    Period,
    Process,
    Scope,
    Stage,
    Stock,
)
from planner.models.horizon import create_horizon

from planner.cli import main
from planner.io.schema import TABLES

ROOT = Path(__file__).resolve().parents[1]

RULES = [f for name, f in inspect.getmembers(constraints, inspect.isfunction)
         if f.__module__ == constraints.__name__ and name != "linear"
         and not name.startswith("_")]


@pytest.mark.parametrize("rule", RULES, ids=lambda f: f.__name__)
def test_rule_docstring_has_sentence_formula_and_inputs(rule):
    doc = inspect.getdoc(rule) or ""
    first, _, rest = doc.partition("\n")
    assert first.endswith("."), "first line: a plain-English sentence"
    assert ".. math::" in rest, "the inequality with its 'for all' line"
    assert "Inputs:" in rest, "the input columns that feed it"


def test_every_model_component_is_built_by_a_documented_rule():
    data = Dataset(
        stages=(Stage("a", 0, 1.0), Stage("b", 1, 1.0)),
        offers=(Offer("o1", "a", "s", "CN", 1.0, capacity_t=5.0, min_t=1.0),
                Offer("o2", "b", "s", "JP", 2.0)),
        processes=(Process("p", "a", "b", 1.0, 1.0, capacity_t=3.0),),
        countries=(Country("CN"), Country("JP")),
        limits=(Limit("CN", "a", min_share=0.1, max_share=0.9),
                Limit("CN", "b", max_share=0.5, scope=Scope.EMBEDDED,
                      max_cost_usd_per_pp=3.0)))
    m = create_model(data).model
    documented = set(RULES)
    components = list(m.component_objects((pyo.Constraint, pyo.Objective), active=True))
    assert len(components) == 12
    for component in components:
        assert component.rule is not None, component.name
        assert component.rule._fcn in documented, component.name
    over_time = replace(
        data, periods=(Period("p1", 1), Period("p2", 2, years=2.0, discount_factor=0.9)),
        stocks=(Stock("a", 1.0, 4.0, 1.0, 0.5),),
        expansions=(Expansion("e", "o1", 10.0, 2.0, lead_periods=1),))
    h = create_horizon(over_time).model
    links = list(h.component_objects((pyo.Constraint, pyo.Objective), active=True,
                                     descend_into=False))
    assert {c.name for c in links} == {"expected_cost", "branch_cost_def", "cvar_tail",
                                       "stock_flow", "stock_floor", "stock_capacity",
                                       "stock_origin_flow", "expansion_limit"}
    blocks = list(h.component_objects((pyo.Constraint, pyo.Objective), active=True))
    assert len(blocks) == len(links) + 2 * 11   # each period's block: all but the objective
    for component in blocks:
        assert component.rule._fcn in documented, component.name


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_constraints",
                                                  ROOT / "docs" / "gen_constraints.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module     # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_constraint_reference_page_is_current():
    gen = load_generator()
    committed = (ROOT / "docs" / "constraints.md").read_text(encoding="utf-8")
    assert committed == gen.render(), (
        "docs/constraints.md is out of date with the rules' docstrings: run `make docs`")


def test_constraint_reference_covers_every_component_and_rule():
    gen = load_generator()
    components = gen.components()
    assert {c.rule for c in components} == {f.__name__ for f in RULES}
    page = (ROOT / "docs" / "constraints.md").read_text(encoding="utf-8")
    for c in components:
        assert f"\n## {c.name}\n" in page
    assert page.count("```math") >= len(components)


# -- the pages: links, paths, and shown output that must still be true ---------------------
#
# README.md is the front page; the reference lives in docs/*.md. Every relative link and
# every repository path they name must exist, and every number in a block of shown output
# (the lines after ``$ planner …`` or ``$ make demo`` in a fenced block) and in the table
# of shipped scenarios must still come out of the product.

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```.*?^```", re.M | re.S)
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def prose(text: str) -> str:
    """The page without its fenced blocks (links and headings in code do not count)."""
    return FENCE.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor; a repeated heading gets -1, -2, … as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", prose(page.read_text(encoding="utf-8")), re.M):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(page):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):          # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.is_relative_to(ROOT) or not dest.exists():
            broken.append(f"{target}: no such file in the repository")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading with that anchor in {dest.name}")
    assert not broken, broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_named_repository_paths_exist(page):
    """`planner/solving/variants.py`-style paths in the text name files that exist."""
    spans = re.findall(r"`((?:planner|models|tests|bench|docs|inputs)/[\w./-]*)`",
                       page.read_text(encoding="utf-8"))
    missing = [s for s in spans if not (ROOT / s).exists()]
    assert not missing, missing


def test_code_map_names_modules_that_exist():
    """docs/model.md's table of planner/ packages lists their modules by file name."""
    rows = re.findall(r"^\| \[`(planner/\w+/)`\]\([^)]*\)[^|]*\| (.+) \|$",
                      (ROOT / "docs" / "model.md").read_text(encoding="utf-8"), re.M)
    assert len(rows) >= 4
    missing = [package + name for package, cell in rows
               for name in re.findall(r"`(\w+\.py)`", cell) if not (ROOT / package / name).exists()]
    assert not missing, missing


def test_readme_is_a_front_page():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200, "README.md is the front page: move reference to docs/"
    assert "    make demo " in text, "the two commands stay prominent"
    assert "    make test " in text, "the two commands stay prominent"
    assert "\n## Python API\n" in text
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)", text))
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert pages <= linked, f"pages the README does not link: {sorted(pages - linked)}"


def test_input_tables_page_names_every_declared_column():
    text = (ROOT / "docs" / "input-tables.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)` \| (?:yes|no) \| (.+) \|$", text, re.M))
    assert set(rows) == {t.name for t in TABLES}
    missing = [f"{t.name}.{c.name}" for t in TABLES for c in t.columns
               if f"`{c.name}`" not in rows[t.name]]
    assert not missing, missing


def shown_output() -> list[tuple[str, tuple[str, ...], str]]:
    """(where, command arguments, the lines shown after it) for every ``$`` in a block."""
    found = []
    for page in PAGES:
        name = page.relative_to(ROOT).as_posix()
        for block in FENCE.findall(page.read_text(encoding="utf-8")):
            for part in re.split(r"^\$ ", block, flags=re.M)[1:]:
                command, _, shown = part.partition("\n")
                argv = shlex.split(command)
                args = ("solve",) if argv == ["make", "demo"] else tuple(argv[1:])
                assert argv[0] in ("make", "planner"), f"{name}: unknown command {command}"
                found.append((f"{name}: {command}", args, shown.rstrip("`\n")))
    return found


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    return result


@functools.cache
def planner_output(args: tuple[str, ...]) -> str:
    """What ``planner ARGS`` prints, stdout and stderr together (as a terminal shows it)."""
    return invoke(*args).output


def numbers(text: str) -> set[str]:
    return {n.rstrip(",") for n in NUMBER.findall(text)}


SHOWN = shown_output()


@pytest.mark.parametrize(("where", "args", "shown"), SHOWN, ids=[w for w, _, _ in SHOWN])
def test_shown_output_comes_from_the_product(where, args, shown, monkeypatch):
    monkeypatch.chdir(ROOT)       # the commands name paths from the repository root
    missing = numbers(shown) - numbers(planner_output(args))
    assert not missing, f"{where}: these numbers no longer come out: {sorted(missing)}"


def test_shipped_scenarios_table_matches_the_product(monkeypatch):
    """docs/scenarios.md: cost and levy in USD M in 2025 (the first period), China's
    share by seller and by origin there."""
    text = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    table = text[text.index("| scenario | what it is |"):].split("\n\n")[0].splitlines()[2:]
    assert len(table) >= 12
    monkeypatch.chdir(ROOT)
    stages = ("ndpr-oxide", "ndpr-metal", "dytb-oxide", "dytb-metal", "cela-oxide", "magnet")

    def percent(share: float) -> str:
        return f"{math.floor(share * 100 + 0.5 + 1e-9)} %"

    for line in table:
        name, _, status, cost, levy, direct, by_origin = (c.strip() for c in
                                                          line.strip("|").split("|"))
        result = invoke("solve", "--scenario", name, "--format", "json")
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        first = out["periods"][0]["period"]
        cn = {r["stage"]: r for r in out["direct_and_embedded"]
              if r["group"] == "CN" and r["period"] == first}
        levied = sum(r["of_which_levy_usd"] for r in out["cost_by_stage"]
                     if r["period"] == first)
        assert (status, cost, levy) == (out["status"],
                                        f"{out['periods'][0]['cost_usd_per_yr'] / 1e6:.1f}",
                                        f"{levied / 1e6:.1f}"), name
        assert direct == " / ".join(percent(cn[s]["direct_share"]) if s in cn else "–"
                                    for s in stages), name
        assert by_origin == " / ".join(percent(cn[s]["embedded_share"]) if s in cn else "–"
                                       for s in stages), name

