"""Designs made elsewhere: a CSV or Parquet table of runs named in an experiment's ``[design]``.

    [design]
    file = "sobol_design.csv"          # relative to the experiment file; .csv or .parquet
    levers = ["policy.vouchers.budget"] # columns the policy controls (the rest: uncertainties)

One row per experiment; columns are dotted scenario keys (as ``load_scenario`` and
``sim.ema.to_design`` name them), plus optionally ``seed`` (then each row is one run and
``[replications]`` is not given) and ``sample_id`` (which rows share an uncertainty point).
Without ``seed`` every row runs on every seed of ``[replications]`` (common random numbers).

Rows keep their order. A policy mix is a distinct combination of lever values; a sample point
is a distinct combination of uncertainty values (or the ``sample_id`` column), so mixes are
compared on the same points and seeds; in a ``sobol`` or ``morris`` design each row is a point
of its own. Floats in whole-number columns are rounded by
``sim.schema.whole_number``, the batch samplers' rule. ``[sampler] method`` says how the table
was drawn: ``sobol`` (SALib's Saltelli order, rows untouched) or ``morris`` give their indices
in the report.
"""

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.schema import InputError, Loader, plain, show, whole_number

SEED = "seed"
SAMPLE_ID = "sample_id"
MAX_ROWS = 1_000_000
DESIGN_KEYS = {"file", "levers"}


def read_table(path: Path, source: str) -> pd.DataFrame:
    """Read a design table (``InputError`` naming the file when it cannot)."""
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise InputError(f"{source}: design.file = {show(str(path))}: must be a .csv or .parquet")
    if not path.is_file():
        raise InputError(f"{source}: design.file = {show(str(path))}: file not found")
    try:
        if path.suffix.lower() == ".csv":
            table = pd.read_csv(path)
        else:
            table = pd.read_parquet(path)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise InputError(f"{path}: cannot read the design table: {err}") from None
    if table.empty:
        raise InputError(f"{path}: the design table has no rows")
    if len(table) > MAX_ROWS:
        raise InputError(f"{path}: {len(table):,} rows; at most {MAX_ROWS:,}")
    return table.reset_index(drop=True)


def cast_table(table: pd.DataFrame, kinds: dict[str, type], source: str) -> pd.DataFrame:
    """Values as the scenario parameters' types; NaN, text in numbers, bad seeds are errors."""
    loader = Loader(source)
    out = {}
    for column in table.columns:
        kind = int if column in (SEED, SAMPLE_ID) else kinds[column]
        out[column] = [
            _cast(plain(v), kind, f"{show(column)}[row {i}]", loader)
            for i, v in enumerate(table[column].tolist())
        ]
    frame = pd.DataFrame(out, columns=list(table.columns))
    for column in (SEED, SAMPLE_ID):
        if column in frame and not frame[column].between(0, 2**63 - 1).all():
            row = int(np.flatnonzero(~frame[column].between(0, 2**63 - 1))[0])
            loader.fail(f"{show(column)}[row {row}]", frame[column][row], "must be >= 0")
    return frame


def _cast(value: Any, kind: type, where: str, loader: Loader) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        loader.fail(where, "", "empty cell; every row needs every column")
    if kind is bool:
        if not isinstance(value, bool):
            loader.fail(where, value, "must be true or false")
        return value
    if kind is str:
        return str(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        loader.fail(where, value, "must be a number")
    if not math.isfinite(value):
        loader.fail(where, value, "must be a finite number")
    return whole_number(value) if kind is int else float(value)


def table_runs(
    table: pd.DataFrame,
    levers: list[str],
    uncertainties: list[str],
    seeds: tuple[int, ...],
    rows_are_points: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs of a design table, and its sample points in the unit cube.

    ``rows_are_points`` (sobol and morris designs): each row is its own sample point, in the
    sampler's order, even where rounding made two rows equal.

    Returns (runs: DESIGN_COLUMNS + factor columns, unit: sample_id + uncertainties scaled to
    [0, 1] by their range in the table).
    """
    mix = _first_seen(table, levers)
    if SAMPLE_ID in table:
        sample = table[SAMPLE_ID].to_numpy()
    elif rows_are_points:
        sample = np.arange(len(table), dtype="int64")
    else:
        sample = _first_seen(table, uncertainties)
    factors = table[levers + uncertainties]
    if SEED in table:
        rows = pd.DataFrame({"policy_mix_id": mix, "sample_id": sample, "seed": table[SEED]})
        rows["replicate"] = rows.groupby(["policy_mix_id", "sample_id"]).cumcount()
        runs = pd.concat([rows, factors], axis=1)
    else:
        repeat = np.repeat(np.arange(len(table)), len(seeds))
        runs = factors.iloc[repeat].reset_index(drop=True)
        runs.insert(0, "seed", np.tile(np.asarray(seeds, dtype="int64"), len(table)))
        runs.insert(0, "replicate", np.tile(np.arange(len(seeds)), len(table)))
        runs.insert(0, "sample_id", np.repeat(np.asarray(sample), len(seeds)))
        runs.insert(0, "policy_mix_id", np.repeat(np.asarray(mix), len(seeds)))
    runs.insert(0, "run_id", np.arange(len(runs)))
    columns = ["run_id", "policy_mix_id", "sample_id", "replicate", "seed"]
    runs[columns] = runs[columns].astype("int64")
    runs = runs[columns + levers + uncertainties]
    points = pd.concat([pd.Series(sample, name=SAMPLE_ID), table[uncertainties]], axis=1)
    points = points.drop_duplicates(SAMPLE_ID).sort_values(SAMPLE_ID).reset_index(drop=True)
    for key in uncertainties:
        values = points[key].astype(float)
        span = values.max() - values.min()
        points[key] = (values - values.min()) / span if span > 0 else 0.0
    points[SAMPLE_ID] = points[SAMPLE_ID].astype("int64")
    return runs.reset_index(drop=True), points


def _first_seen(table: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """0, 1, 2, ... for distinct combinations of ``keys``, in order of first appearance."""
    if not keys:
        return np.zeros(len(table), dtype="int64")
    codes = table[keys].astype(str).agg("\x1f".join, axis=1)
    return pd.factorize(codes)[0].astype("int64")
