"""Calibration files: what ``innosim calibrate`` writes and scenarios and experiments read.

A calibration file is TOML or JSON (by its suffix) holding one object:

* ``format = "innosim-calibration/1"``;
* ``values``: ``{dotted key: number}``, the fitted values (posterior medians). A scenario's
  ``[calibration] file`` applies them over the declared defaults and the scenario's own values;
* ``posterior``: the final ABC-SMC population, as columns: ``weight`` (importance weights),
  ``distance`` and one column per fitted key. An experiment's ``[uncertainties] from`` resamples
  it, so its runs carry the parameter uncertainty of the fit;
* ``parameters``, ``distance``, ``check``, ``provenance``: what was fitted over which ranges, how
  close the fit came, the check on fitted and held-out rows, and where every number came from
  (docs/calibration.md).

This module only reads and writes the format (one-line ``InputError``s naming the file and the
field); it imports nothing heavy, because every scenario load may go through it.
"""

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.atomic import write_atomic
from sim.schema import InputError, show

FORMAT = "innosim-calibration/1"
SUFFIXES = (".toml", ".json")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Posterior:
    """A weighted sample of the fitted parameters (the final ABC-SMC population)."""

    keys: tuple[str, ...]
    values: np.ndarray  # (particles, keys)
    weights: np.ndarray  # (particles,), summing to 1

    def draw(self, u: np.ndarray) -> np.ndarray:
        """Particle indices for points ``u`` of the unit interval (inverse CDF of the weights).

        Evenly spread ``u`` (a Latin hypercube column) give a stratified resample: each particle
        is drawn about ``weight x len(u)`` times.
        """
        edges = np.cumsum(self.weights)
        edges[-1] = 1.0
        index = np.searchsorted(edges, np.asarray(u, dtype=float), side="right")
        return np.minimum(index, len(edges) - 1)


@dataclass(frozen=True)
class CalibrationFile:
    """A validated calibration file."""

    path: Path
    sha256: str
    values: dict[str, float]
    posterior: Posterior | None
    document: dict


def read_calibration(path: Path, source: str) -> CalibrationFile:
    """Read and check a calibration file; ``source`` names it in errors (``InputError``)."""
    path = Path(path)
    where = f"{source} ({path})" if str(path) != source else source
    if path.suffix not in SUFFIXES:
        raise InputError(f"{where}: a calibration file ends in .toml or .json")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{where}: file not found") from None
    except OSError as err:
        raise InputError(f"{where}: cannot read file: {err.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{where}: not UTF-8 text") from None
    try:
        if path.suffix == ".json":
            doc = json.loads(text)
        else:
            import tomllib

            doc = tomllib.loads(text)
    except ValueError as err:  # json.JSONDecodeError and tomllib.TOMLDecodeError
        kind = "JSON" if path.suffix == ".json" else "TOML"
        raise InputError(f"{where}: invalid {kind}: {err}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else doc
        raise InputError(
            f"{where}: format = {show(found)}: not a calibration file written by innosim "
            f"calibrate (format {show(FORMAT)})"
        )
    values = _values(doc.get("values"), where)
    posterior = _posterior(doc.get("posterior"), values, where)
    return CalibrationFile(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        values=values,
        posterior=posterior,
        document=doc,
    )


def _values(table: Any, where: str) -> dict[str, float]:
    if not isinstance(table, dict) or not table:
        found = "is missing" if table is None else f"= {show(table)}"
        raise InputError(
            f"{where}: values {found}: must be a table of dotted scenario keys = numbers"
        )
    out = {}
    for key, value in table.items():
        out[key] = _number(value, f'{where}: values."{key}"')
    return out


def _posterior(table: Any, values: dict[str, float], where: str) -> Posterior | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        raise InputError(f"{where}: posterior: must be a table of columns (weight, keys)")
    weights = _column(table, "weight", where)
    if not weights.size or np.any(weights < 0) or weights.sum() <= 0:
        raise InputError(
            f"{where}: posterior.weight: must be numbers >= 0 with a positive sum, one a particle"
        )
    columns = []
    for key in values:
        column = _column(table, key, where)
        if column.size != weights.size:
            raise InputError(
                f'{where}: posterior."{key}": has {column.size} values, posterior.weight '
                f"{weights.size}; one value a particle"
            )
        columns.append(column)
    return Posterior(tuple(values), np.column_stack(columns), weights / weights.sum())


def _column(table: dict, key: str, where: str) -> np.ndarray:
    name = key if _BARE_KEY.match(key) else f'"{key}"'
    column = table.get(key)
    if not isinstance(column, list) or not column:
        raise InputError(f"{where}: posterior.{name}: must be an array of numbers")
    return np.array([_number(v, f"{where}: posterior.{name}[{i}]") for i, v in enumerate(column)])


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{where} = {show(value)}: must be a finite number")
    return float(value)


# ------------------------------------------------------------------------------- writing


def write_calibration(path: Path, document: dict) -> None:
    """Write ``document`` atomically, as TOML or JSON by ``path``'s suffix."""
    if Path(path).suffix == ".json":
        text = json.dumps(document, indent=1, allow_nan=False) + "\n"
    else:
        text = to_toml(document)
    write_atomic(Path(path), text.encode("utf-8"))


def to_toml(document: dict) -> str:
    """``document`` as TOML: scalars and arrays first, then tables, then arrays of tables.

    Takes what calibration documents hold: strings, numbers, booleans, arrays of scalars,
    tables and arrays of tables; ``None`` values are left out (TOML has no null).
    """
    lines: list[str] = []
    _table(document, [], lines)
    return "\n".join(lines).strip() + "\n"


def _table(table: dict, path: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in table.items() if v is not None and not _is_table(v)}
    tables = {k: v for k, v in table.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in table.items() if _is_table_array(v)}
    if path and (scalars or not (tables or arrays)):
        lines += ["", f"[{'.'.join(path)}]"]
    for key, value in scalars.items():
        lines.append(f"{_key(key)} = {_scalar(value)}")
    for key, value in tables.items():
        _table(value, [*path, _key(key)], lines)
    for key, items in arrays.items():
        for item in items:
            lines += ["", f"[[{'.'.join([*path, _key(key)])}]]"]
            lines += [f"{_key(k)} = {_scalar(v)}" for k, v in item.items() if v is not None]


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) or _is_table_array(value)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
