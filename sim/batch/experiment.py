"""Experiment files: TOML validated into an ``Experiment``, with one-line errors.

An experiment is plain data: a base scenario, the *levers* (what policy controls: value lists,
or ranges a sampler draws from), the *uncertainties* (what it does not control: ranges with a
distribution), *replications* (seeds shared by every policy mix: common random numbers), a
*sampler* and which outputs to keep. Vocabulary follows the EMA Workbench.

Errors name the file, the field, the value and what is allowed, like scenario errors, and reuse
the same ``Loader``. A lever or uncertainty value is checked by loading the base scenario with
that one value set, so the scenario's own bounds apply; values that are only wrong together (a
policy mix the scenario rejects) surface at run time as a failed run with an error record.
"""

import copy
import dataclasses
import hashlib
import math
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.calendar import year_ends
from sim.calibration import Posterior
from sim.indicators import INDICATORS
from sim.scenario import Scenario, layered, scenario_from_dict, set_dotted
from sim.schema import (
    InputError,
    Loader,
    is_year_table,
    param,
    read_toml,
    show,
    whole_number,
)

SAMPLERS = ("full_factorial", "latin_hypercube", "sobol", "morris")
DISTRIBUTIONS = ("uniform", "normal", "triangular")
POSTERIOR = "posterior"  # the distribution of keys drawn from a calibration's posterior sample
MAX_RUNS = 1_000_000
MAX_VALUES = 1000
_SEGMENT = r"[A-Za-z0-9_]+(\[-?\d+\])?"
_DOTTED = re.compile(rf"^{_SEGMENT}(\.{_SEGMENT})+$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SPEC_KEYS = {"values", "range", "distribution", "mean", "sd", "mode"}


@dataclass(frozen=True, kw_only=True)
class ExperimentInfo:
    """What the experiment is and which scenario it varies."""

    name: str = param(unit="text", doc="experiment name; results go to results/<name> by default")
    description: str = param("", unit="text", doc="what the experiment asks")
    scenario: str = param(unit="path", doc="base scenario file, relative to the experiment file")


@dataclass(frozen=True, kw_only=True)
class SamplerSpec:
    """How sampled factors (lever ranges and uncertainties) are drawn."""

    method: str = param(
        "full_factorial", unit="choice", doc="full_factorial | latin_hypercube | sobol | morris"
    )
    samples: int = param(
        0,
        unit="points",
        lo=0,
        hi=MAX_RUNS,
        doc="latin_hypercube: points; sobol: base sample N (a power of 2, N*(D+2) points, "
        "N*(2D+2) with second_order); morris: trajectories (r*(D+1) points)",
    )
    seed: int = param(0, unit="-", lo=0, hi=2**32 - 1, doc="seed of the sampler")
    second_order: bool = param(False, unit="flag", doc="sobol: also second-order indices")
    levels: int = param(4, unit="levels", lo=2, hi=100, doc="morris: grid levels (even)")


@dataclass(frozen=True, kw_only=True)
class Outputs:
    """Which indicators and years the results keep (default: all)."""

    indicators: tuple[str, ...] = param((), unit="ids", doc="indicator ids to keep")
    years: tuple[int, ...] = param((), unit="years", doc="years (31 December) to keep")


@dataclass(frozen=True)
class Factor:
    """One lever or uncertainty: a dotted scenario key and the values it may take."""

    key: str
    role: str  # "lever" or "uncertainty"
    kind: type  # float, int, bool or str: the scenario parameter's type
    values: tuple | None = None  # a value list (levers only)
    low: float | None = None  # a range (sampled)
    high: float | None = None
    distribution: str = "uniform"
    mean: float | None = None
    sd: float | None = None
    mode: float | None = None

    @property
    def sampled(self) -> bool:
        """True for a range the sampler draws from; False for a value list."""
        return self.values is None

    def from_unit(self, u: np.ndarray) -> list:
        """Map points of the unit interval to values (inverse CDF of the distribution).

        Normal distributions are truncated at the range (no value falls outside it, and none
        piles up at a bound). Whole-number parameters take each whole value in the range with
        equal probability (uniform) or the nearest whole value (normal, triangular), rounded
        by ``sim.schema.whole_number``.
        """
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        low, high = float(self.low), float(self.high)
        if self.distribution == "normal":
            a, b = stats.norm.cdf([(low - self.mean) / self.sd, (high - self.mean) / self.sd])
            x = self.mean + self.sd * stats.norm.ppf(a + u * (b - a))
        elif self.distribution == "triangular":
            c = (self.mode - low) / (high - low)
            x = stats.triang.ppf(u, c, loc=low, scale=high - low)
        elif self.kind is int:
            x = np.floor(low + u * (high - low + 1))
        else:
            x = low + u * (high - low)
        x = np.clip(x, low, high)
        if self.kind is int:
            return [whole_number(v) for v in x]
        return [float(v) for v in x]


@dataclass(frozen=True)
class NamedMix:
    """A policy mix named in the experiment file (``[[mixes]]``): dotted keys and values."""

    name: str
    values: dict[str, Any]


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file."""

    path: Path
    source: str  # the file as the user named it, for messages
    text: str
    sha256: str
    info: ExperimentInfo
    sampler: SamplerSpec
    outputs: Outputs
    scenario_path: Path  # absolute
    scenario_sha256: str
    base: dict[str, Any]  # overrides applied to every run
    levers: tuple[Factor, ...]
    uncertainties: tuple[Factor, ...]
    seeds: tuple[int, ...]
    scenario: Scenario  # the base scenario with ``base`` applied
    mixes: tuple[NamedMix, ...] = ()  # named mixes, crossed with the lever value lists
    design_table: pd.DataFrame | None = dataclasses.field(default=None, compare=False)
    # ``[design]``: the runs as a table made elsewhere (sim.batch.table), values cast
    design_path: Path | None = None  # the file of ``[design]`` (absolute), or None
    posterior: Posterior | None = dataclasses.field(default=None, compare=False)
    # ``[uncertainties] from``: a calibration's posterior sample, resampled at each point
    posterior_path: Path | None = None  # its file (absolute)

    @property
    def mix_keys(self) -> list[str]:
        """Every key some named mix sets, in first-seen order."""
        keys: list[str] = []
        for mix in self.mixes:
            keys += [k for k in mix.values if k not in keys]
        return keys

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self.info.name

    @property
    def factors(self) -> tuple[Factor, ...]:
        """Levers, then uncertainties, in file order."""
        return self.levers + self.uncertainties

    @property
    def sampled(self) -> tuple[Factor, ...]:
        """The factors the sampler draws one by one (lever ranges, then uncertainties).

        Not the keys of a posterior sample (``[uncertainties] from``): they are drawn together,
        one particle a sample point, by one more coordinate of the unit cube.
        """
        return tuple(f for f in self.factors if f.sampled and f.distribution != POSTERIOR)

    def years(self) -> list[int]:
        """Years (31 December) a run of the base scenario reports."""
        info = self.scenario.scenario
        ends = year_ends(info.start_year, info.start_month, info.horizon_months)
        return [self.scenario.baseline_year, *ends]


class _Loader(Loader):
    """``Loader`` with choices and arrays of scalars."""

    CHOICES = {"method": SAMPLERS}

    def value(self, tp: Any, value: Any, path: str, meta: Any, schedules: bool = False) -> Any:
        """Check one value; adds arrays of strings or whole numbers and choice fields."""
        args = typing.get_args(tp)
        if typing.get_origin(tp) is tuple and len(args) == 2 and args[0] in (str, int):
            if not isinstance(value, list):
                kind = "strings" if args[0] is str else "whole numbers"
                self.fail(path, value, f"must be an array of {kind}")
            items = tuple(
                super(_Loader, self).value(args[0], v, f"{path}[{i}]", meta)
                for i, v in enumerate(value)
            )
            if len(set(items)) != len(items):
                self.fail(path, value, "must not repeat a value")
            return items
        checked = super().value(tp, value, path, meta, schedules)
        choices = self.CHOICES.get(path.rsplit(".", 1)[-1])
        if choices and checked not in choices:
            self.fail(path, value, f"must be one of {', '.join(choices)}")
        return checked


def load_experiment(
    path: str | Path,
    base_dir: str | Path | None = None,
    files: dict[Path, Path] | None = None,
) -> Experiment:
    """Read and validate an experiment file (raises ``InputError`` with a one-line message).

    ``base_dir`` is where the base scenario's relative path starts (default: the file's
    directory); a report reads the copy in a results directory against the original's.
    ``files`` maps the absolute paths the experiment names (its base scenario, its design
    table) to the files to read instead: the copies a batch keeps (``sim.batch.inputs``).
    """
    path = Path(path)
    source = str(path)
    data = read_toml(path, source)
    raw = path.read_bytes()
    loader = _Loader(source)
    allowed = (
        "experiment",
        "sampler",
        "replications",
        "outputs",
        "base",
        "levers",
        "uncertainties",
        "mixes",
        "design",
    )
    for key, value in data.items():
        if key not in allowed:
            loader.fail(key, value, f"unknown key; allowed keys: {', '.join(sorted(allowed))}")
    if "experiment" not in data:
        raise InputError(f"{source}: experiment: required table is missing")
    info = loader.build(ExperimentInfo, data["experiment"], "experiment")
    if not _NAME.match(info.name):
        loader.fail("experiment.name", info.name, "use letters, digits, '_', '-', '.' only")
    sampler = loader.build(SamplerSpec, data.get("sampler", {}), "sampler")
    outputs = loader.build(Outputs, data.get("outputs", {}), "outputs")

    files = files or {}
    scenario_path = (Path(base_dir or path.parent) / info.scenario).resolve()
    scenario_path = files.get(scenario_path, scenario_path)
    if not scenario_path.is_file():
        loader.fail("experiment.scenario", info.scenario, f"file not found ({scenario_path})")
    scenario_data = read_toml(scenario_path, str(scenario_path))
    base = _base_overrides(data.get("base", {}), loader)
    check = _ScenarioCheck(scenario_data, scenario_path, base, loader)
    scenario = check.base_scenario()

    table = design_path = posterior = posterior_path = None
    if "design" in data:
        levers, uncertainties, table, seeds, design_path = _design_table(
            data, Path(base_dir or path.parent), check, loader, files
        )
        seeds = seeds or _seeds(data.get("replications", {}), scenario.scenario.seed, loader)
    else:
        levers, uncertainties = _factors(data, check, loader)
        posterior_path, posterior, drawn = _posterior(
            data, Path(base_dir or path.parent), check, levers, loader, files
        )
        uncertainties += drawn
        seeds = _seeds(data.get("replications", {}), scenario.scenario.seed, loader)
    mixes = _named_mixes(
        data.get("mixes", []), check, {f.key for f in levers + uncertainties}, loader
    )

    experiment = Experiment(
        path=path.resolve(),
        source=source,
        text=raw.decode("utf-8"),
        sha256=hashlib.sha256(raw).hexdigest(),
        info=info,
        sampler=sampler,
        outputs=outputs,
        scenario_path=scenario_path,
        scenario_sha256=hashlib.sha256(scenario_path.read_bytes()).hexdigest(),
        base=base,
        levers=levers,
        uncertainties=uncertainties,
        seeds=seeds,
        scenario=scenario,
        mixes=mixes,
        design_table=table,
        design_path=design_path,
        posterior=posterior,
        posterior_path=posterior_path,
    )
    if table is None:
        _check_sampler(experiment, loader)
    else:
        _check_table_sampler(experiment, loader)
    _check_outputs(experiment, loader)
    return experiment


def _factors(data: dict, check: "_ScenarioCheck", loader: Loader) -> tuple[tuple, tuple]:
    """Levers and uncertainties of ``[levers]`` and ``[uncertainties]``."""
    levers = tuple(
        _lever(key, spec, check, loader)
        for key, spec in _flatten(data.get("levers", {}), "levers", loader).items()
    )
    table = data.get("uncertainties", {})
    if isinstance(table, dict):
        table = {k: v for k, v in table.items() if k != "from"}
    uncertainties = tuple(
        _uncertainty(key, spec, check, loader)
        for key, spec in _flatten(table, "uncertainties", loader).items()
    )
    lever_keys = {f.key for f in levers}
    for f in uncertainties:
        if f.key in lever_keys:
            loader.fail(f'uncertainties."{f.key}"', f.key, "is already a lever; use one or other")
    return levers, uncertainties


# ------------------------------------------------------------------------------- factors


class _ScenarioCheck:
    """Checks values against the base scenario by loading it with the value set."""

    def __init__(self, data: dict, path: Path, base: dict, loader: Loader):
        self.data = data
        self.path = path
        self.base = base
        self.loader = loader

    def base_scenario(self) -> Scenario:
        data = copy.deepcopy(self.data)
        for key, value in self.base.items():
            try:
                set_dotted(data, key, value)
            except InputError as err:
                self.loader.fail(f'base."{key}"', value, str(err))
        try:
            data = layered(self.data, self.base, self.path)
            return scenario_from_dict(data, str(self.path), self.path.parent)
        except InputError as err:
            raise InputError(
                f"{self.loader.source}: base: the base scenario does not validate: {err}"
            ) from None

    def check(self, where: str, key: str, value: Any) -> None:
        """Fail unless the base scenario validates with ``key = value``."""
        try:
            data = layered(self.data, self.base | {key: value}, self.path)
            scenario_from_dict(data, str(self.path), self.path.parent)
        except InputError as err:
            message = str(err).removeprefix(f"{self.path}: ")
            reason = message.removeprefix(f"{key} = {show(value)}: ")
            if reason.startswith("unknown key; "):
                reason = "not a scenario parameter; " + reason.removeprefix("unknown key; ")
            elif reason == message:
                reason = f"rejected by the base scenario: {message}"
            self.loader.fail(where, value, reason)


def _flatten(table: Any, path: str, loader: Loader) -> dict[str, Any]:
    """``{"a.b": spec}`` from quoted dotted keys or nested tables ``[levers.a] b = spec``."""
    if not isinstance(table, dict):
        loader.fail(path, table, "must be a table of dotted scenario keys")
    out = dotted_keys(table, is_leaf=lambda value: bool(_SPEC_KEYS & set(value)))
    for key, value in out.items():
        where = f'{path}."{key}"'
        if not _DOTTED.match(key):
            loader.fail(
                where, value, "must be a dotted scenario key such as policy.hitech_tax_rate"
            )
        if key.split(".")[0] == "scenario":
            loader.fail(
                where, value, "scenario.* keys may be set in [base] only (seeds: [replications])"
            )
    return out


def dotted_keys(table: dict, is_leaf=lambda value: False, prefix: str = "") -> dict[str, Any]:
    """``{"a.b": value}`` from nested tables; a table for which ``is_leaf`` holds is a value."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and not is_leaf(value):
            out |= dotted_keys(value, is_leaf, full)
        else:
            out[full] = value
    return out


def _base_overrides(table: Any, loader: Loader, schedules: bool = True) -> dict[str, Any]:
    """Dotted keys = values; with ``schedules`` a year table is one value (a lever's schedule)."""
    if not isinstance(table, dict):
        loader.fail("base", table, "must be a table of dotted scenario keys = values")
    flat = dotted_keys(table, is_leaf=is_year_table if schedules else lambda value: False)
    for key, value in flat.items():
        if not _DOTTED.match(key):
            loader.fail(f'base."{key}"', value, "must be a dotted scenario key")
        if key == "scenario.seed":
            loader.fail(f'base."{key}"', value, "seeds are set in [replications]")
    return flat


def _lever(key: str, spec: Any, check: _ScenarioCheck, loader: Loader) -> Factor:
    where = f'levers."{key}"'
    _not_in_base(key, where, spec, check, loader)
    kind = param_kind(key)
    if isinstance(spec, list):
        spec = {"values": spec}
    if not isinstance(spec, dict):
        loader.fail(
            where, spec, "must be a value list [a, b, ...] or a table {range = [low, high]}"
        )
    _only_keys(spec, {"values", "range"}, where, loader)
    if ("values" in spec) == ("range" in spec):
        loader.fail(where, spec, "give either values = [...] or range = [low, high]")
    if "values" in spec:
        values = spec["values"]
        if not isinstance(values, list) or not values:
            loader.fail(where, values, "must be a non-empty array of values")
        if len(values) > MAX_VALUES:
            loader.fail(where, f"{len(values)} values", f"at most {MAX_VALUES} values")
        cast = []
        for i, value in enumerate(values):
            if isinstance(value, (dict, list)):
                loader.fail(f"{where}[{i}]", value, "must be a number, true/false or a string")
            check.check(f"{where}[{i}]", key, value)
            cast.append(_cast(value, kind))
        if len(set(map(repr, cast))) != len(cast):
            loader.fail(where, values, "must not repeat a value (mixes would be duplicates)")
        return Factor(key, "lever", kind, values=tuple(cast))
    low, high = _range(spec["range"], f"{where}.range", kind, loader)
    check.check(f"{where}.range[0]", key, _cast(low, kind))
    check.check(f"{where}.range[1]", key, _cast(high, kind))
    return Factor(key, "lever", kind, low=low, high=high)


def _uncertainty(key: str, spec: Any, check: _ScenarioCheck, loader: Loader) -> Factor:
    where = f'uncertainties."{key}"'
    _not_in_base(key, where, spec, check, loader)
    kind = param_kind(key)
    if not isinstance(spec, dict):
        loader.fail(
            where,
            spec,
            'must be a table {range = [low, high], distribution = "uniform"} '
            "(normal: mean, sd; triangular: mode)",
        )
    _only_keys(spec, {"range", "distribution", "mean", "sd", "mode"}, where, loader)
    if "range" not in spec:
        loader.fail(where, spec, "range = [low, high] is required")
    low, high = _range(spec["range"], f"{where}.range", kind, loader)
    distribution = spec.get("distribution", "uniform")
    if distribution not in DISTRIBUTIONS:
        loader.fail(
            f"{where}.distribution", distribution, f"must be one of {', '.join(DISTRIBUTIONS)}"
        )
    allowed_extra = {"uniform": set(), "normal": {"mean", "sd"}, "triangular": {"mode"}}
    for extra in ("mean", "sd", "mode"):
        if extra in spec and extra not in allowed_extra[distribution]:
            loader.fail(
                f"{where}.{extra}", spec[extra], f"does not apply to a {distribution} distribution"
            )
    mean = sd = mode = None
    if distribution == "normal":
        if "sd" not in spec:
            loader.fail(where, spec, "a normal distribution needs sd (and mean, default: midpoint)")
        mean = _number(spec.get("mean", (low + high) / 2), f"{where}.mean", loader)
        sd = _number(spec["sd"], f"{where}.sd", loader)
        if not low <= mean <= high:
            loader.fail(f"{where}.mean", mean, f"must lie in the range [{low}, {high}]")
        if sd <= 0:
            loader.fail(f"{where}.sd", sd, "must be > 0")
    if distribution == "triangular":
        mode = _number(spec.get("mode", (low + high) / 2), f"{where}.mode", loader)
        if not low <= mode <= high:
            loader.fail(f"{where}.mode", mode, f"must lie in the range [{low}, {high}]")
    check.check(f"{where}.range[0]", key, _cast(low, kind))
    check.check(f"{where}.range[1]", key, _cast(high, kind))
    return Factor(
        key,
        "uncertainty",
        kind,
        low=low,
        high=high,
        distribution=distribution,
        mean=mean,
        sd=sd,
        mode=mode,
    )


def _posterior(
    data: dict, here: Path, check: _ScenarioCheck, levers: tuple, loader: Loader, files: dict
):
    """``[uncertainties] from``: (file, posterior sample, one factor per fitted key) or Nones.

    The file is a calibration (``innosim calibrate --out``), relative to the experiment file.
    Each fitted key becomes an uncertainty whose range is the sample's; its values are checked
    like a range's ends, against the base scenario.
    """
    from sim.calibration import read_calibration

    table = data.get("uncertainties")
    if not isinstance(table, dict) or "from" not in table:
        return None, None, ()
    name = table["from"]
    where = "uncertainties.from"
    if not isinstance(name, str) or not name:
        loader.fail(where, name, "must be the path of a calibration file (innosim calibrate --out)")
    path = (here / name).resolve()
    path = files.get(path, path)  # a batch's copy, when a report reads the batch
    calibration = read_calibration(path, f"{loader.source}: {where}")
    posterior = calibration.posterior
    if posterior is None:
        loader.fail(where, name, f"{path} holds no posterior sample (no [posterior] table)")
    taken = {f.key for f in levers} | set(check.base)
    taken |= set(_flatten({k: v for k, v in table.items() if k != "from"}, "uncertainties", loader))
    factors = []
    for j, key in enumerate(posterior.keys):
        if key in taken:
            loader.fail(f'uncertainties."{key}"', key, f"is drawn from {name}; set it in one place")
        if param_kind(key) is not float:
            loader.fail(where, name, f"{key} is not a number that varies continuously")
        column = posterior.values[:, j]
        low, high = float(column.min()), float(column.max())
        check.check(f'{where} "{key}"', key, low)
        check.check(f'{where} "{key}"', key, high)
        drawn = Factor(key, "uncertainty", float, low=low, high=high, distribution=POSTERIOR)
        factors.append(drawn)
    return path, posterior, tuple(factors)


def _named_mixes(items: Any, check: _ScenarioCheck, factors: set, loader: Loader) -> tuple:
    """``[[mixes]]``: each a ``name`` and dotted keys = values, checked like lever values."""
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        loader.fail("mixes", items, 'must be an array of tables: [[mixes]] name = "..." ...')
    mixes = []
    for n, item in enumerate(items):
        where = f"mixes[{n}]"
        name = item.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            loader.fail(f"{where}.name", name, "required: letters, digits, '_', '-', '.'")
        if name in [m.name for m in mixes]:
            loader.fail(f"{where}.name", name, "another mix has this name")
        # a year table sets those years of a schedule: every mix value is one number
        item_values = {k: v for k, v in item.items() if k != "name"}
        values = _base_overrides(item_values, loader, schedules=False)
        for key, value in values.items():
            if key in factors or key in check.base:
                loader.fail(f'{where}."{key}"', value, "is also a lever, uncertainty or in [base]")
            check.check(f'{where}."{key}"', key, value)
        mixes.append(NamedMix(name, {k: _cast(v, param_kind(k)) for k, v in values.items()}))
    return tuple(mixes)


def _not_in_base(key, where, spec, check, loader) -> None:
    if key in check.base:
        loader.fail(where, spec, "is also set in [base]; set it in one place")


def _only_keys(spec: dict, allowed: set[str], where: str, loader: Loader) -> None:
    for key, value in spec.items():
        if key not in allowed:
            loader.fail(
                f"{where}.{key}", value, f"unknown key; allowed keys: {', '.join(sorted(allowed))}"
            )


def _number(value: Any, where: str, loader: Loader) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        loader.fail(where, value, "must be a finite number")
    return float(value)


def _range(value: Any, where: str, kind: type, loader: Loader) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        loader.fail(where, value, "must be a range [low, high]")
    if kind not in (int, float):
        loader.fail(where, value, "ranges need a numeric scenario parameter; give a value list")
    low = _number(value[0], f"{where}[0]", loader)
    high = _number(value[1], f"{where}[1]", loader)
    if not low < high:
        loader.fail(where, value, "low must be below high")
    if kind is int and not (low.is_integer() and high.is_integer()):
        loader.fail(where, value, "this parameter is a whole number: give whole-number bounds")
    return low, high


def _cast(value: Any, kind: type) -> Any:
    """A value as the scenario parameter's type (so result columns have one dtype)."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def param_kind(key: str) -> type:
    """The Python type of the scenario parameter at dotted ``key`` (float if unknown)."""
    tp: Any = Scenario
    for part in key.split("."):
        name, _, index = part.partition("[")
        if dataclasses.is_dataclass(tp):
            hints = typing.get_type_hints(tp)
            if name not in hints:
                return float
            tp = hints[name]
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            return float
        if index:
            args = typing.get_args(tp)
            if typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis:
                tp = args[0]
            else:
                return float
    return tp if tp in (bool, int, float, str) else float


# --------------------------------------------------------------------------- design tables


def _design_table(
    data: dict, base_dir: Path, check: "_ScenarioCheck", loader: Loader, files: dict[Path, Path]
):
    """Levers, uncertainties, the cast table, its seeds (if it has a seed column), its path.

    The path is the one the experiment names (``files`` may give another file to read).
    """
    from sim.batch import table as tables

    spec = data["design"]
    if not isinstance(spec, dict):
        loader.fail("design", spec, 'must be a table {file = "design.csv", levers = [...]}')
    _only_keys(spec, tables.DESIGN_KEYS, "design", loader)
    for key in ("levers", "uncertainties"):
        if key in data:
            loader.fail(
                key,
                data[key],
                "a [design] table gives the runs; drop [levers] and "
                "[uncertainties] (name lever columns in design.levers)",
            )
    if not isinstance(spec.get("file"), str):
        loader.fail("design.file", spec.get("file"), "required: a .csv or .parquet file path")
    design_path = (base_dir / spec["file"]).resolve()
    raw = tables.read_table(files.get(design_path, design_path), loader.source)
    lever_keys = _string_list(spec.get("levers", []), "design.levers", loader)
    keys = [c for c in raw.columns if c not in (tables.SEED, tables.SAMPLE_ID)]
    for key in lever_keys:
        if key not in keys:
            loader.fail("design.levers", key, f"not a column of {spec['file']}")
    for key in keys:
        if not isinstance(key, str) or not _DOTTED.match(key) or key.startswith("scenario."):
            loader.fail(
                f'design.file "{spec["file"]}" column',
                key,
                "columns are dotted scenario keys (not scenario.*), seed or sample_id",
            )
        if key in check.base:
            loader.fail(f'design.file "{spec["file"]}" column', key, "is also set in [base]")
    if tables.SEED in raw and "replications" in data:
        loader.fail("replications", data["replications"], "the design table has a seed column")
    table = tables.cast_table(raw, {k: param_kind(k) for k in keys}, str(design_path))
    factors = []
    for key in keys:
        where = f'design."{spec["file"]}"["{key}"]'
        column = table[key]
        kind = param_kind(key)
        numeric = kind in (int, float)
        for value in (column.min(), column.max()) if numeric else column.unique():
            check.check(where, key, plain_value(value))
        role = "lever" if key in lever_keys else "uncertainty"
        if role == "lever" or not numeric:
            values = tuple(plain_value(v) for v in pd.unique(column))
            factors.append(Factor(key, role, kind, values=values))
        else:
            low, high = float(column.min()), float(column.max())
            factors.append(Factor(key, role, kind, low=low, high=high, distribution="table"))
    levers = tuple(f for f in factors if f.role == "lever")
    uncertainties = tuple(f for f in factors if f.role == "uncertainty")
    seeds = tuple(int(s) for s in pd.unique(table[tables.SEED])) if tables.SEED in table else ()
    return levers, uncertainties, table, seeds, design_path


def _string_list(value: Any, where: str, loader: Loader) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        loader.fail(where, value, "must be an array of dotted keys (column names)")
    return value


def plain_value(value: Any) -> Any:
    """A NumPy scalar as a Python value."""
    return value.item() if hasattr(value, "item") else value


def _check_table_sampler(e: "Experiment", loader: Loader) -> None:
    """``[sampler] method`` of a design table says how it was drawn; check its shape."""
    s = e.sampler
    if s.samples:
        loader.fail("sampler.samples", s.samples, "a [design] table gives its own rows")
    d = len(e.uncertainties)
    table = e.design_table
    n = table["sample_id"].nunique() if "sample_id" in table else len(table)
    per = {"sobol": 2 * d + 2 if s.second_order else d + 2, "morris": d + 1}.get(s.method)
    if per and (d == 0 or n % per):
        loader.fail(
            "sampler.method",
            s.method,
            f"the design has {n} sample points (rows) over {d} uncertainties; a "
            f"{s.method} design has a multiple of {per} (rows in SALib's order)",
        )


# ---------------------------------------------------------------------------- replications


def _seeds(table: Any, default_base: int, loader: Loader) -> tuple[int, ...]:
    if not isinstance(table, dict):
        loader.fail("replications", table, "must be a table")
    _only_keys(table, {"seeds", "base_seed"}, "replications", loader)
    seeds = table.get("seeds", 1)
    base_seed = table.get("base_seed", default_base)
    if isinstance(base_seed, bool) or not isinstance(base_seed, int) or base_seed < 0:
        loader.fail("replications.base_seed", base_seed, "must be a whole number >= 0")
    if isinstance(seeds, list):
        if "base_seed" in table:
            loader.fail(
                "replications.base_seed",
                base_seed,
                "applies to a seed count only; the seed list is used as written",
            )
        if not seeds:
            loader.fail("replications.seeds", seeds, "must not be empty")
        for i, s in enumerate(seeds):
            if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 2**63:
                loader.fail(f"replications.seeds[{i}]", s, "must be a whole number 0 to 2**63-1")
        if len(set(seeds)) != len(seeds):
            loader.fail("replications.seeds", seeds, "must not repeat a seed")
        return tuple(seeds)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= 100_000:
        loader.fail(
            "replications.seeds", seeds, "must be a count from 1 to 100000 or a list of seeds"
        )
    if base_seed + seeds > 2**63:
        loader.fail("replications.base_seed", base_seed, "base_seed + seeds must be < 2**63")
    return tuple(range(base_seed, base_seed + seeds))


# ------------------------------------------------------------------------ sampler, outputs


def _check_sampler(e: Experiment, loader: Loader) -> None:
    s = e.sampler
    sampled = e.sampled
    if e.posterior is not None and s.method != "latin_hypercube":
        loader.fail(
            "uncertainties.from",
            str(e.posterior_path),
            'draws particles of a posterior sample: set sampler.method = "latin_hypercube" '
            "and sampler.samples = the number of draws",
        )
    if s.method == "full_factorial":
        if sampled:
            f = sampled[0]
            where = f'{"levers" if f.role == "lever" else "uncertainties"}."{f.key}"'
            loader.fail(
                where,
                [f.low, f.high],
                "full_factorial takes value lists only; for ranges set sampler.method to "
                "latin_hypercube, sobol or morris",
            )
        if s.samples:
            loader.fail(
                "sampler.samples", s.samples, "applies to latin_hypercube, sobol and morris only"
            )
    else:
        if not sampled and e.posterior is None:
            loader.fail(
                "sampler.method",
                s.method,
                "has nothing to sample: add uncertainties or lever ranges, or use full_factorial",
            )
        if s.samples < 1:
            loader.fail("sampler.samples", s.samples, f"{s.method} needs samples >= 1")
        if s.method == "sobol" and (s.samples < 2 or s.samples & (s.samples - 1)):
            loader.fail("sampler.samples", s.samples, "sobol needs a power of 2 (e.g. 64, 256)")
        if s.method == "morris":
            if s.samples < 2:
                loader.fail("sampler.samples", s.samples, "morris needs >= 2 trajectories")
            if s.levels % 2:
                loader.fail("sampler.levels", s.levels, "morris needs an even number of levels")
    mixes = math.prod(len(f.values) for f in e.levers if not f.sampled)
    runs = mixes * sample_count(e) * len(e.seeds)
    if runs > MAX_RUNS:
        loader.fail("sampler", s.method, f"the design has {runs:,} runs; at most {MAX_RUNS:,}")


def sample_count(e: Experiment) -> int:
    """Points the sampler draws (1 when nothing is sampled)."""
    d = len(e.sampled) + (e.posterior is not None)
    s = e.sampler
    if s.method == "full_factorial" or not d:
        return 1
    if s.method == "latin_hypercube":
        return s.samples
    if s.method == "sobol":
        return s.samples * (2 * d + 2 if s.second_order else d + 2)
    return s.samples * (d + 1)  # morris


def _check_outputs(e: Experiment, loader: Loader) -> None:
    for i, name in enumerate(e.outputs.indicators):
        if name not in INDICATORS:
            loader.fail(
                f"outputs.indicators[{i}]",
                name,
                f"unknown indicator; allowed: {', '.join(INDICATORS)}",
            )
    years = e.years()
    for i, year in enumerate(e.outputs.years):
        if year not in years:
            loader.fail(
                f"outputs.years[{i}]",
                year,
                f"the base scenario reports years {years[0]} to {years[-1]}",
            )
