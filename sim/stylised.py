"""Stylised facts of firm dynamics, computed from runs and set beside the literature.

``python -m sim.stylised SCENARIO [--seeds N] [--months M] [--format table|json]`` runs the
scenario for ``N`` seeds (the scenario's seed and the next ones), collects every firm's state
each 31 December and prints the statistics of ``sim.stylised_facts.FACTS``: the firm-size
distribution and its Pareto tail, the distribution of annual growth rates, R&D persistence,
exit rates by age, R&D intensity around the high-tech (HNTE) thresholds, and the survival of
incubated and other new firms. All seeds are pooled.

Data: the firm panel of the DataCollector (``collect_firms=True``), plus, read from the firm
table after each 31 December, the R&D and revenue of the year just booked (the first entry of
``rd_history`` and ``revenue_history``, two-dimensional columns the DataCollector leaves out), and,
after every month, which firms are incubator tenants (the table forgets a tenancy when it ends).
A statistic whose column is missing is ``n/a`` with the column named, not an error.
"""

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.flags import add_set_flag, months, positive_int
from sim.stylised_facts import FACTS, Fact

TABLE_BEGIN = "<!-- BEGIN stylised-facts -->"
TABLE_END = "<!-- END stylised-facts -->"
EXIT_AGE_CLASSES = ((0, 3), (3, 6), (6, 11), (11, None))  # years of age: [lo, hi)
EXIT_FACT_IDS = ("exit.age_0_2", "exit.age_3_5", "exit.age_6_10", "exit.age_over_10")
HISTOGRAM_SPAN = 0.02  # share of revenue either side of the threshold
HISTOGRAM_BIN = 0.0025
BUNCHING_WINDOW = 0.005
SURVIVAL_MONTHS = 36
SCORE_BAND = 20  # points of the incubators' applicant score (0-100) per matching band
SIZE_CLASSES = 10


class NotAvailable(Exception):
    """A statistic cannot be computed: a column is missing or there are too few firms."""


# ------------------------------------------------------------------------------- statistics


def hill(x: np.ndarray, tail_share: float) -> tuple[float, float, int]:
    """Hill estimator of the Pareto tail index on the largest ``tail_share`` of ``x``.

    Args:
        x: positive sizes (non-positive values are dropped).
        tail_share: share of observations in the tail, e.g. 0.1.

    Returns:
        (alpha, standard error alpha / sqrt(k), k): with the k largest values X(1) >= ... >= X(k)
        and the next one X(k+1), alpha = k / sum(log(X(i) / X(k+1))).
    """
    x = np.sort(np.asarray(x, dtype=float)[np.asarray(x) > 0])[::-1]
    k = int(math.floor(tail_share * len(x)))
    if k < 5:
        raise NotAvailable(f"{len(x)} positive values: fewer than 5 in the top {tail_share:.0%}")
    logs = np.log(x[:k] / x[k])
    if logs.sum() <= 0:
        raise NotAvailable("the tail is flat")
    alpha = k / logs.sum()
    return float(alpha), float(alpha / math.sqrt(k)), k


def skewness(x: np.ndarray) -> float:
    """Sample skewness (moment estimator)."""
    x = np.asarray(x, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0:
        raise NotAvailable("fewer than 3 distinct values")
    d = x - x.mean()
    return float(np.mean(d**3) / np.mean(d**2) ** 1.5)


def excess_kurtosis(x: np.ndarray) -> float:
    """Sample excess kurtosis (moment estimator): 0 for a Gaussian, 3 for a Laplace."""
    x = np.asarray(x, dtype=float)
    if len(x) < 4 or np.ptp(x) == 0:
        raise NotAvailable("fewer than 4 distinct values")
    d = x - x.mean()
    return float(np.mean(d**4) / np.mean(d**2) ** 2 - 3.0)


def subbotin_shape(x: np.ndarray) -> float:
    """Maximum-likelihood shape b of the Subbotin (generalised normal) density.

    f(x) ~ exp(-|x - mu|^b / (b a^b)): b = 1 is the Laplace, b = 2 the Gaussian. The Subbotin
    family is scipy's ``gennorm`` with a rescaled width, so the shape is the same.
    """
    x = np.asarray(x, dtype=float)
    if len(x) < 20 or np.ptp(x) == 0:
        raise NotAvailable("fewer than 20 growth rates")
    scale = float(np.std(x))
    b, _, _ = stats.gennorm.fit(x / scale)
    return float(b)


def laplace_minus_normal(x: np.ndarray) -> float:
    """Mean log-likelihood per observation of the fitted Laplace minus the fitted Gaussian.

    Both by maximum likelihood (Laplace: median and mean absolute deviation; Gaussian: mean
    and standard deviation). Positive: the Laplace fits better.
    """
    x = np.asarray(x, dtype=float)
    if len(x) < 20 or np.ptp(x) == 0:
        raise NotAvailable("fewer than 20 growth rates")
    b = float(np.mean(np.abs(x - np.median(x))))
    sigma = float(np.std(x))
    laplace = -math.log(2.0 * b) - 1.0
    normal = -0.5 * math.log(2.0 * math.pi * sigma**2) - 0.5
    return laplace - normal


def size_variance_slope(size: np.ndarray, growth: np.ndarray, classes: int = SIZE_CLASSES):
    """Slope of log sd(growth) on log size, across size classes of equal counts.

    Args:
        size: size at the start of each growth period (positive).
        growth: the growth rate over the period.
        classes: number of size classes (quantile bins).

    Returns:
        (slope, [(mean log size, sd of growth, count) per class]).
    """
    size = np.asarray(size, dtype=float)
    growth = np.asarray(growth, dtype=float)
    keep = size > 0
    size, growth = size[keep], growth[keep]
    classes = min(classes, len(size) // 20)
    if classes < 3:
        raise NotAvailable(f"{len(size)} growth rates: too few for 3 size classes of 20")
    log_size = np.log(size)
    order = np.argsort(log_size, kind="stable")
    rows = []
    for part in np.array_split(order, classes):
        sd = float(np.std(growth[part], ddof=1))
        if sd > 0:
            rows.append((float(log_size[part].mean()), sd, len(part)))
    if len(rows) < 3:
        raise NotAvailable("fewer than 3 size classes with dispersion")
    xs = np.array([r[0] for r in rows])
    ys = np.log([r[1] for r in rows])
    slope = float(np.polyfit(xs, ys, 1)[0])
    return slope, rows


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if len(a) < 5 or np.ptp(a) == 0 or np.ptp(b) == 0:
        raise NotAvailable("fewer than 5 firms or no variation")
    ra, rb = stats.rankdata(a), stats.rankdata(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def exit_rates_by_age(
    birth_month: np.ndarray,
    exit_month: np.ndarray,
    alive: np.ndarray,
    last_month: int,
    classes=EXIT_AGE_CLASSES,
) -> list[tuple[int, float]]:
    """Exits and firm-years at risk in each age class over months 0..``last_month``.

    A firm is at risk from month max(0, birth + 1) (a firm born in month b first steps in
    b + 1) to its exit month or ``last_month``; its age in month t is t - birth months.

    Returns:
        [(exits, firm-years at risk)] per class.
    """
    birth = np.asarray(birth_month, dtype=np.int64)
    exited = ~np.asarray(alive, dtype=bool)
    start = np.maximum(0, birth + 1)
    start = np.where(birth < 0, 0, start)
    end = np.where(exited, np.asarray(exit_month, dtype=np.int64), last_month)  # inclusive
    at_risk = end >= start
    age_from = (start - birth)[at_risk]
    age_to = (end - birth + 1)[at_risk]  # exclusive
    exit_age = (end - birth)[at_risk & exited]
    out = []
    for lo, hi in classes:
        lo_m = 12 * lo
        hi_m = np.iinfo(np.int64).max if hi is None else 12 * hi
        months = np.clip(np.minimum(age_to, hi_m) - np.maximum(age_from, lo_m), 0, None)
        exits = int(np.count_nonzero((exit_age >= lo_m) & (exit_age < hi_m)))
        out.append((exits, float(months.sum()) / 12.0))
    return out


def threshold_histogram(distance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts of R&D intensity minus threshold in 0.25 pp bins from -2 pp to +2 pp.

    Returns:
        (bin edges as shares, counts); a value on an edge falls in the bin above it.
    """
    n_bins = round(2 * HISTOGRAM_SPAN / HISTOGRAM_BIN)
    edges = np.linspace(-HISTOGRAM_SPAN, HISTOGRAM_SPAN, n_bins + 1)
    d = np.asarray(distance, dtype=float)
    index = np.floor(np.round(d / HISTOGRAM_BIN, 9)).astype(np.int64) + n_bins // 2
    inside = (index >= 0) & (index < n_bins)
    counts = np.bincount(index[inside], minlength=n_bins)
    return edges, counts


def bunching_ratio(distance: np.ndarray, window: float = BUNCHING_WINDOW) -> tuple[float, int, int]:
    """Firm-years in [0, window) above the threshold over those in [-window, 0) below.

    Returns:
        (ratio, above, below); with none below, the ratio is ``above`` (a lower bound).
    """
    d = np.round(np.asarray(distance, dtype=float), 12)
    above = int(np.count_nonzero((d >= 0) & (d < window)))
    below = int(np.count_nonzero((d >= -window) & (d < 0)))
    if below == 0 and above == 0:
        raise NotAvailable("no firm-year within the window of a threshold")
    return above / max(below, 1), above, below


def hnte_threshold(revenue: np.ndarray, certification) -> np.ndarray:
    """The HNTE R&D-ratio threshold of each firm by its revenue class."""
    try:
        small = certification.hitech_small_revenue
        large = certification.hitech_large_revenue
        ratios = (
            certification.hitech_rd_ratio_small,
            certification.hitech_rd_ratio_medium,
            certification.hitech_rd_ratio_large,
        )
    except AttributeError as err:
        raise NotAvailable(f"scenario has no HNTE threshold rule ({err})") from err
    revenue = np.asarray(revenue, dtype=float)
    return np.where(revenue <= small, ratios[0], np.where(revenue <= large, ratios[1], ratios[2]))


# ------------------------------------------------------------------------------- runs


@dataclass
class RunData:
    """What one run leaves for the statistics.

    Attributes:
        seed: the run's seed.
        panel: one row per firm and 31 December: ``seed``, ``year``, ``row`` (firm id), the
            DataCollector's columns, and ``booked_rd``/``booked_revenue`` (M CNY in the year
            just booked) when the firm table has ``rd_history``/``revenue_history``.
        firms: final firm-table columns (``alive``, ``birth_month``, ``exit_month``, ...).
        last_month: month index of the last simulated month.
        ever_incubated: per firm id, was an incubator tenant at the end of some month
            (``None`` if the table has no tenancy column).
        baseline_year: the year of the initial state (year 0).
        applicant_scores: per firm id and age in months (0 to the incubators' age limit), the
            score incubators rank applicants by (``sim.agents.incubators.applicant_score``) as
            they see it when admitting at that age, NaN where the firm is not then an operating
            technology start-up (``technology_startups``) or was not observed (``None``: not
            recorded).
        admitted_month: per firm id, the first month it was a tenant at the end of; -1 never.
    """

    seed: int
    panel: pd.DataFrame
    firms: dict[str, np.ndarray]
    last_month: int
    ever_incubated: np.ndarray | None
    baseline_year: int
    missing: set[str] = field(default_factory=set)
    applicant_scores: np.ndarray | None = None
    admitted_month: np.ndarray | None = None


def _table_column(model, name: str) -> np.ndarray | None:
    try:
        return model.firms.column(name)
    except KeyError:
        return None


def _tenants(model) -> np.ndarray | None:
    incubator = _table_column(model, "incubator")
    if incubator is not None:
        return incubator > 0
    until = _table_column(model, "incubated_until")
    if until is not None:
        return until >= model.month
    return None


def _record_applicants(model, scores: np.ndarray) -> np.ndarray:
    """Write into ``scores`` (grown to the table) what incubators will see next month.

    Admission in month t reads the table as it is after month t - 1, so after each month the
    operating technology start-ups born during the run get, at their age next month, their
    applicant score (NaN elsewhere).
    """
    from sim.agents.incubators import applicant_score, technology_startups

    f = model.firms.arrays()
    if len(f.alive) > len(scores):
        grown = np.full((len(f.alive), scores.shape[1]), np.nan)
        grown[: len(scores)] = scores
        scores = grown
    age = model.month + 1 - f.birth_month
    rows = np.flatnonzero(f.alive & (f.birth_month >= 0) & (age < scores.shape[1]))
    rows = rows[technology_startups(f, rows, model.policy.incubation)]
    scores[rows, age[rows]] = applicant_score(f, rows)
    return scores


def _year_snapshot(model) -> pd.DataFrame:
    rows = np.array(sorted(model.firm_agents), dtype=np.int64)
    frame = {
        "AgentID": [model.firm_agents[row].unique_id for row in rows],
        "row": rows,
        "year": model.year,
    }
    for name, source in (("booked_rd", "rd_history"), ("booked_revenue", "revenue_history")):
        history = _table_column(model, source)
        if history is not None and history.ndim == 2:
            frame[name] = history[rows, 0]
    return pd.DataFrame(frame)


def simulate(setup, seed: int, months: int | None = None) -> RunData:
    """Run ``setup`` for ``months`` months (default: its horizon) and collect the firm panel."""
    from sim.agents.firms import Firm
    from sim.model import InnovationEcosystem

    months = setup.scenario.horizon_months if months is None else months
    model = InnovationEcosystem(setup=setup, seed=seed, agents="full", collect_firms=True)
    snapshots = [_year_snapshot(model)]
    tenants = _tenants(model)
    admitted = None if tenants is None else np.where(tenants, model.month, -1)
    ages = model.policy.incubation.admission_max_age_months + 1
    scores = _record_applicants(model, np.full((0, ages), np.nan))
    for _ in range(months):
        model.step()
        tenants = _tenants(model)
        if tenants is not None:
            grown = np.full(len(tenants), -1, dtype=np.int64)
            grown[: len(admitted)] = admitted
            admitted = np.where(tenants & (grown < 0), model.month, grown)
        scores = _record_applicants(model, scores)
        if model.date(model.month)[1] == 12:
            snapshots.append(_year_snapshot(model))
    collected = model.datacollector.get_agenttype_vars_dataframe(Firm).reset_index()
    steps = sorted(collected["Step"].unique())
    if len(steps) != len(snapshots):
        raise RuntimeError(f"{len(steps)} firm collections but {len(snapshots)} year ends")
    collected["year"] = collected["Step"].map(
        {step: int(snap["year"].iloc[0]) for step, snap in zip(steps, snapshots, strict=True)}
    )
    panel = collected.merge(pd.concat(snapshots), on=["AgentID", "year"], how="left")
    panel.insert(0, "seed", seed)
    arrays = model.firms.arrays()
    firms = {
        name: np.asarray(getattr(arrays, name)).copy()
        for name in ("alive", "birth_month", "exit_month", "attracted")
        if name in arrays._fields
    }
    return RunData(
        seed,
        panel,
        firms,
        model.month,
        None if admitted is None else admitted >= 0,
        setup.baseline_year,
        applicant_scores=scores,
        admitted_month=admitted,
    )


# ------------------------------------------------------------------------------- facts


def _need(frame: pd.DataFrame, *columns: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise NotAvailable("missing column " + ", ".join(missing))


def _need_firms(run: RunData, *columns: str) -> None:
    missing = [c for c in columns if c not in run.firms]
    if missing:
        raise NotAvailable("missing firm-table column " + ", ".join(missing))


def rd_intensity(panel: pd.DataFrame) -> tuple[pd.Series, str]:
    """Each firm-year's R&D intensity and how it was measured.

    In order of preference: ``rd_reported`` (R&D reported for the booked year, M CNY) over booked
    revenue; booked R&D over booked revenue; 12 x December R&D (``rd_spend``) over the annualised
    revenue rate.
    """
    if "booked_revenue" in panel.columns:
        revenue = panel["booked_revenue"].where(panel["booked_revenue"] > 0)
        for rd in ("rd_reported", "booked_rd"):
            if rd in panel.columns:
                return (panel[rd] / revenue), f"{rd} / booked_revenue"
    _need(panel, "rd_spend", "revenue")
    revenue = panel["revenue"].where(panel["revenue"] > 0)
    return 12.0 * panel["rd_spend"] / revenue, "12 x rd_spend / revenue"


def _size_facts(panel: pd.DataFrame, out: dict) -> None:
    last = panel[panel["year"] == panel["year"].max()]
    for variable in ("revenue", "employees"):
        prefix = f"size.{variable}"
        try:
            _need(last, variable)
            x = last[variable].to_numpy(dtype=float)
            x = x[np.isfinite(x) & (x > 0)]
            if len(x) < 20:
                raise NotAvailable(f"{len(x)} firms with positive {variable}")
        except NotAvailable as why:
            for suffix in ("median", "skew_log", "tail10", "tail5"):
                out[f"{prefix}.{suffix}"] = {"note": str(why)}
            continue
        q = np.quantile(x, [0.1, 0.25, 0.5, 0.75, 0.9, 0.99])
        detail = dict(zip(("p10", "p25", "p50", "p75", "p90", "p99"), map(float, q), strict=True))
        detail |= {"mean": float(x.mean()), "skew": skewness(x)}
        out[f"{prefix}.median"] = {"value": float(q[2]), "n": len(x), "detail": detail}
        out[f"{prefix}.skew_log"] = _try(lambda x=x: {"value": skewness(np.log(x)), "n": len(x)})
        for share, suffix in ((0.10, "tail10"), (0.05, "tail5")):

            def tail(x=x, share=share):
                alpha, se, k = hill(x, share)
                return {"value": alpha, "se": se, "n": k}

            out[f"{prefix}.{suffix}"] = _try(tail)


def growth_rates(panel: pd.DataFrame) -> pd.DataFrame:
    """Annual log revenue growth of firms present on two consecutive 31 Decembers.

    Demeaned by seed, year and sector (Bottazzi & Secchi remove the sector-year mean).
    Columns: seed, row, year, size (revenue at the start), growth.
    """
    _need(panel, "revenue")
    cols = ["seed", "row", "year", "revenue"] + (["sector"] if "sector" in panel else [])
    now = panel[cols].copy()
    before = now[["seed", "row", "year", "revenue"]].copy()
    before["year"] += 1
    pairs = now.merge(before, on=["seed", "row", "year"], suffixes=("", "_before"))
    pairs = pairs[(pairs["revenue"] > 0) & (pairs["revenue_before"] > 0)]
    pairs = pairs.assign(
        size=pairs["revenue_before"], growth=np.log(pairs["revenue"] / pairs["revenue_before"])
    )
    keys = ["seed", "year"] + (["sector"] if "sector" in pairs else [])
    pairs["growth"] -= pairs.groupby(keys)["growth"].transform("mean")
    return pairs[["seed", "row", "year", "size", "growth"]]


def _growth_facts(panel: pd.DataFrame, out: dict) -> None:
    try:
        g = growth_rates(panel)
        if len(g) < 20:
            raise NotAvailable(f"{len(g)} growth rates (needs two 31 Decembers)")
    except NotAvailable as why:
        for fact in FACTS:
            if fact.group == "growth":
                out[fact.id] = {"note": str(why)}
        return
    x = g["growth"].to_numpy()
    n = len(x)
    out["growth.sd"] = {"value": float(np.std(x, ddof=1)), "n": n}
    out["growth.excess_kurtosis"] = _try(lambda: {"value": excess_kurtosis(x), "n": n})
    out["growth.subbotin_b"] = _try(lambda: {"value": subbotin_shape(x), "n": n})
    out["growth.laplace_vs_normal"] = _try(lambda: {"value": laplace_minus_normal(x), "n": n})

    def slope():
        value, rows = size_variance_slope(g["size"].to_numpy(), x)
        classes = [{"log_size": r[0], "sd": r[1], "n": r[2]} for r in rows]
        return {"value": value, "n": n, "detail": {"classes": classes}}

    out["growth.size_slope"] = _try(slope)
    out["growth.rd_premium"] = _try(lambda: rd_premium(panel, g))


def rd_premium(panel: pd.DataFrame, g: pd.DataFrame) -> dict:
    """Least-squares slope of growth on the year-before R&D intensity, firms over 3 years old.

    The growth regressions of the returns-to-R&D literature: growth = a + rho x R&D/sales; young
    firms are left out (their growth is selection, not returns).
    """
    intensity, _ = rd_intensity(panel)
    _need(panel, "birth_month")
    # month index of each 31 December: -1 for the first one collected (year 0)
    december = 12 * (panel["year"] - panel.groupby("seed")["year"].transform("min")) - 1
    old = (december - panel["birth_month"]) >= 36
    start = panel[["seed", "row", "year"]].assign(rd=intensity, year=panel["year"] + 1)[old]
    both = g.merge(start.dropna(), on=["seed", "row", "year"])
    if len(both) < 20 or both["rd"].std() == 0:
        raise NotAvailable(f"{len(both)} firm-years with growth and R&D intensity")
    slope = float(np.polyfit(both["rd"], both["growth"], 1)[0])
    return {"value": slope, "n": len(both)}


def _rd_facts(panel: pd.DataFrame, out: dict, used: dict) -> None:
    try:
        intensity, how = rd_intensity(panel)
    except NotAvailable as why:
        for fact in FACTS:
            if fact.group == "rd":
                out[fact.id] = {"note": str(why)}
        return
    used["rd_intensity"] = how
    frame = panel[["seed", "row", "year"]].assign(rd=intensity).dropna()
    first, last = frame["year"].min(), frame["year"].max()

    def first_last():
        a = frame[frame["year"] == first]
        b = frame[frame["year"] == last]
        both = a.merge(b, on=["seed", "row"], suffixes=("_a", "_b"))
        if first == last:
            raise NotAvailable("one 31 December only")
        # among first-year performers: firms without R&D in both years tie at 0 and would make
        # the ranks look fixed (0.93 with the 60% of "other" firms that do none, against 0.59)
        performers = both[both["rd_a"] > 0]
        if len(performers) == 0:
            raise NotAvailable("no R&D performer in the first year")
        value = spearman(performers["rd_a"], performers["rd_b"])
        detail = {"first_year": int(first), "last_year": int(last)}
        detail["all_firms"] = _maybe(lambda: spearman(both["rd_a"], both["rd_b"]))
        return {"value": value, "n": len(performers), "detail": detail}

    def pairs():
        later = frame.assign(year=frame["year"] - 1)
        return frame.merge(later, on=["seed", "row", "year"], suffixes=("_a", "_b"))

    def year_to_year():
        both = pairs()
        return {"value": spearman(both["rd_a"], both["rd_b"]), "n": len(both)}

    def stays():
        both = pairs()
        performers = both[both["rd_a"] > 0]
        if len(performers) == 0:
            raise NotAvailable("no R&D performer seen on two consecutive 31 Decembers")
        return {"value": float((performers["rd_b"] > 0).mean()), "n": len(performers)}

    out["rd.rank_first_last"] = _try(first_last)
    out["rd.rank_year_to_year"] = _try(year_to_year)
    out["rd.performer_stays"] = _try(stays)


def _exit_facts(runs: list[RunData], out: dict) -> None:
    try:
        totals = np.zeros((len(EXIT_AGE_CLASSES), 2))
        for run in runs:
            _need_firms(run, "alive", "birth_month", "exit_month")
            keep = ~run.firms["attracted"] if "attracted" in run.firms else slice(None)
            rates = exit_rates_by_age(
                run.firms["birth_month"][keep],
                run.firms["exit_month"][keep],
                run.firms["alive"][keep],
                run.last_month,
            )
            totals += np.array(rates)
    except NotAvailable as why:
        for fact in FACTS:
            if fact.group == "exit":
                out[fact.id] = {"note": str(why)}
        return
    rates = []
    for fact_id, (exits, years) in zip(EXIT_FACT_IDS, totals, strict=True):
        if years <= 0:
            out[fact_id] = {"note": "no firm-year at risk in this age class"}
            rates.append(None)
            continue
        rates.append(exits / years)
        out[fact_id] = {
            "value": exits / years,
            "n": int(exits),
            "detail": {"exits": int(exits), "firm_years": float(years)},
        }
    if rates[0] and rates[-1] is not None:
        out["exit.old_to_young"] = {"value": rates[-1] / rates[0]}
    else:
        out["exit.old_to_young"] = {"note": "no exit at age 0-2 or no firm older than 10"}


def exit_rates_by_size(panel: pd.DataFrame) -> tuple[tuple[int, int], tuple[int, int]]:
    """(exits, firms) of the smallest and of the largest quarter of revenue, the year after.

    A firm on a 31 December (not the last) exits if it is not there the next 31 December;
    quarters are within its seed, year and sector.
    """
    _need(panel, "revenue")
    last = panel.groupby("seed")["year"].transform("max")
    start = panel[panel["year"] < last]
    present = panel[["seed", "row", "year"]].assign(year=panel["year"] - 1, present=True)
    pairs = start.merge(present, on=["seed", "row", "year"], how="left")
    exited = pairs["present"].isna().to_numpy()
    keys = ["seed", "year"] + (["sector"] if "sector" in pairs else [])
    rank = pairs.groupby(keys)["revenue"].rank(pct=True).to_numpy()
    small, large = rank <= 0.25, rank > 0.75
    counts = (
        (int(exited[small].sum()), int(small.sum())),
        (int(exited[large].sum()), int(large.sum())),
    )
    return counts


def _exit_size_facts(panel: pd.DataFrame, out: dict) -> None:
    def ratio():
        (small_exits, small), (large_exits, large) = exit_rates_by_size(panel)
        if not small or not large or not large_exits:
            raise NotAvailable("no exit among the largest quarter")
        rate_small, rate_large = small_exits / small, large_exits / large
        detail = {"smallest_quarter": rate_small, "largest_quarter": rate_large}
        return {"value": rate_small / rate_large, "n": small_exits + large_exits, "detail": detail}

    out["exit.small_to_large"] = _try(ratio)


def _hnte_facts(panel: pd.DataFrame, certification, out: dict, used: dict) -> None:
    def distances():
        intensity, how = rd_intensity(panel)
        revenue = panel["booked_revenue"] if "booked_revenue" in panel else panel.get("revenue")
        if revenue is None:
            raise NotAvailable("missing column revenue")
        used["hnte_revenue_class"] = revenue.name
        years = panel["year"]
        simulated = years > years.min() if years.nunique() > 1 else years == years
        d = intensity - hnte_threshold(revenue.to_numpy(), certification)
        d = d[simulated & np.isfinite(d) & (intensity > 0)]
        return d.to_numpy()

    try:
        d = distances()
    except NotAvailable as why:
        for fact in FACTS:
            if fact.group == "hnte":
                out[fact.id] = {"note": str(why)}
        return
    edges, counts = threshold_histogram(d)
    bins = [round(100 * e, 2) for e in edges[:-1]]
    out["hnte.histogram_mass"] = {
        "value": float(counts.sum()),
        "n": int(counts.sum()),
        "detail": {"bin_from_pp": bins, "counts": counts.tolist()},
    }

    def ratio():
        value, above, below = bunching_ratio(d)
        result = {"value": value, "n": above + below, "detail": {"above": above, "below": below}}
        if below == 0:
            result["note"] = f"lower bound: no firm-year just below, {above} just above"
        return result

    out["hnte.bunching_ratio"] = _try(ratio)


def _new_firms(runs: list[RunData]) -> tuple[pd.DataFrame, np.ndarray | None]:
    """New firms followed ``SURVIVAL_MONTHS``, one row each, and their applicant scores.

    Columns: ``cohort`` (birth year index), ``survived``, ``incubated``, and where recorded
    ``lived`` (months from birth to exit, or past the last month) and ``age_in`` (age in months
    when first a tenant; -1 never). The scores (one row per firm, one column per age; ``None``
    unless every run recorded them) are ``RunData.applicant_scores``.
    """
    frames, score_rows = [], []
    for run in runs:
        _need_firms(run, "alive", "birth_month", "exit_month")
        if run.ever_incubated is None:
            raise NotAvailable("missing firm-table column incubator / incubated_until")
        birth = run.firms["birth_month"]
        eligible = (birth >= 0) & (birth + SURVIVAL_MONTHS <= run.last_month)
        if "attracted" in run.firms:
            eligible &= ~run.firms["attracted"]
        rows = np.flatnonzero(eligible)
        alive, exit_month = run.firms["alive"][rows], run.firms["exit_month"][rows]
        survived = alive | (exit_month > birth[rows] + SURVIVAL_MONTHS)
        incubated = np.zeros(len(birth), dtype=bool)
        incubated[: len(run.ever_incubated)] = run.ever_incubated[: len(birth)]
        frame = {"cohort": birth[rows] // 12, "survived": survived, "incubated": incubated[rows]}
        if run.applicant_scores is not None and run.admitted_month is not None:
            admitted = np.full(len(birth), -1, dtype=np.int64)
            admitted[: len(run.admitted_month)] = run.admitted_month[: len(birth)]
            scores = np.full((len(birth), run.applicant_scores.shape[1]), np.nan)
            scores[: len(run.applicant_scores)] = run.applicant_scores[: len(birth)]
            frame["lived"] = np.where(alive, run.last_month + 1, exit_month) - birth[rows]
            frame["age_in"] = np.where(admitted[rows] >= 0, admitted[rows] - birth[rows], -1)
            score_rows.append(scores[rows])
        frames.append(pd.DataFrame(frame))
    firms = pd.concat(frames, ignore_index=True)
    if len(firms) == 0:
        raise NotAvailable(f"no new firm observed for {SURVIVAL_MONTHS} months")
    if len(score_rows) < len(runs) or len({s.shape[1] for s in score_rows}) != 1:
        return firms, None
    return firms, np.concatenate(score_rows)


def _check_groups(firms: pd.DataFrame) -> None:
    if not firms["incubated"].any():
        raise NotAvailable(f"none of the {len(firms)} firms compared was incubated")
    if firms["incubated"].all():
        raise NotAvailable(f"all {len(firms)} firms compared were incubated: no comparison")


def _cohort_survival(firms: pd.DataFrame) -> dict:
    """Tenants against every other new firm of the same birth years.

    The others are weighted to the tenants' mix of birth years.
    """
    _check_groups(firms)
    by = firms.groupby(["cohort", "incubated"])["survived"].agg(["mean", "size"]).unstack()
    both = by.dropna()
    if len(both) == 0:
        raise NotAvailable("no birth cohort has both incubated and other new firms")
    weights = both[("size", True)] / both[("size", True)].sum()
    return {
        "incubated": float((weights * both[("mean", True)]).sum()),
        "others": float((weights * both[("mean", False)]).sum()),
        "n": int(both["size"].to_numpy().sum()),
    }


def _matched_survival(firms: pd.DataFrame, scores: np.ndarray | None) -> dict:
    """Tenants against similar non-tenants.

    A tenant admitted at age a is compared with the firms of its birth year that at age a were
    operating technology start-ups, not yet tenants, with an applicant score in the same band
    as its own then (risk-set matching on what incubators saw when they chose: a tenant's
    survival up to its admission is not counted as an effect, firms admitted later are
    controls until then, and firms whose prospects fell before admission are compared as they
    were). Controls are weighted to the tenants' mix over (birth year, age admitted, band).
    """
    if scores is None:
        raise NotAvailable("applicant scores by age not recorded")
    cohort, survived = firms["cohort"].to_numpy(), firms["survived"].to_numpy()
    age_in, incubated = firms["age_in"].to_numpy(), firms["incubated"].to_numpy()
    bands = np.floor(scores / SCORE_BAND)  # NaN: not an operating technology start-up then
    tenants = np.flatnonzero(incubated & (age_in >= 0) & (age_in < scores.shape[1]))
    if len(tenants) == 0:
        raise NotAvailable(f"none of the {len(firms)} new firms was incubated")
    band_in = bands[tenants, age_in[tenants]]
    keys = pd.DataFrame(
        {"cohort": cohort[tenants], "age": age_in[tenants], "band": band_in, "row": tenants}
    ).dropna()
    weight = survived_in = survived_out = 0.0
    used = np.zeros(len(firms), dtype=bool)
    for (c, age, b), group in keys.groupby(["cohort", "age", "band"]):
        not_yet = (age_in < 0) | (age_in > age)
        similar = (cohort == c) & not_yet & (bands[:, int(age)] == b)
        if not similar.any():
            continue
        weight += len(group)
        survived_in += float(survived[group["row"].to_numpy()].sum())
        survived_out += len(group) * float(survived[similar].mean())
        used |= similar
    if weight == 0:
        raise NotAvailable("no tenant has a similar non-tenant (birth year, age, score band)")
    return {
        "incubated": survived_in / weight,
        "others": survived_out / weight,
        "n_in": int(weight),
        "n_out": int(used.sum()),
    }


def _incubation_facts(runs: list[RunData], out: dict) -> None:
    try:
        firms, scores = _new_firms(runs)
    except NotAvailable as why:
        for fact in FACTS:
            if fact.group == "incubation":
                out[fact.id] = {"note": str(why)}
        return
    out["incubation.survival_all"] = {"value": float(firms["survived"].mean()), "n": len(firms)}
    try:
        naive = _cohort_survival(firms)
        out["incubation.survival_gap_naive"] = {
            "value": naive["incubated"] - naive["others"],
            "n": naive["n"],
            "detail": {"incubated": naive["incubated"], "others": naive["others"]},
        }
    except NotAvailable as why:
        out["incubation.survival_gap_naive"] = {"note": str(why)}
    try:
        matched = _matched_survival(firms, scores)
    except NotAvailable as why:
        for fact_id in ("survival_incubated", "survival_not_incubated", "survival_gap"):
            out[f"incubation.{fact_id}"] = {"note": str(why)}
        return
    out["incubation.survival_incubated"] = {
        "value": matched["incubated"],
        "n": matched["n_in"],
        "detail": {"score_band_points": SCORE_BAND},
    }
    out["incubation.survival_not_incubated"] = {
        "value": matched["others"],
        "n": matched["n_out"],
        "detail": {"weighting": "tenants' mix of birth year, age admitted and score band"},
    }
    p_in, p_out = matched["incubated"], matched["others"]
    out["incubation.survival_gap"] = {
        "value": p_in - p_out,
        "se": math.sqrt(
            p_in * (1 - p_in) / matched["n_in"] + p_out * (1 - p_out) / matched["n_out"]
        ),
        "n": matched["n_in"] + matched["n_out"],
    }


def _try(compute) -> dict:
    try:
        return compute()
    except NotAvailable as why:
        return {"note": str(why)}


def _maybe(compute) -> float | None:
    try:
        return compute()
    except NotAvailable:
        return None


def compute_facts(runs: list[RunData], certification) -> tuple[list[dict], dict]:
    """Every fact of ``FACTS`` from the pooled runs.

    Returns:
        (one dict per fact in table order: id, statistic, value, se, n, literature, source, lo,
        hi, within, note, detail; the columns and measures used).
    """
    panel = pd.concat([run.panel for run in runs], ignore_index=True)
    used: dict[str, str] = {}
    computed: dict[str, dict] = {}
    _size_facts(panel, computed)
    _growth_facts(panel, computed)
    _rd_facts(panel, computed, used)
    _exit_facts(runs, computed)
    _exit_size_facts(panel, computed)
    _hnte_facts(panel, certification, computed, used)
    _incubation_facts(runs, computed)
    facts = []
    for fact in FACTS:
        result = computed.get(fact.id, {"note": "not computed"})
        value = None if result.get("value") is None else float(result["value"])
        if value is not None and not math.isfinite(value):
            result = {"note": f"not finite ({value})"}
            value = None
        facts.append(
            {
                "id": fact.id,
                "group": fact.group,
                "statistic": fact.statistic,
                "value": value,
                "se": None if result.get("se") is None else float(result["se"]),
                "n": None if result.get("n") is None else int(result["n"]),
                "literature": fact.literature,
                "source": fact.source,
                "lo": fact.lo,
                "hi": fact.hi,
                "within": fact.within(value),
                "note": result.get("note"),
                "detail": result.get("detail"),
            }
        )
    return facts, used


# ------------------------------------------------------------------------------- output


def format_value(value: float | None, se: float | None = None) -> str:
    """Three significant digits; ``n/a`` for a missing value; ``± se`` if given."""
    if value is None:
        return "n/a"
    text = f"{value:.3g}" if abs(value) < 1e5 else f"{value:.3e}"
    return text if se is None else f"{text} ± {se:.2g}"


def _detail_line(fact: dict) -> str | None:
    detail = fact["detail"] or {}
    if fact["id"].endswith(".median"):
        keys = ("p10", "p25", "p75", "p90", "p99")
        return "  ".join(f"{k} {format_value(detail[k])}" for k in keys)
    if fact["id"] == "hnte.histogram_mass":
        return "counts by 0.25pp from -2pp: " + " ".join(map(str, detail["counts"]))
    return None


def format_table(result: dict) -> str:
    """The facts as a text table, sources as numbered notes."""
    sources: list[str] = []
    lines = [
        f"Stylised facts: {result['scenario']}, seeds {result['seeds']}, "
        f"{result['months']} months, firms each 31 December {result['years'][0]}-"
        f"{result['years'][1]}",
        "",
    ]
    head = f"{'statistic':<62} {'model':>14}  {'literature':<40} {'within':<6} src"
    lines += [head, "-" * len(head)]
    group = None
    for fact in result["facts"]:
        if fact["group"] != group:
            group = fact["group"]
            lines.append(f"[{group}]")
        note = ""
        if fact["source"] != "-":
            if fact["source"] not in sources:
                sources.append(fact["source"])
            note = f"[{sources.index(fact['source']) + 1}]"
        within = {True: "yes", False: "NO", None: "-"}[fact["within"]]
        value = format_value(fact["value"], fact["se"])
        lines.append(
            f"  {fact['statistic']:<60} {value:>14}  {fact['literature']:<40} {within:<6} {note}"
        )
        if fact["note"]:
            lines.append(f"      {'n/a: ' if fact['value'] is None else ''}{fact['note']}")
        if fact["value"] is not None and (extra := _detail_line(fact)) is not None:
            lines.append(f"      {extra}")
    lines += ["", "Sources:"]
    lines += [f"  [{i}] {source}" for i, source in enumerate(sources, 1)]
    lines += ["", "Measures: " + "; ".join(f"{k} = {v}" for k, v in result["measures"].items())]
    return "\n".join(lines)


def doc_table(facts: tuple[Fact, ...] = FACTS) -> str:
    """The declarative table as markdown (docs/stylised.md)."""
    rows = [
        "| id | statistic | literature | accepted range | source |",
        "|---|---|---|---|---|",
    ]
    for fact in facts:
        if fact.lo is None and fact.hi is None:
            accepted = "descriptive"
        else:
            lo = "" if fact.lo is None else f"{fact.lo:g}"
            hi = "" if fact.hi is None else f"{fact.hi:g}"
            accepted = f"≥ {lo}" if not hi else (f"≤ {hi}" if not lo else f"{lo} to {hi}")
        statistic = fact.statistic.replace("|", "\\|")
        rows.append(
            f"| `{fact.id}` | {statistic} | {fact.literature} | {accepted} | {fact.source} |"
        )
    return "\n".join(rows)


def run_facts(
    path: str, seeds: int = 3, months: int | None = None, progress=None, overrides=None
) -> dict:
    """Run the scenario at ``path`` (with ``overrides``) for ``seeds`` seeds; compute the facts.

    Returns:
        The JSON structure: scenario, scenario_file, seeds, months, years, measures, facts.
    """
    from sim.scenario import load_scenario

    overrides = dict(overrides or {})
    if months is not None:
        overrides["scenario.horizon_months"] = months
    setup = load_scenario(path, overrides=overrides)
    seed_list = [setup.scenario.seed + i for i in range(seeds)]
    runs = []
    for seed in seed_list:
        if progress is not None:
            progress(f"seed {seed}")
        runs.append(simulate(setup, seed))
    facts, used = compute_facts(runs, setup.certification)
    years = pd.concat([run.panel["year"] for run in runs])
    return {
        "scenario": setup.scenario.name,
        "scenario_file": str(path),
        "seeds": seed_list,
        "months": setup.scenario.horizon_months,
        "years": [int(years.min()), int(years.max())],
        "measures": used | {"size": "revenue, employees on the last 31 December"},
        "facts": facts,
    }


def _json_scalar(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.stylised``."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.stylised",
        description="Stylised facts of firm dynamics from runs of a scenario, beside the "
        "literature's values (all seeds pooled).",
    )
    parser.add_argument("scenario", nargs="?", help="scenario file (TOML)")
    parser.add_argument(
        "--seeds", type=positive_int, default=3, help="runs: the scenario's seed and on"
    )
    parser.add_argument("--months", type=months, default=None, help="months (default: horizon)")
    add_set_flag(
        parser, help="set a scenario value, checked like the file (repeatable), as in innosim run"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--doc-table", action="store_true", help="print the markdown table")
    args = parser.parse_args(argv)
    if args.doc_table:
        print(doc_table())
        return 0
    if args.scenario is None:
        parser.error("the scenario file is required")
    from sim.schema import InputError

    if not Path(args.scenario).is_file():
        parser.error(f"{args.scenario}: file not found")
    started = time.perf_counter()
    try:
        result = run_facts(args.scenario, args.seeds, args.months, overrides=dict(args.set))
    except InputError as err:
        print(f"python -m sim.stylised: error: {err}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(result, indent=1, default=_json_scalar))
    else:
        print(format_table(result))
        print(f"\n{len(result['seeds'])} runs in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
