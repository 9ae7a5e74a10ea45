"""``ReferenceEcosystem``: the model with its firm kernels replaced by the readable spec.

The schedule, the lever groups, entry and the indicators are the model's own; only the firm
step and the firms' 31 December run firm by firm through ``ReferenceFirm``
(``sim/agents/reference.py``) in plain Python. A test holds the two to identical integer
indicators and floats equal within 1e-9. Slow on purpose: to read, check and benchmark.
"""

import numpy as np

from sim.agents.reference import ReferenceFirm
from sim.model import InnovationEcosystem


class ReferenceEcosystem(InnovationEcosystem):
    """``InnovationEcosystem`` whose firms step as ``ReferenceFirm`` agents."""

    def __init__(self, *, setup, seed: int | None = None):
        self.reference_firms: dict[int, ReferenceFirm] = {}
        super().__init__(setup=setup, seed=seed, agents="lean")

    def firms_operating(self) -> list[ReferenceFirm]:
        """One ``ReferenceFirm`` per operating firm, in id order, loaded from the table."""
        f = self.firms.arrays()
        operating = []
        for i in np.flatnonzero(f.alive).tolist():
            firm = self.reference_firms.get(i)
            if firm is None:
                firm = self.reference_firms[i] = ReferenceFirm(self, i)
            firm.load(f)
            operating.append(firm)
        return operating

    def step_firms(self, t: int, policy) -> None:
        """Each operating firm's month; a firm that exits leaves the agent set."""
        f = self.firms.arrays()
        for firm in self.firms_operating():
            firm.month(t, policy)
            firm.store(f)
            if not firm.alive:
                del self.reference_firms[firm.firm_id]
                firm.remove()

    def close_firm_years(self, t: int) -> None:
        """Each operating firm's 31 December."""
        f = self.firms.arrays()
        bonus = self.policy.certification_support.pass_bonus
        for firm in self.firms_operating():
            firm.close_year(t, bonus)
            firm.store(f)
