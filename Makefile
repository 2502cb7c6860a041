# Two entry points (README): `make demo` and `make test`. Each creates the
# virtual environment on first use, so a fresh machine needs only Python and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-fast conformance bench bench-sweep inputs-xlsx docs clean

$(BIN)/planner: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/planner
	$(BIN)/planner solve

test: $(BIN)/planner
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# Local iteration: everything but the long randomised cross-checks (CI runs all).
test-fast: $(BIN)/planner
	$(BIN)/python -m pytest -m "not slow"

conformance: $(BIN)/planner
	$(BIN)/python ../shared/conformance/check.py $(BIN)/planner

bench: $(BIN)/planner
	$(BIN)/python bench/benchmark.py

bench-sweep: $(BIN)/planner
	cd bench && ../$(BIN)/python sweep_benchmark.py

# The constraint reference is generated from the rules' docstrings
# (models/constraints.py); a test fails when docs/constraints.md is out of date.
docs: $(BIN)/planner
	$(BIN)/python docs/gen_constraints.py

clean:
	rm -rf $(VENV) build *.egg-info

# The shipped workbook is generated from the CSV tables (the source of truth);
# a test fails when it is out of date. Written beside, then moved in, because
# the planner never writes into the dataset it reads.
inputs-xlsx: $(BIN)/planner
	$(BIN)/planner convert --inputs inputs --output build/korea-2025.xlsx
	mv build/korea-2025.xlsx inputs/korea-2025.xlsx
