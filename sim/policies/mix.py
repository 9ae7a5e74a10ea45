"""The policy mix: the institutions that deliver the levers, and when they act.

Each month, before the firm step: in January the year's vouchers, cultivation pool, talents,
commissioners, institution subsidies and new institutions, and the attracted firms; every
month the bank settles and lends and incubators graduate and admit; each quarter the guidance
funds sell matured stakes and invest. On 31 December, after the status rounds: awards,
incremental R&D subsidies, new platforms, unused vouchers returned, and the year's accounts.

Everything reads ``model.policy`` when it acts, so levers changed during a run take effect at
the next month. Policies act on the firm table's arrays (``FirmArrays``) only.
"""

from collections import defaultdict

import numpy as np

from sim import rng
from sim.agents.funds import GuidanceFund
from sim.agents.government import LEVERS, Government
from sim.agents.incubators import (
    Incubator,
    admit,
    free_places,
    graduate,
    incubation_candidates,
)
from sim.agents.institutes import University
from sim.agents.kernels import MonthLevers
from sim.agents.lenders import Bank, RiskCompensationFund
from sim.agents.population import attracted_firms
from sim.agents.talent import Talent
from sim.policies.platforms import opened_by
from sim.policies.rd_subsidies import rd_subsidy_rate
from sim.policies.tax import super_deduction
from sim.policies.vouchers import allocate_vouchers, return_unused_vouchers
from sim.ranking import first_k

STAGES = ("seed", "angel", "venture")
DEAL_MONTHS = (1, 4, 7, 10)
# Lever indicators that are flows: not observed for year 0.
FLOW_INDICATORS = ("tech_commissioners", "major_new_products", "kvl_lent", "equity_invested")


class PolicyMix:
    """Institutions (Mesa agents) and the schedule of every lever."""

    def __init__(self, model, f):
        p = model.policy
        self.model = model
        self.baseline_year = model.setup.baseline_year
        self.government = Government(model)
        model.government = self.government
        self.compensation_fund = RiskCompensationFund(model, p.credit.compensation_fund)
        self.bank = Bank(model, self.compensation_fund)
        self.funds = {s: GuidanceFund(model, s, getattr(p.guidance_funds, s)) for s in STAGES}
        self.incubators = [
            Incubator(model, k + 1, p.incubation.capacity_per_institution, self.baseline_year)
            for k in range(p.incubation.existing_institutions)
        ]
        self.universities = [University(model, k) for k in range(p.platforms.universities)]
        self.talents: list[Talent] = []
        self.opened = defaultdict(int)  # institutions opened since year 0, by kind
        self.accounts: dict[int, dict[str, float]] = {}
        self.commissioner_dispatches = 0
        self.vouchers_issued = 0.0
        self.lent_before = 0.0
        self.invested_before = 0.0
        self.services_share = self._services_share(model, f)
        self._place_existing_platforms(f, p.platforms.existing_platforms)

    # ------------------------------------------------------------------------ each month

    def month_levers(self, year: int) -> MonthLevers:
        """The scalar levers the firm kernel reads this month."""
        p = self.model.policy
        return MonthLevers(
            tax_standard=p.standard_tax_rate,
            tax_hitech=p.hitech_tax_rate,
            super_deduction_industrial=super_deduction(p, year, industrial=True),
            super_deduction_other=super_deduction(p, year, industrial=False),
            voucher_cost_share=p.vouchers.cost_share,
            services_share=self.services_share,
            rd_subsidy_rate=rd_subsidy_rate(p.rd_subsidies),
            major_product_jump=p.rd_subsidies.major_product_jump,
        )

    def start_month(self, f, t: int, year: int, month_of_year: int) -> dict | None:
        """Act before the firm step; returns the columns of attracted firms to add, if any."""
        p, seed = self.model.policy, self.model.seed
        if month_of_year == 1:
            self.start_year(f, t, year)
        self.bank.settle(f, t, p.credit)
        self.bank.lend(f, t, seed, p.credit)
        if month_of_year in DEAL_MONTHS:
            for stage, fund in self.funds.items():
                levers = getattr(p.guidance_funds, stage)
                fund.exit_stakes(f, t, levers)
                fund.deal_round(f, t, year, levers)
        self.incubate(f, t)
        if month_of_year == 1:
            return self.attract(f, t, year)
        return None

    def start_year(self, f, t: int, year: int) -> None:
        """January: vouchers, cultivation pool, talent, commissioners, institutions."""
        p = self.model.policy
        self.vouchers_issued = allocate_vouchers(f, p.vouchers, self.model.seed, t)
        self.select_cultivation_pool(f, t)
        self.recruit_and_place_talent(f, t, year)
        self.dispatch_commissioners(f, t, year)
        self.open_institutions(year)
        self.fund_institutions()
        if year > self.baseline_year + 1:
            self.compensation_fund.top_up(p.credit.fund_topup_per_year)
        self.update_innovation_boost(f)

    def select_cultivation_pool(self, f, t: int) -> None:
        """Registered, uncertified firms with the highest R&D ratio enter the pool."""
        support = self.model.policy.certification_support
        f.cultivated[:] = False
        if support.pool_size == 0:
            return
        rows = np.flatnonzero(f.alive & f.tech_sme & (f.hitech_until < t))
        ratio = _ratio(f.rd_history[rows, 0], f.revenue_history[rows, 0])
        chosen = rows[first_k(-ratio, support.pool_size)]  # highest first, ties by firm id
        f.cultivated[chosen] = True
        self.government.record("certification_support", support.coaching_cost * len(chosen))
        self._received("certification_support", support.coaching_cost * len(chosen))

    def recruit_and_place_talent(self, f, t: int, year: int) -> None:
        """Recruit the year's talents, place unplaced ones, pay salary subsidies."""
        levers = self.model.policy.talent
        years = year - self.baseline_year
        due = opened_by(levers.recruits_per_year, years) - self.opened["talent"]
        top_due = opened_by(levers.recruits_per_year * levers.top_talent_share, years)
        for _ in range(due):
            top = self.opened["top_talent"] < top_due
            self.talents.append(Talent(self.model, top_class=top, recruited_year=year))
            self.opened["top_talent"] += top
        self.opened["talent"] += due
        for talent in self.talents:
            if talent.firm >= 0 and not f.alive[talent.firm]:
                talent.firm = -1
        unplaced = [talent for talent in self.talents if talent.firm < 0]
        recognised = f.tech_sme | (f.hitech_until >= t)
        rows = np.flatnonzero(f.alive & recognised & (f.talents < levers.max_per_firm))
        hosts = rows[first_k(-f.rd_history[rows, 0], len(unplaced))]  # most R&D first
        for talent, firm in zip(unplaced, hosts.tolist(), strict=False):
            talent.firm = firm
        # one talent per host firm: whole-array updates, as one firm at a time would give
        f.talents[hosts] += 1
        f.tech_staff[hosts] = np.minimum(f.tech_staff[hosts] + 1.0, f.employees[hosts] + 1.0)
        f.employees[hosts] += 1.0
        placed = np.array([talent.firm for talent in self.talents if talent.firm >= 0], dtype=int)
        amounts = np.full(len(placed), levers.salary_subsidy)
        self.government.pay_firms(f, placed, amounts, "talent")

    def dispatch_commissioners(self, f, t: int, year: int) -> None:
        """Send the year's S&T commissioners to traditional industrial firms, by lottery."""
        levers = self.model.policy.talent
        f.commissioner_visits[:] = 0
        years = year - self.baseline_year
        due = opened_by(levers.commissioners_per_year, years) - opened_by(
            levers.commissioners_per_year, years - 1
        )
        flags = self.model.sector_flags
        traditional = flags["industrial"][f.sector] & ~flags["hitech_industry"][f.sector]
        rows = np.flatnonzero(f.alive & traditional)
        draws = rng.uniforms(self.model.seed, t, rows.astype(np.int64), rng.COMMISSIONER)
        chosen = rows[first_k(draws, due)]
        f.commissioner_visits[chosen] = 1
        self.commissioner_dispatches = len(chosen)
        cost = levers.commissioner_cost * len(chosen)
        self.government.record("talent", cost)
        self._received("talent", cost)

    def open_institutions(self, year: int) -> None:
        """New service institutions and R&D institutes open on the plan's schedule."""
        p = self.model.policy
        years = year - self.baseline_year
        new = opened_by(p.incubation.new_institutions_per_year, years) - self.opened["service"]
        for _ in range(new):
            number = len(self.incubators) + 1
            capacity = p.incubation.capacity_per_institution
            self.incubators.append(Incubator(self.model, number, capacity, year))
        self.opened["service"] += new
        for kind in ("new_rd_institutes", "industry_research_institutes", "rd_branches"):
            rate = getattr(
                p.platforms, "rd_branches_per_year" if kind == "rd_branches" else f"{kind}_per_year"
            )
            self.opened[kind] = opened_by(rate, years)

    def fund_institutions(self) -> None:
        """Yearly operating subsidies of service institutions and running costs of institutes."""
        p = self.model.policy
        for incubator in self.incubators:
            incubator.subsidy_received += p.incubation.operating_subsidy
        subsidy = p.incubation.operating_subsidy * len(self.incubators)
        self.government.record("incubation", subsidy)
        self._received("incubation", subsidy)
        institutes = sum(
            self.opened[k]
            for k in ("new_rd_institutes", "industry_research_institutes", "rd_branches")
        )
        cost = p.platforms.institute_cost * institutes
        self.government.record("platforms", cost)
        self._received("platforms", cost)

    def incubate(self, f, t: int) -> None:
        """Tenants graduate; young firms are admitted while incubators have room."""
        tenants = graduate(f, t, self.incubators)
        places = free_places(f, tenants, self.incubators)
        room = int(places.sum())
        if room == 0:
            return
        levers = self.model.policy.incubation
        candidates = incubation_candidates(f, t, self.model.seed, levers, room)
        admit(f, candidates, places, t, levers)

    def attract(self, f, t: int, year: int) -> dict | None:
        """The year's attracted high-tech firms, with their subsidy paid on arrival."""
        levers = self.model.policy.attraction
        years = year - self.baseline_year
        count = opened_by(levers.firms_per_year, years) - self.opened["attracted"]
        self.opened["attracted"] += count
        if count <= 0:
            return None
        columns = attracted_firms(self.model.setup, self.model.seed, t, len(f.alive), count, levers)
        columns["cash"] = columns["cash"] + levers.subsidy_per_firm
        columns["public_receipts_ytd"] = np.full(count, levers.subsidy_per_firm)
        self.government.record("attraction", levers.subsidy_per_firm * count)
        return columns

    def update_innovation_boost(self, f) -> None:
        """Innovation multiplier from talents, platforms and this year's commissioner visits."""
        talent, platforms = self.model.policy.talent, self.model.policy.platforms
        f.innovation_boost[:] = (
            1.0
            + talent.innovation_boost * f.talents
            + platforms.innovation_boost * f.platform
            + talent.commissioner_boost * f.commissioner_visits
        )

    # ----------------------------------------------------------------------- 31 December

    def end_year(self, f, t: int, year: int, before: dict) -> dict[str, float]:
        """After the status rounds: awards, subsidies, platforms, accounts; returns indicators."""
        self.pay_certification_awards(f, t, before)
        self.pay_incremental_rd_subsidies(f, t)
        self.pay_major_product_awards(f)
        self.recognise_platforms(f, t, year)
        self.update_innovation_boost(f)
        returned = return_unused_vouchers(f)
        self.government.record("vouchers", self.vouchers_issued - returned)
        self._received("vouchers", float(f.voucher_used_ytd.sum()))
        for university in self.universities:
            # firm i buys from university i mod U; the copy sums as a mask would, bit for bit
            mine = f.services_bought_ytd[university.index :: len(self.universities)]
            university.contracts[year] = float(np.ascontiguousarray(mine).sum())
        values = self.indicators(f, year)
        self.close_accounts(f, year)
        return values

    def pay_certification_awards(self, f, t: int, before: dict) -> None:
        """Awards for first certifications, renewals and new tech SMEs."""
        support = self.model.policy.certification_support
        new_hitech = np.flatnonzero(f.alive & (f.hitech_since == t))
        renewed = np.flatnonzero(
            f.alive & (before["hitech_until"] == t) & (f.hitech_until > t) & (f.hitech_since != t)
        )
        new_sme = np.flatnonzero(f.alive & f.tech_sme & ~before["tech_sme"])
        for rows, award in (
            (new_hitech, support.award_new_hitech),
            (renewed, support.award_renewed_hitech),
            (new_sme, support.award_new_tech_sme),
        ):
            if award > 0:
                self.government.pay_firms(
                    f, rows, np.full(len(rows), award), "certification_support"
                )

    def pay_incremental_rd_subsidies(self, f, t: int) -> None:
        """A share of each recognised firm's R&D increase, cut pro rata to the budget."""
        levers = self.model.policy.rd_subsidies
        if levers.budget <= 0:
            return
        recognised = f.alive & (f.tech_sme | (f.hitech_until > t)) & (f.rd_history[:, 1] > 0)
        rows = np.flatnonzero(recognised)
        increase = np.maximum(0.0, f.rd_history[rows, 0] - f.rd_history[rows, 1])
        claims = np.minimum(levers.cap_per_firm, levers.incremental_share * increase)
        total = claims.sum()
        if total > levers.budget:
            claims = claims * (levers.budget / total)
        self.government.pay_firms(f, rows[claims > 0], claims[claims > 0], "rd_subsidies")

    def pay_major_product_awards(self, f) -> None:
        """An award per major new product of the year."""
        award = self.model.policy.rd_subsidies.major_product_award
        rows = np.flatnonzero(f.major_products_ytd > 0)
        if award > 0:
            self.government.pay_firms(
                f, rows, award * f.major_products_ytd[rows].astype(np.float64), "rd_subsidies"
            )

    def recognise_platforms(self, f, t: int, year: int) -> None:
        """The year's quota of new municipal R&D platforms, in the certified firms with most R&D."""
        levers = self.model.policy.platforms
        quota = (
            opened_by(levers.new_platforms_per_year, year - self.baseline_year)
            - self.opened["platforms"]
        )
        if quota <= 0:
            return
        rows = np.flatnonzero(
            f.alive & (f.hitech_until > t) & ~f.platform & (f.rd_history[:, 0] >= levers.min_rd)
        )
        chosen = rows[first_k(-f.rd_history[rows, 0], quota)]
        f.platform[chosen] = True
        self.opened["platforms"] += quota
        self.government.pay_firms(
            f, chosen, np.full(len(chosen), levers.platform_award), "platforms"
        )

    def indicators(self, f, year: int) -> dict[str, float]:
        """Lever-related indicators of the year (plan ids where the plan has them)."""
        spent = self.government.spent[year]
        values = self.stock_indicators(f)
        values |= {
            "tech_commissioners": self.commissioner_dispatches,
            "major_new_products": int(f.major_products_ytd[f.alive].sum()),
            "tech_contract_value": float(f.services_bought_ytd.sum()) / 100.0,
            "kvl_lent": self.bank.lent - self.lent_before,
            "kvl_loss_ratio": self.bank.loss_ratio,
            "compensation_fund_balance": self.compensation_fund.balance,
            "equity_invested": sum(fund.invested for fund in self.funds.values())
            - self.invested_before,
        }
        values |= {f"spend_{lever}": spent[lever] for lever in LEVERS}
        values["spend_total"] = sum(spent[lever] for lever in LEVERS)
        return values

    def stock_indicators(self, f) -> dict[str, float]:
        """Indicators that are stocks, also known for year 0."""
        p = self.model.policy
        return {
            "high_end_talent": p.talent.existing_talents + self.opened["talent"],
            "top_talent_ab": p.talent.existing_top_talents + self.opened["top_talent"],
            "rd_platforms": self.external_platforms + int(np.count_nonzero(f.alive & f.platform)),
            "new_rd_institutes": p.platforms.existing_new_rd_institutes
            + self.opened["new_rd_institutes"],
            "industry_research_institutes": self.opened["industry_research_institutes"],
            "rd_branches": self.opened["rd_branches"],
            "service_institutions": len(self.incubators),
            "kvl_loss_ratio": self.bank.loss_ratio,
            "compensation_fund_balance": self.compensation_fund.balance,
        }

    def year0_indicators(self, f) -> dict[str, float]:
        """Indicators on 31 December of year 0."""
        values = self.stock_indicators(f)
        values["tech_contract_value"] = self.services_share * float(f.rd_history[f.alive, 0].sum())
        values["tech_contract_value"] /= 100.0
        values |= dict.fromkeys(FLOW_INDICATORS)
        values |= dict.fromkeys([f"spend_{lever}" for lever in LEVERS] + ["spend_total"])
        return values

    def close_accounts(self, f, year: int) -> None:
        """Record what recipients received this year, then reset the yearly firm counters."""
        accounts = self.accounts.setdefault(year, defaultdict(float))
        accounts["firms_public_receipts"] += float(f.public_receipts_ytd.sum())
        accounts["firms_voucher_used"] += float(f.voucher_used_ytd.sum())
        accounts["bank_compensation"] = self.bank.compensation_received
        accounts["bank_interest"] = float(f.interest_ytd.sum())
        accounts["funds_invested"] = sum(fund.invested for fund in self.funds.values())
        accounts["firms_equity_received"] = float(f.equity_received.sum())
        accounts["funds_public_invested"] = sum(
            fund.public_share * fund.invested for fund in self.funds.values()
        )
        self.bank.interest_received += accounts["bank_interest"]
        self.lent_before = self.bank.lent
        self.invested_before = accounts["funds_invested"]
        for column in (
            f.voucher_used_ytd,
            f.services_bought_ytd,
            f.major_products_ytd,
            f.interest_ytd,
            f.public_receipts_ytd,
        ):
            column[:] = 0

    def _received(self, lever: str, amount: float) -> None:
        """Book money received by institutions (not firms) this year."""
        accounts = self.accounts.setdefault(self.model.current_year, defaultdict(float))
        accounts[f"institutions_{lever}"] += amount

    # -------------------------------------------------------------------- initialisation

    def _services_share(self, model, f) -> float:
        """Share of R&D bought as services: set, or calibrated to year-0 contract turnover."""
        share = model.policy.platforms.services_share
        row = model.setup.plan.get("tech_contract_value")
        rd = float(f.rd_history[f.alive, 0].sum())
        if share == 0.0 and row is not None and rd > 0:
            share = min(1.0, row.baseline * 100.0 / rd)  # plan unit: 100 M CNY
        return share

    def _place_existing_platforms(self, f, count: int) -> None:
        """Year-0 platforms sit in the recognised firms with the most R&D; the rest elsewhere."""
        recognised = f.alive & (f.tech_sme | (f.hitech_until > -1))
        rows = np.flatnonzero(recognised)
        chosen = rows[first_k(-f.rd_history[rows, 0], count)]
        f.platform[chosen] = True
        self.external_platforms = count - len(chosen)


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(len(a)), where=b > 0)
