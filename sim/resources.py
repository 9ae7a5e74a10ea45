"""How much memory a run needs at its peak, estimated before it starts.

A scenario sized beyond the machine (10^8 firms, 10^6 births a year for a century) would grow
until the operating system kills the process, and in a batch take a worker down with it. The
sizing parameters have declared upper bounds (``hi=`` in their ``param`` declarations); within
them, ``check_memory`` refuses a scenario whose estimated peak exceeds the memory available
now, with the estimate in the message. It is called where every scenario is loaded, so the CLI,
each lever value of an experiment and each batch run are checked.
"""

import math
import os
from pathlib import Path

import numpy as np

from sim.agents.firms import FIRM_COLUMNS
from sim.schema import InputError

PROCESS_BYTES = 300e6  # the interpreter with NumPy, Numba, Mesa, pandas and SciPy loaded
FIRM_ROW_BYTES = sum(
    np.dtype(dtype).itemsize * math.prod(shape) for dtype, shape, *_ in FIRM_COLUMNS.values()
)
# The table doubles when it grows, kernels make per-firm temporaries and full mode adds a Mesa
# agent per firm: measured ~880 (lean) and ~1,070 (full) bytes a firm at 2 x 10^5 firms.
FIRM_BYTES = 4 * FIRM_ROW_BYTES
AGENT_BYTES = 2_000  # one institution agent (incubator, platform, talent) as a Python object
MAX_SECTORS = 1000


def peak_firms(s) -> int:
    """Firms the table may hold at the end: year-0 firms plus every birth and attraction."""
    years = math.ceil(s.scenario.horizon_months / 12)
    sectors = s.population.sectors
    initial = sum(x.year0_firms for x in sectors)
    attracted = largest(s.policy.attraction.firms_per_year)
    entrants = sum(x.births_per_year for x in sectors) + attracted
    return int(initial + years * entrants)


def peak_agents(s) -> int:
    """Institution agents at the end of the horizon (talents, incubators, platforms).

    A scheduled lever counts at its largest value.
    """
    years = math.ceil(s.scenario.horizon_months / 12)
    p = s.policy
    existing = (
        p.talent.existing_talents,
        p.talent.existing_top_talents,
        p.incubation.existing_institutions,
        p.platforms.existing_platforms,
        p.platforms.existing_new_rd_institutes,
        p.platforms.universities,
    )
    yearly = (
        p.talent.recruits_per_year,
        p.incubation.new_institutions_per_year,
        p.platforms.new_platforms_per_year,
        p.platforms.new_rd_institutes_per_year,
        p.platforms.industry_research_institutes_per_year,
        p.platforms.rd_branches_per_year,
    )
    return int(sum(map(largest, existing)) + years * sum(map(largest, yearly)))


def largest(value: float | dict[int, float]) -> float:
    """A lever's value, or the largest value of its schedule."""
    return max(value.values()) if isinstance(value, dict) else value


def peak_bytes(s) -> float:
    """Estimated peak memory of one run of scenario ``s`` (bytes)."""
    return PROCESS_BYTES + FIRM_BYTES * peak_firms(s) + AGENT_BYTES * peak_agents(s)


def available_bytes() -> float | None:
    """Memory this process may still use: the smaller of the machine's and its cgroup's."""
    limits = [_meminfo_available(), _cgroup_available()]
    known = [x for x in limits if x is not None]
    return min(known) if known else None


def check_memory(s, source: str) -> None:
    """Refuse scenario ``s`` if its estimated peak memory exceeds the available memory."""
    if len(s.population.sectors) > MAX_SECTORS:
        raise InputError(
            f"{source}: population.sectors: {len(s.population.sectors)} sectors; at most "
            f"{MAX_SECTORS} are allowed"
        )
    need, have = peak_bytes(s), available_bytes()
    if have is not None and need > have:
        raise InputError(
            f"{source}: population: a run needs about {_gb(need)} of memory at its peak "
            f"({peak_firms(s):,} firms over {s.scenario.horizon_months} months), more than the "
            f"{_gb(have)} available on this machine; use fewer firms or births, a shorter "
            "horizon, or a larger machine"
        )


def _gb(n: float) -> str:
    return f"{n / 1e9:,.1f} GB"


def _meminfo_available() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return None


def _cgroup_available() -> float | None:
    """A container's memory limit less what it uses (cgroup v2), if there is a limit."""
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return float(limit) - float((root / "memory.current").read_text())
    except (OSError, ValueError):
        return None
