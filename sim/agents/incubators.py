"""Incubators and other S&T service institutions, as agents with tenants."""

import mesa
import numpy as np

from sim import rng
from sim.agents.firms import NEVER
from sim.ranking import first_k


class Incubator(mesa.Agent):
    """A service institution (maker space, incubator, accelerator) with room for tenants.

    Its tenants are the firms whose ``incubator`` column holds its ``number``.
    """

    def __init__(self, model: mesa.Model, number: int, capacity: int, opened_year: int):
        super().__init__(model)
        self.number = number  # its place in the list of incubators + 1; 0 in the table: none
        self.capacity = capacity
        self.opened_year = opened_year
        self.subsidy_received = 0.0  # M CNY, cumulative
        self.graduates = 0


def graduate(f, t: int, incubators: list[Incubator]) -> np.ndarray:
    """Tenants whose incubation ended (or who exited) leave; survivors lose the support.

    Returns the rows of the tenants who stay.
    """
    tenants = np.flatnonzero(f.incubator)
    ends = ~f.alive[tenants] | (f.incubated_until[tenants] < t)
    leaving = tenants[ends]
    if len(leaving) > 0:
        graduated = np.bincount(
            f.incubator[leaving[f.alive[leaving]]], minlength=len(incubators) + 1
        )
        for number in np.flatnonzero(graduated):
            incubators[number - 1].graduates += int(graduated[number])
        f.incubator[leaving] = 0
        f.incubated_until[leaving] = NEVER
        f.exit_hazard_factor[leaving] = 1.0
        f.growth_boost[leaving] = 0.0
    return tenants[~ends]


def free_places(f, tenants: np.ndarray, incubators: list[Incubator]) -> np.ndarray:
    """Tenants each incubator can still take, in incubator order."""
    occupied = np.bincount(f.incubator[tenants], minlength=len(incubators) + 1)[1:]
    capacity = np.array([incubator.capacity for incubator in incubators], dtype=np.int64)
    return np.maximum(capacity - occupied, 0)


def admit(f, candidates: np.ndarray, places: np.ndarray, t: int, levers) -> None:
    """Candidates, in lottery order, fill the free places, incubator by incubator."""
    numbers = np.repeat(np.arange(1, len(places) + 1), places)[: len(candidates)]
    taken = candidates[: len(numbers)]
    f.incubator[taken] = numbers
    f.incubated_until[taken] = t + levers.incubation_months - 1
    f.exit_hazard_factor[taken] = levers.exit_hazard_factor
    f.growth_boost[taken] = levers.growth_boost


def incubation_candidates(f, t: int, seed: int, levers, room: int) -> np.ndarray:
    """The first ``room`` applicants, in lottery order.

    Applicants are young technology start-ups not yet incubated: firms with an R&D plan and
    tech staff (incubators select them; other new firms do not apply).
    """
    young = (t - f.birth_month) <= levers.admission_max_age_months
    technology = (f.rd_intensity > 0) & (f.tech_staff >= levers.min_tech_staff_share * f.employees)
    rows = np.flatnonzero(
        f.alive & young & technology & (f.incubated_until == NEVER) & ~f.attracted
    )
    draws = rng.uniforms(seed, t, rows.astype(np.int64), rng.INCUBATOR_ADMISSION)
    return rows[first_k(draws, room)]
