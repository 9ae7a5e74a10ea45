"""Paired effects: what a scenario, or one lever group in it, changes, with common random numbers.

Two runs with the same seed draw the same random numbers wherever their decisions coincide
(counter-based streams, docs/experiments.md), so the difference run by run on the same seed
isolates the effect of what differs from chance. Everything here is built on that:

* ``compare_scenarios(a, b, seeds)``: A minus B per indicator and year (``innosim compare``);
* ``lever_effects(scenario, seeds)``: for each lever group, the scenario minus the same
  scenario with that group switched off (``switched_off``), on every outcome in the target
  year, with the group's public cost (``innosim effects``, the report's per-lever table).

An effect is the mean of the paired differences over seeds with a 90% confidence interval of
that mean (Student's t over the seeds). Cost per unit and outcome per 10 M CNY divide by the
group's mean cost, which is nearly the same on every seed.
"""

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim.calendar import scheduled
from sim.indicators import INDICATORS, indicator_kind
from sim.run import RunResult, run_scenario
from sim.scenario import Policy, Scenario

LEVEL = 0.90  # confidence of every interval
TAX_GROUPS = ("hitech_tax_rate", "super_deduction")
# Lever groups with a budget: the policy's lever dataclasses (vouchers, credit, ...), whose
# declared defaults are the scheme switched off (source OFF in sim/policies/*.py).
BUDGET_GROUPS = tuple(
    f.name for f in dataclasses.fields(Policy) if dataclasses.is_dataclass(f.default)
)
LEVER_GROUPS = BUDGET_GROUPS + TAX_GROUPS
# Outcomes besides the plan's: business R&D is where the tax levers act first.
EXTRA_OUTCOMES = ("business_rd",)
PER_YUAN = 10.0  # outcome per 10 M CNY of public cost


@dataclass(frozen=True)
class Interval:
    """A mean over seeds and its 90% confidence interval (``lo``, ``hi``; NaN with one seed)."""

    mean: float
    lo: float
    hi: float
    n: int

    @property
    def excludes_zero(self) -> bool:
        """True when the interval lies wholly above or below 0."""
        return bool(self.lo > 0 or self.hi < 0)

    def scaled(self, factor: float) -> "Interval":
        """The interval times ``factor`` (> 0)."""
        return Interval(self.mean * factor, self.lo * factor, self.hi * factor, self.n)

    def to_json(self) -> dict:
        """``{"mean", "lo", "hi"}``, NaN as null."""
        return {"mean": _num(self.mean), "lo": _num(self.lo), "hi": _num(self.hi)}


def mean_interval(values: Iterable[float], level: float = LEVEL) -> Interval:
    """Mean of ``values`` and its Student-t confidence interval at ``level``."""
    x = np.asarray([v for v in values if v is not None], dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


# ---------------------------------------------------------------------- switching levers off


def switched_off(scenario: Scenario, group: str) -> Scenario:
    """``scenario`` with lever group ``group`` off, everything else (and the seed) unchanged.

    A budget group (``vouchers``, ``credit``, ...) takes its lever dataclass's declared
    defaults, which are the scheme off in every year: a lever of the group given as a schedule
    (``loan_cap = { 2017 = 5.0 }``) is replaced whole. ``hitech_tax_rate``: certified firms pay
    the standard rate (its schedule, if it has one). ``super_deduction``: its values (by sector
    kind, and for tech SMEs; numbers or schedules) are held at their value in the baseline year.
    """
    policy = scenario.policy
    if group in BUDGET_GROUPS:
        policy = dataclasses.replace(policy, **{group: type(getattr(policy, group))()})
    elif group == "hitech_tax_rate":
        policy = dataclasses.replace(policy, hitech_tax_rate=policy.standard_tax_rate)
    elif group == "super_deduction":
        year = scenario.baseline_year
        policy = dataclasses.replace(
            policy,
            super_deduction_industrial={year: scheduled(policy.super_deduction_industrial, year)},
            super_deduction_other={year: scheduled(policy.super_deduction_other, year)},
            super_deduction_tech_sme={year: scheduled(policy.super_deduction_tech_sme, year)},
        )
    else:
        raise ValueError(f"unknown lever group {group!r}; groups: {', '.join(LEVER_GROUPS)}")
    return dataclasses.replace(scenario, policy=policy)  # keeps the plan and source


# ------------------------------------------------------------------------------------ runs


def seeds_from(scenario: Scenario, count: int, base_seed: int | None = None) -> list[int]:
    """``count`` seeds from ``base_seed`` (default: the scenario's seed) upward."""
    base = scenario.scenario.seed if base_seed is None else base_seed
    return list(range(base, base + count))


def run_seeds(
    scenario: Scenario,
    seeds: Sequence[int],
    months: int | None = None,
    on_run: Callable[[], None] | None = None,
) -> list[RunResult]:
    """One run per seed (in this process: runs take a fraction of a second)."""
    results = []
    for seed in seeds:
        results.append(run_scenario(scenario, seed, months=months))
        if on_run:
            on_run()
    return results


def stacked(results: Sequence[RunResult], indicators: Sequence[str] | None = None) -> pd.DataFrame:
    """The runs' yearly indicators (all, or ``indicators``) in one frame, with a ``seed`` column."""
    frames = [r.indicators for r in results]
    if indicators is not None:
        frames = [f[["year", *indicators]] for f in frames]
    frame = pd.concat(
        [f.assign(seed=r.seed) for f, r in zip(frames, results, strict=True)], ignore_index=True
    )
    return frame.astype({c: "float64" for c in INDICATORS if c in frame})


def paired_differences(a: pd.DataFrame, b: pd.DataFrame, indicator: str, year: int) -> np.ndarray:
    """A minus B on each seed, in ``year`` (frames from ``stacked``)."""
    left = a[a["year"] == year].set_index("seed")[indicator]
    right = b[b["year"] == year].set_index("seed")[indicator]
    return (left - right.reindex(left.index)).to_numpy(dtype=float)


def evaluation_year(scenario: Scenario, years: Sequence[int]) -> int:
    """The plan's target year if the runs reach it, else their last year."""
    target = scenario.plan.target_year
    return target if target in years else max(years)


# ------------------------------------------------------------------------------- compare


@dataclass(frozen=True)
class Comparison:
    """A minus B per indicator and year, paired on seeds."""

    a: str
    b: str
    seeds: list[int]
    years: list[int]
    rows: pd.DataFrame  # indicator, kind, year, a, b, mean, lo, hi

    def to_json_dict(self) -> dict:
        """``{"a", "b", "seeds", "level", "indicators": {id: [{year, a, b, mean, lo, hi}]}}``."""
        out: dict = {}
        for indicator, group in self.rows.groupby("indicator", sort=False):
            out[indicator] = [
                {"year": int(r.year)}
                | {k: _num(getattr(r, k)) for k in ("a", "b", "mean", "lo", "hi")}
                for r in group.itertuples()
            ]
        return {"a": self.a, "b": self.b, "seeds": self.seeds, "level": LEVEL, "indicators": out}


def compare_scenarios(
    a: Scenario,
    b: Scenario,
    seeds: Sequence[int],
    months: int | None = None,
    on_run: Callable[[], None] | None = None,
) -> Comparison:
    """Run A and B on the same seeds; the paired difference per indicator and year."""
    runs_a, runs_b = (
        stacked(run_seeds(a, seeds, months, on_run)),
        stacked(run_seeds(b, seeds, months, on_run)),
    )
    years = sorted(set(runs_a["year"]) & set(runs_b["year"]))
    indicators = [c for c in INDICATORS if c in runs_a and c in runs_b]
    rows = []
    for indicator in indicators:
        for year in years:
            diff = mean_interval(paired_differences(runs_a, runs_b, indicator, year))
            rows.append(
                {
                    "indicator": indicator,
                    "kind": indicator_kind(indicator),
                    "year": int(year),
                    "a": _mean(runs_a, indicator, year),
                    "b": _mean(runs_b, indicator, year),
                    "mean": diff.mean,
                    "lo": diff.lo,
                    "hi": diff.hi,
                }
            )
    return Comparison(a.scenario.name, b.scenario.name, list(seeds), years, pd.DataFrame(rows))


# ------------------------------------------------------------------------- lever effects


@dataclass(frozen=True)
class LeverEffect:
    """What one lever group buys: its public cost and its paired effect on each outcome."""

    lever: str
    cost: Interval  # M CNY over the years simulated up to the evaluation year
    effects: dict[str, Interval]

    def per_10m(self, indicator: str) -> Interval | None:
        """Extra outcome per 10 M CNY of public cost (None when the cost is not booked)."""
        if not self.cost.mean > 0:
            return None
        return self.effects[indicator].scaled(PER_YUAN / self.cost.mean)

    def cost_per_unit(self, indicator: str) -> float | None:
        """M CNY per extra unit of outcome; None unless the effect is surely positive."""
        effect = self.effects[indicator]
        if not (self.cost.mean > 0 and effect.lo > 0):
            return None
        return self.cost.mean / effect.mean


@dataclass(frozen=True)
class LeverEffects:
    """``innosim effects``: every lever group's effect and cost in the evaluation year."""

    scenario: str
    year: int
    seeds: list[int]
    outcomes: list[str]
    levers: list[LeverEffect]
    cost_items: dict[str, list[str]]  # lever -> the indicator columns summed into its cost

    def to_json_dict(self) -> dict:
        """The documented shape: ``{"levers": [{"lever", "cost", "effects": {...}}]}``."""
        levers = []
        for lever in self.levers:
            effects = {}
            for indicator, effect in lever.effects.items():
                per = lever.per_10m(indicator)
                effects[indicator] = effect.to_json() | {
                    "per_10m_cny": per.to_json() if per else None,
                    "cost_per_unit": _num(lever.cost_per_unit(indicator)),
                }
            levers.append(
                {
                    "lever": lever.lever,
                    "cost": _num(lever.cost.mean),
                    "cost_interval": lever.cost.to_json(),
                    "cost_items": self.cost_items[lever.lever],
                    "effects": effects,
                }
            )
        return {
            "scenario": self.scenario,
            "year": self.year,
            "seeds": self.seeds,
            "level": LEVEL,
            "levers": levers,
        }


def effect_outcomes(scenario: Scenario, columns: Iterable[str]) -> list[str]:
    """Plan indicators the runs carry that are outcomes, then ``EXTRA_OUTCOMES``."""
    columns = set(columns)
    plan = [
        r.id for r in scenario.plan.rows if r.id in columns and indicator_kind(r.id) == "outcome"
    ]
    return plan + [c for c in EXTRA_OUTCOMES if c in columns and c not in plan]


def lever_cost(
    runs: pd.DataFrame, lever: str, first_year: int, year: int
) -> tuple[np.ndarray, list[str]]:
    """Public cost of ``lever`` on each seed: budget spend plus tax expenditure when booked.

    Sums the yearly ``spend_<lever>`` and ``tax_expenditure_<lever>`` columns over the years
    after ``first_year`` (the baseline) up to ``year``; returns the costs and the columns used.
    """
    items = [c for c in (f"spend_{lever}", f"tax_expenditure_{lever}") if c in runs]
    window = runs[(runs["year"] > first_year) & (runs["year"] <= year)]
    if not items:
        return np.zeros(window["seed"].nunique()), items
    per_seed = window.groupby("seed", sort=True)[items].sum(min_count=1).sum(axis=1)
    return per_seed.to_numpy(dtype=float), items


def lever_effects(
    scenario: Scenario,
    seeds: Sequence[int],
    groups: Sequence[str] | None = None,
    months: int | None = None,
    on_run: Callable[[], None] | None = None,
) -> LeverEffects:
    """Each lever group's paired effect (scenario minus the group switched off) and cost."""
    groups = list(groups or LEVER_GROUPS)
    base = stacked(run_seeds(scenario, seeds, months, on_run))
    years = sorted(base["year"].unique().tolist())
    year = evaluation_year(scenario, years)
    outcomes = effect_outcomes(scenario, base.columns)
    levers, cost_items = [], {}
    for group in groups:
        off = stacked(run_seeds(switched_off(scenario, group), seeds, months, on_run))
        costs, items = lever_cost(base, group, scenario.baseline_year, year)
        cost_items[group] = items
        effects = {k: mean_interval(paired_differences(base, off, k, year)) for k in outcomes}
        levers.append(LeverEffect(group, mean_interval(costs), effects))
    return LeverEffects(scenario.scenario.name, year, list(seeds), outcomes, levers, cost_items)


def runs_needed(groups: Sequence[str] | None, seeds: Sequence[int]) -> int:
    """Runs ``lever_effects`` makes: the scenario and each group off, on every seed."""
    return (1 + len(groups or LEVER_GROUPS)) * len(seeds)


def _mean(frame: pd.DataFrame, indicator: str, year: int) -> float:
    values = frame.loc[frame["year"] == year, indicator].dropna()
    return float(values.mean()) if len(values) else math.nan


def _num(value) -> float | None:
    """A JSON number, or null for None and NaN."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value
