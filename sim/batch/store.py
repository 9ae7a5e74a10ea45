"""The results store: a directory that is a Parquet dataset plus a manifest.

Layout of ``results/<experiment name>/`` (docs/experiments.md, "Result layout"):

    manifest.json            experiment and scenario hashes, code version, sessions, runs
    experiment.toml          a copy of the experiment file
    inputs/                  copies of the base scenario, its data files and a design table,
                             in their places relative to one another (sim.batch.inputs)
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

What can go wrong on disk is caught here and said in one line naming the file
(``StoreError``): a results directory that cannot be written (full disk, not a directory, no
permission, a special filesystem), a run file or manifest that is damaged. Each run file's
SHA-256 is recorded in the manifest when it is written; ``--resume`` checks it and moves a
damaged file to ``damaged/`` so that the run is made again. A lock (``.lock``, held with
``flock`` while a batch writes) makes a second batch on the same directory refuse at once; the
operating system releases it when the batch ends, however it ends.
"""

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import shutil
import socket
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.atomic import write_atomic
from sim.schema import InputError, show

FORMAT = "innosim-batch/1"
MANIFEST = "manifest.json"
DESIGN = "design.parquet"
SAMPLES = "samples.parquet"
EXPERIMENT_COPY = "experiment.toml"
INPUTS = "inputs"  # copies of the files the experiment reads (sim.batch.inputs)
RUNS = "runs"
ERRORS = "errors"
DAMAGED = "damaged"
REPORT = "report"
LOCK = ".lock"
# Everything a batch may put in its directory: --force deletes these and nothing else.
BATCH_ENTRIES = {
    MANIFEST,
    DESIGN,
    SAMPLES,
    EXPERIMENT_COPY,
    INPUTS,
    RUNS,
    ERRORS,
    DAMAGED,
    REPORT,
    LOCK,
}
# Pseudo filesystems: writing results there is always a mistake (and may do harm as root).
SPECIAL_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))
_RUN_FILE = re.compile(r"^run-(\d+)\.parquet$")
_META_KEY = b"innosim"


class StoreError(InputError):
    """A results directory that cannot be written or read: one line, naming the file.

    ``exit_status`` is 2, or 1 when runs were saved before the failure and ``--resume`` can
    continue the batch once the cause is fixed.
    """

    exit_status = 2


def disk_error(path: Path, err: OSError, advice: str = "") -> StoreError:
    """``err`` from reading or writing ``path`` as a one-line ``StoreError``."""
    what = {
        errno.ENOSPC: "no space left on the disk",
        errno.EDQUOT: "disk quota exceeded",
        errno.EFBIG: "file too large (a file size limit of this system or shell)",
        errno.EROFS: "read-only filesystem",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.ENOTDIR: "a part of the path is a file, not a directory",
        errno.EISDIR: "is a directory",
        errno.ENOENT: "no such file or directory",
    }.get(err.errno, err.strerror or str(err))
    return StoreError(f"{path}: cannot write: {what}" + (f"; {advice}" if advice else ""))


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

    def foreign_entries(self) -> list[str]:
        """Names in the directory that a batch does not write (never deleted by ``--force``)."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.name not in BATCH_ENTRIES and not _is_temporary(p.name)
        )

    def clear(self) -> None:
        """Delete what a batch wrote here (``--force``); the directory itself stays."""
        for p in self.root.iterdir():
            if p.name == LOCK:
                continue  # held by this batch
            if p.name in BATCH_ENTRIES or _is_temporary(p.name):
                shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()

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
        copies = self.root / INPUTS
        folders = [self.root, self.runs, self.errors]
        folders += [p for p in copies.rglob("*") if p.is_dir()] + [copies]
        for folder in folders:
            if folder.is_dir():
                for p in folder.iterdir():
                    if _is_temporary(p.name):
                        p.unlink(missing_ok=True)

    def write_run(self, run_id: int, frame: pd.DataFrame, meta: dict) -> str:
        """Write one run's rows, with ``meta`` (timing, worker) in the file's metadata.

        Returns the file's SHA-256, which the manifest records so a resume can check it.
        """
        data = parquet_bytes(frame, meta)
        write_atomic(self.run_path(run_id), data)
        self.error_path(run_id).unlink(missing_ok=True)
        return hashlib.sha256(data).hexdigest()

    def write_error(self, run_id: int, record: dict) -> None:
        """Write a failed run's error record."""
        text = json.dumps(record, indent=2, allow_nan=False, default=str) + "\n"
        write_atomic(self.error_path(run_id), text.encode("utf-8"))

    def run_meta(self, run_id: int) -> dict:
        """The metadata stored with a run's result (timing, worker)."""
        meta = pq.read_schema(self.run_path(run_id)).metadata or {}
        return json.loads(meta.get(_META_KEY, b"{}"))

    def check_run(self, run_id: int, sha256: str | None) -> str | None:
        """The run file's SHA-256 if it is sound, else None.

        With a recorded ``sha256`` the bytes must match it. Without one (the batch was killed
        before the manifest caught up), the file must read whole, its page checksums must
        hold and its rows must be this run's.
        """
        path = self.run_path(run_id)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        digest = hashlib.sha256(data).hexdigest()
        if sha256 is not None:
            return digest if digest == sha256 else None
        try:
            table = pq.read_table(io.BytesIO(data), page_checksum_verification=True)
            ids = set(table.column("run_id").to_pylist())
        except (pa.ArrowException, KeyError, OSError, ValueError):
            return None
        return digest if ids == {run_id} else None

    def set_aside(self, run_id: int) -> Path:
        """Move a damaged run file to ``damaged/`` (kept for inspection, out of the dataset)."""
        folder = self.root / DAMAGED
        folder.mkdir(exist_ok=True)
        target = folder / f"{run_name(run_id)}.{int(time.time())}.parquet"
        os.replace(self.run_path(run_id), target)
        return target

    def write_manifest(self, manifest: dict) -> None:
        """Write ``manifest.json``."""
        text = json.dumps(manifest, indent=1, allow_nan=False, default=str) + "\n"
        write_atomic(self.root / MANIFEST, text.encode("utf-8"))

    def read_manifest(self) -> dict:
        """The manifest (``StoreError`` if it is missing, unreadable or not a manifest)."""
        path = self.root / MANIFEST
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StoreError(
                f"{self.root}: not a batch results directory (no {MANIFEST})"
            ) from None
        except (OSError, ValueError) as err:
            raise StoreError(f"{path}: unreadable manifest ({_first_line(err)}); {_REDO}") from None
        problem = _manifest_problem(manifest)
        if problem:
            raise StoreError(f"{path}: not a batch manifest ({problem}); {_REDO}")
        return manifest

    def write_frame(self, name: str, frame: pd.DataFrame) -> None:
        """Write a Parquet table at the top of the store."""
        write_atomic(self.root / name, parquet_bytes(frame))

    def read_frame(self, name: str) -> pd.DataFrame:
        """Read a Parquet table at the top of the store."""
        path = self.root / name
        if not path.is_file():
            raise StoreError(f"{self.root}: {name} is missing: not a complete results directory")
        try:
            return pq.read_table(path, page_checksum_verification=True).to_pandas()
        except (pa.ArrowException, OSError, ValueError) as err:
            raise StoreError(f"{path}: damaged ({_first_line(err)}); {_REDO}") from None

    def read_run(self, run_id: int) -> pd.DataFrame:
        """One run's rows (``StoreError`` naming the file if it is damaged)."""
        path = self.run_path(run_id)
        try:
            return pq.read_table(path, page_checksum_verification=True).to_pandas()
        except (pa.ArrowException, OSError, ValueError) as err:
            raise StoreError(
                f"{path}: damaged run file ({_first_line(err)}); run innosim batch with "
                f"--out {self.root} --resume to make it again"
            ) from None

    @contextlib.contextmanager
    def lock(self):
        """Hold the directory's lock while a batch writes; refuse at once if another holds it."""
        with _Lock(self.root / LOCK):
            yield


_REDO = "start the batch over with --force, or choose another --out"


def read_results(root: str | Path) -> pd.DataFrame:
    """Every finished run of a results directory, one row per (run, year), sorted."""
    store = ResultStore(Path(root))
    ids = sorted(store.finished())
    if not ids:
        return pd.DataFrame()
    frame = pd.concat([store.read_run(i) for i in ids], ignore_index=True)
    return frame.sort_values(["run_id", "year"], kind="stable").reset_index(drop=True)


def parquet_bytes(frame: pd.DataFrame, meta: dict | None = None) -> bytes:
    """``frame`` as Parquet bytes, with ``meta`` as JSON under the ``innosim`` key.

    Pages carry CRC checksums, so a bit flipped on disk is found when the file is read.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if meta is not None:
        merged = dict(table.schema.metadata or {})
        merged[_META_KEY] = json.dumps(meta, default=str).encode("utf-8")
        table = table.replace_schema_metadata(merged)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, write_page_checksum=True)
    return buffer.getvalue()


# ------------------------------------------------------------------- the output directory


def check_output_dir(root: Path, needed_bytes: int) -> None:
    """Refuse, before the first run, an ``--out`` that cannot take the batch.

    Checks what can be known beforehand: a special filesystem, a path through a regular file,
    a directory that is not writable, too little free space for the estimated results.
    """
    resolved = root.resolve()
    for special in SPECIAL_ROOTS:
        if resolved == special or special in resolved.parents:
            raise StoreError(
                f"--out {root}: {special} is a special system filesystem, not a place for "
                "results; choose a directory on a disk"
            )
    existing = resolved
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise StoreError(
            f"--out {root}: {existing} is a file, not a directory; choose another --out"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise StoreError(
            f"--out {root}: {existing} is not writable (permission denied); choose a "
            "directory you can write to"
        )
    free = shutil.disk_usage(existing).free
    if free < needed_bytes:
        raise StoreError(
            f"--out {root}: the results need about {_megabytes(needed_bytes)} and only "
            f"{_megabytes(free)} is free on that disk; free some space or choose another --out"
        )


def _megabytes(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


class _Lock:
    """An exclusive ``flock`` on a file; the holder's pid, host and start time are in it."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def __enter__(self):
        import fcntl

        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "unknown"
                os.close(fd)
                if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise StoreError(
                        f"{self.path.parent}: another innosim batch is writing here ({holder});"
                        " wait for it to end, or choose another --out"
                    ) from None
                raise disk_error(self.path, err) from None
            # The holder unlinks the file before it lets go: a lock on an unlinked file is
            # worthless, so take the lock again on the file now at the path.
            if _same_file(fd, self.path):
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {stamp}\n".encode())
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)
        os.close(self.fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino)


def _is_temporary(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _manifest_problem(manifest) -> str | None:
    """What keeps ``manifest`` from being one this version reads, or None."""
    if not isinstance(manifest, dict):
        return f"a JSON {type(manifest).__name__}, not an object"
    if manifest.get("format") != FORMAT:
        return f"format {show(manifest.get('format'))}, expected {show(FORMAT)}"
    shapes = {"experiment": dict, "scenario": dict, "runs": list, "sessions": list}
    for key, kind in shapes.items():
        if not isinstance(manifest.get(key), kind):
            return f"{key} is missing or not a JSON {'object' if kind is dict else 'array'}"
    total = manifest.get("runs_total")
    if not isinstance(total, int) or len(manifest["runs"]) != total:
        return "runs does not list runs_total entries"
    if not all(isinstance(r, dict) for r in manifest["runs"]):
        return "an entry of runs is not an object"
    for key in ("years", "target_year", "targets"):
        if key not in manifest["scenario"]:
            return f"scenario.{key} is missing"
    return None
