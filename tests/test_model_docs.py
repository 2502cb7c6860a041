"""Every constraint family is documented with its formula and inputs (STYLE §3),
every component the model builds comes from a documented rule, and the
constraint reference docs/constraints.md is what docs/gen_constraints.py makes
of those docstrings today."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path

import pyomo.environ as pyo
import pytest
from planner.models import constraints
from planner.models.build import create_model
from planner.models.data import Country, Dataset, Limit, Offer, Process, Scope, Stage

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
