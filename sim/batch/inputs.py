"""What a batch's results depend on, as digests: ``--resume`` refuses when any of them changed.

A run's result is a function of the experiment file, the base scenario, every data file the
scenario reads, and the model's code and numerical libraries. Their SHA-256 digests go into
the manifest when a batch starts; a resume compares them with the files as they are now, so a
dataset never silently mixes runs of two models.

Data files are found from the declarations, not by a list kept here: any scenario field
declared with ``unit="path"`` (today ``targets.file``; observed series and posteriors when they
arrive) names a file relative to the scenario, and a lever or uncertainty on such a field adds
each file it can take. ``referenced_files`` is the one place to extend for files an experiment
names itself.

A batch also keeps a copy of these files (``copy_inputs``: ``inputs/`` in the results
directory, the experiment itself as ``experiment.toml``), so that a report is made from the
files the runs were made with, wherever the originals are now and whatever became of them.
The copies keep their places relative to one another, so a scenario's relative paths (its plan
table) lead to the copies.
"""

import dataclasses
import hashlib
import importlib.metadata
import os
import platform
import typing
from pathlib import Path

import sim
from sim.atomic import write_atomic
from sim.batch.experiment import Experiment

# Libraries whose version can change a model's numbers (floating point, random draws).
NUMERIC_LIBRARIES = ("numpy", "numba", "scipy", "mesa")
# Front ends: they present results but do not make them, so editing them keeps a batch
# resumable. Paths are relative to the ``sim`` package.
NOT_MODEL_CODE = (
    "batch/report.py",
    "batch/analysis.py",
    "batch/commands.py",
    "cli.py",
    "docs.py",
    "words.py",
)


def referenced_files(e: Experiment) -> dict[str, Path]:
    """Every file a run of ``e`` reads, by role: ``experiment``, ``scenario``, data files."""
    files = {"experiment": e.path, "scenario": e.scenario_path}
    files |= scenario_files(e.scenario, e.scenario_path)
    if e.posterior_path is not None:
        files["uncertainties.from"] = e.posterior_path
    base_dir = e.scenario_path.parent
    for factor in e.factors:
        if factor.key in files and factor.values is not None:
            for i, value in enumerate(factor.values):
                files[f"{factor.key}[{i}]"] = (base_dir / value).resolve()
    return files


def scenario_files(scenario, path: Path) -> dict[str, Path]:
    """The data files a scenario loaded from ``path`` reads, by dotted key (``targets.file``)."""
    return {key: (Path(path).parent / value).resolve() for key, value in _path_fields(scenario)}


def input_digests(e: Experiment) -> dict[str, dict]:
    """``{role: {"file", "sha256"}}`` for every file ``referenced_files`` lists."""
    return {
        role: {"file": str(path), "sha256": file_sha256(path)}
        for role, path in referenced_files(e).items()
    }


def files_to_copy(e: Experiment) -> dict[str, Path]:
    """The files a report reads again, by role: the base scenario, its data files, the design."""
    files = {role: path for role, path in referenced_files(e).items() if role != "experiment"}
    if e.design_path is not None:
        files["design.file"] = e.design_path
    return files


def copy_inputs(e: Experiment, root: Path, folder: str) -> dict[str, dict]:
    """Copy ``files_to_copy`` into ``root/folder``, in their places relative to one another.

    Returns the manifest's ``copies``: ``{role: {"file", "copy", "sha256"}}``, ``copy`` being
    relative to ``root``. Raises ``OSError`` if a copy cannot be written.
    """
    files = files_to_copy(e)
    anchor = Path(os.path.commonpath([path.parent for path in files.values()]))
    copies, written = {}, {}
    for role, path in files.items():
        if path not in written:
            data = path.read_bytes()
            copy = Path(folder) / path.relative_to(anchor)
            (root / copy).parent.mkdir(parents=True, exist_ok=True)
            write_atomic(root / copy, data)
            written[path] = (copy.as_posix(), hashlib.sha256(data).hexdigest())
        copy, digest = written[path]
        copies[role] = {"file": str(path), "copy": copy, "sha256": digest}
    return copies


def copies_in(root: Path, copies: dict[str, dict]) -> dict[Path, Path] | None:
    """``{original path: its copy}`` if every copy is there with its recorded SHA-256, else None."""
    found = {}
    for entry in copies.values():
        copy = root / entry["copy"]
        if file_sha256(copy) != entry["sha256"]:
            return None
        found[Path(entry["file"])] = copy
    return found


def changed_since(recorded: dict[str, dict], e: Experiment) -> list[str]:
    """Files ``e`` reads whose SHA-256 is not the one ``recorded`` (a manifest's ``inputs``)."""
    now = input_digests(e)
    return [
        now[role]["file"]
        for role in sorted(recorded)
        if role in now and now[role]["sha256"] != recorded[role].get("sha256")
    ]


def model_version() -> dict:
    """A digest of the model's source code, and the Python and numerical library versions."""
    package = Path(sim.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(package).as_posix()
        if name not in NOT_MODEL_CODE:
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return {
        "code_sha256": digest.hexdigest(),
        "python": platform.python_version(),
        **{lib: _version(lib) for lib in NUMERIC_LIBRARIES},
    }


def changes(recorded: dict, now: dict) -> list[str]:
    """What differs between the digests in a manifest and those of the files now."""
    found = []
    for role in sorted(set(recorded) | set(now)):
        old, new = recorded.get(role), now.get(role)
        if old is None or new is None:
            found.append(f"{role} {'added' if old is None else 'no longer read'}")
        elif isinstance(old, dict) and "sha256" in old:
            if old != new:
                found.append(f"{role} {new['file']} changed")
        elif role.endswith("sha256"):
            if old != new:
                found.append(f"{role.removesuffix('_sha256')} changed")
        elif old != new:
            found.append(f"{role} {old} -> {new}")
    return found


def file_sha256(path: Path) -> str | None:
    """The file's SHA-256, or None if it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _path_fields(obj, prefix: str = ""):
    """``(dotted key, value)`` of every field declared ``unit="path"`` in a scenario."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        if not f.init:
            continue
        key = f"{prefix}{f.name}"
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            yield from _path_fields(value, key + ".")
        elif f.metadata.get("unit") == "path" and isinstance(value, str) and value:
            yield key, value  # "" names no file (no [calibration] file)


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return None
