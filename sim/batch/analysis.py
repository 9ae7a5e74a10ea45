"""Analyses behind the report: PRIM scenario discovery and Sobol / Morris indices.

PRIM (Friedman & Fisher 1999, as used for scenario discovery by Bryant & Lempert 2010 and the
EMA Workbench) peels a box in the space of levers and uncertainties that holds as many runs of
interest (here: runs that miss a target) and as few others as possible. Coverage = share of all
failing runs inside the box; density = share of runs inside the box that fail; mass = share
of all runs inside the box.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

PEEL_ALPHA = 0.05  # share of the box's runs removed per peeling step
MIN_MASS = 0.05  # stop peeling when the box holds less than this share of runs
MIN_COVERAGE = 0.5  # the reported box keeps at least half of the failing runs
PRUNE_TOLERANCE = 0.01  # drop a restriction if the box's density falls by less than this
# What a discovery table says when there is no box to give (the report translates them).
NO_FACTOR = "n/a: no lever or uncertainty varies"
ALL_MET = "target met in every run"
ALL_MISSED = "target missed in every run"
NO_RESTRICTION = "(no restriction)"


@dataclass(frozen=True)
class PrimBox:
    """A box of factor limits and how well it isolates the runs of interest."""

    limits: dict[str, tuple[float, float]]  # restricted factors only: (low, high) kept
    coverage: float
    density: float
    mass: float
    base_rate: float
    runs: int

    def describe(self) -> str:
        """``a in [0.2, 0.5] and b in [1, 3]``."""
        if not self.limits:
            return NO_RESTRICTION
        return " and ".join(
            f"{k} in [{_fmt(lo)}, {_fmt(hi)}]" for k, (lo, hi) in self.limits.items()
        )


def prim(
    x: pd.DataFrame,
    y: np.ndarray,
    *,
    alpha: float = PEEL_ALPHA,
    min_mass: float = MIN_MASS,
    min_coverage: float = MIN_COVERAGE,
    tolerance: float = PRUNE_TOLERANCE,
) -> PrimBox | None:
    """The densest box on the peeling trajectory with coverage >= ``min_coverage``.

    ``x`` holds numeric factor columns, ``y`` is True for runs of interest. Restrictions that
    barely matter are then dropped one at a time (the one costing least density first) while
    the density falls by less than ``tolerance``, so the box names only the factors that
    count. Returns None when no box is denser than the whole space.
    """
    y = np.asarray(y, dtype=bool)
    values = x.to_numpy(dtype=float)
    n, total = len(y), int(y.sum())
    if n == 0 or total == 0 or total == n:
        return None
    inside = np.ones(n, dtype=bool)
    trajectory = [inside.copy()]
    while inside.sum() / n >= min_mass:
        best, best_density = None, -1.0
        for j in range(values.shape[1]):
            column = values[inside, j]
            distinct = np.unique(column)
            if len(distinct) < 2:
                continue
            for side in ("low", "high"):
                keep = _peel(values[:, j], inside, column, distinct, side, alpha)
                if keep.sum() == 0 or keep.sum() == inside.sum():
                    continue
                density = y[keep].mean()
                if density > best_density or (density == best_density and keep.sum() > best.sum()):
                    best, best_density = keep, density
        if best is None or best.sum() / n < min_mass:
            break
        inside = best
        trajectory.append(inside.copy())
    base_rate = total / n
    chosen, chosen_density = None, base_rate
    for box in trajectory:
        coverage = y[box].sum() / total
        density = y[box].mean()
        if coverage >= min_coverage and density > chosen_density + 1e-12:
            chosen, chosen_density = box, density
    if chosen is None:
        return None
    bounds = {}
    for j in range(values.shape[1]):
        low, high = values[chosen, j].min(), values[chosen, j].max()
        if low > values[:, j].min() or high < values[:, j].max():
            bounds[j] = (low, high)
    bounds = _prune(values, y, bounds, tolerance)
    chosen = _inside(values, bounds)
    limits = {x.columns[j]: (float(lo), float(hi)) for j, (lo, hi) in sorted(bounds.items())}
    return PrimBox(
        limits=limits,
        coverage=float(y[chosen].sum() / total),
        density=float(y[chosen].mean()),
        mass=float(chosen.sum() / n),
        base_rate=float(base_rate),
        runs=int(chosen.sum()),
    )


def _inside(values: np.ndarray, bounds: dict[int, tuple[float, float]]) -> np.ndarray:
    keep = np.ones(values.shape[0], dtype=bool)
    for j, (low, high) in bounds.items():
        keep &= (values[:, j] >= low) & (values[:, j] <= high)
    return keep


def _prune(values, y, bounds: dict, tolerance: float) -> dict:
    """Drop restrictions whose removal lowers the box's density by less than ``tolerance``."""
    bounds = dict(bounds)
    density = y[_inside(values, bounds)].mean()
    while len(bounds) > 1:
        trials = {
            j: y[_inside(values, {k: b for k, b in bounds.items() if k != j})].mean()
            for j in bounds
        }
        j, best = max(trials.items(), key=lambda item: item[1])
        if density - best >= tolerance:
            break
        del bounds[j]
        density = best
    return bounds


def _peel(full, inside, column, distinct, side, alpha) -> np.ndarray:
    """The box after peeling ``alpha`` of its runs off one side of one factor."""
    if side == "low":
        bound = np.quantile(column, alpha)
        if bound <= distinct[0]:
            bound = distinct[1]  # a whole lowest value (discrete factors)
        return inside & (full >= bound)
    bound = np.quantile(column, 1 - alpha)
    if bound >= distinct[-1]:
        bound = distinct[-2]
    return inside & (full <= bound)


def sobol_indices(names: list[str], y: np.ndarray, second_order: bool) -> pd.DataFrame:
    """First-order and total Sobol indices (SALib, Saltelli/Jansen estimators)."""
    from SALib.analyze import sobol

    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    with np.errstate(all="ignore"):
        result = sobol.analyze(problem, y, calc_second_order=second_order, seed=0)
    return pd.DataFrame(
        {
            "factor": names,
            "S1": result["S1"],
            "S1_conf": result["S1_conf"],
            "ST": result["ST"],
            "ST_conf": result["ST_conf"],
        }
    )


def morris_indices(names: list[str], x: np.ndarray, y: np.ndarray, levels: int) -> pd.DataFrame:
    """Morris elementary effects (SALib): mu* (importance) and sigma (interactions).

    Factors are in unit-cube coordinates, so mu* is the change of the output over a factor's
    whole range (in the output's unit), comparable across factors.
    """
    from SALib.analyze import morris

    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    with np.errstate(all="ignore"):
        result = morris.analyze(problem, x, y, num_levels=levels, seed=0)
    return pd.DataFrame(
        {
            "factor": names,
            "mu_star": np.asarray(result["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(result["mu_star_conf"], dtype=float),
            "sigma": np.asarray(result["sigma"], dtype=float),
        }
    )


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def boxes_where_targets_fail(final, factors, targets, find_box, nothing_found):
    """One row per target: the box of factor values where it fails, by ``find_box``.

    ``final`` has one row per run; ``targets`` are ``(id, target)`` pairs; ``find_box(x,
    fails)`` returns a dict (``box``, coverage, density, mass) or None (``nothing_found``).
    The cases with nothing to discover are named the same way for every method.
    """
    rows = []
    for indicator, target in targets:
        values = final[[*factors, indicator]].dropna()
        fails = (values[indicator] < target).to_numpy()
        row = {"indicator": indicator, "target": target, "runs": len(values)}
        row["fail_rate"] = float(fails.mean()) if len(values) else float("nan")
        if not factors:
            row["box"] = NO_FACTOR
        elif not fails.any():
            row["box"] = ALL_MET
        elif fails.all():
            row["box"] = ALL_MISSED
        else:
            row |= find_box(values[factors].astype(float), fails) or {"box": nothing_found}
        rows.append(row)
    return rows
