"""Seed, angel and venture guidance funds (种子/天使/风险 三支引导基金).

Public capital, matched by private capital at the fund's leverage, buys minority stakes in young
firms at each quarterly deal round: eligible firms (age and status rules of the fund's stage) are
ranked by their knowledge-value score, and the fund invests one ticket in each of the best until
its cash or the round's deal limit runs out. The ticket raises the firm's cash, and investors
have the firm spend ``rd_deploy_share`` of it on extra R&D, evenly over ``rd_deploy_years``
(while its cash allows); then its R&D returns to its own plan. A stake is sold
after the holding period at the firm's revenue growth since entry (capped), or written off if
the firm exits. Public money spent is the public share of tickets. A fund holds its
``public_capital`` (and the private match) from the start; when that lever rises (a schedule
such as ``{ 2017 = 20.0 }`` starts the fund in 2017) the increase is paid in, matched at the
``leverage`` then in force, before the next deal round.
"""

from dataclasses import dataclass

from sim.agents.funds import GuidanceFund
from sim.policies.lever_group import LeverGroup
from sim.schema import param
from sim.sources import ASSUMED, BASELINE, DOMAIN, OFF


@dataclass(frozen=True, kw_only=True)
class FundLevers:
    """One guidance fund."""

    public_capital: float = param(0.0, unit="M CNY", lo=0, source=OFF, doc="public money committed")
    leverage: float = param(
        0.0, unit="private per public", lo=0, hi=20, source=DOMAIN + ": 1:1-1:4 unconfirmed"
    )
    ticket: float = param(
        {2020: 0.8, 2024: 2.0},
        unit="M CNY",
        lo=0,
        source=DOMAIN + ": seed <= 0.8 M CNY (2020 rules), <= 2 M from 2024",
        doc="investment per deal, year = value",
    )
    max_age_years: float = param(5.0, unit="yr", lo=0, source=DOMAIN + ": seed, firms <= 5 years")
    min_status: int = param(
        0,
        unit="0-2",
        lo=0,
        hi=2,
        source=ASSUMED,
        doc="0 any firm, 1 tech SME, 2 certified/high-growth",
    )
    deals_per_round: int = param(5, unit="deals/quarter", lo=0, hi=10_000, source=ASSUMED)
    holding_years: float = param(5.0, unit="yr", lo=0.25, source=DOMAIN + ": no dividends 5 years")
    max_multiple: float = param(5.0, unit="x ticket", lo=0, source=ASSUMED, doc="cap on exit value")
    rd_deploy_share: float = param(
        0.5, unit="share", lo=0, hi=1, source=ASSUMED, doc="share of a ticket spent on extra R&D"
    )
    rd_deploy_years: float = param(2.0, unit="yr", lo=0.1, source=ASSUMED)


@dataclass(frozen=True, kw_only=True)
class GuidanceFundLevers:
    """The three guidance funds."""

    seed: FundLevers = param(
        FundLevers(), source=OFF + "; Liangping seed fund 20 M CNY (" + BASELINE + ")"
    )
    angel: FundLevers = param(
        FundLevers(
            leverage=1.0,
            ticket={2020: 2.0},
            max_age_years=8.0,
            min_status=1,
            holding_years=5.0,
        ),
        source=OFF + "; " + ASSUMED,
    )
    venture: FundLevers = param(
        FundLevers(
            leverage=2.0,
            ticket={2020: 5.0},
            max_age_years=12.0,
            min_status=2,
            holding_years=7.0,
        ),
        source=OFF + "; " + ASSUMED,
    )


STAGES = ("seed", "angel", "venture")


class GuidanceFunds(LeverGroup):
    """Each quarter every fund sells matured stakes, then invests."""

    name = "guidance_funds"
    flows = ("equity_invested",)
    # what a firm received goes with the stakes the closed funds held: the funds' books and the
    # firms' equity received start together at year 0 (the cash the tickets brought stays)
    placements = {"equity_received": 0.0, "equity_rd_left": 0.0, "equity_rd_per_month": 0.0}

    def __init__(self, model, f):
        super().__init__(model, f)
        year0 = self.levers_in(model.setup.baseline_year)
        self.funds = {s: GuidanceFund(model, s, getattr(year0, s)) for s in STAGES}
        self.invested_before = 0.0  # M CNY invested up to the last 31 December

    def on_deal_month(self, f, t: int, year: int) -> None:
        """Capital coming into force is paid in; sell matured stakes, then invest, fund by fund."""
        for stage, fund in self.funds.items():
            levers = getattr(self.levers_in(year), stage)
            fund.commit(levers)
            fund.exit_stakes(f, t, levers)
            fund.deal_round(f, t, levers)

    def flow_indicators(self, f, year: int) -> dict:
        """Equity invested by the funds this year."""
        invested = sum(fund.invested for fund in self.funds.values())
        flows = {"equity_invested": invested - self.invested_before}
        self.invested_before = invested
        return flows
