"""The results store: a directory that is a Parquet dataset plus a manifest.

Layout of ``results/<experiment name>/`` (docs/experiments.md, "Result layout"):

    manifest.json            experiment and scenario hashes, code version, sessions, runs
    experiment.toml          a copy of the experiment file
    design.parquet           one row per run: run_id, policy_mix_id, sample_id, replicate,
                             seed and every lever and uncertainty (dotted scenario keys)
    samples.parquet          unit-cube coordinates of the sample points (for sensitivity)
    runs/run-000123.parquet  one file per finished run, one row per (run, year)
    errors/run-000123.error.json   one file per failed run: the error and its traceback

Every file is written atomically: to a hidden temporary name in the same directory, flushed,
fsync'ed, then renamed over the final name (``os.replace``), so a reader or a killed batch
never sees a partial file. ``runs/`` holds only run files, so any Parquet reader can open it as
one dataset (``pandas.read_parquet("results/x/runs")``); temporary names start with a dot,
which Parquet dataset readers skip.
"""

import io
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.atomic import write_atomic
from sim.schema import InputError

MANIFEST = "manifest.json"
DESIGN = "design.parquet"
SAMPLES = "samples.parquet"
EXPERIMENT_COPY = "experiment.toml"
RUNS = "runs"
ERRORS = "errors"
_RUN_FILE = re.compile(r"^run-(\d+)\.parquet$")
_META_KEY = b"innosim"


def run_name(run_id: int) -> str:
    """``run-000123``: the stem of a run's files (six digits or more)."""
    return f"run-{run_id:06d}"


class ResultStore:
    """Reads and writes one results directory."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.runs = self.root / RUNS
        self.errors = self.root / ERRORS

    def exists(self) -> bool:
        """True if the directory holds a batch (a manifest)."""
        return (self.root / MANIFEST).is_file()

    def create(self) -> None:
        """Make the directories."""
        self.runs.mkdir(parents=True, exist_ok=True)
        self.errors.mkdir(exist_ok=True)

    def run_path(self, run_id: int) -> Path:
        """The Parquet file of a finished run."""
        return self.runs / f"{run_name(run_id)}.parquet"

    def error_path(self, run_id: int) -> Path:
        """The error record of a failed run."""
        return self.errors / f"{run_name(run_id)}.error.json"

    def finished(self) -> set[int]:
        """Ids of runs whose result file exists."""
        if not self.runs.is_dir():
            return set()
        return {int(m.group(1)) for p in self.runs.iterdir() if (m := _RUN_FILE.match(p.name))}

    def remove_temporaries(self) -> None:
        """Delete temporary files a killed batch may have left (never a finished file)."""
        for folder in (self.root, self.runs, self.errors):
            if folder.is_dir():
                for p in folder.iterdir():
                    if p.name.startswith(".") and p.name.endswith(".tmp"):
                        p.unlink(missing_ok=True)

    def write_run(self, run_id: int, frame: pd.DataFrame, meta: dict) -> None:
        """Write one run's rows, with ``meta`` (timing, worker) in the file's metadata."""
        write_atomic(self.run_path(run_id), parquet_bytes(frame, meta))
        self.error_path(run_id).unlink(missing_ok=True)

    def write_error(self, run_id: int, record: dict) -> None:
        """Write a failed run's error record."""
        text = json.dumps(record, indent=2, allow_nan=False, default=str) + "\n"
        write_atomic(self.error_path(run_id), text.encode("utf-8"))

    def run_meta(self, run_id: int) -> dict:
        """The metadata stored with a run's result (timing, worker)."""
        meta = pq.read_schema(self.run_path(run_id)).metadata or {}
        return json.loads(meta.get(_META_KEY, b"{}"))

    def write_manifest(self, manifest: dict) -> None:
        """Write ``manifest.json``."""
        text = json.dumps(manifest, indent=1, allow_nan=False, default=str) + "\n"
        write_atomic(self.root / MANIFEST, text.encode("utf-8"))

    def read_manifest(self) -> dict:
        """The manifest (``InputError`` if it is missing or unreadable)."""
        path = self.root / MANIFEST
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(
                f"{self.root}: not a batch results directory (no {MANIFEST})"
            ) from None
        except (OSError, ValueError) as err:
            raise InputError(f"{path}: unreadable manifest: {err}") from None

    def write_frame(self, name: str, frame: pd.DataFrame) -> None:
        """Write a Parquet table at the top of the store."""
        write_atomic(self.root / name, parquet_bytes(frame))

    def read_frame(self, name: str) -> pd.DataFrame:
        """Read a Parquet table at the top of the store."""
        path = self.root / name
        if not path.is_file():
            raise InputError(f"{self.root}: {name} is missing: not a complete results directory")
        return pd.read_parquet(path)


def read_results(root: str | Path) -> pd.DataFrame:
    """Every finished run of a results directory, one row per (run, year), sorted."""
    store = ResultStore(Path(root))
    ids = sorted(store.finished())
    if not ids:
        return pd.DataFrame()
    frames = [pd.read_parquet(store.run_path(i)) for i in ids]
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values(["run_id", "year"], kind="stable").reset_index(drop=True)


def parquet_bytes(frame: pd.DataFrame, meta: dict | None = None) -> bytes:
    """``frame`` as Parquet bytes, with ``meta`` as JSON under the ``innosim`` key."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if meta is not None:
        merged = dict(table.schema.metadata or {})
        merged[_META_KEY] = json.dumps(meta, default=str).encode("utf-8")
        table = table.replace_schema_metadata(merged)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()
