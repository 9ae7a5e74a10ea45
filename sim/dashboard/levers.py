"""The dashboard's lever inputs, generated from the parameter declarations of the scenario.

Every field of ``sim.scenario.Policy`` (and of the lever-group dataclasses inside it) becomes
one input, labelled with its unit and allowed range from its ``param`` declaration. The fields
are walked generically, so a lever added to a policy module appears here with no change. Every
numeric lever takes a number or a schedule typed as ``2017: 100, 2020: 150``; a lever whose
default is a schedule (the super-deduction) is of kind "schedule".
"""

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

from sim.schema import InputError

SCALAR_KINDS = {float: "number", int: "whole number", bool: "flag"}
NUMERIC_KINDS = ("number", "whole number", "schedule")  # kinds that also take a schedule


@dataclass(frozen=True)
class LeverSpec:
    """One lever as the dashboard shows it."""

    key: str  # dotted name under ``policy``, as ``model.set_lever`` takes it
    group: str  # the lever group (its dataclass), "tax" for the top-level tax levers
    kind: str  # "number", "whole number", "flag" or "schedule" (year = value)
    unit: str
    lo: float | None
    hi: float | None
    doc: str

    @property
    def name(self) -> str:
        """The field's own name, without its group."""
        return self.key.rpartition(".")[2]

    @property
    def allowed(self) -> str:
        """The allowed range in words, e.g. ``0 to 1`` or ``>= 0``."""
        return self.allowed_in()

    def allowed_in(
        self, to: str = "to", at_least: str = ">=", at_most: str = "<=", anything: str = "any"
    ) -> str:
        """The allowed range in the words given (``allowed`` in English)."""
        if self.lo is not None and self.hi is not None:
            return f"{_num(self.lo)} {to} {_num(self.hi)}"
        if self.lo is not None:
            return f"{at_least} {_num(self.lo)}"
        if self.hi is not None:
            return f"{at_most} {_num(self.hi)}"
        return anything

    @property
    def label(self) -> str:
        """The input's label: name, unit and allowed range."""
        unit = f"{self.unit}, " if self.unit else ""
        return f"{self.name} ({unit}{self.allowed})"


def lever_specs(policy_cls: type) -> list[LeverSpec]:
    """Every lever of ``policy_cls`` (a ``Policy`` dataclass), nested groups included."""
    return list(_walk(policy_cls, prefix="", group="tax"))


def _walk(cls: type, prefix: str, group: str):
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        key = f"{prefix}{f.name}"
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            yield from _walk(tp, prefix=f"{key}.", group=key)
            continue
        kind = _kind(tp)
        if kind is None:  # a shape the dashboard cannot edit (none today): shown nowhere
            continue
        if kind in NUMERIC_KINDS and f.default_factory is not dataclasses.MISSING:
            kind = "schedule"  # declared with a schedule as its default
        meta = f.metadata
        yield LeverSpec(
            key=key,
            group=group,
            kind=kind,
            unit=meta.get("unit", ""),
            lo=meta.get("lo"),
            hi=meta.get("hi"),
            doc=meta.get("doc", ""),
        )


def _kind(tp: Any) -> str | None:
    if tp in SCALAR_KINDS:
        return SCALAR_KINDS[tp]
    if typing.get_origin(tp) is dict and typing.get_args(tp) == (int, float):
        return "schedule"
    return None


def lever_value(policy: Any, key: str) -> Any:
    """The value of lever ``key`` in force in ``policy``."""
    value = policy
    for part in key.split("."):
        value = getattr(value, part)
    return value


def show_value(spec: LeverSpec, value: Any) -> str:
    """A lever value as text in its input (a schedule as ``2018: 0.75, 2021: 1``)."""
    if isinstance(value, dict):
        return ", ".join(f"{year}: {_num(rate)}" for year, rate in value.items())
    if spec.kind in ("number", "schedule"):
        return _num(value)
    return str(value)


def parse_value(spec: LeverSpec, text: str) -> Any:
    """The typed text as the value ``model.set_lever`` validates; ``InputError`` if unreadable.

    Range checks are left to ``set_lever`` so that there is one rule, the scenario schema's.
    """
    text = text.strip()
    where = f"policy.{spec.key} = {text!r}"
    try:
        if spec.kind in NUMERIC_KINDS and ":" in text:
            return _parse_schedule(text)
        if spec.kind in ("number", "schedule"):
            return float(text)
        if spec.kind == "whole number":
            return int(text)
        return {"true": True, "false": False}[text.lower()]
    except (ValueError, KeyError):
        raise InputError(f"{where}: must be {_expected(spec)}") from None


def _parse_schedule(text: str) -> dict[str, float]:
    # The schema reads a schedule as a TOML table: keys are year strings.
    schedule = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        year, _, rate = item.partition(":")
        if not year.strip().isdigit():
            raise ValueError(item)
        schedule[year.strip()] = float(rate)
    if not schedule:
        raise ValueError(text)
    return schedule


def _expected(spec: LeverSpec) -> str:
    schedule = "year: value pairs, e.g. 2021: 1.0, 2023: 1.2"
    return {
        "number": f"a number or {schedule}",
        "whole number": f"a whole number or {schedule}",
        "flag": "true or false",
        "schedule": f"{schedule}, or a number",
    }[spec.kind]


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))
