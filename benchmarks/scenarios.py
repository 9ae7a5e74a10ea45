"""Benchmark scenarios: the reference scenario and the district scenario scaled to N firms."""

import math
import tomllib
from functools import cache
from pathlib import Path

from sim.scenario import Scenario, load_scenario

ROOT = Path(__file__).absolute().parent.parent
REFERENCE = ROOT / "tests" / "data" / "reference_300.toml"
DISTRICT = ROOT / "scenarios" / "liangping_2021_2025.toml"

SECTOR_COUNTS = ("hitech", "tech_sme", "other", "high_growth")
REGION_TOTALS = ("gdp", "employed", "population")


@cache
def district_data() -> dict:
    """The parsed district scenario file."""
    with DISTRICT.open("rb") as handle:
        return tomllib.load(handle)


def district_firms() -> int:
    """Year-0 firms of the district scenario."""
    sectors = district_data()["population"]["sectors"]
    return sum(s["hitech"] + s["tech_sme"] + s["other"] for s in sectors)


# Largest expected births per sector and month when sim.rng.poisson_py cannot draw large
# rates: before commit 1f0ddfb its inversion from exp(-lam) underflowed above lam ~ 708 and
# returned its cap of 100,000 firms a month. There, a scaled sector whose rate would exceed
# this is split into identical copies instead.
MAX_BIRTHS_PER_SECTOR_MONTH = 500.0


@cache
def large_poisson_ok() -> bool:
    """Whether this version of sim.rng draws Poisson(1000) sensibly."""
    from sim import rng

    return 900 <= rng.poisson_py(1000.0, 0.5) <= 1100


def scale_overrides(firms: int) -> dict:
    """Overrides that scale the district scenario to about ``firms`` year-0 firms.

    Every sector's status counts and birth rate, the region's GDP, employment and population
    and the year-0 invention patents grow by the same factor, so the year-0 calibration of the
    regional closure stays valid (the firms keep the same share of the region). With a
    ``sim.rng`` that cannot draw large Poisson rates, a sector whose scaled birth rate exceeds
    ``MAX_BIRTHS_PER_SECTOR_MONTH`` is split into identical copies (``name``, ``name_2``, ...)
    that share its firms and births.
    """
    data = district_data()
    factor = firms / district_firms()
    sectors = []
    for sector in data["population"]["sectors"]:
        monthly = sector["births_per_year"] * factor / 12.0
        copies = 1
        if not large_poisson_ok():
            copies = max(1, math.ceil(monthly / MAX_BIRTHS_PER_SECTOR_MONTH))
        share = factor / copies
        for c in range(copies):
            copy = dict(sector)
            if c:
                copy["name"] = f"{sector['name']}_{c + 1}"
            for key in SECTOR_COUNTS:
                copy[key] = round(sector.get(key, 0) * share)
            copy["high_growth"] = min(
                math.floor(sector.get("high_growth", 0) * share), copy["hitech"] + copy["tech_sme"]
            )
            copy["births_per_year"] = sector["births_per_year"] * share
            sectors.append(copy)
    overrides: dict = {"population.sectors": sectors}
    for key in REGION_TOTALS:
        overrides[f"region.{key}"] = data["region"][key] * factor
    overrides["population.valid_invention_patents"] = round(
        data["population"]["valid_invention_patents"] * factor
    )
    return overrides


def scaled_district(firms: int, months: int = 60) -> Scenario:
    """The district scenario scaled to about ``firms`` year-0 firms, run for ``months``."""
    overrides = scale_overrides(firms)
    overrides["scenario.horizon_months"] = months
    overrides["scenario.name"] = f"liangping_x{firms}"
    return load_scenario(DISTRICT, overrides=overrides)


def reference() -> Scenario:
    """The ~300-firm, 24-month scenario the kernels are checked against."""
    return load_scenario(REFERENCE)


def district() -> Scenario:
    """The district scenario as shipped (~1,100 firms, 60 months)."""
    return load_scenario(DISTRICT)
