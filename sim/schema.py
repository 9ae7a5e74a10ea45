"""A small declarative schema: typed dataclasses whose fields carry unit, bounds and source.

The same declarations validate input files (one-line errors naming file, field, value and what
is allowed) and generate the parameter table of docs/model.md, so the two cannot drift apart.

Inside a dataclass marked ``@schedulable`` (the policy levers), every number may also be given
as a step schedule ``{ year = value }``: each value is in force from its year until the next
year listed; before the first year the parameter is off (``off_value``). ``in_year`` resolves
the schedules for one year, so the code that reads a lever always sees a plain number.
"""

import dataclasses
import functools
import json
import math
import types
import typing
from pathlib import Path
from typing import Any

import numpy as np

from sim.calendar import scheduled

FIRST_YEAR, LAST_YEAR = 1900, 2200  # years a schedule may name
SCHEDULE_EXAMPLE = "{ 2021 = 1.0 }"


class InputError(Exception):
    """A user error in an input file or flag: reported as one line, exit status 2."""


def param(
    default: Any = dataclasses.MISSING,
    *,
    unit: str = "",
    source: str = "",
    lo: float | None = None,
    hi: float | None = None,
    doc: str = "",
    fit: tuple[float, float] | None = None,
) -> Any:
    """Declare a parameter with its unit, allowed range and the source of its default.

    ``fit=(low, high)`` marks an uncertain parameter that ``innosim calibrate`` fits to
    observed history by default, over that range (the prior; its source belongs in ``source``).
    """
    if fit is not None:
        low, high = fit
        if not (
            (lo is None or lo <= low) and low < high and (hi is None or high <= hi)
        ) or not isinstance(default, float):
            raise ValueError(f"fit={fit!r}: a range inside [{lo}, {hi}] of a float parameter")
    meta = {"unit": unit, "source": source, "lo": lo, "hi": hi, "doc": doc, "fit": fit}
    if isinstance(default, dict):
        return dataclasses.field(default_factory=lambda: dict(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def whole_number(value: float) -> int:
    """The whole number a sampled value stands for: the nearest one, halves to the even one.

    The one rounding rule for whole-number parameters fed by samplers: the batch samplers
    (``sim.batch.experiment``), design tables (``[design]``) and the EMA adapter (``sim.ema``)
    all use it, so a sampled 2.5 is the same run wherever it was drawn. Scenario files are not
    rounded: a whole-number parameter takes only whole numbers (``37`` or ``37.0``).
    """
    return round(float(value))


def plain(value: Any) -> Any:
    """A NumPy scalar (``np.int64(37)``, ``np.float32(0.5)``, ``np.bool_``) as a Python value.

    Samplers (EMA Workbench, SALib, SciPy) hand out NumPy scalars; a NumPy array becomes a
    list of Python values; anything else is returned as it is.
    """
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return value.tolist()
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()
    return value


def show(value: Any) -> str:
    """A value as the user wrote it in TOML/JSON terms."""
    value = plain(value)
    if isinstance(value, (dict, list, tuple)):
        try:
            return json.dumps(value)
        except TypeError:
            return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def schedulable(cls: type) -> type:
    """Mark dataclass ``cls``: its numbers, and those of the tables inside it, take schedules.

    A number of such a table is either a number (in force every year) or a table
    ``{ year = value }`` (see ``in_year``); each value has the parameter's type and bounds.
    """
    cls.__schedulable__ = True
    return cls


def is_schedulable(cls: type) -> bool:
    """True for a dataclass marked ``@schedulable``."""
    return bool(getattr(cls, "__schedulable__", False))


def off_value(whole: bool, meta: Any) -> float:
    """A scheduled parameter's value before the first year listed: the parameter off.

    0, or the lowest allowed value when 0 is below the declared range; a whole number for
    whole-number parameters.
    """
    lo = meta.get("lo")
    off = max(0, lo) if lo is not None else 0
    return int(off) if whole else float(off)


def in_year(obj: Any, year: int) -> Any:
    """Dataclass ``obj`` with each schedule replaced by its value in force in ``year``.

    Nested dataclasses are resolved too; ``obj`` itself is returned when it holds no schedule,
    so levers given as numbers are read exactly as they were given.
    """
    numbers, tables = _resolvable(type(obj))
    changes = {}
    for name, off in numbers:
        value = getattr(obj, name)
        if isinstance(value, dict):
            changes[name] = scheduled(value, year, off)
    for name in tables:
        value = getattr(obj, name)
        resolved = in_year(value, year)
        if resolved is not value:
            changes[name] = resolved
    return dataclasses.replace(obj, **changes) if changes else obj


@functools.cache
def _resolvable(cls: type) -> tuple[tuple, tuple]:
    """((name, off value) of each number, names of the nested tables) of dataclass ``cls``."""
    hints = typing.get_type_hints(cls)
    numbers, tables = [], []
    for f in parameters(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            tables.append(f.name)
        elif tp in (int, float) or typing.get_origin(tp) is dict:
            numbers.append((f.name, off_value(tp is int, f.metadata)))
    return tuple(numbers), tuple(tables)


def is_year_table(value: Any) -> bool:
    """True for a non-empty table whose keys are all years: a schedule, not a nested table."""
    return (
        isinstance(value, dict) and bool(value) and all(_year_key(key) is not None for key in value)
    )


class Loader:
    """Builds typed dataclasses from parsed TOML, raising ``InputError`` with full paths."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, value: Any, reason: str) -> typing.NoReturn:
        """Raise the one-line error for ``path = value``."""
        raise InputError(f"{self.source}: {path} = {show(value)}: {reason}")

    def build(
        self, cls: type, data: Any, path: str, schedules: bool = False, defaults: Any = None
    ) -> Any:
        """Build dataclass ``cls`` from the table ``data`` found at ``path``.

        ``schedules``: numbers may be schedules (inside a ``@schedulable`` table). ``defaults``:
        the table's declared default (an instance of ``cls``), whose values the keys ``data``
        omits take, as the parameter tables document them and a ``--set`` of one key keeps them;
        None: ``cls``'s own defaults.
        """
        if not isinstance(data, dict):
            self.fail(path, data, "must be a table")
        schedules = schedules or is_schedulable(cls)
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in parameters(cls)}
        for key, value in data.items():
            if key not in fields:
                allowed = ", ".join(sorted(fields))
                self.fail(_join(path, key), value, f"unknown key; allowed keys: {allowed}")
        kwargs = {}
        for name, f in fields.items():
            sub = _join(path, name)
            default = _default(f) if defaults is None else getattr(defaults, name)
            if name in data:
                tp = hints[name]
                if dataclasses.is_dataclass(tp) and default is not dataclasses.MISSING:
                    kwargs[name] = self.build(tp, plain(data[name]), sub, schedules, default)
                else:
                    kwargs[name] = self.value(tp, data[name], sub, f.metadata, schedules)
            elif default is dataclasses.MISSING:
                raise InputError(f"{self.source}: {sub}: required key is missing")
            elif defaults is not None:
                kwargs[name] = default
        return cls(**kwargs)

    def value(self, tp: Any, value: Any, path: str, meta: Any, schedules: bool = False) -> Any:
        """Check and convert one value against its declared type.

        NumPy scalars count as the Python values they hold, and a whole-number float (``37.0``)
        as a whole number: that is what samplers produce. With ``schedules`` a number may be a
        step schedule ``{ year = value }`` instead.
        """
        value = plain(value)
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if dataclasses.is_dataclass(tp):
            return self.build(tp, value, path, schedules)
        if schedules and tp in (int, float):
            if isinstance(value, dict):
                return self.schedule(tp, value, path, meta)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                kind = "a whole number" if tp is int else "a number"
                example = f"e.g. {SCHEDULE_EXAMPLE}"
                self.fail(path, value, f"must be {kind} or a table of year = value, {example}")
        if tp is bool:
            if not isinstance(value, bool):
                self.fail(path, value, "must be true or false")
            return value
        if tp is int:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(path, value, "must be a whole number")
            return self.bounded(value, path, meta)
        if tp is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.fail(path, value, "must be a number")
            if not math.isfinite(value):
                self.fail(path, value, "must be a finite number")
            return float(self.bounded(value, path, meta))
        if tp is str:
            if not isinstance(value, str):
                self.fail(path, value, "must be a string")
            return value
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            if not isinstance(value, list):
                self.fail(path, value, "must be an array of tables")
            return tuple(
                self.value(args[0], v, f"{path}[{i}]", meta, schedules) for i, v in enumerate(value)
            )
        if origin is tuple and args == (float, float):
            if not isinstance(value, list) or len(value) != 2:
                self.fail(path, value, "must be a range [low, high]")
            low = self.value(float, value[0], f"{path}[0]", meta)
            high = self.value(float, value[1], f"{path}[1]", meta)
            if low > high:
                self.fail(path, value, "low end must not exceed high end")
            return (low, high)
        if origin is dict and args == (int, float):
            return self.schedule(float, value, path, meta)
        if origin in (typing.Union, types.UnionType):
            raise TypeError(f"unsupported schema type {tp}")
        raise TypeError(f"unsupported schema type {tp} at {path}")

    def schedule(self, tp: type, value: Any, path: str, meta: Any) -> dict:
        """A step schedule ``{ year = value }``: years in range, each value a valid ``tp``."""
        if not isinstance(value, dict) or not value:
            self.fail(path, value, f"must be a table of year = value, e.g. {SCHEDULE_EXAMPLE}")
        out = {}
        for key, v in value.items():
            year = _year_key(key)
            if year is None:
                self.fail(
                    f"{path}.{key}", v, f"keys must be years between {FIRST_YEAR} and {LAST_YEAR}"
                )
            if year in out:
                self.fail(f"{path}.{key}", v, f"year {year} is listed twice")
            out[year] = self.value(tp, v, f"{path}.{key}", meta)
        return dict(sorted(out.items()))

    def bounded(self, value: float, path: str, meta: Any) -> float:
        """Check ``value`` against the declared bounds."""
        lo, hi = meta.get("lo"), meta.get("hi")
        if lo is not None and hi is not None and not lo <= value <= hi:
            if (lo, hi) == (0, 1):
                self.fail(path, value, "must be a probability between 0 and 1")
            self.fail(path, value, f"must be between {_num(lo)} and {_num(hi)}")
        if lo is not None and value < lo:
            self.fail(path, value, f"must be >= {_num(lo)}")
        if hi is not None and value > hi:
            self.fail(path, value, f"must be <= {_num(hi)}")
        return value


def loaded(default: Any) -> Any:
    """A field set when a file is loaded (not a key of the file): excluded from parameters."""
    return dataclasses.field(default=default, compare=False, metadata={"loaded": True})


def parameters(cls_or_obj: Any) -> list[dataclasses.Field]:
    """The fields of a dataclass that are parameters: keys of its table in a file."""
    return [f for f in dataclasses.fields(cls_or_obj) if not f.metadata.get("loaded")]


def replace_validated(
    obj: Any, dotted: str, value: Any, source: str, schedules: bool = False
) -> Any:
    """A copy of dataclass ``obj`` with field ``dotted`` set to ``value``, validated.

    ``dotted`` is e.g. ``"vouchers.budget"``; an ``InputError`` names ``source``. In a
    ``@schedulable`` table a number may be set to a schedule ``{year: value}``.
    """
    head, _, rest = dotted.partition(".")
    fields = {f.name: f for f in parameters(obj)}
    if head not in fields:
        raise InputError(f"{source} = {show(value)}: unknown lever; allowed: {', '.join(fields)}")
    schedules = schedules or is_schedulable(type(obj))
    if rest:
        new = replace_validated(getattr(obj, head), rest, value, source, schedules)
    else:
        hint = typing.get_type_hints(type(obj))[head]
        new = Loader("lever change").value(hint, value, source, fields[head].metadata, schedules)
    return dataclasses.replace(obj, **{head: new})


def parameter_rows(
    cls: type, prefix: str = "", defaults: Any = None, source: str = ""
) -> list[dict[str, str]]:
    """Rows (name, unit, default, allowed, source, meaning) for every parameter of ``cls``.

    ``defaults`` is the instance whose values are the defaults (a nested table's default), and
    ``source`` the source inherited from the enclosing table.
    """
    rows = []
    hints = typing.get_type_hints(cls)
    for f in parameters(cls):
        name = _join(prefix, f.name)
        tp = hints[f.name]
        meta = f.metadata
        default = _default(f) if defaults is None else getattr(defaults, f.name)
        field_source = meta.get("source") or source
        if dataclasses.is_dataclass(tp):
            nested = None if default is dataclasses.MISSING else default
            rows += parameter_rows(tp, name, nested, field_source)
            continue
        args = typing.get_args(tp)
        if typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis:
            rows += parameter_rows(args[0], f"{name}[]", None, field_source)
            continue
        rows.append(
            {
                "name": name,
                "unit": meta.get("unit", ""),
                "default": "required" if default is dataclasses.MISSING else show(default),
                "allowed": _allowed(meta),
                "source": field_source,
                "meaning": meta.get("doc", ""),
            }
        )
    return rows


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def markdown_table(rows: list[dict[str, str]]) -> str:
    """The parameter rows as a Markdown table."""
    head = "| parameter | unit | default | allowed | meaning | source / calibration |\n"
    head += "|---|---|---|---|---|---|\n"
    body = "".join(
        f"| `{r['name']}` | {r['unit']} | {r['default']} | {r['allowed']} | {r['meaning']} "
        f"| {r['source']} |\n"
        for r in rows
    )
    return head + body


def read_toml(path: Path, source: str) -> dict:
    """Parse a TOML file, turning read and syntax errors into one-line ``InputError``s."""
    import tomllib

    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{source}: file not found") from None
    except OSError as err:
        raise InputError(f"{source}: cannot read file: {err.strerror}") from None
    try:
        return tomllib.loads(text.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{source}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{source}: invalid TOML: {err}") from None


def _allowed(meta: Any) -> str:
    fit = meta.get("fit")
    fitted = f"; fitted over {_num(fit[0])} to {_num(fit[1])}" if fit else ""
    lo, hi = meta.get("lo"), meta.get("hi")
    if lo is not None and hi is not None:
        return f"{_num(lo)} to {_num(hi)}{fitted}"
    if lo is not None:
        return f">= {_num(lo)}{fitted}"
    if hi is not None:
        return f"<= {_num(hi)}{fitted}"
    return fitted.removeprefix("; ")


def fit_ranges(cls: type, prefix: str = "") -> dict[str, tuple[float, float]]:
    """``{dotted key: (low, high)}`` of every parameter of ``cls`` declared with ``fit=``.

    Nested tables are walked; arrays of tables (sectors) are not: a calibration range is
    declared for one parameter, not for each item of a list.
    """
    out = {}
    hints = typing.get_type_hints(cls)
    for f in parameters(cls):
        name = _join(prefix, f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            out |= fit_ranges(hints[f.name], name)
        elif f.metadata.get("fit"):
            out[name] = tuple(f.metadata["fit"])
    return out


def declared(cls: type, dotted: str) -> tuple[Any, Any] | None:
    """``(type, metadata)`` of the parameter at ``dotted`` (``a.b[0].c``) in ``cls``, or None.

    None when the key names no parameter, or names a table rather than a value.
    """
    tp: Any = cls
    meta: Any = {}
    for part in dotted.split("."):
        name, _, index = part.partition("[")
        if not dataclasses.is_dataclass(tp):
            return None
        fields = {f.name: f for f in parameters(tp)}
        if name not in fields:
            return None
        meta = fields[name].metadata
        tp = typing.get_type_hints(tp)[name]
        if index:
            args = typing.get_args(tp)
            if not (typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis):
                return None
            tp = args[0]
    if dataclasses.is_dataclass(tp):
        return None
    return tp, meta


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _year_key(key: Any) -> int | None:
    """The year a schedule's key names (``"2021"`` in TOML, ``2021`` from Python), or None."""
    key = plain(key)
    if isinstance(key, str) and key.strip().isdigit():
        key = int(key)
    if isinstance(key, bool) or not isinstance(key, int):
        return None
    return key if FIRST_YEAR <= key <= LAST_YEAR else None
