"""Source labels for parameter declarations (they appear in docs/model.md's parameter table)."""

DOMAIN = "DOMAIN.md (project brief, from Chongqing policy documents)"
ASSUMED = "assumption (unconfirmed): set for plausibility, treat as an uncertainty"
BASELINE = "liangping_baseline_2020.csv"
PLAN = "liangping_14th_fyp_targets.csv (2020 value -> 2025 target)"
OFF = "lever off unless the scenario sets it"
