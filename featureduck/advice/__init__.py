"""Query advice: plans with timings, run history, and what to change."""
