"""Validation: a scenario's runs over many seeds against observed values, indicator by year.

An observed file is a CSV with columns ``id, year, value`` (others, such as ``source``,
``unit`` or ``note``, are ignored): one observation per indicator id (``sim.indicators``,
computed each 31 December) and year. An optional ``month`` column (1-12, empty = 12) dates an
observation at the end of that month: statistics are often reported at mid-year. A run's
value there is interpolated linearly between the 31 Decembers around it (for a flow, the same
line gives the flow over the twelve months to that month's end, at an even pace within each
year). For each observation the runs give the median over seeds
and the 5-95% band (``numpy.quantile``, linear interpolation: with few seeds the band is close
to the range of the runs; an observation within a relative 1e-9 of it counts as inside, so
round-off cannot push a value out of a band of zero width); the relative error is
``(median - observed) / |observed|`` in percent. Summaries over rows: the mean absolute
percentage error (MAPE) and the band coverage (the share of observations inside their band),
overall and per indicator id.

Rows can be held out (by year or by indicator id): they are reported, but summarised apart,
for the out-of-sample check of a calibration. Rows of the baseline year (year 0, 31 December)
are reported and summarised apart too: the runs start from them (the counts by construction,
the ratios through the closure), so they say nothing of the dynamics and would flatter the
scores. Rows dated before the baseline year's 31 December are history the runs start after:
``read_observed`` leaves them out when asked to (``left_out``), so a series that begins before
a scenario's start can be validated as it is; the command lists them.

What the user gives is checked before any run (``read_observed``, ``hold_outs``), with one-line
``InputError``s naming the file, the line and field, the value and what is allowed; only an
observation the runs have no value for (a flow in the baseline year) is found after them.
"""

import csv
import difflib
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calendar import year_ends
from sim.indicators import INDICATORS
from sim.schema import InputError

COLUMNS = ("id", "year", "value")
BAND = (0.05, 0.95)  # quantiles over seeds
# An observation within this relative distance of the band counts as inside: a band of zero
# width (a year-0 value the model reproduces by construction) must not miss it by round-off.
BAND_TOLERANCE = 1e-9
KNOWN_SHOWN = 8  # indicator ids listed in an "unknown id" error


@dataclass(frozen=True)
class Observation:
    """One row of an observed file (``line``: its line in the file, the header is line 1)."""

    id: str
    year: int
    value: float
    line: int
    month: int = 12  # observed at the end of this month of ``year``


@dataclass(frozen=True)
class Row:
    """One observation beside the runs: median and band over seeds, error, in band or not."""

    id: str
    year: int
    observed: float
    median: float
    lo: float
    hi: float
    error_percent: float | None  # None when observed is 0 and the median is not
    in_band: bool
    held_out: bool
    month: int = 12
    baseline: bool = False  # of the baseline year (year 0): summarised apart, not scored

    @property
    def when(self) -> str:
        """``2021``, or ``2021-06`` for an observation at the end of June."""
        return str(self.year) if self.month == 12 else f"{self.year}-{self.month:02d}"

    def to_json(self) -> dict:
        """The documented JSON row."""
        return {
            "id": self.id,
            "year": self.year,
            "month": self.month,
            "observed": self.observed,
            "median": self.median,
            "lo": self.lo,
            "hi": self.hi,
            "error_percent": self.error_percent,
            "in_band": self.in_band,
            "held_out": self.held_out,
        }


@dataclass(frozen=True)
class Score:
    """MAPE and band coverage over some rows (None when there are none to score)."""

    rows: int
    mape_percent: float | None  # over rows with a defined error
    band_coverage: float | None  # share of rows in band, 0 to 1
    in_band: int

    def to_json(self) -> dict:
        """``{"rows", "mape_percent", "band_coverage"}``."""
        return {
            "rows": self.rows,
            "mape_percent": self.mape_percent,
            "band_coverage": self.band_coverage,
        }


@dataclass(frozen=True)
class Summary:
    """A score over all rows of a set (fitted or held out) and one per indicator id."""

    overall: Score
    by_id: dict[str, Score]

    def to_json(self) -> dict:
        """``{"rows", "mape_percent", "band_coverage", "by_id": {<id>: {...}}}``."""
        return self.overall.to_json() | {
            "by_id": {key: score.to_json() for key, score in self.by_id.items()}
        }


@dataclass(frozen=True)
class Validation:
    """The rows of an observed file against a scenario's runs, and their summaries."""

    scenario: str
    observed_file: str
    seeds: list[int]
    months: int
    rows: list[Row]
    baseline_year: int | None = None
    left_out: tuple[Observation, ...] = ()  # rows dated before year 0, not compared

    @property
    def summary(self) -> Summary:
        """Rows neither held out nor of the baseline year."""
        return summarise([r for r in self.rows if not r.held_out and not r.baseline])

    @property
    def held_out(self) -> Summary:
        """Held-out rows not of the baseline year."""
        return summarise([r for r in self.rows if r.held_out and not r.baseline])

    @property
    def baseline(self) -> Summary:
        """Rows of the baseline year (year 0), reproduced by construction."""
        return summarise([r for r in self.rows if r.baseline])

    def to_json_dict(self) -> dict:
        """The documented JSON object; NaN never appears (undefined values are null)."""
        return {
            "scenario": self.scenario,
            "observed_file": self.observed_file,
            "seeds": self.seeds,
            "months": self.months,
            "band": list(BAND),
            "rows": [r.to_json() for r in self.rows],
            "summary": self.summary.to_json(),
            "held_out": self.held_out.to_json(),
            "baseline_year": self.baseline_year,
            "baseline": self.baseline.to_json(),
            "left_out": [
                {"line": o.line, "id": o.id, "year": o.year, "month": o.month, "value": o.value}
                for o in self.left_out
            ],
        }


# ------------------------------------------------------------------------- the observed file


def simulated_years(scenario, months: int | None = None) -> list[int]:
    """The years a run reports: the baseline year, then every 31 December within ``months``."""
    info = scenario.scenario
    horizon = info.horizon_months if months is None else months
    return [scenario.baseline_year, *year_ends(info.start_year, info.start_month, horizon)]


def read_observed(
    path: Path,
    years: Sequence[int],
    scenario_name: str,
    left_out: list[Observation] | None = None,
) -> list[Observation]:
    """Read and check an observed CSV against the indicator ids and the simulated ``years``.

    Raises ``InputError`` (one line: the file, the line and field, the value, what is allowed)
    on a missing or unreadable file, text that is not UTF-8 (a UTF-8 byte-order mark is
    accepted), an empty file or one without rows, a missing or repeated column, an empty,
    non-numeric or non-finite value, a year that is not a whole number or not simulated, an
    id the model does not compute, or an (id, year) pair given twice. A row dated before the
    first simulated 31 December (``years[0]``, the baseline year) is an error too, unless
    ``left_out`` is a list: then it is checked like the others and put there instead of in the
    result, and only a file with no row left is an error.
    """
    where = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{where}: file not found") from None
    except OSError as err:
        raise InputError(f"{where}: cannot read file: {err.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{where}: not UTF-8 text (byte {err.start}: {data[err.start : err.start + 1]!r}); "
            "save the CSV as UTF-8"
        ) from None
    if not text.strip():
        raise InputError(f"{where}: empty file; needs a header id,year,value and one row per value")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
        records = [(reader.line_num, record) for record in reader if any(c.strip() for c in record)]
    except csv.Error as err:
        raise InputError(f"{where}: line {reader.line_num}: not valid CSV: {err}") from None
    for name in COLUMNS:
        if name not in header:
            raise InputError(
                f"{where}: column {name!r} is missing; has {', '.join(header) or 'none'}; "
                "needs id, year, value (other columns are ignored)"
            )
        if header.count(name) > 1:
            raise InputError(f"{where}: column {name!r} appears {header.count(name)} times")
    if header.count("month") > 1:
        raise InputError(f"{where}: column 'month' appears {header.count('month')} times")
    if not records:
        raise InputError(f"{where}: no rows after the header; needs one row per observed value")
    position = {name: header.index(name) for name in COLUMNS}
    span = _year_span(years, scenario_name)
    seen: dict[tuple[str, int], int] = {}
    observations = []
    for line, record in records:
        cell = {k: (record[i].strip() if i < len(record) else "") for k, i in position.items()}
        at = f"{where}: line {line}"
        key = cell["id"]
        if key not in INDICATORS:
            raise InputError(f"{at} id = {key!r}: {_unknown_id(key)}")
        year = _year(cell["year"], f"{at} year")
        month = _month(record, header, f"{at} month")
        value = _value(cell["value"], f"{at} value")
        before_year_0 = year < years[0] or (year == years[0] and month < 12)
        if before_year_0 and left_out is None:
            if year == years[0]:  # a month within the baseline year
                raise InputError(
                    f"{at} year = {year}, month = {month}: before the first simulated 31 "
                    f"December ({years[0]}); a value within a year is interpolated from the 31 "
                    "Decembers around it"
                )
            raise InputError(f"{at} year = {year}: not simulated; {span}")
        if year not in years and not before_year_0:
            raise InputError(f"{at} year = {year}: not simulated; {span}")
        if (key, year) in seen:
            raise InputError(
                f"{at}: id = {key!r}, year = {year} repeats line {seen[key, year]}; "
                "one value per indicator and year"
            )
        seen[key, year] = line
        observation = Observation(key, year, value, line, month)
        (left_out if before_year_0 else observations).append(observation)
    if not observations:
        raise InputError(
            f"{where}: every row is dated before 31 December {years[0]}, the baseline year of "
            f"scenario {scenario_name}, which its runs start from; nothing is left to compare"
        )
    return observations


def _month(record: list[str], header: list[str], where: str) -> int:
    """The optional ``month`` cell: 1-12; a missing column or an empty cell is 12."""
    if "month" not in header:
        return 12
    i = header.index("month")
    text = record[i].strip() if i < len(record) else ""
    if not text:
        return 12
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not (number.is_integer() and 1 <= number <= 12):
        raise InputError(
            f"{where} = {text!r}: must be a month 1-12 (the observation is at its end) "
            "or empty for 31 December"
        )
    return int(number)


def _year_span(years: Sequence[int], scenario_name: str) -> str:
    first, last = years[0], years[-1]
    if first == last:
        return f"scenario {scenario_name} reports {first} only (its baseline year)"
    return f"scenario {scenario_name} simulates {first} (the baseline year) to {last}"


def _unknown_id(key: str) -> str:
    if not key:
        return "empty; every row needs an indicator id"
    close = difflib.get_close_matches(key, INDICATORS, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    known = ", ".join(list(INDICATORS)[:KNOWN_SHOWN])
    return (
        f"not an indicator the model computes; {hint}known ids: {known}, ... "
        f"({len(INDICATORS)} in all, listed in sim/indicators.py)"
    )


def _year(text: str, where: str) -> int:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number.is_integer()):
        raise InputError(f"{where} = {text!r}: must be a whole year, e.g. 2021")
    return int(number)


def _value(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where} = {text!r}: must be a number") from None
    if not math.isfinite(value):
        raise InputError(f"{where} = {text!r}: must be a finite number")
    return value


def hold_outs(
    tokens: Iterable[str], observations: Sequence[Observation], where: str
) -> tuple[set[int], set[str]]:
    """``--hold-out`` values as (years, ids); each must match some row of the observed file."""
    years = sorted({o.year for o in observations})
    ids = list(dict.fromkeys(o.id for o in observations))
    held_years, held_ids = set(), set()
    for token in tokens:
        text = token.strip()
        if text.isdigit():
            if int(text) not in years:
                raise InputError(
                    f"--hold-out {token}: no row of {where} has year {text}; "
                    f"its years: {', '.join(map(str, years))}"
                )
            held_years.add(int(text))
        elif text in ids:
            held_ids.add(text)
        else:
            raise InputError(
                f"--hold-out {token}: not a year or an indicator id of {where}; "
                f"its years: {', '.join(map(str, years))}; its ids: {', '.join(ids)}"
            )
    return held_years, held_ids


# ------------------------------------------------------------------------------ the scores


def compare(
    observations: Sequence[Observation],
    runs: pd.DataFrame,
    where: str,
    held_years: set[int] = frozenset(),
    held_ids: set[str] = frozenset(),
) -> list[Row]:
    """One ``Row`` per observation from ``runs`` (``sim.effects.stacked``: year, ids, seed).

    An observation the runs have no value for on any seed (a flow over the year, such as
    ``births``, in the baseline year) is an ``InputError`` naming its line.
    """
    rows = []
    by_year = {
        int(year): group.sort_values("seed", kind="stable")
        for year, group in runs.groupby("year", sort=False)
    }
    baseline_year = min(by_year) if by_year else None
    for o in observations:
        values = run_values(by_year, o)
        values = values[~np.isnan(values)]
        if values.size == 0:
            missing = o.year if o.month == 12 else f"{o.year - 1} or {o.year}"
            raise InputError(
                f"{where}: line {o.line} id = {o.id!r}, year = {o.year}: the runs have no value "
                f"of {o.id} in {missing} (a flow over a year has none in the baseline year)"
            )
        lo, median, hi = (float(q) for q in np.quantile(values, [BAND[0], 0.5, BAND[1]]))
        rows.append(
            Row(
                id=o.id,
                year=o.year,
                observed=o.value,
                median=median,
                lo=lo,
                hi=hi,
                error_percent=relative_error(median, o.value),
                in_band=in_band(o.value, lo, hi),
                held_out=o.year in held_years or o.id in held_ids,
                month=o.month,
                baseline=o.year == baseline_year and o.month == 12,
            )
        )
    return rows


def run_values(by_year: dict[int, pd.DataFrame], o: Observation) -> np.ndarray:
    """Each run's value of ``o.id`` at the end of ``o.month`` of ``o.year``, in seed order.

    ``by_year``: the runs' rows of each year, sorted by seed. At 31 December the run's own
    value; within a year, the line between the run's values on the 31 Decembers around it.
    """

    def at_year_end(year: int) -> np.ndarray:
        group = by_year.get(year)
        return np.empty(0) if group is None else group[o.id].to_numpy(dtype=float)

    end = at_year_end(o.year)
    if o.month == 12:
        return end
    return at_year_end(o.year - 1) + o.month / 12.0 * (end - at_year_end(o.year - 1))


def in_band(observed: float, lo: float, hi: float) -> bool:
    """``lo <= observed <= hi``, up to ``BAND_TOLERANCE`` relative to the largest magnitude."""
    slack = BAND_TOLERANCE * max(abs(observed), abs(lo), abs(hi))
    return bool(lo - slack <= observed <= hi + slack)


def relative_error(median: float, observed: float) -> float | None:
    """``100 (median - observed) / |observed|``; 0 when both are 0, None when only observed is."""
    if observed == 0:
        return 0.0 if median == 0 else None
    return 100.0 * (median - observed) / abs(observed)


def score(rows: Sequence[Row]) -> Score:
    """MAPE over the rows with a defined error, and the share of rows in band."""
    errors = [abs(r.error_percent) for r in rows if r.error_percent is not None]
    inside = sum(r.in_band for r in rows)
    return Score(
        rows=len(rows),
        mape_percent=sum(errors) / len(errors) if errors else None,
        band_coverage=inside / len(rows) if rows else None,
        in_band=inside,
    )


def summarise(rows: Sequence[Row]) -> Summary:
    """Overall and per indicator id (ids in order of first appearance)."""
    ids = dict.fromkeys(r.id for r in rows)
    return Summary(score(rows), {key: score([r for r in rows if r.id == key]) for key in ids})


def validate(
    scenario,
    observations: Sequence[Observation],
    where: str,
    seeds: Sequence[int],
    months: int | None = None,
    held_years: set[int] = frozenset(),
    held_ids: set[str] = frozenset(),
    on_run=None,
    left_out: Sequence[Observation] = (),
) -> Validation:
    """Run ``scenario`` on ``seeds`` and compare the runs with ``observations``.

    ``left_out``: the rows ``read_observed`` left out (dated before year 0), reported only.
    """
    from sim.effects import run_seeds, stacked

    runs = stacked(run_seeds(scenario, seeds, months, on_run))
    return Validation(
        scenario=scenario.scenario.name,
        observed_file=where,
        seeds=list(seeds),
        months=scenario.scenario.horizon_months if months is None else months,
        rows=compare(observations, runs, where, held_years, held_ids),
        baseline_year=scenario.baseline_year,
        left_out=tuple(left_out),
    )
