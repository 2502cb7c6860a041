"""One solve: build, solve with HiGHS, verify, price (sensitivity) or diagnose."""

# Binding share limits priced whole by default, largest rates first: each costs a warm
# re-solve, so a count, not the number of binding limits, bounds the time (issue 13).
WHOLE_COST_LIMIT = 20


def whole_cost_count(value: int | str) -> int | None:
    """``--whole-costs`` / ``whole_costs=`` as the engine takes it: a count ≥ 0, or
    ``"all"`` → None (every binding limit); ValueError otherwise."""
    if value == "all":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError(f"{value!r} is not a count (0, 1, 2, ...) or 'all'")
