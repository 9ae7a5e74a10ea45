"""Calibration: fit uncertain parameters to observed history by ABC-SMC (pyabc).

The parameters to fit are those declared with ``fit=(low, high)`` (``sim.schema.param``) plus
any ``--param KEY=LO:HI``; each gets a uniform prior over its range. The data are the rows of an
observed CSV (``sim.validate.read_observed``: ``id, year, value``). One *evaluation* runs the
scenario with a parameter set on ``--seeds`` fresh seeds and takes, for every observed row, the
median over those seeds (``sim.validate.compare``, the comparison ``innosim validate`` makes).
The distance to the data is the mean squared relative error over the rows not held out:

    d = mean over fitted rows of ((median - observed) / |observed|)^2

ABC-SMC (Toni et al. 2009; pyabc, Schaelte et al. 2022) then draws a population from the priors,
keeps it whole (generation 0), and in each later generation perturbs particles of the last
(a multivariate normal kernel) until ``population`` proposals lie within the threshold: the
weighted median of the last generation's distances. Proposals are evaluated in parallel, on the
batch engines (a local process pool or a Dask cluster), and accepted **in proposal order**: the
k-th proposal of generation t is a pure function of (seed, t, k), and the generation takes the
first ``population`` accepted ones, whichever finished first. Results therefore depend neither
on the number of workers nor on timing, and a resumed calibration is the uninterrupted one.

Every generation goes through the same path: pyabc's history (SQLite, ``FILE.abc.db``) is
opened, the threshold and kernel are computed from its last population, one generation is
sampled and appended. An interruption loses at most the generation in progress; ``--resume``
continues from the database, after checking against ``FILE.abc.json`` that the scenario, the
observed file, their data files, the settings and the model's code are those it was started
with. The fit stops when the budget cannot pay for another generation at the last acceptance
rate, or when fewer than ``MIN_ACCEPTANCE_RATE`` of the proposals are accepted (the distance is
down to the noise of the runs).

The output file (``sim.calibration``) holds the fitted values (posterior medians), the final
population as a weighted posterior sample, the distance reached, a check of posterior draws
against the fitted and the held-out rows (beside the same check at the declared defaults), and
the provenance of every number.
"""

import contextlib
import json
import logging
import math
import random
import shlex
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd
import pyabc
from pyabc.sampler import Sampler

from sim.atomic import write_atomic
from sim.batch.inputs import changes, file_sha256, model_version
from sim.batch.worker import _LOCK, limit_numba_threads
from sim.calibration import FORMAT, write_calibration
from sim.ctrl_c import CtrlC
from sim.schema import InputError, replace_validated
from sim.validate import Observation, Row, compare, relative_error, summarise

STATE_FORMAT = "innosim-calibration-state/1"
QUANTILE = 0.5  # each threshold: this weighted quantile of the last generation's distances
MIN_ACCEPTANCE_RATE = 0.02  # below it, the distance is down to the runs' noise: stop
CHECK_DRAWS = 20  # posterior draws (and runs at the defaults) of the final check
MIN_POPULATION, MAX_POPULATION, RUNS_PER_PARTICLE = 20, 200, 50


def default_population(budget: int, seeds: int) -> int:
    """Particles a generation: a fiftieth of the evaluations the budget pays, 20 to 200."""
    evaluations = budget // seeds
    return int(min(MAX_POPULATION, max(MIN_POPULATION, evaluations // RUNS_PER_PARTICLE)))


def stat_key(indicator: str, year: int) -> str:
    """The summary statistic of an observed row: ``tech_smes@2022``."""
    return f"{indicator}@{year}"


# ------------------------------------------------------------------------------ the problem


@dataclass(frozen=True)
class FitParameter:
    """A fitted parameter: dotted key, its range (a uniform prior), where the range came from."""

    key: str
    low: float
    high: float
    origin: str  # "declared" (sim/agents/rules.py ...) or "--param"
    default: float  # its value in the scenario as loaded (--set, its [calibration] file)

    def to_json(self) -> list:
        """``[key, low, high]``: what the state file records."""
        return [self.key, self.low, self.high]


@dataclass(frozen=True)
class Problem:
    """Everything a calibration is given, checked (``sim.calibrate_commands``)."""

    scenario_path: Path  # absolute
    scenario_name: str
    overrides: dict  # --set: fixed values for every run
    observed_path: Path  # absolute
    observed_source: str  # as the user named it
    observations: tuple[Observation, ...]
    held_years: frozenset
    held_ids: frozenset
    hold_out: tuple[str, ...]  # the --hold-out tokens, as given
    parameters: tuple[FitParameter, ...]
    fixed: dict  # declared fitted keys that --set fixes instead
    seeds: int  # seeds an evaluation
    seed: int  # the calibration's seed
    population: int
    budget: int  # runs
    months: int
    method: str = "abc-smc"
    data_files: dict = field(default_factory=dict)  # scenario data files, by dotted key

    @property
    def keys(self) -> list[str]:
        """The fitted keys, in order."""
        return [p.key for p in self.parameters]

    @property
    def evaluations(self) -> int:
        """Evaluations the budget pays (each ``seeds`` runs)."""
        return self.budget // self.seeds

    def fitted(self, observation: Observation) -> bool:
        """True for a row the distance uses (not held out)."""
        return observation.year not in self.held_years and observation.id not in self.held_ids

    def settings(self) -> dict:
        """What a resume must match (all but the budget, the engine and the workers)."""
        return {
            "method": self.method,
            "scenario": str(self.scenario_path),
            "set": {k: _jsonable(v) for k, v in self.overrides.items()},
            "observed": str(self.observed_path),
            "hold_out": list(self.hold_out),
            "parameters": [p.to_json() for p in self.parameters],
            "seeds": self.seeds,
            "seed": self.seed,
            "population": self.population,
            "months": self.months,
        }

    def inputs(self) -> dict:
        """``{role: {"file", "sha256"}}`` of every file the runs and the distance read."""
        files = {"scenario": self.scenario_path, "observed": self.observed_path}
        files |= self.data_files
        return {role: {"file": str(p), "sha256": file_sha256(p)} for role, p in files.items()}


# --------------------------------------------------------------------- the model for pyabc


_SCENARIOS: dict[str, object] = {}  # base scenarios loaded in this process, by problem


class Simulator:
    """The model as pyabc calls it: parameter values -> each observed row's median over seeds.

    Picklable plain data; a worker loads the base scenario once and sets the fitted values on
    it (``sim.schema.replace_validated``: the same checks as a scenario file). The seeds of an
    evaluation are drawn from NumPy's global generator, which the worker seeded with the
    proposal's own seed: a proposal is a pure function of (calibration seed, generation, index).
    """

    def __init__(self, problem: Problem):
        self.path = str(problem.scenario_path)
        self.overrides = dict(problem.overrides)
        self.observations = tuple(problem.observations)
        self.where = problem.observed_source
        self.months = problem.months
        self.seeds = problem.seeds

    def __call__(self, parameter) -> dict:
        """Summary statistics (``stat_key`` -> median over seeds) of one proposal."""
        values = {key: float(value) for key, value in dict(parameter).items()}
        seeds = [int(s) for s in np.random.randint(0, 2**31 - 1, size=self.seeds)]
        rows = compare(self.observations, self.runs(values, seeds), self.where)
        return {stat_key(r.id, r.year): r.median for r in rows}

    def runs(self, values: dict, seeds: Sequence[int]) -> pd.DataFrame:
        """The runs (``sim.effects.stacked``) of the scenario with ``values`` on ``seeds``."""
        from sim.effects import run_seeds, stacked

        ids = list(dict.fromkeys(o.id for o in self.observations))
        return stacked(run_seeds(self.scenario(values), seeds, self.months), ids)

    def scenario(self, values: dict):
        """The base scenario (with ``--set``) with the fitted ``values`` set."""
        from sim.scenario import load_scenario

        if any("[" in key for key in values):
            return load_scenario(self.path, self.overrides | values)
        token = json.dumps([self.path, self.overrides], sort_keys=True, default=str)
        if token not in _SCENARIOS:
            _SCENARIOS.clear()
            _SCENARIOS[token] = load_scenario(self.path, self.overrides)
        scenario = _SCENARIOS[token]
        for key, value in values.items():
            scenario = replace_validated(scenario, key, value, key)
        return scenario


class RelativeDistance:
    """Mean squared relative error over the fitted rows' statistics (``stat_key``)."""

    def __init__(self, keys: Sequence[str]):
        self.keys = tuple(keys)

    def __call__(self, x: dict, x_0: dict) -> float:
        """``mean(((x - x_0) / |x_0|)^2)`` over ``keys`` (observed values are never 0)."""
        return float(np.mean([((x[k] - x_0[k]) / abs(x_0[k])) ** 2 for k in self.keys]))


class HistoryQuantile(pyabc.QuantileEpsilon):
    """The weighted median of the last generation's distances, from the history at each start.

    pyabc's ``QuantileEpsilon`` carries its thresholds in memory; this one recomputes the
    threshold of generation t from the population t - 1 stored in the database whenever a run
    starts, so a resumed calibration takes exactly the thresholds of an uninterrupted one.
    Generation 0 keeps every draw from the priors (threshold infinity).
    """

    def __init__(self):
        super().__init__(initial_epsilon=math.inf, alpha=QUANTILE)

    def initialize(
        self, t, get_weighted_distances, get_all_records, max_nr_populations, acceptor_config
    ):
        """Generation ``t``'s threshold, from the history (infinity for generation 0)."""
        if t == 0:
            self._look_up = {0: math.inf}
        else:
            self._update(t, get_weighted_distances())


# --------------------------------------------------------------------- workers and sampling


_GENERATION: dict[str, Callable] = {}  # this worker's simulate function, by generation token


def evaluate(task: dict) -> dict:
    """Evaluate one proposal in a worker: seed NumPy with its seed, run pyabc's simulate step.

    Never raises: a failure comes back as data (``status`` "error"), like a batch run's.
    """
    limit_numba_threads()
    started, clock = time.time(), time.perf_counter()
    out: dict = {"run_id": task["run_id"]}
    try:
        with _LOCK:
            if task["token"] not in _GENERATION:
                _GENERATION.clear()
                _GENERATION[task["token"]] = cloudpickle.loads(task["simulate"])
            seed = np.random.SeedSequence(task["entropy"]).generate_state(4)
            np.random.seed(seed)
            random.seed(int(seed[0]))
            particle = _GENERATION[task["token"]]()
        out |= {"status": "ok", "particle": particle}
    except Exception as err:  # noqa: BLE001 - reported by the coordinator, with its traceback
        out |= {
            "status": "error",
            "error": f"{type(err).__name__}: {err}",
            "input_error": isinstance(err, InputError),
            "traceback": traceback.format_exc(),
        }
    return out | {"started": started, "seconds": time.perf_counter() - clock}


def check_run(task: dict) -> dict:
    """One run of the final check in a worker: the scenario with ``values`` on one seed."""
    limit_numba_threads()
    out: dict = {"run_id": task["run_id"]}
    try:
        with _LOCK:
            simulator = task["simulator"]
            frame = simulator.runs(task["values"], [task["seed"]])
        out |= {"status": "ok", "frame": frame.assign(seed=task["run_id"])}
    except Exception as err:  # noqa: BLE001
        out |= {
            "status": "error",
            "error": f"{type(err).__name__}: {err}",
            "input_error": isinstance(err, InputError),
            "traceback": traceback.format_exc(),
        }
    return out


class RunFailed(InputError):
    """A run failed; the message says which and how to go on (exit status 1)."""

    exit_status = 1


class Interrupts(CtrlC):
    """Ctrl-C while runs are made stops them at once; while pyabc writes, right after it.

    Every press is recorded (``sim.ctrl_c``): one whose ``KeyboardInterrupt`` was dropped in a
    finalizer is raised again by the engine's next check or by ``check()``.
    """

    def __init__(self):
        super().__init__(raising=False)

    @property
    def sampling(self) -> bool:
        """True while runs are made: Ctrl-C raises at once."""
        return self.raising

    @sampling.setter
    def sampling(self, value: bool) -> None:
        self.raising = value


class OrderedSampler(Sampler):
    """pyabc sampler on a batch engine: proposals in parallel, accepted in proposal order.

    Proposal k of generation t is seeded with (seed, t, k). Proposals are handed out in order
    while fewer than ``n`` of the finished ones form an unbroken accepted prefix; the
    generation is then proposals 0 .. K, K the n-th accepted, as a sequential sampler would have
    made it. Proposals that were running past K are wasted (at most two per worker).
    ``evaluations`` caps the proposals of the whole calibration (the budget): a generation
    that would pass it is not saved (``sample.ok`` false).
    """

    def __init__(self, engine, seed: int, evaluations: int, interrupts: Interrupts, on_done):
        super().__init__()
        self.engine = engine
        self.seed = seed
        self.evaluations = evaluations
        self.interrupts = interrupts
        self.on_done = on_done  # called with each finished proposal (progress)
        self.wasted = 0  # proposals run past the end of their generation
        self.used = 0  # proposals of the saved generations
        self.label = ""  # what the progress bar says: generation and threshold

    def sample_until_n_accepted(
        self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None
    ):
        """The first ``n`` accepted proposals of generation ``t`` and the rejected before them."""
        used = ana_vars.prev_total_nr_simulations if ana_vars is not None else 0
        limit = min(max_eval, self.evaluations - used)
        payload = cloudpickle.dumps(simulate_one)
        token = uuid.uuid4().hex
        results: dict[int, object] = {}
        prefix = {"next": 0, "accepted": 0}

        def done() -> bool:
            return prefix["accepted"] >= n

        def tasks():
            k = 0
            while not done() and k < limit:
                entropy = [self.seed, t, k]
                yield {"run_id": k, "token": token, "simulate": payload, "entropy": entropy}
                k += 1

        def on_result(result: dict) -> None:
            if result["status"] != "ok":
                raise _failure(result)
            results[result["run_id"]] = result["particle"]
            while prefix["next"] in results and not done():
                prefix["accepted"] += results[prefix["next"]].accepted
                prefix["next"] += 1
            self.on_done()

        self.interrupts.check()
        self.interrupts.sampling = True
        try:
            self.engine.run(tasks(), on_result, evaluate)
        finally:
            self.interrupts.sampling = False
        sample = self._create_empty_sample()
        for k in range(prefix["next"]):
            sample.append(results[k])
        self.wasted += len(results) - prefix["next"]
        self.nr_evaluations_ = prefix["next"]
        if not done():
            sample.ok = False
        return sample


def _failure(result: dict) -> InputError:
    """A failed proposal as an error: the user's (exit 2) or a run that failed (exit 1)."""
    if result.get("input_error"):
        return InputError(result["error"].split(": ", 1)[1])
    last = (result.get("traceback") or "").strip().splitlines()
    where = f" ({last[-1]})" if last and last[-1] != result["error"] else ""
    return RunFailed(f"a run failed: {result['error']}{where}")


# ----------------------------------------------------------------------------- the state


@dataclass(frozen=True)
class StateFiles:
    """The files beside ``--out`` that let a calibration resume."""

    out: Path

    @property
    def settings(self) -> Path:
        """``FILE.abc.json``: settings, input digests, sessions."""
        return self.out.with_name(self.out.name + ".abc.json")

    @property
    def database(self) -> Path:
        """``FILE.abc.db``: pyabc's history (SQLite), every finished generation."""
        return self.out.with_name(self.out.name + ".abc.db")

    def exist(self) -> bool:
        """True if a calibration was started here."""
        return self.settings.exists() or self.database.exists()

    def remove(self) -> None:
        """Delete both (``--force``, or a start that saved nothing)."""
        for path in (self.settings, self.database):
            path.unlink(missing_ok=True)


def open_state(problem: Problem, files: StateFiles, resume: bool, force: bool) -> dict:
    """Start a new state, or check the saved one for ``--resume``; return it."""
    if files.exist() and not (resume or force):
        raise InputError(
            f"--out {files.out}: a calibration was started here ({files.settings.name}, "
            f"{files.database.name}); pass --resume to continue it, --force to start over"
        )
    if resume and files.exist():
        return _reopen(problem, files)
    if resume:
        raise InputError(
            f"--resume: no calibration to resume beside {files.out} (no {files.settings.name}); "
            "run without --resume to start one"
        )
    files.remove()
    state = {
        "format": STATE_FORMAT,
        "created": _now(),
        "settings": problem.settings(),
        "inputs": problem.inputs(),
        "model": model_version(),
        "library": {"pyabc": pyabc.__version__},
        "sessions": [],
    }
    save_state(files, state)
    return state


def _reopen(problem: Problem, files: StateFiles) -> dict:
    try:
        state = json.loads(files.settings.read_text(encoding="utf-8"))
        assert state["format"] == STATE_FORMAT and isinstance(state["settings"], dict)
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        raise InputError(
            f"--resume: {files.settings} is missing or damaged; start over with --force"
        ) from None
    if not files.database.is_file():
        raise InputError(f"--resume: {files.database} is missing; start over with --force")
    recorded, now = state["settings"], problem.settings()
    differ = [k for k in now if recorded.get(k) != now[k]]
    if differ:
        what = "; ".join(f"{k} {_short(recorded.get(k))} -> {_short(now[k])}" for k in differ)
        raise InputError(
            f"--resume: {files.out} was started with other settings ({what}); resume with "
            "the same ones, start over with --force, or choose another --out"
        )
    changed = changes(state["inputs"], problem.inputs())
    changed += [f"model {c}" for c in changes(state["model"], model_version())]
    if state.get("library", {}).get("pyabc") != pyabc.__version__:
        changed.append(f"pyabc {state.get('library', {}).get('pyabc')} -> {pyabc.__version__}")
    if changed:
        raise InputError(
            f"--resume: {files.out} was started with other inputs ({'; '.join(changed)}); "
            "restore them, start over with --force, or choose another --out"
        )
    return state


def save_state(files: StateFiles, state: dict) -> None:
    """Write ``FILE.abc.json`` atomically."""
    text = json.dumps(state, indent=1, allow_nan=False, default=str) + "\n"
    write_atomic(files.settings, text.encode("utf-8"))


def _short(value) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


# ------------------------------------------------------------------------------- the fit


@dataclass
class Outcome:
    """What ``calibrate`` did: the document it wrote and a few figures for the summary."""

    document: dict
    out: Path
    stopped: str
    generations: int
    runs: int
    seconds: float


def calibrate(
    problem: Problem,
    out: Path,
    engine,
    *,
    resume: bool = False,
    force: bool = False,
    command: str = "",
    progress: Callable | None = None,
) -> Outcome:
    """Fit ``problem`` on ``engine`` and write ``out``; see the module docstring.

    ``command`` is the command line that made the fit (recorded, and the base of the resume
    command an interruption prints). ``progress(done_runs, total_runs, label)`` is called
    as runs finish.
    """
    _quiet_pyabc()
    files = StateFiles(out)
    state = open_state(problem, files, resume, force)
    session = {"started": _now(), "finished": None, "status": "running", "budget": problem.budget}
    counter = {"proposals": 0, "made": 0}  # proposals of this generation, of this session
    state["sessions"].append(session)
    save_state(files, state)
    again = _resume_command(command)
    db = f"sqlite:///{files.database.resolve()}"
    clock = time.perf_counter()
    status = "interrupted"
    interrupts = Interrupts()
    try:
        with interrupts, engine.keep():
            report = progress or (lambda done, total, label: None)
            counter["proposals"] = 0
            stopped, history = _fit(problem, db, engine, interrupts, counter, report)
            interrupts.check()
            document = _document(problem, history, stopped, engine, interrupts, command, report)
            document["provenance"]["runs_made"] = (
                sum(s.get("runs_made", 0) for s in state["sessions"][:-1])
                + counter["made"] * problem.seeds
            )
            document["provenance"]["seconds"] = round(
                sum(s.get("seconds", 0.0) for s in state["sessions"][:-1])
                + time.perf_counter()
                - clock,
                1,
            )
        write_calibration(out, document)
        status = "complete"
    except KeyboardInterrupt:
        saved = _saved(db, files)
        raise CalibrationInterrupted(
            f"innosim calibrate: interrupted; {saved} saved in {files.database}; resume with: "
            f"{again}"
        ) from None
    except InputError as err:
        status = "stopped"
        saved = _saved(db, files)
        if saved == "nothing is" and not resume:
            files.remove()
            raise
        err.args = (f"{err}; {saved} saved: resume with: {again}",)
        raise
    finally:
        if files.settings.exists():
            session.update(
                finished=_now(),
                status=status,
                seconds=round(time.perf_counter() - clock, 1),
                runs_made=counter["made"] * problem.seeds,
            )
            with contextlib.suppress(OSError):
                save_state(files, state)
    return Outcome(
        document=document,
        out=out,
        stopped=stopped,
        generations=document["provenance"]["generations"],
        runs=document["provenance"]["runs"],
        seconds=document["provenance"]["seconds"],
    )


class CalibrationInterrupted(KeyboardInterrupt):
    """Ctrl-C during a calibration; the message says what is saved and how to resume."""


def _fit(problem: Problem, db: str, engine, interrupts: Interrupts, counter, report):
    """Generations until the budget or the acceptance rate stops them; (reason, history)."""
    total_runs = problem.budget
    sampler = None

    def on_done():
        counter["proposals"] += 1
        counter["made"] += 1
        done = (sampler.used + counter["proposals"]) * problem.seeds
        report(min(done, total_runs), total_runs, sampler.label)

    sampler = OrderedSampler(engine, problem.seed, problem.evaluations, interrupts, on_done)
    while True:
        abc = _abc(problem, sampler)
        history = abc.load(db, 1) if _has_run(db) else abc.new(db, _observed_stats(problem))
        t, used = history.max_t + 1, history.total_nr_simulations
        sampler.used, counter["proposals"] = used, 0
        sampler.label = f"generation {t}"
        if t > 0:
            rate, expected = _acceptance(history, t, problem.population)
            sampler.label += f", threshold {_threshold(history, t):.3g}"
            if rate < MIN_ACCEPTANCE_RATE:
                return f"acceptance rate {rate:.1%} below {MIN_ACCEPTANCE_RATE:.0%}", history
            cost = math.ceil(problem.population / expected)
            left = problem.evaluations - used
            if cost > left:
                return (
                    f"budget (another generation would take about {cost * problem.seeds:,} "
                    f"runs at an acceptance rate of {expected:.1%}; {left * problem.seeds:,} "
                    "are left)"
                ), history
        elif problem.population > problem.evaluations:
            raise InputError(
                f"--budget {problem.budget}: does not pay for generation 0 ({problem.population} "
                f"particles x {problem.seeds} seeds = {problem.population * problem.seeds} runs)"
            )
        report(used * problem.seeds, total_runs, sampler.label)
        abc.run(max_nr_populations=1, max_total_nr_simulations=problem.evaluations)
        interrupts.check()
        if abc.history.max_t < t:  # the budget ran out within the generation: not saved
            return "budget", abc.history


def _acceptance(history, t: int, population: int) -> tuple[float, float]:
    """Generation t - 1's acceptance rate, and the rate expected for generation t.

    Rates fall as thresholds tighten: the expected rate goes on at the pace of the last two
    generations' (generation 0 keeps every draw and does not count), so a generation the
    budget cannot pay for is not started (a generation cut short is lost: pyabc saves whole
    populations only).
    """
    populations = history.get_all_populations().set_index("t")
    rates = [population / populations.loc[s, "samples"] for s in (t - 2, t - 1) if s >= 1]
    if not rates:
        return 1.0, 1.0
    if len(rates) == 1:
        return rates[0], rates[0]
    return rates[1], rates[1] * min(1.0, rates[1] / rates[0])


def _abc(problem: Problem, sampler) -> "pyabc.ABCSMC":
    priors = pyabc.Distribution(
        **{p.key: pyabc.RV("uniform", p.low, p.high - p.low) for p in problem.parameters}
    )
    fitted = [stat_key(o.id, o.year) for o in problem.observations if problem.fitted(o)]
    return pyabc.ABCSMC(
        Simulator(problem),
        priors,
        RelativeDistance(fitted),
        population_size=problem.population,
        eps=HistoryQuantile(),
        sampler=sampler,
    )


def _observed_stats(problem: Problem) -> dict:
    return {stat_key(o.id, o.year): o.value for o in problem.observations}


def _has_run(db: str) -> bool:
    path = Path(db.removeprefix("sqlite:///"))
    if not path.is_file() or path.stat().st_size == 0:
        return False
    history = pyabc.History(db)
    try:
        return len(history.all_runs()) > 0
    finally:
        history.done()


def _threshold(history, t: int) -> float:
    """Generation ``t``'s threshold: the weighted median of generation t - 1's distances."""
    from pyabc.weighted_statistics import weighted_quantile

    d = history.get_weighted_distances(t=t - 1)
    w = (d.w / d.w.sum()).to_numpy()
    return float(weighted_quantile(d.distance.to_numpy(), w, alpha=QUANTILE))


def _saved(db: str, files: StateFiles) -> str:
    """What the database holds: "3 generations (540 runs) are", or "nothing is"."""
    try:
        if not _has_run(db):
            return "nothing is"
        history = pyabc.History(db)
        history.id = 1
        generations, evaluations = history.max_t + 1, history.total_nr_simulations
        history.done()
    except Exception:  # noqa: BLE001 - a damaged database: say nothing is saved
        return "nothing is"
    if generations <= 0:
        return "nothing is"
    seeds = json.loads(files.settings.read_text())["settings"]["seeds"]
    noun, verb = ("generation", "is") if generations == 1 else ("generations", "are")
    return f"{generations} {noun} ({evaluations * seeds:,} runs) {verb}"


def _resume_command(command: str) -> str:
    words = [w for w in shlex.split(command) if w not in ("--resume", "--force")]
    return shlex.join([*words, "--resume"])


def _quiet_pyabc() -> None:
    """Keep pyabc's INFO lines (one a generation) off the terminal: the progress bar says it."""
    logging.getLogger("ABC").setLevel(logging.WARNING)


# ---------------------------------------------------------------------------- the output


def _document(problem, history, stopped, engine, interrupts, command, report) -> dict:
    """The calibration file: values, parameters, distance, check, provenance, posterior."""
    if history.max_t < 0:
        raise InputError(f"--budget {problem.budget}: no generation finished")
    particles = history.get_population(t=history.max_t).particles
    frame = pd.DataFrame([{k: float(p.parameter[k]) for k in problem.keys} for p in particles])
    weights = np.array([p.weight for p in particles], dtype=float)
    weights = weights / weights.sum()
    distances = np.array([p.distance for p in particles], dtype=float)
    populations = history.get_all_populations()
    populations = populations[populations.t >= 0]
    last = populations.iloc[-1]
    values, parameters = {}, {}
    for p in problem.parameters:
        column = frame[p.key].to_numpy(dtype=float)
        q05, median, q95 = _weighted_quantiles(column, weights, (0.05, 0.5, 0.95))
        mean = float(np.sum(weights * column))
        values[p.key] = median
        parameters[p.key] = {
            "median": median,
            "mean": mean,
            "sd": float(math.sqrt(max(0.0, np.sum(weights * (column - mean) ** 2)))),
            "q05": q05,
            "q95": q95,
            "range": [p.low, p.high],
            "range_from": p.origin,
            "default": p.default,
        }
    check = _check(problem, frame, weights, engine, interrupts, report)
    fitted_rows = sum(problem.fitted(o) for o in problem.observations)
    document = {
        "format": FORMAT,
        "scenario": problem.scenario_name,
        "method": "ABC-SMC",
        "values": values,
        "fixed": {k: _jsonable(v) for k, v in problem.fixed.items()},
        "parameters": parameters,
        "distance": {
            "definition": "mean over the fitted rows of ((median over seeds - observed) / "
            "|observed|)^2",
            "fitted_rows": fitted_rows,
            "threshold": float(last.epsilon),
            "best": float(distances.min()),
            "mean": float(np.sum(weights * distances)),
        },
        "check": check,
        "provenance": {
            "created": _now(),
            "command": command,
            "method": "ABC-SMC (Toni et al. 2009), pyabc.ABCSMC with a uniform prior per "
            "parameter, a multivariate normal kernel, thresholds at the weighted median of the "
            "last generation's distances, proposals accepted in order (sim.calibrate)",
            "library": "pyabc",
            "library_version": pyabc.__version__,
            "innosim": _code_version(),
            "scenario_file": str(problem.scenario_path),
            "observed_file": str(problem.observed_path),
            "files": problem.inputs(),
            "set": {k: _jsonable(v) for k, v in problem.overrides.items()},
            "hold_out": list(problem.hold_out),
            "budget": problem.budget,
            "runs": int(history.total_nr_simulations * problem.seeds),
            "evaluations": int(history.total_nr_simulations),
            "seeds_per_evaluation": problem.seeds,
            "seed": problem.seed,
            "population": problem.population,
            "generations": int(len(populations)),
            "last_acceptance_rate": float(problem.population / last.samples),
            "stopped": stopped,
            "months": problem.months,
            "seconds": 0.0,
        },
        "posterior": {
            "weight": [float(w) for w in weights],
            "distance": [float(d) for d in distances],
        }
        | {key: [float(v) for v in frame[key]] for key in problem.keys},
    }
    return document


def _check(problem, frame, weights, engine, interrupts, report) -> dict:
    """Posterior draws and the declared defaults, on the same seeds, against every row."""
    rng = np.random.default_rng([problem.seed, 7])
    draws = rng.choice(len(weights), size=CHECK_DRAWS, p=weights)
    seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=CHECK_DRAWS)]
    simulator = Simulator(problem)
    defaults = {p.key: p.default for p in problem.parameters}
    tasks = [
        {"run_id": i, "simulator": simulator, "seed": seeds[i % CHECK_DRAWS]}
        | {"values": defaults if i >= CHECK_DRAWS else frame.iloc[draws[i]].to_dict()}
        for i in range(2 * CHECK_DRAWS)
    ]
    frames: dict[int, pd.DataFrame] = {}

    def on_result(result: dict) -> None:
        if result["status"] != "ok":
            raise _failure(result)
        frames[result["run_id"]] = result["frame"]
        report(len(frames), 2 * CHECK_DRAWS, "check: posterior draws and defaults")

    interrupts.sampling = True
    try:
        engine.run(iter(tasks), on_result, check_run)
    finally:
        interrupts.sampling = False
    where = problem.observed_source
    posterior = compare(
        problem.observations,
        pd.concat([frames[i] for i in range(CHECK_DRAWS)], ignore_index=True),
        where,
        set(problem.held_years),
        set(problem.held_ids),
    )
    at_defaults = compare(
        problem.observations,
        pd.concat([frames[i] for i in range(CHECK_DRAWS, 2 * CHECK_DRAWS)], ignore_index=True),
        where,
        set(problem.held_years),
        set(problem.held_ids),
    )
    return {
        "draws": CHECK_DRAWS,
        "definition": f"{CHECK_DRAWS} runs, each a posterior draw (resampled by weight) on a "
        "seed of its own, and the same seeds at the declared defaults; median and 5-95% band "
        "over the runs against each observed row (as innosim validate)",
        "fitted": _scores(posterior, held=False),
        "held_out": _scores(posterior, held=True),
        "defaults": {
            "fitted": _scores(at_defaults, held=False),
            "held_out": _scores(at_defaults, held=True),
        },
        "rows": [r.to_json() for r in posterior],
    }


def _scores(rows: Sequence[Row], held: bool) -> dict:
    """MAPE, band coverage and the distance (MSRE of the medians) over fitted or held-out rows."""
    mine = [r for r in rows if r.held_out == held]
    overall = summarise(mine).overall
    errors = [relative_error(r.median, r.observed) for r in mine]
    errors = [e / 100 for e in errors if e is not None]
    return {
        "rows": overall.rows,
        "mape_percent": overall.mape_percent,
        "band_coverage": overall.band_coverage,
        "msre": float(np.mean(np.square(errors))) if errors else None,
    }


def _weighted_quantiles(x: np.ndarray, w: np.ndarray, qs) -> list[float]:
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cdf = np.cumsum(w) - 0.5 * w
    cdf /= w.sum()
    return [float(np.interp(q, cdf, x)) for q in qs]


def _code_version() -> dict:
    from sim.batch.batch import code_version

    return code_version()


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return json.loads(json.dumps(value, default=str))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
