"""What a planner reads: report tables, the terminal, plots."""
