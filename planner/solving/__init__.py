"""One solve: build, solve with HiGHS, verify, price (sensitivity) or diagnose."""

# Binding share limits priced whole by default, largest rates first: each costs a warm
# re-solve, so a count, not the number of binding limits, bounds the time (issue 13).
WHOLE_COST_LIMIT = 20
