"""Incubators and other S&T service institutions, as agents with tenants."""

import mesa
import numpy as np

from sim import rng
from sim.agents.firms import NEVER
from sim.ranking import first_k


class Incubator(mesa.Agent):
    """A service institution (maker space, incubator, accelerator) with room for tenants."""

    def __init__(self, model: mesa.Model, capacity: int, opened_year: int):
        super().__init__(model)
        self.capacity = capacity
        self.opened_year = opened_year
        self.tenants: list[int] = []
        self.subsidy_received = 0.0  # M CNY, cumulative
        self.graduates = 0

    def graduate(self, f, t: int) -> None:
        """Tenants whose incubation ended (or who exited) leave; survivors lose the support."""
        staying = []
        for firm in self.tenants:
            if f.alive[firm] and f.incubated_until[firm] >= t:
                staying.append(firm)
                continue
            if f.alive[firm]:
                self.graduates += 1
            f.incubated_until[firm] = NEVER
            f.exit_hazard_factor[firm] = 1.0
            f.growth_boost[firm] = 0.0
        self.tenants = staying

    @property
    def room(self) -> int:
        """Tenants it can still take."""
        return max(0, self.capacity - len(self.tenants))

    def admit(self, f, candidates: np.ndarray, t: int, levers) -> np.ndarray:
        """Take candidates in order while there is room; returns the ones not admitted."""
        room = self.room
        taken, rest = candidates[:room], candidates[room:]
        f.incubated_until[taken] = t + levers.incubation_months - 1
        f.exit_hazard_factor[taken] = levers.exit_hazard_factor
        f.growth_boost[taken] = levers.growth_boost
        self.tenants += [int(i) for i in taken]
        return rest


def incubation_candidates(f, t: int, seed: int, levers, room: int) -> np.ndarray:
    """The first ``room`` young firms not yet incubated, in lottery order."""
    young = (t - f.birth_month) <= levers.admission_max_age_months
    rows = np.flatnonzero(f.alive & young & (f.incubated_until == NEVER) & ~f.attracted)
    draws = rng.uniforms(seed, t, rows.astype(np.int64), rng.INCUBATOR_ADMISSION)
    return rows[first_k(draws, room)]
