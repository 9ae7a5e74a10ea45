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

from sim import ctrl_c
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
            ctrl_c.check()
            on_result(execute(task))
        ctrl_c.check()


class LocalEngine:
    """A pool of worker processes on this machine (``forkserver``, or ``spawn`` elsewhere).

    Workers are fresh interpreters, not forks of the caller: Numba's threads and caches are
    not fork-safe, and a fresh process is what a Dask worker sees too.
    """

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        self._keeping = False
        self._kept: ProcessPoolExecutor | None = None

    def describe(self) -> dict:
        """Engine and worker count, for the manifest."""
        return {"engine": self.name, "workers": self.workers}

    @contextlib.contextmanager
    def keep(self):
        """Keep the worker processes from one ``run`` to the next until the block ends.

        A calibration makes one ``run`` a generation: fresh workers each time would import the
        model and load Numba's kernels again.
        """
        self._keeping = True
        try:
            yield self
        finally:
            self._keeping = False
            if self._kept is not None:
                self._kept.shutdown(wait=False, cancel_futures=True)
                self._kept = None

    def run(self, tasks: Iterable[dict], on_result: OnResult, function=run_task) -> None:
        """Run every task (``function(task)`` in a worker); ``on_result`` gets each result.

        A worker that dies breaks the whole pool: the runs in flight are recorded as failed
        (``--resume`` retries them), a new pool takes over and the batch goes on. Tasks the
        broken pool never accepted are handed to the new one. If pools keep breaking before
        any run finishes, the workers cannot work at all and the batch stops.
        """
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        queue = _Queue(tasks)
        window = 2 * self.workers
        in_flight: dict = {}
        breaks_in_a_row = 0
        finished_by_pool = 0
        pool, self._kept = self._kept or self._pool(context), None
        try:
            while True:
                broken = _top_up(pool, queue, in_flight, window, function)
                if not in_flight and not broken:
                    break
                finished, lost = _collect(in_flight, broken, on_result)
                finished_by_pool += finished
                if not (broken or lost):
                    continue
                breaks_in_a_row = 0 if finished_by_pool else breaks_in_a_row + 1
                finished_by_pool = 0
                for task in lost:
                    on_result(failed(task, BrokenProcessPool(), "a worker process died"))
                pool.shutdown(wait=False, cancel_futures=True)
                if breaks_in_a_row >= MAX_BREAKS:
                    raise WorkersDying(
                        f"batch worker processes died {breaks_in_a_row} times in a row before "
                        "finishing any run; the runs they held are recorded as failed; check "
                        "that the model imports in a fresh process (python -c 'import sim.run')"
                        " and that the machine has memory to spare"
                    )
                pool = self._pool(context)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        if self._keeping:
            self._kept = pool
        else:
            pool.shutdown(wait=True)

    def _pool(self, context) -> ProcessPoolExecutor:
        """Fresh workers that end when this process ends, however it ends."""
        return ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=init_worker, initargs=(os.getpid(),)
        )


MAX_BREAKS = 3  # pools broken in a row, without a finished run, before the batch stops


class WorkersDying(InputError):
    """Worker processes die before finishing anything: the batch cannot go on."""


class _Queue:
    """Tasks to hand out: those a broken pool gave back first, then the rest in order."""

    def __init__(self, tasks: Iterable[dict]):
        self.returned: list[dict] = []
        self.rest: Iterator[dict] = iter(tasks)

    def take(self) -> dict | None:
        return self.returned.pop() if self.returned else next(self.rest, None)

    def give_back(self, task: dict) -> None:
        self.returned.append(task)


def _top_up(pool, queue: _Queue, in_flight: dict, window: int, function=run_task) -> bool:
    """Submit tasks until ``window`` are in flight; True if the pool turned out broken."""
    while len(in_flight) < window:
        task = queue.take()
        if task is None:
            return False
        try:
            in_flight[pool.submit(function, task)] = task
        except BrokenProcessPool:  # a worker died since the last look: this task never ran
            queue.give_back(task)
            return True
    return False


def _first_completed(in_flight: dict) -> set:
    """The futures done once at least one is, checking for Ctrl-C every ``ctrl_c.WAKE`` s."""
    while True:
        ctrl_c.check()
        done, _ = wait(in_flight, timeout=ctrl_c.WAKE, return_when=FIRST_COMPLETED)
        if done:
            return done


def _collect(in_flight: dict, broken: bool, on_result: OnResult) -> tuple[int, list[dict]]:
    """Hand finished results to ``on_result``; return how many, and the tasks a death lost.

    Once the pool is known to be broken, every future in flight settles quickly (with its
    result or with ``BrokenProcessPool``), so wait for all of them. A Ctrl-C is acted on
    between results and while waiting (``sim.ctrl_c``), even if its ``KeyboardInterrupt`` was
    dropped.
    """
    if broken:
        done, _ = wait(in_flight, timeout=60)
    else:
        done = _first_completed(in_flight)
    finished, lost = 0, []
    for future in done:
        task = in_flight.pop(future)
        try:
            result = future.result()
        except BrokenProcessPool:
            lost.append(task)
            continue
        finished += 1
        on_result(result)
        ctrl_c.check()
    if lost:  # the pool is broken: every run still in flight is lost with it
        done, _ = wait(in_flight, timeout=60)
        for future in list(in_flight):
            task = in_flight.pop(future)
            if future in done and future.exception() is None:
                finished += 1
                on_result(future.result())
            else:
                lost.append(task)
    return finished, lost


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
        self._kept: contextlib.ExitStack | None = None
        self._client = None

    def describe(self) -> dict:
        """Engine, scheduler address and worker count, for the manifest."""
        return {"engine": self.name, "scheduler": self.address, "workers": self.threads}

    @contextlib.contextmanager
    def keep(self):
        """Keep the client (and a local cluster) from one ``run`` to the next (``LocalEngine``)."""
        with contextlib.ExitStack() as stack:
            self._kept = stack
            try:
                yield self
            finally:
                self._kept = self._client = None

    def run(self, tasks: Iterable[dict], on_result: OnResult, function=run_task) -> None:
        """Run every task (``function(task)`` on a worker); ``on_result`` gets each result."""
        from distributed import as_completed

        with contextlib.ExitStack() as stack:
            client = self._connect(self._kept or stack)
            window = 2 * max(self.threads, 2)
            token = uuid.uuid4().hex[:12]
            pending: Iterator[dict] = iter(tasks)
            in_flight: dict = {}
            futures = as_completed()

            def top_up() -> None:
                for task in _take(pending, window - len(in_flight)):
                    key = f"innosim-run-{task['run_id']}-{token}"
                    future = client.submit(function, task, key=key, pure=False)
                    in_flight[future.key] = task
                    futures.add(future)

            top_up()
            for future in futures:
                ctrl_c.check()
                task = in_flight.pop(future.key)
                try:
                    result = future.result()
                except Exception as err:  # noqa: BLE001 - e.g. KilledWorker: record, go on
                    result = failed(task, err, "the Dask worker failed")
                future.release()
                on_result(result)
                ctrl_c.check()
                top_up()

    def _connect(self, stack: contextlib.ExitStack):
        """The client: the one kept open, or a new one whose lifetime is ``stack``'s."""
        import dask
        from distributed import Client, LocalCluster

        if self._client is not None:
            return self._client
        if self.scheduler:
            try:
                client = stack.enter_context(Client(self.scheduler))
            except (OSError, TimeoutError, ValueError) as err:
                raise InputError(f"--scheduler {self.scheduler}: cannot connect: {err}") from None
        else:
            # Dask's statistical profiler samples worker stacks every 10 ms: about a quarter
            # of a short run's time. The workers inherit this setting.
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
        if stack is self._kept:
            self._client = client
        return client


def _take(items: Iterator[dict], n: int) -> list[dict]:
    out = []
    while len(out) < n:
        item = next(items, None)
        if item is None:
            break
        out.append(item)
    return out
