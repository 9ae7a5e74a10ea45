"""Investment attraction (引凤 / 招商引资): outside high-tech firms brought into the district.

Each January ``firms_per_year`` certified high-tech firms (the fraction carried over) relocate
into a high-tech-industry sector chosen by lottery, drawn from the high-tech profile at
``revenue_multiplier`` times its size; each receives ``subsidy_per_firm``. They keep their
certificate (three years from arrival) and count in every indicator from then on.
"""

from dataclasses import dataclass

import numpy as np

from sim.agents.population import attracted_firms
from sim.policies.lever_group import LeverGroup
from sim.schema import param
from sim.sources import ASSUMED, OFF


@dataclass(frozen=True, kw_only=True)
class AttractionLevers:
    """Firms attracted and the subsidy per firm."""

    firms_per_year: float = param(0.0, unit="firms/yr", lo=0, hi=100_000, source=OFF)
    subsidy_per_firm: float = param(0.0, unit="M CNY", lo=0, source=OFF)
    revenue_multiplier: float = param(1.5, unit="x", lo=0.01, source=ASSUMED)


class Attraction(LeverGroup):
    """Brings the year's attracted firms in January, their subsidy paid on arrival."""

    name = "attraction"

    def __init__(self, model, f):
        super().__init__(model, f)
        self.attracted = 0  # firms brought in since year 0

    def arriving_firms(self, f, t: int, year: int) -> dict | None:
        """The columns of this January's attracted high-tech firms, if any."""
        levers = self.levers_in(year)
        count = self.opened_by(year, "firms_per_year") - self.attracted
        self.attracted += count
        if count <= 0:
            return None
        setup, seed = self.model.setup, self.model.seed
        columns = attracted_firms(setup, seed, t, len(f.alive), count, levers)
        columns["cash"] = columns["cash"] + levers.subsidy_per_firm
        columns["public_receipts_ytd"] = np.full(count, levers.subsidy_per_firm)
        self.government.record(self.name, levers.subsidy_per_firm * count)
        return columns
