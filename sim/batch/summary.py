"""The statistics of a batch report, from typed inputs: which mix most likely meets the targets.

``summarise(experiment, runs, data, year)`` takes the validated ``Experiment``, the design's
runs and the results, and computes, in the evaluation year:

* per policy mix and plan target: the probability of meeting it (share of the mix's runs at or
  above the target) with a Wilson score interval, the median and 5-95% band of the value, and
  the paired effect against the baseline mix (same seeds and sample points);
* per policy mix: the expected number of *outcome* targets met (mean over runs of the count of
  outcome targets met) with its 90% interval; mixes are ranked by it;
* plain findings: targets no mix meets, targets every mix meets, targets on which the mixes do
  not differ. Inputs (counts a lever schedule sets) are kept apart and never ranked on.

Rendering (HTML, charts, files) is in ``sim.batch.report``.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sim.batch.experiment import Experiment
from sim.effects import LEVEL, mean_interval
from sim.indicators import indicator_kind
from sim.targets import PlanTarget

BAND = (0.05, 0.95)


def wilson(successes: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion (sound at 0 and 1 and for few runs)."""
    if n == 0:
        return math.nan, math.nan
    z = float(stats.norm.ppf(0.5 + level / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Summary:
    """Everything the report shows, as tables."""

    year: int
    targets: list[PlanTarget]  # plan targets the results carry, outcomes first
    mixes: pd.DataFrame  # policy_mix_id, mix name, lever values
    attainment: pd.DataFrame  # one row per (mix, target)
    ranking: pd.DataFrame  # one row per mix, best first
    baseline: int
    pair_keys: list[str]
    findings: dict[str, list[str]] = field(default_factory=dict)  # kind -> target ids

    @property
    def outcomes(self) -> list[PlanTarget]:
        """Targets on outcomes the model simulates."""
        return [t for t in self.targets if indicator_kind(t.id) == "outcome"]

    @property
    def inputs(self) -> list[PlanTarget]:
        """Targets on counts a lever schedule sets."""
        return [t for t in self.targets if indicator_kind(t.id) == "input"]

    @property
    def best(self) -> int:
        """The mix with the most outcome targets met, on average."""
        return int(self.ranking["policy_mix_id"].iloc[0])


def summarise(
    experiment: Experiment,
    runs: pd.DataFrame,
    data: pd.DataFrame,
    year: int,
    baseline: int,
) -> Summary:
    """The report's statistics (see the module docstring)."""
    plan = experiment.scenario.plan
    targets = [t for t in plan.rows if t.id in data]
    targets.sort(key=lambda t: indicator_kind(t.id) != "outcome")  # outcomes first, stable
    levers = experiment.mix_keys + [f.key for f in experiment.levers]
    mixes = runs.drop_duplicates("policy_mix_id")[["policy_mix_id", *_mix_columns(runs, levers)]]
    mixes = mixes.reset_index(drop=True)
    lever_ranges = any(f.sampled for f in experiment.levers)
    pair_keys = ["seed"] if lever_ranges else ["sample_id", "seed"]
    final = data[data["year"] == year].reset_index(drop=True)
    attainment = _attainment(final, mixes, targets, baseline, pair_keys)
    ranking = _ranking(final, mixes, [t for t in targets if indicator_kind(t.id) == "outcome"])
    summary = Summary(year, targets, mixes, attainment, ranking, baseline, pair_keys)
    summary.findings = _findings(attainment, summary.outcomes)
    return summary


def _mix_columns(runs: pd.DataFrame, levers: list[str]) -> list[str]:
    return (["mix"] if "mix" in runs else []) + [k for k in levers if k in runs]


def _attainment(final, mixes, targets, baseline, pair_keys) -> pd.DataFrame:
    rows = []
    base = final[final["policy_mix_id"] == baseline]
    for mix_id in mixes["policy_mix_id"]:
        mine = final[final["policy_mix_id"] == mix_id]
        paired = mine.merge(base, on=pair_keys, suffixes=("", "_base"))
        for t in targets:
            values = mine[t.id].dropna()
            met = int((values >= t.target).sum())
            lo, hi = wilson(met, len(values))
            effect = mean_interval(paired[t.id] - paired[f"{t.id}_base"])
            rows.append(
                {
                    "policy_mix_id": int(mix_id),
                    "indicator": t.id,
                    "kind": indicator_kind(t.id),
                    "unit": t.unit,
                    "target": t.target,
                    "runs": len(values),
                    "p_meet": met / len(values) if len(values) else math.nan,
                    "p_lo": lo,
                    "p_hi": hi,
                    "median": _quantile(values, 0.5),
                    "p05": _quantile(values, BAND[0]),
                    "p95": _quantile(values, BAND[1]),
                    "effect_mean": effect.mean,
                    "effect_lo": effect.lo,
                    "effect_hi": effect.hi,
                }
            )
    return pd.DataFrame(rows)


def _ranking(final, mixes, outcomes) -> pd.DataFrame:
    """Mixes by the expected number of outcome targets met (ties: the lower mix id first)."""
    met = pd.DataFrame({t.id: final[t.id] >= t.target for t in outcomes})
    counts = met.sum(axis=1)
    rows = []
    for mix_id in mixes["policy_mix_id"]:
        interval = mean_interval(counts[final["policy_mix_id"] == mix_id])
        rows.append(
            {
                "policy_mix_id": int(mix_id),
                "targets_met_mean": interval.mean,
                "targets_met_lo": interval.lo,
                "targets_met_hi": interval.hi,
                "outcome_targets": len(outcomes),
                "runs": interval.n,
            }
        )
    ranking = pd.DataFrame(rows).sort_values(
        ["targets_met_mean", "policy_mix_id"], ascending=[False, True], kind="stable"
    )
    ranking.insert(0, "rank", np.arange(1, len(ranking) + 1))
    return ranking.reset_index(drop=True)


def _findings(attainment: pd.DataFrame, outcomes: list[PlanTarget]) -> dict[str, list[str]]:
    """Outcome targets no mix meets, every mix meets, or on which the mixes do not differ."""
    found: dict[str, list[str]] = {"never_met": [], "always_met": [], "no_difference": []}
    for t in outcomes:
        p = attainment.loc[attainment["indicator"] == t.id, "p_meet"].dropna()
        if p.empty:
            continue
        if (p == 0).all():
            found["never_met"].append(t.id)
        elif (p == 1).all():
            found["always_met"].append(t.id)
        elif p.nunique() == 1:
            found["no_difference"].append(t.id)
    return found


def _quantile(values: pd.Series, q: float) -> float:
    return float(np.quantile(values, q)) if len(values) else math.nan
