"""The benchmark items. Each returns a JSON-ready dict; ``run_all`` runs the ones asked for."""

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path

from benchmarks.scenarios import DISTRICT, district, reference
from benchmarks.timing import best_and_median

ROOT = Path(__file__).absolute().parent.parent
SIZES = (1_000, 10_000, 100_000, 1_000_000)
SUBPROCESS_TIMEOUT_S = 1800


def log(message: str) -> None:
    """Progress on standard error (standard output carries the report)."""
    print(f"[benchmarks] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- subprocesses


def in_subprocess(task: dict, env: dict | None = None) -> dict:
    """Run a ``benchmarks.worker`` task in a fresh interpreter; its JSON answer or an error."""
    environment = os.environ | {"PYTHONHASHSEED": "0"} | (env or {})
    cmd = [sys.executable, "-m", "benchmarks.worker", json.dumps(task)]
    try:
        done = subprocess.run(
            cmd,
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {SUBPROCESS_TIMEOUT_S} s"}
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-3:]
        return {"error": f"exit {done.returncode}: " + " | ".join(tail)}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ 1. kernel vs reference

# What item 1 times on each side: the monthly firm step, the 31 December rounds, the whole run.
PARTS = ("month", "year_end", "run")


def count_firm_months(scenario) -> int:
    """Sum over months of the firms the monthly kernel steps (operating at the month's start)."""
    import numpy as np

    from sim.model import InnovationEcosystem

    model = InnovationEcosystem(setup=scenario, agents="lean")
    total = 0
    for _ in range(scenario.scenario.horizon_months):
        total += int(np.count_nonzero(model.firms.column("alive")))
        model.step()
    return total


def count_reference_firm_months(scenario) -> int:
    """The same count for the plain-Python reference (its operating agents each month)."""
    from sim.reference import ReferenceEcosystem

    model = ReferenceEcosystem(setup=scenario)
    total = 0
    for _ in range(scenario.scenario.horizon_months):
        total += len(model.firms_operating())
        model.step()
    return total


class PartTimer:
    """Seconds spent in the month and year-end functions of a run, and in the whole run."""

    def __init__(self):
        self.seconds = dict.fromkeys(PARTS, 0.0)

    def wrap(self, function, part):
        def timed(*args):
            start = time.perf_counter()
            try:
                return function(*args)
            finally:
                self.seconds[part] += time.perf_counter() - start

        return timed

    @contextmanager
    def attached(self, owner, month: str, year_end: str):
        """Time ``owner.<month>`` and ``owner.<year_end>`` while inside; the block is the run."""
        originals = {"month": getattr(owner, month), "year_end": getattr(owner, year_end)}
        setattr(owner, month, self.wrap(originals["month"], "month"))
        setattr(owner, year_end, self.wrap(originals["year_end"], "year_end"))
        start = time.perf_counter()
        try:
            yield self
        finally:
            self.seconds["run"] = time.perf_counter() - start
            setattr(owner, month, originals["month"])
            setattr(owner, year_end, originals["year_end"])


def time_numba(scenario, repeats: int) -> dict:
    """Median seconds per run of each part of ``run_scenario(lean)``, after a warm-up run.

    ``month``: the kernel ``step_month``; ``year_end``: the kernel ``close_year``; ``run``: the
    whole ``run_scenario`` (model construction, institutions, entrants, indicators included).
    """
    import sim.model as fast_model
    from sim.run import run_scenario

    run_scenario(scenario, agents="lean")  # warm-up: compile or load the cache
    samples = {part: [] for part in PARTS}
    for _ in range(repeats):
        with PartTimer().attached(fast_model, "step_month", "close_year") as timer:
            run_scenario(scenario, agents="lean")
        for part in PARTS:
            samples[part].append(timer.seconds[part])
    return {part: best_and_median(samples[part])["median_s"] for part in PARTS}


def time_reference(scenario) -> dict:
    """Seconds of one ``ReferenceEcosystem`` run, by part.

    ``month``: ``ReferenceFirm.month``; ``year_end``: ``ReferenceFirm.close_year``, the same
    logic as the kernels in plain Python; ``run``: built, then stepped ``horizon_months`` times.
    The wrapper around each firm call adds well under 1% to it.
    """
    from sim.agents.reference import ReferenceFirm
    from sim.reference import ReferenceEcosystem

    with PartTimer().attached(ReferenceFirm, "month", "close_year") as timer:
        model = ReferenceEcosystem(setup=scenario)
        for _ in range(scenario.scenario.horizon_months):
            model.step()
    return timer.seconds


def compare_with_reference(scenario, repeats: int) -> dict:
    """Both paths on one scenario: seconds, firm-months/s and the ratio, part by part."""
    firm_months = count_firm_months(scenario)
    reference_firm_months = count_reference_firm_months(scenario)
    numba_s = time_numba(scenario, repeats)
    reference_s = time_reference(scenario)
    parts = {
        part: {
            "numba_s": numba_s[part],
            "reference_s": reference_s[part],
            "firm_months_per_second": firm_months / numba_s[part],
            "reference_firm_months_per_second": firm_months / reference_s[part],
            "speedup": reference_s[part] / numba_s[part],
        }
        for part in PARTS
    }
    return {
        "scenario": scenario.scenario.name,
        "firms_year0": _year0_firms(scenario),
        "months": scenario.scenario.horizon_months,
        "firm_months": firm_months,
        "reference_firm_months": reference_firm_months,
        "parts": parts,
    }


def kernel_vs_reference(repeats: int = 10) -> dict:
    """Item 1: the Numba path on one thread against the plain-Python reference.

    The headline is the monthly firm step on the district (every plan lever on); the whole run
    and the ~300-firm scenario, where the fixed per-call and per-month costs weigh more, are
    reported beside it.
    """
    import numba

    numba.set_num_threads(1)
    district_run = compare_with_reference(district(), repeats)
    small_run = compare_with_reference(reference(), 2 * repeats)
    month = district_run["parts"]["month"]
    return {
        "threads": numba.get_num_threads(),
        "firm_months_per_second": month["firm_months_per_second"],
        "speedup_vs_reference": month["speedup"],
        "scenarios": [district_run, small_run],
    }


def _year0_firms(scenario) -> int:
    return sum(s.hitech + s.tech_sme + s.other for s in scenario.population.sectors)


# ----------------------------------------------------------------------------- 2. scaling


def scaling(sizes=SIZES, months: int = 60) -> dict:
    """Item 2: one lean run per size, each in a fresh one-thread process."""
    runs = []
    for firms in sizes:
        log(f"scaling: {firms:,} firms x {months} months (1 thread, fresh process)")
        out = in_subprocess(
            {"task": "scale", "firms": firms, "months": months}, {"NUMBA_NUM_THREADS": "1"}
        )
        out.setdefault("firms", firms)
        runs.append(out)
    ok = {r["firms"]: r for r in runs if "error" not in r}
    ratio = None
    if 10_000 in ok and 1_000_000 in ok:
        ratio = ok[1_000_000]["ns_per_firm_month"] / ok[10_000]["ns_per_firm_month"]
    return {"months": months, "runs": runs, "time_per_firm_month_ratio_1e6_vs_1e4": ratio}


# ------------------------------------------------------------------------------ 3. threads


def threads(one_thread_run: dict | None, firms: int = 1_000_000, months: int = 60) -> dict:
    """Item 3: the largest run on 1 and 2 Numba threads; results must be identical."""
    runs = {}
    for n in (1, 2):
        if n == 1 and one_thread_run and "error" not in one_thread_run:
            runs[n] = one_thread_run  # the scaling run of this size is the one-thread run
            continue
        log(f"threads: {firms:,} firms x {months} months on {n} Numba thread(s)")
        runs[n] = in_subprocess(
            {"task": "scale", "firms": firms, "months": months}, {"NUMBA_NUM_THREADS": str(n)}
        )
    one, two = runs[1], runs[2]
    if "error" in one or "error" in two:
        return {"firms": firms, "runs": runs, "identical": None}
    return {
        "firms": firms,
        "months": months,
        "wall_s": {"1": one["wall_s"], "2": two["wall_s"]},
        "step_month_s": {
            "1": one["phases_s"].get("step_month"),
            "2": two["phases_s"].get("step_month"),
        },  # fmt: skip
        "speedup_2_threads": one["wall_s"] / two["wall_s"],
        "kernel_speedup_2_threads": (
            one["phases_s"]["step_month"] / two["phases_s"]["step_month"]
            if "step_month" in one["phases_s"] and "step_month" in two["phases_s"]
            else None
        ),
        "sha256": {"1": one["sha256"], "2": two["sha256"]},
        "identical": one["sha256"] == two["sha256"],
    }


# ------------------------------------------------------------------------------ 4. compile


def compile_time() -> dict:
    """Item 4: first run with an empty Numba cache, then with that cache, then warm."""
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
        env = {"NUMBA_CACHE_DIR": cache, "NUMBA_NUM_THREADS": "1"}
        log("compile: fresh process, empty Numba cache")
        cold = in_subprocess({"task": "compile"}, env)
        log("compile: fresh process, the cache just written")
        cached = in_subprocess({"task": "compile"}, env)
    out = {"scenario": "reference_300", "empty_cache": cold, "cached": cached}
    if "error" not in cold and "error" not in cached:
        out["compile_s"] = cold["first_run_s"] - cold["warm_run_s"]
        out["cache_load_s"] = cached["first_run_s"] - cached["warm_run_s"]
        out["warm_run_s"] = cached["warm_run_s"]
    return out


# ------------------------------------------------------------------- 5. district and batch


def district_run(repeats: int = 10) -> dict:
    """Item 5a: the default scenario (~1,100 firms, 60 months) after warm-up, one thread."""
    import numba

    from sim.run import run_scenario

    numba.set_num_threads(1)
    scenario = district()
    run_scenario(scenario, agents="lean")
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_scenario(scenario, agents="lean")
        samples.append(time.perf_counter() - start)
    return {
        "scenario": scenario.scenario.name,
        "firms_year0": _year0_firms(scenario),
        "months": scenario.scenario.horizon_months,
        **best_and_median(samples),
    }


def _pool_init() -> None:
    import numba

    numba.set_num_threads(1)
    from sim.run import run_scenario

    run_scenario(district(), months=13, agents="lean")  # load the kernels before timing


def _pool_run(seed: int) -> int:
    from sim.run import run_scenario

    result = run_scenario(district(), seed=seed, agents="lean")
    return int(result.indicators["firms"].iloc[-1])


def _pool_ready(_: int) -> int:
    time.sleep(0.5)  # keep this worker busy so the next task goes to another one
    return os.getpid()


def batch_throughput(runs: int = 40, workers=(1, 2)) -> dict:
    """Item 5b: district runs per second over seeds with 1 and 2 worker processes.

    Uses the local engine of ``sim.batch`` when that package has one, else a
    ``ProcessPoolExecutor`` calling ``run_scenario`` directly.
    """
    engine = _batch_engine()
    out = {"runs": runs, "engine": engine.__doc__.splitlines()[0], "by_workers": {}}
    for n in workers:
        log(f"batch: {runs} district runs on {n} worker process(es)")
        out["by_workers"][str(n)] = engine(n, runs)
    rates = [v["runs_per_second"] for v in out["by_workers"].values()]
    if len(rates) == 2:
        out["speedup_2_workers"] = rates[1] / rates[0]
    return out


def _batch_engine():
    try:
        from sim.batch.engines import LocalEngine  # noqa: F401
        from sim.batch.worker import run_task  # noqa: F401
    except ImportError:
        return _pool_batch
    return _sim_batch


def _sim_batch(workers: int, runs: int) -> dict:
    """sim.batch LocalEngine (fresh worker processes, 1 Numba thread each), run_scenario per seed.

    Wall time includes starting the pool; the steady rate is runs over the span from the first
    run's start to the last run's end as the workers report them.
    """
    from sim.batch.engines import LocalEngine

    tasks = [
        {"run_id": k, "scenario": str(DISTRICT), "overrides": {}, "seed": k,
         "indicators": None, "years": None}
        for k in range(runs)
    ]  # fmt: skip
    results = []
    start = time.perf_counter()
    LocalEngine(workers).run(tasks, results.append)
    wall = time.perf_counter() - start
    failed = [r for r in results if r.get("status") != "ok"]
    span = max(r["finished"] for r in results) - min(r["started"] for r in results)
    return {
        "wall_s": wall,
        "runs_per_second": runs / span,
        "runs_per_second_with_startup": runs / wall,
        "startup_s": wall - span,
        "failed": len(failed),
        "mean_run_s": sum(r["seconds"] for r in results) / len(results),
    }


def _pool_batch(workers: int, runs: int) -> dict:
    """concurrent.futures.ProcessPoolExecutor (spawn, 1 Numba thread), run_scenario per seed.

    Workers are started and warmed up first; the rate is over the runs alone.
    """
    context = get_context("spawn")
    start = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_pool_init) as pool:
        list(pool.map(_pool_ready, range(workers)))  # every worker started and warm
        ready = time.perf_counter()
        list(pool.map(_pool_run, range(runs)))
        done = time.perf_counter()
    return {
        "wall_s": done - start,
        "startup_s": ready - start,
        "runs_per_second": runs / (done - ready),
        "runs_per_second_with_startup": runs / (done - start),
    }


# ---------------------------------------------------------------------------------- all


def run_all(quick: bool = False, sizes=SIZES) -> dict:
    """Run the items (only item 1 with ``quick``) and collect one JSON-ready object."""
    from benchmarks.machine import describe

    started = time.perf_counter()
    results: dict = {"machine": describe(), "quick": quick}
    log("Numba path vs reference on the district and reference_300 (1 thread)")
    item1 = kernel_vs_reference()
    results["kernel_vs_reference"] = item1
    results["firm_months_per_second"] = item1["firm_months_per_second"]
    results["speedup_vs_reference"] = item1["speedup_vs_reference"]
    if not quick:
        log("district run (1 thread)")
        results["district"] = district_run()
        results["batch"] = batch_throughput()
        results["compile"] = compile_time()
        results["scaling"] = scaling(sizes)
        largest = max(sizes)
        same = [r for r in results["scaling"]["runs"] if r.get("firms") == largest]
        results["threads"] = threads(same[0] if same else None, firms=largest)
    results["total_s"] = time.perf_counter() - started
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return results
