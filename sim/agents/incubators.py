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

    def graduate(self, f, t: int, tenants: np.ndarray) -> int:
        """Tenants whose incubation ended (or who exited) leave; returns the places free now."""
        if len(tenants) == 0:
            return self.capacity
        ends = ~f.alive[tenants] | (f.incubated_until[tenants] < t)
        if not ends.any():  # most months: nobody leaves (whole-array work skipped)
            return max(self.capacity - len(tenants), 0)
        leaving = tenants[ends]
        self.graduates += int(np.count_nonzero(f.alive[leaving]))
        f.incubator[leaving] = 0
        f.incubated_until[leaving] = NEVER
        f.exit_hazard_factor[leaving] = 1.0  # graduates lose the support
        f.growth_boost[leaving] = 0.0
        return max(self.capacity - (len(tenants) - len(leaving)), 0)

    def admit(self, f, newcomers: np.ndarray, t: int, levers) -> None:
        """Newcomers become tenants for ``incubation_months``, with the incubator's support."""
        if len(newcomers) == 0:
            return
        f.incubator[newcomers] = self.number
        f.incubated_until[newcomers] = t + levers.incubation_months - 1
        f.exit_hazard_factor[newcomers] = levers.exit_hazard_factor
        f.growth_boost[newcomers] = levers.growth_boost


def tenants_by_incubator(f, count: int) -> list[np.ndarray]:
    """The rows of each incubator's tenants (incubator 1 first), from one scan of the table."""
    tenants = np.flatnonzero(f.incubator)
    numbers = f.incubator[tenants]
    tenants = tenants[np.argsort(numbers, kind="stable")]
    bounds = np.searchsorted(np.sort(numbers), np.arange(1, count + 2))
    return [tenants[bounds[k] : bounds[k + 1]] for k in range(count)]


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
