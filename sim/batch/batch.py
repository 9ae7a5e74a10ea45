"""``run_batch``: run an experiment's design on an engine into a resumable results store.

The coordinator (this process) builds the design, hands tasks to the engine and writes every
result itself as it arrives: workers never touch the results directory, so a remote Dask
cluster needs no shared filesystem for results. Each finished run becomes one Parquet file;
a failed run becomes an error record and the batch goes on. The manifest is rewritten
atomically at most every few seconds and at the end; after a crash ``--resume`` rebuilds it
from the run files (each carries its own timing in its Parquet metadata).
"""

import importlib.metadata
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sim.batch.design import DESIGN_COLUMNS, Design, build_design
from sim.batch.engines import make_engine
from sim.batch.experiment import Experiment, load_experiment
from sim.batch.store import (
    DESIGN,
    EXPERIMENT_COPY,
    SAMPLES,
    ResultStore,
    run_name,
    write_atomic,
)
from sim.progress import BatchProgress
from sim.schema import InputError

FORMAT = "innosim-batch/1"
MANIFEST_EVERY = 2.0  # seconds between manifest rewrites while a batch runs


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did."""

    out: Path
    total: int
    skipped: int  # finished before this session (--resume)
    done: int  # finished in this session
    failed: int
    seconds: float

    @property
    def status(self) -> str:
        """``complete`` or ``failed runs``."""
        return "failed runs" if self.failed else "complete"


def run_batch(
    experiment_path: str | Path,
    *,
    engine: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool = False,
) -> BatchSummary:
    """Run every run of an experiment not yet in ``out``; see docs/experiments.md."""
    experiment = load_experiment(experiment_path)
    design = build_design(experiment)
    runner = make_engine(engine, workers, scheduler)
    store = ResultStore(Path(out) if out else Path("results") / experiment.name)
    manifest = _open(store, experiment, design, resume)
    finished = store.finished() & set(range(len(design.runs)))
    _mark_finished(store, manifest, finished)
    pending = [i for i in range(len(design.runs)) if i not in finished]

    session = {
        "started": _now(),
        "finished": None,
        "resumed": bool(finished) or len(manifest["sessions"]) > 0,
        "code_version": code_version(),
        "runs_done": 0,
        "runs_failed": 0,
        "status": "running",
    }
    manifest["sessions"].append(session)
    manifest["status"] = "running"
    store.write_manifest(manifest)

    bar = BatchProgress(experiment.name, len(design.runs), len(finished)) if progress else None
    counts = {"done": 0, "failed": 0}
    last_write = time.monotonic()
    clock = time.perf_counter()

    def on_result(result: dict) -> None:
        nonlocal last_write
        run_id = result["run_id"]
        entry = _entry(result)
        if result["status"] == "ok":
            frame = _with_design(design, run_id, result["frame"])
            store.write_run(run_id, frame, entry)
            counts["done"] += 1
        else:
            store.write_error(run_id, _error_record(experiment, design, result))
            counts["failed"] += 1
            entry["error"] = result["error"]
        manifest["runs"][run_id] = {"run_id": run_id} | entry
        if bar:
            bar.update(counts["done"], counts["failed"])
        if time.monotonic() - last_write > MANIFEST_EVERY:
            session.update(runs_done=counts["done"], runs_failed=counts["failed"])
            store.write_manifest(manifest)
            last_write = time.monotonic()

    status = "interrupted"
    try:
        runner.run((_task(experiment, design, i) for i in pending), on_result)
        status = "failed runs" if counts["failed"] else "complete"
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
        store.write_manifest(manifest)
    return BatchSummary(
        out=store.root,
        total=len(design.runs),
        skipped=len(finished),
        done=counts["done"],
        failed=counts["failed"],
        seconds=time.perf_counter() - clock,
    )


# ------------------------------------------------------------------------------ the store


def _open(store: ResultStore, e: Experiment, design: Design, resume: bool) -> dict:
    """Start a new results directory, or check and reopen one for ``--resume``."""
    root = store.root
    if store.exists():
        if not resume:
            raise InputError(
                f"--out {root}: already holds a batch; pass --resume to continue it, "
                "or choose another --out"
            )
        manifest = store.read_manifest()
        old = manifest.get("experiment", {})
        if manifest.get("format") != FORMAT:
            raise InputError(f"{root}: manifest format {manifest.get('format')!r} is not {FORMAT}")
        if old.get("sha256") != e.sha256:
            raise InputError(
                f"--resume: {root} holds results of another version of the experiment file "
                f"(sha256 {str(old.get('sha256'))[:12]}, now {e.sha256[:12]}); "
                "resume with the same file or use another --out"
            )
        if manifest["scenario"].get("sha256") != e.scenario_sha256:
            raise InputError(
                f"--resume: the base scenario {e.scenario_path} changed since {root} was "
                "started; results would mix two scenarios: use another --out"
            )
        stored = store.read_frame(DESIGN)
        if not stored.equals(design.runs):
            raise InputError(
                f"--resume: the design of {e.source} no longer matches {root}/{DESIGN} "
                "(a sampler library changed?); use another --out"
            )
        store.remove_temporaries()
        return manifest
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise InputError(f"--out {root}: exists and is not an empty directory of a batch")
    store.create()
    write_atomic(root / EXPERIMENT_COPY, e.text.encode("utf-8"))
    store.write_frame(DESIGN, design.runs)
    store.write_frame(SAMPLES, design.unit)
    manifest = _new_manifest(e, design)
    store.write_manifest(manifest)
    return manifest


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


def _mark_finished(store: ResultStore, manifest: dict, finished: set[int]) -> None:
    """Runs with a file are done: keep their manifest entry, or read it from the file."""
    for run_id in finished:
        entry = manifest["runs"][run_id]
        if entry.get("status") != "ok":
            manifest["runs"][run_id] = {"run_id": run_id} | store.run_meta(run_id)


def _entry(result: dict) -> dict:
    return {
        "status": result["status"],
        "seconds": round(result["seconds"], 6),
        "started": _iso(result["started"]),
        "finished": _iso(result["finished"]),
        "worker": result["worker"],
    }


def _task(e: Experiment, design: Design, run_id: int) -> dict:
    return {
        "run_id": run_id,
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
