"""Guidance funds (seed, angel, venture) as agents holding stakes in firms."""

from dataclasses import dataclass

import mesa
import numpy as np

from sim.agents.lenders import knowledge_value_score
from sim.ranking import first_k


@dataclass
class Stake:
    """One investment: which firm, how much, when, and the firm's revenue then."""

    firm: int
    amount: float  # M CNY
    month: int
    revenue_at_entry: float  # M CNY/yr


class GuidanceFund(mesa.Agent):
    """A fund of public and private capital investing tickets in young firms."""

    def __init__(self, model: mesa.Model, stage: str, levers):
        super().__init__(model)
        self.stage = stage
        self.public = levers.public_capital  # M CNY committed by the government
        self.private = levers.public_capital * levers.leverage  # M CNY from private partners
        self.cash = self.public + self.private
        self.stakes: list[Stake] = []
        self.invested = 0.0  # M CNY, cumulative
        self.proceeds = 0.0
        self.written_off = 0.0

    @property
    def public_share(self) -> float:
        """Share of the fund's money that is public."""
        total = self.public + self.private
        return self.public / total if total > 0 else 0.0

    def commit(self, levers) -> None:
        """Public capital committed beyond what the fund holds is paid in, with its match."""
        extra = levers.public_capital - self.public
        if extra > 0:
            private = extra * levers.leverage
            self.public += extra
            self.private += private
            self.cash += extra + private

    def deal_round(self, f, t: int, levers) -> None:
        """Invest one ticket in each of the best-scoring eligible firms while cash lasts.

        ``levers``: the fund's levers in force this year (schedules resolved).
        """
        ticket = levers.ticket
        if ticket <= 0 or self.cash < ticket or levers.deals_per_round == 0:
            return
        eligible = f.alive & ((t - f.birth_month) <= 12 * levers.max_age_years)
        if levers.min_status == 1:
            eligible &= f.tech_sme | (f.hitech_until >= t)
        elif levers.min_status == 2:
            eligible &= (f.hitech_until >= t) | f.high_growth
        eligible[[s.firm for s in self.stakes]] = False  # one stake per firm
        rows = np.flatnonzero(eligible)
        if len(rows) == 0:
            return
        score = knowledge_value_score(f, rows, t)
        deals = min(levers.deals_per_round, int(self.cash // ticket), len(rows))
        chosen = rows[first_k(-score, deals)]  # best score first, ties by firm id
        f.cash[chosen] += ticket
        f.equity_received[chosen] += ticket
        # investors have the firm spend part of the ticket on R&D over the deployment period
        f.equity_rd_left[chosen] += levers.rd_deploy_share * ticket
        f.equity_rd_per_month[chosen] = f.equity_rd_left[chosen] / (12.0 * levers.rd_deploy_years)
        self.cash -= ticket * deals
        self.invested += ticket * deals
        self.stakes += [Stake(int(i), ticket, t, float(f.revenue[i])) for i in chosen]
        self.model.government.record("guidance_funds", self.public_share * ticket * deals)

    def exit_stakes(self, f, t: int, levers) -> None:
        """Sell stakes at the end of the holding period; write off those of exited firms."""
        kept = []
        for stake in self.stakes:
            matured = t - stake.month >= 12 * levers.holding_years
            if not f.alive[stake.firm]:
                self.written_off += stake.amount
            elif matured:
                growth = f.revenue[stake.firm] / max(stake.revenue_at_entry, 1e-9)
                value = stake.amount * min(levers.max_multiple, growth)
                self.cash += value
                self.proceeds += value
            else:
                kept.append(stake)
        self.stakes = kept
