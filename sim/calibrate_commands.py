"""``innosim calibrate``: fit uncertain parameters to observed history (``sim.calibrate``).

Imported by ``sim.cli`` at start-up, so nothing heavy (pyabc, the model) is imported at module
level. Every flag and file is checked here, before any run, with one-line errors (exit 2).
"""

import argparse
import math
import shlex
import sys
from pathlib import Path
from typing import NamedTuple

from sim.calibration import SUFFIXES
from sim.effects_commands import _n
from sim.flags import add_set_flag, non_negative_int, positive_int, setting
from sim.schema import InputError, show

METHODS = ("abc-smc",)
ENGINES = ("local", "dask")
DEFAULT_BUDGET = 2000
DEFAULT_SEEDS = 1
MIN_POPULATION = 5


class ParamFlag(NamedTuple):
    """``--param KEY=LO:HI`` (or ``KEY`` alone: its declared range), with the text given."""

    key: str
    low: float | None
    high: float | None
    text: str


class SetFlag(NamedTuple):
    """``--set KEY=VALUE``, with the text given (for the resume command)."""

    key: str
    value: object
    text: str


def param_flag(text: str) -> ParamFlag:
    """``KEY=LO:HI`` with numbers LO < HI, or ``KEY`` for a parameter with a declared range."""
    key, sep, span = text.partition("=")
    key = key.strip()
    example = "e.g. firms.competition_chi=0.2:0.6"
    if not key or " " in key:
        raise argparse.ArgumentTypeError(f"{text!r}: must be KEY=LO:HI or KEY, {example}")
    if not sep:
        return ParamFlag(key, None, None, text)
    low, colon, high = span.partition(":")
    try:
        lo, hi = float(low), float(high)
    except ValueError:
        lo = hi = math.nan
    if not colon or not (math.isfinite(lo) and math.isfinite(hi)):
        raise argparse.ArgumentTypeError(f"{text!r}: the range must be LO:HI, numbers, {example}")
    if not lo < hi:
        raise argparse.ArgumentTypeError(f"{text!r}: LO must be below HI")
    return ParamFlag(key, lo, hi, text)


def set_flag(text: str) -> SetFlag:
    """``--set KEY=VALUE``, read like ``innosim run --set``."""
    key, value = setting(text)
    return SetFlag(key, value, text)


def add_calibrate_command(sub) -> None:
    """``innosim calibrate``."""
    calibrate = sub.add_parser(
        "calibrate",
        help="fit uncertain parameters to observed history (ABC-SMC)",
        description=(
            "Fit the uncertain parameters of SCENARIO to OBSERVED (a CSV with columns id, "
            "year, value, as innosim validate reads it) by ABC-SMC (pyabc): the parameters "
            "declared with a calibration range (docs/model.md, the parameter table) and any "
            "--param, each with a uniform prior over its range. The distance is the mean "
            "squared relative error of the runs' median over the rows not held out. Writes "
            "FILE (TOML or JSON, by its suffix): the fitted values (posterior medians), the "
            "posterior sample, the distance reached, a check on the fitted and held-out rows, "
            "and the provenance. FILE.abc.db and FILE.abc.json keep the state: Ctrl-C stops "
            "and prints the command that resumes. A progress bar shows on a terminal only."
        ),
        epilog=(
            "Example: innosim calibrate scenarios/liangping_2021_2025.toml observed.csv --out "
            "fit.toml --budget 10000 --hold-out 2024. A scenario uses the fit with "
            '[calibration] file = "fit.toml"; an experiment draws from it with '
            '[uncertainties] from = "fit.toml". docs/calibration.md explains every number.'
        ),
    )
    calibrate.add_argument("scenario", type=Path, help="scenario TOML file")
    calibrate.add_argument("observed", type=Path, help="observed CSV: id, year, value")
    calibrate.add_argument(
        "--out", type=Path, required=True, help="calibration file to write (.toml or .json)"
    )
    calibrate.add_argument(
        "--param",
        type=param_flag,
        action="append",
        default=[],
        metavar="KEY[=LO:HI]",
        help="fit this parameter over LO to HI (repeatable); a declared parameter without a "
        "range keeps its declared one",
    )
    calibrate.add_argument(
        "--only",
        action="store_true",
        help="fit only the --param parameters (default: the declared ones and the --param ones)",
    )
    add_set_flag(
        calibrate,
        help="fix a scenario value in every run (repeatable); a declared parameter set here is "
        "not fitted",
        type=set_flag,
    )
    calibrate.add_argument(
        "--budget",
        type=positive_int,
        default=DEFAULT_BUDGET,
        help=f"runs the fit may make, seeds included (default {DEFAULT_BUDGET}); the final "
        "check adds 40",
    )
    calibrate.add_argument(
        "--seeds",
        type=positive_int,
        default=DEFAULT_SEEDS,
        help=f"seeds an evaluation runs, its median is compared (default {DEFAULT_SEEDS})",
    )
    calibrate.add_argument(
        "--population",
        type=positive_int,
        help="particles a generation (default: budget / seeds / 50, from 20 to 200)",
    )
    calibrate.add_argument(
        "--seed", type=non_negative_int, help="seed of the fit (default: the scenario's seed)"
    )
    calibrate.add_argument(
        "--hold-out",
        action="append",
        default=[],
        metavar="YEAR|ID",
        help="leave the rows of this year or indicator id out of the fit, report them apart "
        "(repeatable)",
    )
    calibrate.add_argument("--method", choices=METHODS, default=METHODS[0], help="method")
    calibrate.add_argument(
        "--engine", choices=ENGINES, default="local", help="where runs go (as innosim batch)"
    )
    calibrate.add_argument(
        "--workers", type=positive_int, help="worker processes (default: the CPU count)"
    )
    calibrate.add_argument("--scheduler", help="address of a running Dask scheduler")
    calibrate.add_argument(
        "--resume", action="store_true", help="continue the calibration saved beside --out"
    )
    calibrate.add_argument(
        "--force", action="store_true", help="start over, deleting the state beside --out"
    )
    calibrate.set_defaults(handler=calibrate_command)


def calibrate_command(args) -> int:
    """Check everything, fit, write ``--out`` and print a summary."""
    from sim.batch.engines import make_engine

    problem = build_problem(args)
    engine = make_engine(args.engine, args.workers, args.scheduler)
    try:
        from sim.calibrate import calibrate
    except ModuleNotFoundError as err:
        if err.name != "pyabc":
            raise
        raise InputError(
            "innosim calibrate needs pyabc: pip install -e '.[calibrate]' (make installs it)"
        ) from None

    with _Progress(problem.scenario_name) as progress:
        outcome = calibrate(
            problem,
            args.out,
            engine,
            resume=args.resume,
            force=args.force,
            command=command_line(args),
            progress=progress,
        )
    sys.stdout.write(render_summary(outcome.document, args.out))
    return 0


def build_problem(args):
    """The ``sim.calibrate.Problem`` of the flags, every one checked (``InputError``)."""
    from sim.batch.design import scenario_value
    from sim.batch.inputs import scenario_files
    from sim.calibrate import FitParameter, Problem, default_population
    from sim.scenario import Scenario, load_scenario
    from sim.schema import fit_ranges
    from sim.validate import hold_outs, read_observed, simulated_years

    if args.resume and args.force:
        raise InputError("--resume and --force: choose one (--force deletes the saved state)")
    out = args.out
    if out.suffix not in SUFFIXES:
        raise InputError(f"--out {out}: must end in .toml or .json (the file's format)")
    if not out.parent.is_dir():
        raise InputError(f"--out {out}: directory {out.parent} does not exist")
    if out.is_dir():
        raise InputError(f"--out {out}: is a directory; name a file")
    overrides = {flag.key: flag.value for flag in args.set}
    scenario = load_scenario(args.scenario, overrides)
    name = scenario.scenario.name
    where = str(args.observed)
    observations = read_observed(args.observed, simulated_years(scenario), name)
    held_years, held_ids = hold_outs(args.hold_out, observations, where)
    fitted = [o for o in observations if o.year not in held_years and o.id not in held_ids]
    if not fitted:
        raise InputError(f"--hold-out: every row of {where} is held out; nothing is left to fit")
    for o in fitted:
        if o.value == 0:
            raise InputError(
                f"{where}: line {o.line} id = {o.id!r}, year = {o.year}, value = 0: the distance "
                "is relative to the observed value; drop the row or hold it out"
            )
    last = max(o.year for o in observations)
    if last <= scenario.baseline_year:
        raise InputError(
            f"{where}: every row is of {scenario.baseline_year}, the baseline year, which the "
            "runs reproduce whatever the parameters; calibration needs later years"
        )
    info = scenario.scenario
    months = (last - info.start_year) * 12 + 13 - info.start_month

    declared = fit_ranges(Scenario)
    chosen: dict[str, tuple[float, float, str]] = {}
    if not args.only:
        chosen = {k: (lo, hi, "declared") for k, (lo, hi) in declared.items() if k not in overrides}
    elif not args.param:
        raise InputError("--only: name the parameters to fit with --param KEY[=LO:HI]")
    for flag in args.param:
        chosen[flag.key] = _param_range(flag, declared, overrides, args.scenario)
    if not chosen:
        raise InputError(
            "nothing to fit: every declared parameter is fixed by --set; add --param KEY=LO:HI"
        )
    parameters = tuple(
        FitParameter(key, lo, hi, origin, float(scenario_value(scenario, key)))
        for key, (lo, hi, origin) in chosen.items()
    )
    seeds = args.seeds
    population = (
        args.population or _recorded_population(args) or default_population(args.budget, seeds)
    )
    if population < MIN_POPULATION:
        raise InputError(f"--population {population}: must be at least {MIN_POPULATION}")
    if population * seeds > args.budget:
        raise InputError(
            f"--budget {args.budget}: does not pay for the first generation ({population} "
            f"particles x {seeds} seeds = {population * seeds} runs); raise it or lower "
            "--population"
        )
    return Problem(
        scenario_path=Path(args.scenario).resolve(),
        scenario_name=name,
        overrides=overrides,
        observed_path=Path(args.observed).resolve(),
        observed_source=where,
        observations=tuple(observations),
        held_years=frozenset(held_years),
        held_ids=frozenset(held_ids),
        hold_out=tuple(args.hold_out),
        parameters=parameters,
        fixed={k: v for k, v in overrides.items() if k in declared and k not in chosen},
        seeds=seeds,
        seed=info.seed if args.seed is None else args.seed,
        population=population,
        budget=args.budget,
        months=months,
        method=args.method,
        data_files=scenario_files(scenario, Path(args.scenario).resolve()),
    )


def _recorded_population(args) -> int | None:
    """On ``--resume``, the population the calibration was started with, or None.

    So a larger ``--budget`` continues a calibration instead of changing its default population.
    """
    import json

    state = args.out.with_name(args.out.name + ".abc.json")
    if not args.resume or not state.is_file():
        return None
    try:
        return int(json.loads(state.read_text(encoding="utf-8"))["settings"]["population"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged state file is reported when it is opened


def _param_range(flag: ParamFlag, declared: dict, overrides: dict, scenario_path: Path):
    """(low, high, origin) of ``--param``, its ends checked by loading the scenario with each."""
    from sim.scenario import Scenario, load_scenario
    from sim.schema import declared as declared_field

    given = f"--param {flag.text}"
    found = declared_field(Scenario, flag.key)
    if found is None:
        raise InputError(f"{given}: {flag.key} is not a scenario parameter (docs/model.md)")
    if found[0] is not float:
        raise InputError(
            f"{given}: {flag.key} is not a number that varies continuously; fix it with --set"
        )
    if flag.key in overrides:
        raise InputError(f"{given}: {flag.key} is also fixed by --set; drop one of the two")
    if flag.low is None:
        if flag.key not in declared:
            raise InputError(
                f"{given}: no calibration range is declared for {flag.key}; give one: "
                f"--param {flag.key}=LO:HI"
            )
        low, high = declared[flag.key]
        return low, high, "declared"
    for name, end in (("LO", flag.low), ("HI", flag.high)):
        try:
            load_scenario(scenario_path, overrides | {flag.key: end})
        except InputError as err:
            reason = str(err).split(f"{flag.key} = {show(end)}: ", 1)[-1]
            raise InputError(f"{given}: {name} = {show(end)}: {reason}") from None
    return flag.low, flag.high, "--param"


def command_line(args) -> str:
    """The command as given (the resume command is made from it)."""
    words = ["innosim", "calibrate", str(args.scenario), str(args.observed), "--out", str(args.out)]
    for flag in args.param:
        words += ["--param", flag.text]
    if args.only:
        words.append("--only")
    for flag in args.set:
        words += ["--set", flag.text]
    words += ["--budget", str(args.budget), "--seeds", str(args.seeds)]
    for name in ("population", "seed", "workers", "scheduler"):
        if getattr(args, name) is not None:
            words += [f"--{name}", str(getattr(args, name))]
    for token in args.hold_out:
        words += ["--hold-out", token]
    if args.method != METHODS[0]:
        words += ["--method", args.method]
    if args.engine != "local":
        words += ["--engine", args.engine]
    if args.resume:
        words.append("--resume")
    return shlex.join(words)


class _Progress:
    """The progress bar of a calibration: one for the fit, one for the final check."""

    def __init__(self, name: str):
        self.name = name
        self.bar = None
        self.total = None

    def __call__(self, done: int, total: int, label: str) -> None:
        from sim.progress import ProgressBar

        if self.bar is None or total != self.total:
            self.close()
            self.bar = ProgressBar(f"{self.name}: {label}", total, "runs")
            self.total = total
        self.bar.describe(f"{self.name}: {label}")
        self.bar.update(done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> "_Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def render_summary(document: dict, out: Path) -> str:
    """What was fitted, to what, how close: the file's main figures, for reading."""
    p = document["provenance"]
    lines = [
        f"{document['scenario']} fitted to {p['observed_file']} by {document['method']} "
        f"(pyabc {p['library_version']}): {p['generations']} generations of {p['population']}, "
        f"{p['runs']:,} runs of {p['budget']:,} budgeted, {p['seconds']:.0f} s; stopped: "
        f"{p['stopped']}.",
        "",
        f"{'parameter':<42}{'median':>10}   {'90% interval':<22}{'range':<16}{'default':>9}",
    ]
    for key, q in document["parameters"].items():
        band = f"[{_n(q['q05'])}, {_n(q['q95'])}]"
        span = f"{q['range'][0]:g} to {q['range'][1]:g}"
        lines.append(f"{key:<42}{_n(q['median']):>10}   {band:<22}{span:<16}{_n(q['default']):>9}")
    d = document["distance"]
    lines += [
        "",
        f"Distance (mean squared relative error over {d['fitted_rows']} fitted rows): last "
        f"threshold {_n(d['threshold'])}, best particle {_n(d['best'])}.",
    ]
    c = document["check"]
    for title, now, before in (
        ("fitted rows", c["fitted"], c["defaults"]["fitted"]),
        ("held-out rows", c["held_out"], c["defaults"]["held_out"]),
    ):
        if now["rows"]:
            lines.append(
                f"Check, {title} ({now['rows']}): MAPE {_pct(now['mape_percent'])} "
                f"(declared defaults {_pct(before['mape_percent'])}), in the 5-95% band of "
                f"{c['draws']} posterior draws: {_pct(100 * now['band_coverage'])}."
            )
    lines.append(f"Wrote {out}.")
    return "\n".join(lines) + "\n"


def _pct(x) -> str:
    return "n/a" if x is None else _n(x) + "%"
