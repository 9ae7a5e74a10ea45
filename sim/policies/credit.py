"""Knowledge-value credit loans (知识价值信用贷款) with a risk-compensation fund.

Registered tech SMEs and certified firms learn of the scheme as a new product spreads (Bass
1969, as the registry, docs/model.md 7.8): each month an eligible firm not aware of it learns
of it with the monthly equivalent of ``awareness_rate + word_of_mouth·s`` a year, from banks
and agencies and from borrowers, s the share of the eligible operating firms the scheme has
served. At year 0 as many eligible firms as the scheme has served (plan table) know it. Aware
firms short of cash apply (``application_rate`` a month); the bank grades them A-E by a
knowledge-value score (IP, R&D, talent, products, status) and lends the grade's credit line,
capped by ``loan_cap`` and by a share of revenue, unsecured, for ``term_months``. A firm that
repays in full and is still eligible renews its line at once with probability
``renewal_rate``, short of cash or not. A loan not repaid when due (or left by a firm that
exits) is overdue: the risk-compensation fund pays
``compensation_share`` of the overdue principal while it has money, the bank bears the rest.
When the bank's loss ratio (overdue / lent, cumulative) passes ``warning_loss_ratio`` new credit
lines are halved; past ``breaker_loss_ratio``, or when the fund is empty, new lending stops.
The fund holds ``compensation_fund`` from the start; when that lever rises (a schedule such as
``{ 2017 = 100.0 }`` starts the fund in 2017) the increase is paid in the month it comes into
force. From the second year of the plan the fund is topped up each January.
"""

from dataclasses import dataclass

import numpy as np
from numba import njit

from sim import rng
from sim.agents.firms import NEVER
from sim.agents.lenders import Bank, RiskCompensationFund
from sim.agents.rules import per_month
from sim.policies.lever_group import LeverGroup
from sim.ranking import first_k
from sim.schema import param
from sim.sources import ASSUMED, BASELINE, DOMAIN, OFF


@dataclass(frozen=True, kw_only=True)
class CreditLevers:
    """Knowledge-value credit scheme."""

    loan_cap: float = param(
        0.0, unit="M CNY", lo=0, source=OFF, doc="largest credit line per firm (0: no scheme)"
    )
    line_a: float = param(5.0, unit="M CNY", lo=0, source=DOMAIN + ": grades A-E 5/4/3/1.6/0.8")
    line_b: float = param(4.0, unit="M CNY", lo=0, source=DOMAIN)
    line_c: float = param(3.0, unit="M CNY", lo=0, source=DOMAIN)
    line_d: float = param(1.6, unit="M CNY", lo=0, source=DOMAIN)
    line_e: float = param(0.8, unit="M CNY", lo=0, source=DOMAIN)
    grade_a_score: float = param(80, unit="points", lo=0, hi=100, source=ASSUMED)
    grade_b_score: float = param(65, unit="points", lo=0, hi=100, source=ASSUMED)
    grade_c_score: float = param(50, unit="points", lo=0, hi=100, source=ASSUMED)
    grade_d_score: float = param(35, unit="points", lo=0, hi=100, source=ASSUMED)
    grade_e_score: float = param(20, unit="points", lo=0, hi=100, source=ASSUMED)
    max_share_of_revenue: float = param(
        0.5, unit="x revenue/yr", lo=0, source=ASSUMED, doc="line at most this x revenue"
    )
    interest_rate: float = param(0.05, unit="1/yr", lo=0, hi=1, source=ASSUMED + " (LPR+spread)")
    term_months: int = param(12, unit="months", lo=1, hi=120, source=ASSUMED)
    application_rate: float = param(
        0.2,
        unit="prob/month",
        lo=0,
        hi=1,
        source=ASSUMED,
        doc="aware eligible firms short of cash that apply",
    )
    need_cash_months: float = param(
        3.0, unit="months of revenue", lo=0, source=ASSUMED, doc="a firm applies below this cash"
    )
    awareness_rate: float = param(
        0.5,
        unit="prob/yr",
        lo=0,
        hi=1,
        source=ASSUMED + "; range 0.03-0.6 (Bass innovation coefficient p, as the registry's "
        "certification.registry_awareness_rate; banks seek borrowers, so above a product's "
        "typical 0.03); set on the city's loan counts (docs/calibration.md)",
        doc="share of eligible firms not aware of the scheme that learn of it in a year from "
        "banks and agencies",
    )
    word_of_mouth: float = param(
        0.38,
        unit="prob/yr per served share",
        lo=0,
        hi=5,
        source="Bass 1969 imitation coefficient q; mean 0.38 in the meta-analysis of Sultan, "
        "Farley & Lehmann 1990 (range 0.2-0.6)",
        doc="awareness learnt from borrowers: q x the share of eligible firms the scheme has "
        "served, a year",
    )
    renewal_rate: float = param(
        0.3,
        unit="share",
        lo=0,
        hi=1,
        source=ASSUMED + "; range 0-0.8; set on the city's loan counts (docs/calibration.md)",
        doc="share of firms repaying a loan in full that renew their credit line at once",
    )
    compensation_share: float = param(
        0.8, unit="share", lo=0, hi=1, source=DOMAIN + ": fund pays 80% of overdue principal"
    )
    compensation_fund: float = param(
        0.0, unit="M CNY", lo=0, source=OFF + "; Liangping: 100 (" + BASELINE + ")"
    )
    fund_topup_per_year: float = param(0.0, unit="M CNY/yr", lo=0, source=OFF)
    warning_loss_ratio: float = param(
        0.03, unit="share", lo=0, hi=1, source=DOMAIN + ": thresholds unconfirmed"
    )
    access_value: float = param(
        0.02,
        unit="M CNY/yr",
        lo=0,
        source=ASSUMED + "; range 0-0.1",
        doc="what eligibility for these loans is worth to a firm when it weighs registering",
    )
    breaker_loss_ratio: float = param(
        0.05, unit="share", lo=0, hi=1, source=DOMAIN + ": thresholds unconfirmed"
    )


class KnowledgeValueCredit(LeverGroup):
    """The bank settles and lends every month; the fund is topped up each January."""

    name = "credit"
    flows = ("kvl_lent",)
    placements = {
        "loan_balance": 0.0,
        "loan_rate": 0.0,
        "loan_due_month": NEVER,
        "credit_blocked": False,
        "loan_aware": False,
    }

    def __init__(self, model, f):
        super().__init__(model, f)
        capital = self.levers_in(model.setup.baseline_year).compensation_fund
        self.compensation_fund = RiskCompensationFund(model, capital)
        self.committed = capital  # M CNY of fund capital paid in (top-ups apart)
        self.bank = Bank(model, self.compensation_fund)
        self.lent_before = 0.0  # M CNY lent up to the last 31 December
        # counts since the scheme began: the baseline's (plan table), then this run's loans
        self.firms_before = _baseline(model.setup, "kvl_cumulative_firms")
        self.loans_before = _baseline(model.setup, "kvl_cumulative_firm_loans")
        self.tell_year0_borrowers(f)

    def tell_year0_borrowers(self, f) -> None:
        """As at year 0, the firms that know the scheme are as many as it has served.

        The table does not say which firms borrowed before year 0: that many eligible firms,
        drawn at random, know the scheme.
        """
        _, pool = unaware_eligible_firms(0, f.alive, f.tech_sme, f.hitech_until, f.loan_aware)
        draws = rng.uniforms(self.model.seed, rng.INIT_MONTH, pool, rng.CREDIT_AWARENESS)
        f.loan_aware[pool[first_k(draws, self.firms_before)]] = True

    def spread_awareness(self, f, t: int, levers) -> None:
        """Eligible firms learn of the scheme from banks and agencies (p) and borrowers (q).

        Bass (1969) diffusion, as the registry's (docs/model.md 7.8): the monthly equivalent
        of ``p + q·s`` a year, s the share of the eligible operating firms the scheme has served.
        """
        eligible_count, unaware = unaware_eligible_firms(
            t, f.alive, f.tech_sme, f.hitech_until, f.loan_aware
        )
        served = min(1.0, self.firms_served / eligible_count) if eligible_count > 0 else 0.0
        learning = per_month(min(1.0, levers.awareness_rate + levers.word_of_mouth * served))
        draws = rng.uniforms(self.model.seed, t, unaware, rng.CREDIT_AWARENESS)
        f.loan_aware[unaware[draws < learning]] = True

    @property
    def firms_served(self) -> int:
        """Firms the scheme has lent to since it began (the baseline's, then this run's)."""
        return self.firms_before + len(self.bank.firms_served)

    def on_january(self, f, t: int, year: int) -> None:
        """The yearly public top-up, from the second year of the plan on."""
        if self.years_elapsed(year) > 1:
            self.compensation_fund.top_up(self.levers_in(year).fund_topup_per_year)

    def in_force(self, year: int) -> dict:
        """Eligibility for loans is a benefit of registration while the scheme lends."""
        levers = self.levers_in(year)
        return {"credit_access_value": levers.access_value if levers.loan_cap > 0 else 0.0}

    def every_month(self, f, t: int) -> None:
        """Capital coming into force is paid in; collect loans due, then lend."""
        levers = self.levers_in(self.model.date(t)[0])
        if levers.compensation_fund > self.committed:
            self.compensation_fund.top_up(levers.compensation_fund - self.committed)
            self.committed = levers.compensation_fund
        self.bank.settle(f, t, self.model.seed, levers)
        if levers.loan_cap > 0:
            self.spread_awareness(f, t, levers)
        self.bank.lend(f, t, self.model.seed, levers)

    def stock_indicators(self, f) -> dict:
        """The scheme's loss ratio and the fund's balance."""
        return {
            "kvl_loss_ratio": self.bank.loss_ratio,
            "compensation_fund_balance": self.compensation_fund.balance,
            "kvl_cumulative_firms": self.firms_served,
            "kvl_cumulative_firm_loans": self.loans_before + self.bank.loans_made,
        }

    def flow_indicators(self, f, year: int) -> dict:
        """Knowledge-value loans of the year."""
        lent = self.bank.lent - self.lent_before
        self.lent_before = self.bank.lent
        return {"kvl_lent": lent}


# One compiled pass over the table instead of four whole-table passes a month.
@njit(cache=True)
def unaware_eligible_firms(t, alive, tech_sme, hitech_until, loan_aware):
    """(number of operating firms that may borrow in month ``t``, ids of those unaware)."""
    rows = np.empty(alive.shape[0], dtype=np.int64)
    eligible_count, count = 0, 0
    for i in range(alive.shape[0]):
        if alive[i] and (tech_sme[i] or hitech_until[i] >= t):
            eligible_count += 1
            if not loan_aware[i]:
                rows[count] = i
                count += 1
    return eligible_count, rows[:count].copy()


def _baseline(setup, indicator: str) -> int:
    """The year-0 value of a cumulative count in the plan table; 0 if it has none."""
    row = setup.plan.get(indicator)
    return 0 if row is None or row.baseline is None else round(row.baseline)
