"""The design of an experiment: every run as plain data.

Discrete levers (value lists) are crossed full-factorially. The sampler draws points in the unit
cube over the *sampled* factors (lever ranges, then uncertainties), mapped to values through each
factor's distribution. Each discrete combination is crossed with every sample point and every
seed:

    runs = discrete lever combinations x sample points x seeds

Named mixes (``[[mixes]]``) are crossed with the value lists like one more lever whose values
are the mixes; a mix that omits a key another mix sets runs with the base scenario's value.

A *policy mix* is one combination of lever values. With value-list levers only, the mixes are
the discrete combinations and every mix meets the same sample points and seeds, so mixes are
compared on identical worlds (common random numbers). With lever ranges, each sample point
carries its own lever values and is a mix of its own.

Run ids count from 0 in that order (combination slowest, seed fastest) and are stable: the
same experiment file always gives the same runs.
"""

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.batch.experiment import Experiment, sample_count
from sim.calendar import scheduled
from sim.schema import plain

DESIGN_COLUMNS = ["run_id", "policy_mix_id", "sample_id", "replicate", "seed"]


@dataclass(frozen=True)
class Design:
    """Runs of an experiment and the sample points behind them."""

    runs: pd.DataFrame  # DESIGN_COLUMNS + one column per factor (its dotted key)
    unit: pd.DataFrame  # sample_id + the sampled factors' unit-cube coordinates
    factor_keys: list[str]  # named mixes' keys, levers, then uncertainties

    def overrides(self, run_id: int, base: dict) -> dict:
        """Scenario overrides of one run: ``base`` then the run's factor values."""
        runs = self.runs
        return dict(base) | {key: plain(runs.at[run_id, key]) for key in self.factor_keys}

    def mixes(self) -> pd.DataFrame:
        """One row per policy mix: ``policy_mix_id`` and the lever values."""
        return self.runs.drop_duplicates("policy_mix_id")


def build_design(e: Experiment) -> Design:
    """All runs of ``e``; deterministic for a given experiment file."""
    if e.design_table is not None:
        return table_design(e)
    discrete = [f for f in e.levers if not f.sampled]
    sampled = list(e.sampled)
    mixes = e.mixes or (None,)
    defaults = {k: scenario_value(e.scenario, k) for k in e.mix_keys}
    combos = list(itertools.product(mixes, *(f.values for f in discrete)))
    unit = unit_sample(e)
    n_points = unit.shape[0]
    sampled_values = {f.key: f.from_unit(unit[:, j]) for j, f in enumerate(sampled)}
    if e.posterior is not None:  # the last coordinate picks a particle (stratified resampling)
        particles = e.posterior.draw(unit[:, len(sampled)])
        for j, key in enumerate(e.posterior.keys):
            sampled_values[key] = [float(e.posterior.values[i, j]) for i in particles]
    lever_ranges = any(f.role == "lever" for f in sampled)

    columns: dict[str, list] = {name: [] for name in DESIGN_COLUMNS}
    columns |= {"mix": []} if e.mixes else {}
    columns |= {k: [] for k in e.mix_keys}
    columns |= {f.key: [] for f in e.factors}
    run_id = 0
    for c, (named, *combo) in enumerate(combos):
        fixed = dict(zip((f.key for f in discrete), combo, strict=True))
        fixed |= defaults | (named.values if named else {})
        for p in range(n_points):
            mix = c * n_points + p if lever_ranges else c
            for r, seed in enumerate(e.seeds):
                for name, value in zip(DESIGN_COLUMNS, (run_id, mix, p, r, seed), strict=True):
                    columns[name].append(value)
                if named:
                    columns["mix"].append(named.name)
                for key in e.mix_keys:
                    columns[key].append(fixed[key])
                for f in e.factors:
                    columns[f.key].append(
                        fixed[f.key] if f.key in fixed else sampled_values[f.key][p]
                    )
                run_id += 1
    runs = pd.DataFrame(columns)
    runs[DESIGN_COLUMNS] = runs[DESIGN_COLUMNS].astype("int64")
    unit_frame = pd.DataFrame(unit, columns=[f.key for f in sampled] + posterior_column(e))
    unit_frame.insert(0, "sample_id", np.arange(n_points, dtype="int64"))
    keys = e.mix_keys + [f.key for f in e.factors]
    return Design(runs=runs, unit=unit_frame, factor_keys=keys)


def scenario_value(scenario, key: str):
    """The value at dotted ``key`` in a loaded scenario (what a mix that omits it runs with).

    A year of a lever's schedule (``policy.credit.loan_cap.2019``) has the value in force
    that year: setting it changes nothing.
    """
    node = scenario
    for part in key.split("."):
        name, _, index = part.partition("[")
        if isinstance(node, dict) and name.isdigit():
            node = scheduled(node, int(name))
            continue
        node = node[name] if isinstance(node, dict) else getattr(node, name)
        if index:
            node = node[int(index.rstrip("]"))]
    return node


def table_design(e: Experiment) -> Design:
    """The runs of a ``[design]`` table (sim.batch.table), rows in the table's order."""
    from sim.batch.table import table_runs

    levers = [f.key for f in e.levers]
    uncertainties = [f.key for f in e.uncertainties]
    in_order = e.sampler.method in ("sobol", "morris")
    runs, unit = table_runs(e.design_table, levers, uncertainties, e.seeds, in_order)
    return Design(runs=runs, unit=unit, factor_keys=levers + uncertainties)


def posterior_column(e: Experiment) -> list[str]:
    """``["posterior"]``, the unit-cube coordinate that draws a posterior particle, or none."""
    return ["posterior"] if e.posterior is not None else []


def unit_sample(e: Experiment) -> np.ndarray:
    """Points in the unit cube over the sampled factors (and a posterior's draw coordinate)."""
    d = len(e.sampled) + len(posterior_column(e))
    s = e.sampler
    if not d:
        return np.empty((1, 0))
    if s.method == "latin_hypercube":
        points = qmc.LatinHypercube(d=d, rng=np.random.default_rng(s.seed)).random(s.samples)
    elif s.method == "sobol":
        from SALib.sample import sobol

        points = sobol.sample(
            salib_problem(e), s.samples, calc_second_order=s.second_order, seed=s.seed
        )
    elif s.method == "morris":
        from SALib.sample import morris

        points = morris.sample(salib_problem(e), s.samples, num_levels=s.levels, seed=s.seed)
    else:  # pragma: no cover - full_factorial has no sampled factors (checked on load)
        raise AssertionError(s.method)
    assert points.shape == (sample_count(e), d)
    return np.asarray(points, dtype=float)


def salib_problem(e: Experiment) -> dict:
    """The SALib problem over the sampled factors, in unit-cube coordinates."""
    keys = [f.key for f in e.sampled]
    return {"num_vars": len(keys), "names": keys, "bounds": [[0.0, 1.0]] * len(keys)}
