"""Batch engines: run tasks on a local process pool or on a Dask cluster.

Both take an iterator of task dicts (``sim.batch.worker``) and call ``on_result`` with each
result dict, in completion order, from the calling thread. They keep a bounded number of tasks
in flight (twice the worker count), so memory stays flat however large the batch. A worker
that dies takes its in-flight runs with it: those are reported as failed runs (``--resume``
retries them) and the batch goes on.
"""

import contextlib
import logging
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from sim.batch.worker import execute, init_worker, run_task
from sim.schema import InputError

ENGINES = ("local", "dask")  # and "inline" from Python: serial, in this process
OnResult = Callable[[dict], None]


def make_engine(name: str, workers: int | None = None, scheduler: str | None = None):
    """The engine called ``name`` ("local" or "dask")."""
    if name == "local":
        if scheduler:
            raise InputError("--scheduler: needs --engine dask")
        return LocalEngine(workers)
    if name == "inline":
        return InlineEngine()
    if name == "dask":
        if scheduler and workers:
            raise InputError(
                "--workers: a remote Dask scheduler has its own workers; drop --workers "
                "(or drop --scheduler to start a local cluster of --workers processes)"
            )
        return DaskEngine(workers, scheduler)
    raise InputError(f"--engine {name}: must be one of {', '.join(ENGINES)}")


def failed(task: dict, error: BaseException, what: str) -> dict:
    """A result dict for a run whose worker failed outside the run itself."""
    now = time.time()
    return {
        "run_id": task["run_id"],
        "status": "error",
        "error": f"{what}: {type(error).__name__}: {error}",
        "traceback": "",
        "started": now,
        "finished": now,
        "seconds": 0.0,
        "worker": "",
    }


class InlineEngine:
    """Runs one task after another in this process: for debugging (pdb works) and tests.

    Results are those of the other engines; only the Python API offers it (``run_batch(...,
    engine="inline")``).
    """

    name = "inline"

    def describe(self) -> dict:
        """Engine and worker count, for the manifest."""
        return {"engine": self.name, "workers": 1}

    def run(self, tasks: Iterable[dict], on_result: OnResult) -> None:
        """Run every task in order."""
        for task in tasks:
            on_result(execute(task))


class LocalEngine:
    """A pool of worker processes on this machine (``forkserver``, or ``spawn`` elsewhere).

    Workers are fresh interpreters, not forks of the caller: Numba's threads and caches are
    not fork-safe, and a fresh process is what a Dask worker sees too.
    """

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1

    def describe(self) -> dict:
        """Engine and worker count, for the manifest."""
        return {"engine": self.name, "workers": self.workers}

    def run(self, tasks: Iterable[dict], on_result: OnResult) -> None:
        """Run every task; ``on_result`` gets each result as it completes."""
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        pending: Iterator[dict] = iter(tasks)
        window = 2 * self.workers
        in_flight: dict = {}
        pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=init_worker)
        completed_by_pool = 0
        try:
            while True:
                for task in _take(pending, window - len(in_flight)):
                    in_flight[pool.submit(run_task, task)] = task
                if not in_flight:
                    break
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                lost = []
                for future in done:
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        lost.append(future)
                        continue
                    completed_by_pool += 1
                    on_result(result)
                    del in_flight[future]
                if lost:  # the pool is broken: every run still in flight is lost with it
                    if completed_by_pool == 0:
                        raise RuntimeError(
                            "batch worker processes die before finishing any run (see the "
                            "worker's error above); is the model importable?"
                        )
                    for task in in_flight.values():
                        on_result(failed(task, BrokenProcessPool(), "a worker process died"))
                    in_flight.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = ProcessPoolExecutor(
                        self.workers, mp_context=context, initializer=init_worker
                    )
                    completed_by_pool = 0
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


class DaskEngine:
    """A ``distributed.Client``: a local cluster on 127.0.0.1, or a remote scheduler.

    Without ``scheduler`` a ``LocalCluster`` of ``workers`` processes (one thread each) is
    started on the loopback interface only and stopped at the end. With ``scheduler``
    (``tcp://host:8786``) the client connects to a running cluster whose workers must have
    innosim installed and see the scenario files under the same paths. The connection timeout
    is Dask's ``distributed.comm.timeouts.connect`` (30 s; environment variable
    ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT``).
    """

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None):
        self.workers = workers or os.cpu_count() or 1
        self.scheduler = scheduler
        self.address = ""
        self.threads = 0

    def describe(self) -> dict:
        """Engine, scheduler address and worker count, for the manifest."""
        return {"engine": self.name, "scheduler": self.address, "workers": self.threads}

    def run(self, tasks: Iterable[dict], on_result: OnResult) -> None:
        """Run every task; ``on_result`` gets each result as it completes."""
        import dask
        from distributed import Client, LocalCluster, as_completed

        with contextlib.ExitStack() as stack:
            if self.scheduler:
                try:
                    client = stack.enter_context(Client(self.scheduler))
                except (OSError, TimeoutError, ValueError) as err:
                    raise InputError(
                        f"--scheduler {self.scheduler}: cannot connect: {err}"
                    ) from None
            else:
                # Dask's statistical profiler samples worker stacks every 10 ms: about a
                # quarter of a short run's time. The workers inherit this setting.
                stack.enter_context(dask.config.set({"distributed.worker.profile.enabled": False}))
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=self.workers,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address="127.0.0.1:0",  # loopback, any free port
                        silence_logs=logging.ERROR,
                    )
                )
                client = stack.enter_context(Client(cluster))
            self.address = client.scheduler.address
            info = client.scheduler_info()
            self.threads = sum(w["nthreads"] for w in info["workers"].values())
            window = 2 * max(self.threads, 2)
            token = uuid.uuid4().hex[:12]
            pending: Iterator[dict] = iter(tasks)
            in_flight: dict = {}
            futures = as_completed()

            def top_up() -> None:
                for task in _take(pending, window - len(in_flight)):
                    key = f"innosim-run-{task['run_id']}-{token}"
                    future = client.submit(run_task, task, key=key, pure=False)
                    in_flight[future.key] = task
                    futures.add(future)

            top_up()
            for future in futures:
                task = in_flight.pop(future.key)
                try:
                    result = future.result()
                except Exception as err:  # noqa: BLE001 - e.g. KilledWorker: record, go on
                    result = failed(task, err, "the Dask worker failed")
                future.release()
                on_result(result)
                top_up()


def _take(items: Iterator[dict], n: int) -> list[dict]:
    out = []
    while len(out) < n:
        item = next(items, None)
        if item is None:
            break
        out.append(item)
    return out
