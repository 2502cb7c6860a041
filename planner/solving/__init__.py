"""One solve: build, solve with HiGHS, verify, price (sensitivity) or diagnose."""
