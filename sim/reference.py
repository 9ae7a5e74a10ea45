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

    FIRM_AGENTS = (*InnovationEcosystem.FIRM_AGENTS, ReferenceFirm)

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
        """Sector means, then each operating firm's month; a firm that exits leaves."""
        f = self.firms.arrays()
        operating = self.firms_operating()
        self.update_sector_means(operating)
        for firm in operating:
            firm.month(t, policy)
            firm.store(f)
            if not firm.alive:
                del self.reference_firms[firm.firm_id]
                firm.remove()

    def update_sector_means(self, operating: list[ReferenceFirm]) -> None:
        """Each sector's revenue-weighted mean log productivity (firms in id order)."""
        means = self.sector_params.mean_productivity
        weights, sums = [0.0] * len(means), [0.0] * len(means)
        for firm in operating:
            weights[firm.sector] += firm.revenue
            sums[firm.sector] += firm.revenue * firm.productivity
        for k in range(len(means)):
            if weights[k] > 0.0:
                means[k] = sums[k] / weights[k]

    def close_firm_years(self, t: int) -> None:
        """Each operating firm's 31 December."""
        f = self.firms.arrays()
        year = self.date(t)[0]
        bonus = self.policy_in(year).certification_support.pass_bonus
        policy = self.policy_in_force(year)
        operating = self.firms_operating()
        self.update_registered_shares(operating)
        for firm in operating:
            firm.close_year(t, policy, bonus)
            firm.store(f)

    def _remove_agents(self, rows) -> None:
        """Firms that leave the table (the burn-in's surplus): their reference firms too."""
        super()._remove_agents(rows)
        for row in rows:
            firm = self.reference_firms.pop(int(row), None)
            if firm is not None:
                firm.remove()

    def update_registered_shares(self, operating: list[ReferenceFirm]) -> None:
        """Each sector's share of operating firms in the tech-SME registry."""
        shares = self.sector_params.registered_share
        firms, registered = [0.0] * len(shares), [0.0] * len(shares)
        for firm in operating:
            firms[firm.sector] += 1.0
            registered[firm.sector] += float(firm.tech_sme)
        for k in range(len(shares)):
            shares[k] = registered[k] / firms[k] if firms[k] > 0.0 else 0.0
