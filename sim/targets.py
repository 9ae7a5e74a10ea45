"""Plan tables and the scorecard that compares a run's final year with them."""

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from sim.indicators import indicator_kind
from sim.schema import InputError


@dataclass(frozen=True)
class PlanTarget:
    """One indicator of a plan: its baseline value and the value the plan aims at."""

    id: str
    name: str
    unit: str
    baseline: float
    target: float
    name_zh: str = ""  # the plan table's indicator_zh, when it has one


@dataclass(frozen=True)
class PlanTargets:
    """A plan table: targets for ``target_year`` against values in ``baseline_year``.

    ``rows`` have a target and are scored; ``baselines`` are rows whose target cell is empty:
    a baseline value the year-0 calibration reads (``get``), with nothing to score.
    """

    baseline_year: int
    target_year: int
    rows: tuple[PlanTarget, ...]
    baselines: tuple[PlanTarget, ...] = ()

    def get(self, indicator_id: str) -> PlanTarget | None:
        """The row for ``indicator_id``, scored or baseline only, if the plan has one."""
        return next((row for row in self.rows + self.baselines if row.id == indicator_id), None)


def read_plan_targets(path: Path, baseline_year: int, target_year: int, source: str) -> PlanTargets:
    """Read a plan CSV with columns ``id, indicator_en, unit, value_<base>, target_<year>``.

    An ``indicator_zh`` column, when present, gives the Chinese names reports show. A row
    whose target cell is empty is a baseline only (``PlanTargets.baselines``): the year-0
    calibration reads it, the scorecard leaves it out. Other columns are ignored.
    """
    base_col, target_col = f"value_{baseline_year}", f"target_{target_year}"
    where = f"{source}: targets.file ({path})"
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            why = {
                base_col: f" (the baseline year {baseline_year}: scenario.start_year - 1)",
                target_col: f" (targets.target_year = {target_year})",
            }
            for needed in ("id", "indicator_en", "unit", base_col, target_col):
                if needed not in columns:
                    raise InputError(
                        f"{where}: column {needed!r} is missing{why.get(needed, '')}; has {columns}"
                    )
            rows, baselines = [], []
            for line, record in enumerate(reader, start=2):
                cell = record[target_col]  # None when the line is short: not a number
                baseline_only = cell is not None and not cell.strip()
                row = PlanTarget(
                    id=record["id"],
                    name=record["indicator_en"],
                    unit=record["unit"],
                    baseline=_number(record[base_col], f"{where}: line {line} {base_col}"),
                    target=math.nan
                    if baseline_only
                    else _number(record[target_col], f"{where}: line {line} {target_col}"),
                    name_zh=(record.get("indicator_zh") or "").strip(),
                )
                (baselines if baseline_only else rows).append(row)
    except UnicodeDecodeError:
        raise InputError(f"{where}: not UTF-8 text") from None
    ids = [row.id for row in rows + baselines]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InputError(f"{where}: indicator ids appear twice: {', '.join(duplicates)}")
    return PlanTargets(baseline_year, target_year, tuple(rows), tuple(baselines))


def scorecard(plan: PlanTargets, final: dict[str, float], final_year: int) -> list[dict]:
    """Compare the final year's indicators with the plan: value, target, met, gap.

    Every plan target is an "at least" target; indicators the model does not compute are
    left out (docs/model.md lists them with the reason). ``kind`` says whether the indicator
    is an outcome the model simulates or an input a lever schedule sets (``INPUT_INDICATORS``).
    """
    card = []
    for row in plan.rows:
        if row.id not in final:
            continue
        value = final[row.id]
        if value is None or value != value:  # not observed (a flow in year 0)
            card.append(
                dict(
                    id=row.id,
                    name=row.name,
                    unit=row.unit,
                    baseline=row.baseline,
                    value=None,
                    target=row.target,
                    met=False,
                    gap=None,
                    kind=indicator_kind(row.id),
                )
            )
            continue
        met = bool(final_year >= plan.target_year and value >= row.target)
        card.append(
            {
                "id": row.id,
                "name": row.name,
                "unit": row.unit,
                "baseline": row.baseline,
                "value": value,
                "target": row.target,
                "met": met,
                "gap": row.target - value,
                "kind": indicator_kind(row.id),
            }
        )
    return card


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InputError(f"{where} = {text!r}: must be a number") from None
    if not math.isfinite(value):
        raise InputError(f"{where} = {text!r}: must be a finite number")
    return value
