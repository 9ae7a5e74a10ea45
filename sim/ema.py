"""EMA Workbench adapter: an innosim scenario as an EMA ``Model`` or ``ReplicatorModel``.

    from ema_workbench import MultiprocessingEvaluator, perform_experiments
    from sim.ema import innosim_model

    model = innosim_model(
        "scenarios/liangping_2021_2025.toml",
        levers=["policy.vouchers.budget", "policy.credit.loan_cap"],
        uncertainties={"firms.rd_user_cost_elasticity": (0.2, 1.5)},
        outcomes=["hitech_firms", "rd_gdp_ratio"],
        seeds=range(1, 11),  # a ReplicatorModel: every experiment on the same ten seeds
    )
    with MultiprocessingEvaluator(model, n_processes=2) as evaluator:
        experiments, outcomes = perform_experiments(model, 50, 8, evaluator=evaluator)

Levers and uncertainties are dotted scenario keys, exactly as ``load_scenario`` and experiment
files take them, list items included (``population.sectors[0].births_per_year``). Their EMA
parameter is named by ``ema_name`` (a Python identifier, as EMA 3.0 requires of names:
``policy_vouchers_budget``) and carries the dotted key as its ``variable_name``, which is what
the model function receives. Bounds and types come from the parameter declarations
(``sim.schema.param``): whole-number parameters are ``IntegerParameter``, flags
``BooleanParameter``, others ``RealParameter``; a ``(low, high)`` pair narrows the range, a
list of values makes a ``CategoricalParameter``.

Outcomes are indicator ids (``sim.indicators``) in one explicit ``year`` (default: the plan's
target year; an error when the scenario does not simulate it), ``met_<id>`` for each plan
target when ``year`` is the target year or later, ``<id>_by_year`` time series on request, and
``error``: 1.0 for a run that failed (its other outcomes are NaN), else 0.0. With seeds as
replications, each outcome is the mean over the seeds (``error``: the share that failed).

The model function (``ScenarioFunction``) is a module-level class holding plain data only, so
the model pickles under the fork, spawn and forkserver start methods. It never raises out of a
run: a run that fails (a sampled point the scenario rejects, a bug) is logged on the
``innosim.ema`` logger and returns NaN outcomes, so one bad point neither aborts a design nor
kills a pool worker. Each run uses one Numba thread (the parallelism is across runs) and takes
the batch worker's lock, exactly as a run of ``innosim batch`` does: it is the same code.
"""

import contextlib
import dataclasses
import logging
import math
import os
import re
import sys
import typing
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.batch.experiment import param_kind
from sim.indicators import INDICATORS, PLAN_INDICATORS
from sim.scenario import Scenario, load_scenario
from sim.schema import InputError, plain, show, whole_number

ERROR = "error"  # outcome: 1.0 when the run failed
SERIES_SUFFIX = "_by_year"
_log = logging.getLogger("innosim.ema")

FactorSpec = Sequence[str] | Mapping[str, tuple[float, float] | Sequence[Any] | None]


def ema_name(key: str) -> str:
    """The EMA parameter name (a Python identifier) of a dotted scenario key.

    ``population.sectors[0].births_per_year`` -> ``population_sectors_0_births_per_year``.
    """
    return re.sub(r"[^0-9A-Za-z_]+", "_", key).strip("_")


@dataclasses.dataclass(frozen=True)
class ScenarioFunction:
    """``f(**{dotted key: value}, seed=...) -> {outcome: value}``: one run of a scenario.

    Plain data only, so it pickles under every start method. Values are taken as samplers
    give them: NumPy scalars, and floats for whole-number parameters rounded by
    ``sim.schema.whole_number`` (the batch samplers' rule).
    """

    scenario: str  # absolute path of the base scenario
    base: Mapping[str, Any]  # overrides applied before the sampled values
    seed: int  # used when the call gives no seed
    year: int
    outcomes: tuple[str, ...]
    series: tuple[str, ...]
    series_years: tuple[int, ...]  # the base scenario's years: the length of every series
    targets: Mapping[str, float]  # plan targets scored in ``year`` (empty before it)
    threads: int = 1

    def __call__(self, **parameters: Any) -> dict[str, Any]:
        """Run with ``parameters`` (dotted keys); never raises for a failing run."""
        seed = int(plain(parameters.pop("seed", self.seed)))
        overrides = dict(self.base) | {k: sampled_value(k, v) for k, v in parameters.items()}
        result = run_once(self.scenario, overrides, seed, self.threads)
        if result["status"] != "ok":
            _log.warning("run failed (seed %s, %s): %s", seed, overrides, result["error"])
            return self.failed()
        frame = result["frame"].set_index("year")
        if self.year not in frame.index:
            years = f"{frame.index.min()} to {frame.index.max()}"
            _log.warning("run ends before %s (simulated %s): %s", self.year, years, overrides)
            return self.failed()
        return self.read(frame)

    def read(self, frame: pd.DataFrame) -> dict[str, Any]:
        """Outcomes of a finished run from its yearly indicators (indexed by year)."""
        row = frame.loc[self.year]
        out: dict[str, Any] = {name: _number(row[name]) for name in self.outcomes}
        for name, target in self.targets.items():
            out[f"met_{name}"] = float(out[name] >= target) if not math.isnan(out[name]) else 0.0
        for name in self.series:
            values = frame[name].reindex(list(self.series_years))
            out[name + SERIES_SUFFIX] = np.array([_number(v) for v in values], dtype=float)
        out[ERROR] = 0.0
        return out

    def failed(self) -> dict[str, Any]:
        """Outcomes of a failed run: NaN, and ``error`` = 1."""
        out: dict[str, Any] = {name: math.nan for name in self.outcomes}
        out |= {f"met_{name}": math.nan for name in self.targets}
        out |= {
            name + SERIES_SUFFIX: np.full(len(self.series_years), np.nan) for name in self.series
        }
        out[ERROR] = 1.0
        return out


def run_once(scenario: str, overrides: dict, seed: int, threads: int = 1) -> dict:
    """One run through the batch worker's unit of work (same code, same lock, same numbers)."""
    with numba_threads(threads):
        from sim.batch.worker import execute

        task = {"run_id": 0, "scenario": scenario, "overrides": overrides, "seed": seed}
        return execute(task | {"indicators": None, "years": None})


@contextlib.contextmanager
def numba_threads(threads: int):
    """Runs inside use at most ``threads`` Numba threads; the caller's setting comes back after.

    In a fresh worker process (spawn, forkserver) Numba is not imported yet, so the
    environment sizes its pool (a ``NUMBA_NUM_THREADS`` the user set wins). Where Numba is
    already loaded (a forked worker, the SequentialEvaluator's own process) the environment is
    left alone, since Numba rereads it and would refuse a later change, and
    ``numba.set_num_threads`` caps the run instead. Results do not depend on the thread count.
    """
    if "numba" not in sys.modules:
        os.environ.setdefault("NUMBA_NUM_THREADS", str(threads))
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def sampled_value(key: str, value: Any) -> Any:
    """A sampler's value as the scenario takes it (whole-number parameters rounded)."""
    value = plain(value)
    if param_kind(key) is int and isinstance(value, float) and math.isfinite(value):
        return whole_number(value)
    return value


def replication_mean(values: Sequence[Any]) -> Any:
    """Mean over the replications (seeds) of a scalar or a time series; NaN if one failed."""
    return np.mean(np.asarray(values, dtype=float), axis=0)


# ------------------------------------------------------------------------------ the model


def innosim_model(
    scenario: str | Path,
    *,
    levers: FactorSpec = (),
    uncertainties: FactorSpec = (),
    outcomes: Sequence[str] | None = None,
    year: int | None = None,
    series: Sequence[str] = (),
    seeds: int | Iterable[int] | None = None,
    base: Mapping[str, Any] | None = None,
    name: str | None = None,
    threads: int = 1,
):
    """An EMA ``Model`` (one seed) or ``ReplicatorModel`` (several) of ``scenario``.

    Args:
        scenario: the base scenario file.
        levers: dotted keys the policy controls: a list (declared bounds) or a dict of
            key -> ``(low, high)``, a list of values (categorical) or None (declared bounds).
        uncertainties: dotted keys nobody controls; same forms as ``levers``.
        outcomes: indicator ids in ``year`` (default: the plan indicators).
        year: the year (31 December) outcomes describe (default: the plan's target year).
        series: indicator ids also returned year by year, as ``<id>_by_year`` (one value per
            year the base scenario reports; NaN for years a run does not reach).
        seeds: one seed (a ``Model``), several (a ``ReplicatorModel`` whose outcomes are means
            over the seeds: common random numbers across experiments), or None: the scenario's.
        base: overrides applied to every run (e.g. ``{"scenario.horizon_months": 24}``).
        name: the EMA model name (default: the scenario's, as an identifier).
        threads: Numba threads per run (default 1: parallel across runs, not inside one).

    Raises:
        InputError: one line naming the argument, the key, the value and what is allowed.
    """
    from ema_workbench import Constant, Model, ReplicatorModel, ScalarOutcome, TimeSeriesOutcome

    path = Path(scenario).resolve()
    base = dict(base or {})
    setup = load_scenario(path, base)
    years = simulated_years(setup)
    year = setup.targets.target_year if year is None else int(year)
    if year not in years:
        raise InputError(
            f"sim.ema: year = {year}: {path.name} simulates {years[0]} to {years[-1]} "
            f"(31 December); pass one of those, or a longer scenario.horizon_months in base"
        )
    outcomes = tuple(PLAN_INDICATORS if outcomes is None else outcomes)
    for where, ids in (("outcomes", outcomes), ("series", tuple(series))):
        for i in ids:
            if i not in INDICATORS:
                raise InputError(
                    f"sim.ema: {where} = {show(i)}: unknown indicator; allowed: "
                    + ", ".join(INDICATORS)
                )
    plan = setup.plan
    targets = {}
    if year >= plan.target_year:
        targets = {r.id: r.target for r in plan.rows if r.id in outcomes}
    seed_list = _seeds(seeds, setup.scenario.seed)
    function = ScenarioFunction(
        scenario=str(path),
        base=base,
        seed=seed_list[0],
        year=year,
        outcomes=outcomes,
        series=tuple(series),
        series_years=tuple(years),
        targets=targets,
        threads=int(threads),
    )
    model_name = name or ema_name(setup.scenario.name) or "innosim"
    replicated = len(seed_list) > 1 or isinstance(seeds, Iterable)
    if replicated:
        model = ReplicatorModel(model_name, function=function)
        model.replications = [{"seed": s} for s in seed_list]
    else:
        model = Model(model_name, function=function)
        model.constants = [Constant("seed", seed_list[0])]
    model.levers = _parameters(levers, "levers", path, base)
    model.uncertainties = _parameters(uncertainties, "uncertainties", path, base)
    reduce = {"function": replication_mean} if replicated else {}
    scalars = [*outcomes, *(f"met_{t}" for t in targets), ERROR]
    model.outcomes = [ScalarOutcome(o, **reduce) for o in scalars] + [
        TimeSeriesOutcome(s + SERIES_SUFFIX, **reduce) for s in series
    ]
    return model


def simulated_years(scenario: Scenario) -> list[int]:
    """Years whose 31 December a run of ``scenario`` reports (year 0 first)."""
    info = scenario.scenario
    years = [scenario.baseline_year]
    for t in range(info.horizon_months):
        months = info.start_month - 1 + t
        if months % 12 == 11:
            years.append(info.start_year + months // 12)
    return years


def to_design(experiments: pd.DataFrame, model) -> pd.DataFrame:
    """An EMA experiments table as a design table for ``innosim batch`` (``[design]``).

    Columns become dotted keys; EMA's ``scenario`` column becomes ``sample_id`` (so policy
    mixes are compared on the same scenarios), its ``policy`` and ``model`` columns go. Seeds
    are the experiment file's ``[replications]``.
    """
    keys = {p.name: p.variable_name[0] for p in [*model.uncertainties, *model.levers]}
    design = experiments[[*keys]].rename(columns=keys).reset_index(drop=True)
    for column in design.columns:
        if isinstance(design[column].dtype, pd.CategoricalDtype):
            design[column] = design[column].astype(object)
    scenario = pd.to_numeric(experiments["scenario"].astype(object), errors="coerce")
    if scenario.notna().all():
        design.insert(0, "sample_id", scenario.astype("int64").to_numpy())
    return design


def _seeds(seeds: int | Iterable[int] | None, default: int) -> list[int]:
    if seeds is None:
        return [default]
    values = [seeds] if isinstance(seeds, (int, np.integer)) else list(seeds)
    for s in values:
        s = plain(s)
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 2**63:
            raise InputError(f"sim.ema: seeds = {show(s)}: must be whole numbers 0 to 2**63-1")
    if not values or len(set(values)) != len(values):
        raise InputError(f"sim.ema: seeds = {show(values)}: must be distinct, at least one")
    return [int(plain(s)) for s in values]


def _parameters(spec: FactorSpec, where: str, path: Path, base: dict) -> list:
    """EMA parameters for the dotted keys of ``spec``, bounds checked against the scenario."""
    items = spec.items() if isinstance(spec, Mapping) else ((key, None) for key in spec)
    return [_parameter(key, given, f"{where}[{show(key)}]", path, base) for key, given in items]


def _parameter(key: str, given: Any, where: str, path: Path, base: dict):
    from ema_workbench import (
        BooleanParameter,
        CategoricalParameter,
        IntegerParameter,
        RealParameter,
    )

    kind, lo, hi = declaration(key, where)
    name = ema_name(key)
    if isinstance(given, list):
        for value in given:
            _check(path, base, key, value, where)
        return CategoricalParameter(name, given, variable_name=key)
    if kind is bool:
        return BooleanParameter(name, variable_name=key)
    if kind is str:
        raise InputError(f"sim.ema: {where}: a text parameter; give a list of values")
    low, high = (lo, hi) if given is None else given
    if low is None or high is None:
        raise InputError(
            f"sim.ema: {where}: declared allowed range is {_allowed(lo, hi)}; give "
            f"{{{show(key)}: (low, high)}}"
        )
    if not low < high:
        raise InputError(f"sim.ema: {where} = {show([low, high])}: low must be below high")
    _check(path, base, key, low, where)
    _check(path, base, key, high, where)
    if kind is int:
        return IntegerParameter(name, whole_number(low), whole_number(high), variable_name=key)
    return RealParameter(name, float(low), float(high), variable_name=key)


def declaration(key: str, where: str) -> tuple[type, float | None, float | None]:
    """Type and declared bounds (``sim.schema.param``) of the scenario parameter ``key``."""
    tp: Any = Scenario
    meta: Mapping = {}
    for part in key.split("."):
        field, _, index = part.partition("[")
        if dataclasses.is_dataclass(tp):
            fields = {f.name: f for f in dataclasses.fields(tp) if f.init}
            if field not in fields:
                raise InputError(
                    f"sim.ema: {where}: not a scenario parameter; allowed keys here: "
                    + ", ".join(sorted(fields))
                )
            meta = fields[field].metadata
            tp = typing.get_type_hints(tp)[field]
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            raise InputError(f"sim.ema: {where}: not a scenario parameter")
        if index:
            args = typing.get_args(tp)
            if typing.get_origin(tp) is not tuple or len(args) != 2 or args[1] is not Ellipsis:
                raise InputError(f"sim.ema: {where}: {field} is not a list")
            tp = args[0]
    if tp not in (bool, int, float, str):
        raise InputError(f"sim.ema: {where}: a table, not a single parameter")
    return tp, meta.get("lo"), meta.get("hi")


def _check(path: Path, base: dict, key: str, value: Any, where: str) -> None:
    """Fail unless the base scenario validates with ``key = value``."""
    try:
        load_scenario(path, base | {key: value})
    except InputError as err:
        reason = str(err).removeprefix(f"{path}: ")
        raise InputError(f"sim.ema: {where}: {reason}") from None


def _allowed(lo: float | None, hi: float | None) -> str:
    if lo is None and hi is None:
        return "unbounded"
    if hi is None:
        return f">= {lo}"
    if lo is None:
        return f"<= {hi}"
    return f"{lo} to {hi}"


def _number(value: Any) -> float:
    if value is None or value is pd.NA:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
