"""The unit of work a batch engine ships to a worker process: one run, plain data in and out.

In: ``{"run_id", "scenario" (path), "overrides" (dotted key -> value), "seed", "indicators",
"years", "agents"}``. Out: ``{"run_id", "status": "ok", "frame": DataFrame}`` or ``{"run_id",
"status": "error", "error", "traceback"}``, plus timing and the worker's host and process id. The
worker loads and validates the scenario itself, so nothing but these dicts crosses a process
boundary and a run on a Dask worker is the run on a laptop.
"""

import os
import signal
import socket
import sys
import threading
import time
import traceback

_LOCK = threading.Lock()  # one run at a time per process: Numba's workqueue is not re-entrant


def limit_numba_threads() -> None:
    """One Numba thread per worker process (the batch is parallel across processes).

    Takes effect only before Numba is imported; a ``NUMBA_NUM_THREADS`` the user set wins.
    Once Numba is in, the environment is left alone: a task run in the calling process (one
    worker) would otherwise leave the variable to every subprocess it starts later.
    Results do not depend on the thread count (counter-based random streams).
    """
    if "numba" not in sys.modules:
        os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def init_worker(coordinator: int | None = None) -> None:
    """Process-pool initialiser: limit threads, leave Ctrl-C to the parent, import the model.

    With ``coordinator`` (the batch's process id) the worker exits when that process is gone:
    a pool worker holds both ends of its task queue, so it would otherwise wait forever after
    the batch is killed (SIGKILL), holding its memory.
    """
    limit_numba_threads()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if coordinator is not None:
        threading.Thread(target=_exit_with, args=(coordinator,), daemon=True).start()
    import sim.run  # noqa: F401


def _exit_with(coordinator: int, every: float = 1.0) -> None:
    while True:
        time.sleep(every)
        try:
            os.kill(coordinator, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # pragma: no cover - a reused pid of another user: gone too
            os._exit(1)


def run_task(task: dict) -> dict:
    """Run one task in a worker process (one Numba thread); see ``execute``."""
    limit_numba_threads()
    return execute(task)


def execute(task: dict) -> dict:
    """Run one task; never raises for a failing run (the error is returned as data)."""
    started = time.time()
    clock = time.perf_counter()
    out: dict = {"run_id": task["run_id"]}
    try:
        from sim.run import run_scenario
        from sim.scenario import load_scenario

        with _LOCK:
            scenario = load_scenario(task["scenario"], task["overrides"])
            result = run_scenario(scenario, task["seed"], agents=task.get("agents", "lean"))
        frame = result.indicators
        if task.get("years"):
            frame = frame[frame["year"].isin(task["years"])]
        if task.get("indicators"):
            frame = frame[["year", *task["indicators"]]]
        out |= {"status": "ok", "frame": frame.reset_index(drop=True)}
    except Exception as err:  # noqa: BLE001 - any failure of a run is recorded, not raised
        out |= {
            "status": "error",
            "error": f"{type(err).__name__}: {err}",
            "traceback": traceback.format_exc(),
        }
    out |= {
        "started": started,
        "finished": time.time(),
        "seconds": time.perf_counter() - clock,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    return out
