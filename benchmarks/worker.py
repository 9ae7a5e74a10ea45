"""Measurements that need a fresh process: ``python -m benchmarks.worker '<json task>'``.

Prints one JSON object on the last line of standard output. The parent sets the environment
(``NUMBA_NUM_THREADS``, ``NUMBA_CACHE_DIR``) before starting it, so thread count and the
compile cache are those of the process from its first import.
"""

import hashlib
import json
import resource
import sys
import time


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB.

    The high-water mark of this process image (``VmHWM``). ``ru_maxrss`` is not used for it:
    Linux carries it over ``fork`` + ``exec``, so a worker started from a large parent reports
    at least the parent's size.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return ru_maxrss_mb()


def ru_maxrss_mb() -> float:
    """``getrusage(RUSAGE_SELF).ru_maxrss`` in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def result_digest(result) -> str:
    """sha256 of the run's JSON output (``innosim run --format json``)."""
    try:
        from sim.cli import render_json

        text = render_json(result)
    except ImportError:  # pragma: no cover - fall back if the CLI moves
        text = result.indicators.to_csv(index=False, float_format="%.17g")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def scale(firms: int, months: int) -> dict:
    """One lean run of the district scenario scaled to ``firms``, after a small warm-up."""
    import numba

    from benchmarks.scenarios import reference, scaled_district
    from benchmarks.timing import PhaseTimer, approximate_firm_months
    from sim.run import run_scenario

    start = time.perf_counter()
    run_scenario(reference(), months=13, agents="lean")  # load or compile every kernel
    warmup = time.perf_counter() - start
    rss_warm = peak_rss_mb()
    scenario = scaled_district(firms, months)
    timer = PhaseTimer()
    with timer.attached():
        start, cpu = time.perf_counter(), time.process_time()
        result = run_scenario(scenario, agents="lean")
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    if timer.counted:
        firm_months, method = timer.firm_months, "sum over months of operating firms"
    else:
        firm_months = approximate_firm_months(result.indicators, months)
        method = "(firms at start + firms at end) / 2 x months"
    return {
        "firms": firms,
        "year0_firms": int(result.indicators["firms"].iloc[0]),
        "final_firms": int(result.indicators["firms"].iloc[-1]),
        "months": months,
        "sectors": len(scenario.population.sectors),
        "threads": numba.get_num_threads(),
        "wall_s": wall,
        "cpu_s": cpu,
        "firm_months": int(firm_months),
        "firm_months_method": method,
        "firm_months_per_second": firm_months / wall,
        "ns_per_firm_month": 1e9 * wall / firm_months,
        "phases_s": timer.seconds,
        "kernel_firm_months_per_second": (
            firm_months / timer.seconds["step_month"] if "step_month" in timer.seconds else None
        ),
        "peak_rss_mb": peak_rss_mb(),
        "ru_maxrss_mb": ru_maxrss_mb(),
        "rss_after_warmup_mb": rss_warm,
        "warmup_s": warmup,
        "sha256": result_digest(result),
    }


def compile_run() -> dict:
    """First ``run_scenario`` of this process (compile or cache load), then a warm one."""
    start = time.perf_counter()
    from benchmarks.scenarios import reference
    from sim.run import run_scenario

    imported = time.perf_counter() - start
    scenario = reference()
    start = time.perf_counter()
    run_scenario(scenario, agents="lean")
    first = time.perf_counter() - start
    start = time.perf_counter()
    run_scenario(scenario, agents="lean")
    warm = time.perf_counter() - start
    return {"import_s": imported, "first_run_s": first, "warm_run_s": warm}


TASKS = {"scale": scale, "compile": compile_run}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    task = json.loads(argv[0])
    name = task.pop("task")
    out = TASKS[name](**task)
    sys.stdout.write("\n" + json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
