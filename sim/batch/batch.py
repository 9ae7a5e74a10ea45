"""``run_batch``: run an experiment's design on an engine into a resumable results store.

The coordinator (this process) builds the design, hands tasks to the engine and writes every
result itself as it arrives: workers never touch the results directory, so a remote Dask
cluster needs no shared filesystem for results. Each finished run becomes one Parquet file;
a failed run becomes an error record and the batch goes on. The manifest is rewritten
atomically at most every few seconds and at the end; after a crash ``--resume`` rebuilds it
from the run files (each carries its own timing in its Parquet metadata).

Reliability (docs/reliability.md): the manifest records digests of every input that can change
a result (``sim.batch.inputs``) and ``--resume`` refuses when one changed; each run file's
SHA-256 is recorded and checked on resume (a damaged file is set aside and the run made again);
a lock keeps a second batch out of the directory; disk failures, Ctrl-C and dying workers end
in one line that says what is saved and the exact command that resumes.
"""

import contextlib
import importlib.metadata
import shlex
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sim.batch.design import DESIGN_COLUMNS, Design, build_design
from sim.batch.engines import make_engine
from sim.batch.experiment import Experiment, load_experiment
from sim.batch.inputs import changes, copies_in, copy_inputs, input_digests, model_version
from sim.batch.store import (
    DESIGN,
    EXPERIMENT_COPY,
    FORMAT,
    INPUTS,
    MANIFEST,
    SAMPLES,
    ResultStore,
    check_output_dir,
    disk_error,
    run_name,
    write_atomic,
)
from sim.ctrl_c import CtrlC
from sim.indicators import INDICATORS
from sim.progress import BatchProgress
from sim.schema import InputError

MANIFEST_EVERY = 2.0  # seconds between manifest rewrites while a batch runs
AGENT_MODES = ("lean", "full")


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did."""

    out: Path
    total: int
    skipped: int  # finished before this session (--resume)
    done: int  # finished in this session
    failed: int
    seconds: float
    damaged: list[Path] = field(default_factory=list)  # run files set aside to be made again

    @property
    def status(self) -> str:
        """``complete`` or ``failed runs``."""
        return "failed runs" if self.failed else "complete"


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during a batch; the message says what is saved and how to resume."""


def run_batch(
    experiment_path: str | Path,
    *,
    engine: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    agents: str = "lean",
    progress: bool = False,
) -> BatchSummary:
    """Run every run of an experiment not yet in ``out``; see docs/experiments.md.

    ``force`` deletes the batch already in ``out`` and starts over; ``agents`` is the model's
    agent mode in every run (results do not depend on it).
    """
    if resume and force:
        raise InputError("--resume and --force: choose one (--force deletes the results in --out)")
    if agents not in AGENT_MODES:
        raise InputError(f"--agents {agents}: must be one of {', '.join(AGENT_MODES)}")
    experiment = load_experiment(experiment_path)
    design = build_design(experiment)
    runner = make_engine(engine, workers, scheduler)
    store = ResultStore(Path(out) if out else Path("results") / experiment.name)
    again = resume_command(experiment_path, store.root, engine, workers, scheduler, agents)
    check_output_dir(store.root, results_size(experiment, design))
    made_root = not store.root.exists()
    try:
        store.root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise disk_error(store.root, err, "choose another --out") from None
    try:
        with store.lock():
            return _run_locked(
                experiment, design, runner, store, resume, force, agents, again, progress
            )
    finally:
        if made_root:
            with contextlib.suppress(OSError):
                store.root.rmdir()  # only if empty: a batch that could not start leaves nothing


def _run_locked(e, design, runner, store, resume, force, agents, again, progress) -> BatchSummary:
    """The batch, with the results directory locked."""
    manifest, damaged = _open(store, e, design, resume, force)
    finished = {int(r["run_id"]) for r in manifest["runs"] if r.get("status") == "ok"}
    pending = [i for i in range(len(design.runs)) if i not in finished]

    session = {
        "started": _now(),
        "finished": None,
        "resumed": bool(finished) or len(manifest["sessions"]) > 0,
        "code_version": code_version(),
        "agents": agents,
        "runs_done": 0,
        "runs_failed": 0,
        "status": "running",
    }
    manifest["sessions"].append(session)
    manifest["status"] = "running"
    _save_manifest(store, manifest)

    bar = BatchProgress(e.name, len(design.runs), len(finished)) if progress else None
    counts = {"done": 0, "failed": 0}
    last_write = time.monotonic()
    clock = time.perf_counter()

    def on_result(result: dict) -> None:
        nonlocal last_write
        run_id = result["run_id"]
        entry = _entry(result)
        if result["status"] == "ok":
            frame = _with_design(design, run_id, result["frame"])
            with _writing(store.run_path(run_id)):
                entry["sha256"] = store.write_run(run_id, frame, entry)
            counts["done"] += 1
        else:
            with _writing(store.error_path(run_id)):
                store.write_error(run_id, _error_record(e, design, result))
            counts["failed"] += 1
            entry["error"] = result["error"]
        manifest["runs"][run_id] = {"run_id": run_id} | entry
        if bar:
            bar.update(counts["done"], counts["failed"])
        if time.monotonic() - last_write > MANIFEST_EVERY:
            session.update(runs_done=counts["done"], runs_failed=counts["failed"])
            _save_manifest(store, manifest)
            last_write = time.monotonic()

    status = "interrupted"
    try:
        with CtrlC():  # the first Ctrl-C stops the batch, even one whose exception was dropped
            runner.run((_task(e, design, i, agents) for i in pending), on_result)
        status = "failed runs" if counts["failed"] else "complete"
    except KeyboardInterrupt:
        saved = len(finished) + counts["done"]
        raise BatchInterrupted(
            f"innosim batch: interrupted; {saved} of {len(design.runs)} runs are saved in "
            f"{store.root}; resume with: {again}"
        ) from None
    except InputError as err:
        status = "stopped"
        saved = len(finished) + counts["done"]
        raise _stopped(err, saved, len(design.runs), again) from None
    finally:
        if bar:
            bar.close()
        session |= runner.describe() | {
            "finished": _now(),
            "runs_done": counts["done"],
            "runs_failed": counts["failed"],
            "status": status,
        }
        manifest["status"] = status
        # The last word on disk. After a failure (the disk may be what failed) the previous
        # manifest may stay: --resume rebuilds the entries of finished runs from their files.
        with _no_interrupts():
            if status in ("complete", "failed runs"):
                saved = len(finished) + counts["done"]
                _save_manifest_at_end(store, manifest, saved, len(design.runs), again)
            else:
                with contextlib.suppress(OSError):
                    store.write_manifest(manifest)
    return BatchSummary(
        out=store.root,
        total=len(design.runs),
        skipped=len(finished),
        done=counts["done"],
        failed=counts["failed"],
        seconds=time.perf_counter() - clock,
        damaged=damaged,
    )


def _save_manifest_at_end(store, manifest: dict, saved: int, total: int, again: str) -> None:
    """Write the final manifest; if that fails the runs are saved, and a resume completes it."""
    try:
        _save_manifest(store, manifest)
    except InputError as err:
        raise _stopped(err, saved, total, again) from None


def _stopped(err: InputError, saved: int, total: int, again: str) -> InputError:
    """``err`` with what is saved and how to go on; exit status 1 when a resume can continue."""
    if saved:
        stopped = type(err)(
            f"{err}; {saved} of {total} runs are saved: fix that, then resume with: {again}"
        )
        stopped.exit_status = 1
    else:
        stopped = type(err)(f"{err}; no run is saved: fix that, then run: {again}")
        stopped.exit_status = 2
    return stopped


def resume_command(experiment_path, out: Path, engine, workers, scheduler, agents) -> str:
    """The exact ``innosim batch ... --resume`` command that continues this batch."""
    words = ["innosim", "batch", str(experiment_path), "--out", str(out)]
    if engine != "local":
        words += ["--engine", engine]
    if workers:
        words += ["--workers", str(workers)]
    if scheduler:
        words += ["--scheduler", scheduler]
    if agents != "lean":
        words += ["--agents", agents]
    return shlex.join([*words, "--resume"])


def results_size(e: Experiment, design: Design) -> int:
    """Bytes the results of ``e`` take on disk, roughly (an upper estimate for the check).

    A run file is 8 bytes a value plus its footer, schema and page checksums (~33 kB with
    every indicator, measured); the manifest takes ~300 bytes a run.
    """
    years = len(e.outputs.years or e.years())
    columns = len(design.runs.columns) + len(e.outputs.indicators or INDICATORS) + 1
    per_run = 40_000 + 8 * years * columns + 300
    return len(design.runs) * per_run + 2 * 8 * design.runs.size + 1_000_000


@contextlib.contextmanager
def _writing(path: Path):
    """Turn a failed write of ``path`` into a one-line ``StoreError``."""
    try:
        yield
    except OSError as err:
        raise disk_error(path, err) from None


def _save_manifest(store: ResultStore, manifest: dict) -> None:
    with _writing(store.root / MANIFEST):
        store.write_manifest(manifest)


@contextlib.contextmanager
def _no_interrupts():
    """Hold Ctrl-C off while the final manifest is written (a second Ctrl-C would tear it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# ------------------------------------------------------------------------------ the store


def _open(
    store: ResultStore, e: Experiment, design: Design, resume: bool, force: bool
) -> tuple[dict, list[Path]]:
    """Start a new results directory, or check and reopen one for ``--resume``.

    Returns the manifest and the damaged run files set aside (their runs are made again).
    """
    root = store.root
    foreign = store.foreign_entries()
    if store.exists() and not force:
        if not resume:
            raise InputError(
                f"--out {root}: already holds a batch; pass --resume to continue it, "
                "--force to start over, or choose another --out"
            )
        return _reopen(store, e, design)
    if foreign:
        raise InputError(
            f"--out {root}: holds files a batch did not write ({', '.join(foreign[:3])}); "
            "choose another --out"
        )
    # An old batch (--force), or a start killed before its manifest: nothing to keep.
    with _writing(root):
        store.clear()
    manifest = _new_manifest(e, design)

    def copy_inputs_here() -> None:
        manifest["copies"] = copy_inputs(e, root, INPUTS)

    steps = [
        (store.runs, store.create),
        (root / EXPERIMENT_COPY, lambda: write_atomic(root / EXPERIMENT_COPY, e.text.encode())),
        (root / DESIGN, lambda: store.write_frame(DESIGN, design.runs)),
        (root / SAMPLES, lambda: store.write_frame(SAMPLES, design.unit)),
        (root / INPUTS, copy_inputs_here),
        (root / MANIFEST, lambda: store.write_manifest(manifest)),
    ]
    for path, step in steps:
        try:
            step()
        except OSError as err:
            with contextlib.suppress(OSError):
                store.clear()  # nothing half-made: a new start must not need --force
            raise disk_error(path, err) from None
    return manifest, []


def _reopen(store: ResultStore, e: Experiment, design: Design) -> tuple[dict, list[Path]]:
    """Check that a batch may be resumed with these inputs, and take stock of its runs."""
    root = store.root
    manifest = store.read_manifest()
    if manifest["experiment"].get("sha256") != e.sha256:
        raise InputError(
            f"--resume: {root} holds results of another version of the experiment file "
            f"(sha256 {str(manifest['experiment'].get('sha256'))[:12]}, now {e.sha256[:12]}); "
            "resume with the same file, start over with --force, or use another --out"
        )
    if "inputs" not in manifest or "model" not in manifest:
        raise InputError(
            f"--resume: {root} was started by an older innosim that did not record its input "
            "files; finish it with that version, or start over with --force"
        )
    changed = changes(manifest["inputs"], input_digests(e))
    changed += [f"model {c}" for c in changes(manifest["model"], model_version())]
    if changed:
        raise InputError(
            f"--resume: {root} was started with other inputs ({'; '.join(changed)}); the "
            "results would mix two models: restore them, start over with --force, or use "
            "another --out"
        )
    if len(manifest["runs"]) != len(design.runs) or not store.read_frame(DESIGN).equals(
        design.runs
    ):
        raise InputError(
            f"--resume: the design of {e.source} no longer matches {root}/{DESIGN} "
            "(a sampler library changed?); start over with --force, or use another --out"
        )
    for session in manifest["sessions"]:
        if session.get("status") == "running":  # its process was killed
            session["status"] = "killed"
    with _writing(root):
        store.remove_temporaries()
        damaged = _take_stock(store, manifest, len(design.runs))
    if "copies" not in manifest or copies_in(root, manifest["copies"]) is None:
        # a batch started before batches kept copies, or copies lost: the inputs are the
        # batch's (their digests were just checked), so copy them now
        with _writing(root / INPUTS):
            manifest["copies"] = copy_inputs(e, root, INPUTS)
    return manifest, damaged


def _new_manifest(e: Experiment, design: Design) -> dict:
    plan = e.scenario.plan
    return {
        "format": FORMAT,
        "created": _now(),
        "status": "new",
        "experiment": {
            "name": e.name,
            "description": e.info.description,
            "file": str(e.path),
            "sha256": e.sha256,
            "sampler": {
                "method": e.sampler.method,
                "samples": e.sampler.samples,
                "seed": e.sampler.seed,
                "second_order": e.sampler.second_order,
                "levels": e.sampler.levels,
            },
            "base": e.base,
            "levers": [_factor(f) for f in e.levers],
            "uncertainties": [_factor(f) for f in e.uncertainties],
            "seeds": list(e.seeds),
            "outputs": {
                "indicators": list(e.outputs.indicators),
                "years": list(e.outputs.years),
            },
        },
        "scenario": {
            "file": str(e.scenario_path),
            "sha256": e.scenario_sha256,
            "name": e.scenario.scenario.name,
            "years": e.years(),
            "target_year": plan.target_year,
            "targets": [
                {
                    "id": r.id,
                    "name": r.name,
                    "unit": r.unit,
                    "baseline": r.baseline,
                    "target": r.target,
                }
                for r in plan.rows
            ],
        },
        "code_version": code_version(),
        "inputs": input_digests(e),
        "model": model_version(),
        "runs_total": len(design.runs),
        "policy_mixes": int(design.runs["policy_mix_id"].nunique()),
        "sessions": [],
        "runs": [{"run_id": i, "status": "pending"} for i in range(len(design.runs))],
    }


def _factor(f) -> dict:
    out = {"key": f.key, "role": f.role, "type": f.kind.__name__}
    if f.sampled:
        out |= {"range": [f.low, f.high], "distribution": f.distribution}
        out |= {
            k: v for k, v in (("mean", f.mean), ("sd", f.sd), ("mode", f.mode)) if v is not None
        }
    else:
        out["values"] = list(f.values)
    return out


def _take_stock(store: ResultStore, manifest: dict, total: int) -> list[Path]:
    """Mark runs with a sound file ``ok`` and the rest pending; set damaged files aside.

    A run file is sound when its SHA-256 is the one the manifest recorded, or, written after
    the manifest's last update, when it reads whole and holds that run's rows.
    """
    runs = manifest["runs"]
    damaged = []
    finished = {i for i in store.finished() if i < total}
    for run_id in range(total):
        entry = runs[run_id]
        if run_id not in finished:
            if entry.get("status") == "ok":  # its file was deleted: make it again
                runs[run_id] = {"run_id": run_id, "status": "pending"}
            continue
        recorded = entry.get("sha256") if entry.get("status") == "ok" else None
        digest = store.check_run(run_id, recorded)
        if digest is None:
            damaged.append(store.set_aside(run_id))
            runs[run_id] = {"run_id": run_id, "status": "pending"}
        elif recorded is None:
            runs[run_id] = {"run_id": run_id} | store.run_meta(run_id) | {"sha256": digest}
    return damaged


def _entry(result: dict) -> dict:
    return {
        "status": result["status"],
        "seconds": round(result["seconds"], 6),
        "started": _iso(result["started"]),
        "finished": _iso(result["finished"]),
        "worker": result["worker"],
    }


def _task(e: Experiment, design: Design, run_id: int, agents: str) -> dict:
    return {
        "run_id": run_id,
        "agents": agents,
        "scenario": str(e.scenario_path),
        "overrides": design.overrides(run_id, e.base),
        "seed": int(design.runs.at[run_id, "seed"]),
        "indicators": list(e.outputs.indicators) or None,
        "years": list(e.outputs.years) or None,
    }


def _with_design(design: Design, run_id: int, frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix a run's yearly rows with its design columns (ids, seed, factor values)."""
    keys = design.runs.iloc[[run_id] * len(frame)].reset_index(drop=True)
    return pd.concat([keys, frame.reset_index(drop=True)], axis=1)


def _error_record(e: Experiment, design: Design, result: dict) -> dict:
    run_id = result["run_id"]
    row = {k: design.runs.at[run_id, k] for k in DESIGN_COLUMNS}
    return {
        "run": run_name(run_id),
        **{k: int(v) for k, v in row.items()},
        "experiment": str(e.path),
        "scenario": str(e.scenario_path),
        "overrides": design.overrides(run_id, e.base),
        "error": result["error"],
        "traceback": result["traceback"],
        "worker": result["worker"],
        "started": _iso(result["started"]),
        "finished": _iso(result["finished"]),
    }


# ------------------------------------------------------------------------------ utilities


def code_version() -> dict:
    """The package version and, in a git checkout, ``git describe --always --dirty``."""
    try:
        package = importlib.metadata.version("innosim")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - not installed
        package = None
    git = None
    root = Path(__file__).resolve().parents[2]
    if (root / ".git").exists():
        try:
            done = subprocess.run(
                ["git", "describe", "--always", "--dirty", "--tags"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=10,
            )
            git = done.stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            git = None
    return {"package": package, "git": git}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
