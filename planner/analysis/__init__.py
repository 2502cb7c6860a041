"""Questions asked of many solves: scenarios, compare, sweeps, upstream origin."""
