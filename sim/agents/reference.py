"""The readable specification: the firm step as plain Python on Mesa agents.

``ReferenceFirm.month`` and ``ReferenceFirm.close_year`` say, one rule a line, what the Numba
kernels in ``kernels.py`` compute over arrays. They share nothing with the kernels but the
scenario, the population synthesis and the counter-based random streams (drawn here by the
plain-Python twin of the hash), and a test holds the two paths to identical integer
indicators and floats equal within 1e-9. Slow on purpose; use it to read, check and benchmark.
"""

import math

import mesa

from sim import rng
from sim.agents.firms import FIRM_COLUMNS, NEVER, PENDING_SLOTS
from sim.agents.rules import (
    INVENTION_PATENT_POINTS,
    OTHER_IP_MAX_ITEMS,
    OTHER_IP_POINTS,
    RD_POINTS,
    TECH_STAFF_POINTS,
)
from sim.schema import plain


class ReferenceFirm(mesa.Agent):
    """A firm with its state as plain attributes (names as in ``FIRM_COLUMNS``)."""

    def __init__(self, model: mesa.Model, firm_id: int):
        super().__init__(model)
        self.firm_id = firm_id

    def load(self, f) -> None:
        """Take the firm's variables from its row of the firm table, as plain Python values."""
        for name in FIRM_COLUMNS:
            setattr(self, name, plain(getattr(f, name)[self.firm_id]))

    def store(self, f) -> None:
        """Write the firm's variables back into its row."""
        for name in FIRM_COLUMNS:
            getattr(f, name)[self.firm_id] = getattr(self, name)

    def draw(self, t: int, purpose: int) -> float:
        """This firm's uniform draw for ``purpose`` in month ``t``."""
        return rng.uniform_py(self.model.seed, t, self.firm_id, purpose)

    # ------------------------------------------------------------------------ each month

    def month(self, t: int, policy) -> None:
        """Market, R&D, innovation, patents, staff, accounts and exit, in that order."""
        r, sector = self.model.rules, self.model.setup.population.sectors[self.sector]
        certified = self.hitech_until >= t
        sales = self.revenue / 12.0
        mean0 = self.model.sector_params.mean_productivity[self.sector]
        growth = self.market_growth(t, sector)

        # R&D: a target from preference, user cost and thresholds; the effort moves toward it
        voucher_rate = 0.0
        if self.voucher_balance > 0.0:
            voucher_rate = policy.voucher_cost_share * policy.services_share
        price = (1.0 - voucher_rate) * (1.0 - policy.rd_subsidy_rate)
        rate = policy.tax_hitech if certified else policy.tax_standard
        if self.taxable_last_year <= 0.0:
            rate *= r.loss_value  # a deduction is worth less to a firm making losses
        deduction = self.deduction(policy, sector.industrial, self.tech_sme)
        preferred = self.rd_intensity * self.user_cost_factor(rate, deduction, price)
        target, bar = self.rd_target(t, policy, preferred, sector.industrial)
        self.rd_effort += r.rd_adjustment_per_month * (target - self.rd_effort)
        if target <= 0.0:
            self.rd_effort = 0.0  # a firm that stops its R&D programme stops at once
        relabelled = max(bar - self.rd_effort, 0.0)
        deployed = min(self.equity_rd_per_month, self.equity_rd_left)
        rd = min(self.rd_effort * sales + deployed, r.rd_cash_share * max(self.cash, 0.0))
        voucher = min(self.voucher_balance, voucher_rate * rd)

        if rd > 0.0 and sales > 0.0:
            effort = r.innovation_zeta * self.innovation_boost * rd / sales
            if self.draw(t, rng.INNOVATION) < 1.0 - math.exp(-effort):
                self.innovate(t, policy, certified)
        self.decide_patents(t)
        mean = self.model.sector_params.mean_productivity[self.sector]
        self.productivity += r.imitation_rate / 12.0 * (mean - self.productivity)

        self.revenue *= math.exp(growth)
        self.employees = max(1.0, self.employees * math.exp(r.employment_elasticity * growth))
        wanted_staff = 12.0 * rd / self.rd_per_tech_staff
        self.tech_staff += r.staff_adjustment * (wanted_staff - self.tech_staff)
        self.tech_staff = min(self.tech_staff, self.employees)

        interest = self.loan_balance * self.loan_rate / 12.0
        margin = sector.operating_margin + r.margin_productivity * (self.productivity - mean0)
        profit = sales * margin - rd - interest
        self.cash += profit + voucher
        excess = self.cash - self.loan_balance - r.cash_target_years * self.revenue  # loans kept
        if excess > 0.0:  # cash above the target holding is paid out, a share a month
            self.cash -= r.payout_rate * excess
            self.payout_ytd += r.payout_rate * excess
        self.profit_ytd += profit
        self.equity_rd_left -= deployed
        self.voucher_balance -= voucher
        self.voucher_used_ytd += voucher
        self.services_bought_ytd += policy.services_share * rd
        self.interest_ytd += interest
        self.rd_spend = rd
        self.rd_ytd += rd + relabelled * sales
        self.rd_relabelled_ytd += relabelled * sales
        self.revenue_ytd += sales

        young = t - self.birth_month < r.young_age_months
        hazard = r.young_exit_per_month if young else r.exit_per_month
        if self.cash < 0.0:
            hazard += r.distress_exit_hazard
        if self.draw(t, rng.EXIT) < hazard * self.exit_hazard_factor * self.size_exit_factor:
            self.alive = False
            self.exit_month = t

    def market_growth(self, t: int, sector) -> float:
        """Demand growth, share won or lost against the sector's productivity, shocks."""
        r = self.model.rules
        sigma = self.growth_volatility
        omega = r.event_variance_share
        mean = self.model.sector_params.mean_productivity[self.sector]
        sigma_k = sector.revenue_volatility
        growth = (sector.revenue_growth - 0.5 * sigma_k * sigma_k) / 12.0
        growth += r.competition_chi / 12.0 * (self.productivity - mean)
        z = rng.gaussian_py(self.model.seed, t, self.firm_id, rng.DEMAND)
        growth += sigma * math.sqrt((1.0 - omega) / 12.0) * z
        if self.draw(t, rng.DEMAND_EVENT) < r.event_per_month:
            z_event = rng.gaussian_py(self.model.seed, t, self.firm_id, rng.EVENT_SIZE)
            growth += sigma * math.sqrt(omega / r.event_rate) * z_event
        return growth + self.growth_boost / 12.0

    def innovate(self, t: int, policy, certified: bool) -> None:
        """Productivity jumps; a major product, high-tech income and IP may follow."""
        r = self.model.rules
        jump = r.jump_max * kumaraswamy(self.draw(t, rng.JUMP), r.jump_a, r.jump_b)
        self.productivity += math.log1p(jump)
        self.innovations_ytd += 1
        if jump >= policy.major_product_jump and (self.tech_sme or certified):
            self.major_products_ytd += 1
        self.hitech_product_share += r.hitech_product_step * (1.0 - self.hitech_product_share)
        self.protect_innovation(t)

    @staticmethod
    def deduction(policy, industrial: bool, tech_sme: bool) -> float:
        """Extra deduction (share of R&D): by sector kind; a tech SME takes the larger."""
        rate = policy.super_deduction_industrial if industrial else policy.super_deduction_other
        return max(rate, policy.super_deduction_tech_sme) if tech_sme else rate

    def user_cost_factor(self, rate: float, deduction: float, price: float) -> float:
        """(user cost / user cost under the reference deduction) ** -elasticity."""
        r = self.model.rules
        user_cost = max(price - rate * (1.0 + deduction), 0.05)
        reference = max(1.0 - rate * (1.0 + r.rd_reference_super_deduction), 0.05)
        return (user_cost / reference) ** (-r.rd_user_cost_elasticity)

    def hitech_rd_threshold(self, revenue: float) -> float:
        """Minimum R&D/revenue for the HNTE status at this revenue (M CNY/yr)."""
        r = self.model.rules
        if revenue <= r.hitech_small_revenue:
            return r.hitech_rd_ratio_small
        if revenue <= r.hitech_large_revenue:
            return r.hitech_rd_ratio_medium
        return r.hitech_rd_ratio_large

    def rd_target(self, t: int, policy, preferred: float, industrial: bool):
        """(real R&D/revenue aimed at, reported R&D/revenue booked at least).

        A firm reaches for the HNTE bar, else for the R&D tier the tech-SME score needs, when
        the status is worth more a year than the extra R&D costs, part of which it relabels.
        """
        target, bar = self.reach_for_hitech(t, policy, preferred, industrial)
        if bar > 0.0:
            return target, bar
        return self.reach_for_registry(t, policy, preferred, industrial)

    def reach_for_hitech(self, t: int, policy, preferred: float, industrial: bool):
        """(target, bar) toward the HNTE R&D bar if worth it, else (preferred, 0)."""
        r = self.model.rules
        if not self.aims_at_hitech(t):
            return preferred, 0.0
        bar = self.hitech_rd_threshold(self.revenue) + r.threshold_margin
        if preferred >= bar:
            return preferred, 0.0
        cost = self.extra_rd_cost(policy, bar - preferred, industrial)
        cost += r.hitech_application_cost / r.hitech_validity_years
        if not self.has_core_ip():
            cost += r.ip_item_cost / r.hitech_validity_years
        benefit = self.hitech_benefit(policy) + policy.award_new_hitech / r.hitech_validity_years
        if benefit < cost:
            return preferred, 0.0
        return preferred + (1.0 - r.relabel_share) * (bar - preferred), bar

    def reach_for_registry(self, t: int, policy, preferred: float, industrial: bool):
        """(target, bar) toward the R&D tier the tech-SME score needs if worth it."""
        r = self.model.rules
        small = (
            self.employees <= r.tech_sme_max_employees and self.revenue <= r.tech_sme_max_revenue
        )
        if not (small and preferred > 0.0 and self.registry_aware and self.hitech_until <= t):
            return preferred, 0.0
        staff = _tier(self.tech_staff_share(), TECH_STAFF_POINTS)
        ip = (
            INVENTION_PATENT_POINTS
            if self.invention_patents > 0
            else OTHER_IP_POINTS * OTHER_IP_MAX_ITEMS
        )
        needed = r.tech_sme_min_score - staff - ip
        bars = [bar for bar, points in RD_POINTS if points >= needed]
        if staff == 0.0 or needed <= 0.0 or not bars:
            return preferred, 0.0
        bar = min(bars) + r.threshold_margin
        if preferred >= bar:
            return preferred, 0.0
        cost = self.extra_rd_cost(policy, bar - preferred, industrial) + r.tech_sme_compliance_cost
        if self.registration_benefit(policy) < cost:
            return preferred, 0.0
        return preferred + (1.0 - r.relabel_share) * (bar - preferred), bar

    def extra_rd_cost(self, policy, gap: float, industrial: bool) -> float:
        """Yearly after-tax cost of reporting ``gap`` x revenue more R&D, part relabelled."""
        r = self.model.rules
        rate = policy.tax_standard if self.taxable_last_year > 0.0 else 0.0
        deduction = self.deduction(policy, industrial, self.tech_sme)
        real_gap = (1.0 - r.relabel_share) * gap
        return real_gap * self.revenue * (1.0 - rate * (1.0 + deduction))

    def hitech_benefit(self, policy) -> float:
        """The status's yearly worth: tax saved at the reduced rate, programmes, reputation."""
        saving = (policy.tax_standard - policy.tax_hitech) * max(self.taxable_last_year, 0.0)
        return saving + self.model.rules.hitech_status_value

    def aims_at_hitech(self, t: int) -> bool:
        """Expects to pass the HNTE review with R&D at the bar (products, age, score).

        The score counts the results R&D at the bar brings over three years and one core IP
        item if it has none (it files one); tech staff come with the R&D.
        """
        r = self.model.rules
        if not (
            self.hitech_product_share >= r.hitech_min_product_share
            and self.registry_aware
            and t - self.birth_month >= r.hitech_min_age_months - 12
        ):
            return False
        bar = self.hitech_rd_threshold(self.revenue) + r.threshold_margin
        per_month = 1.0 - math.exp(-r.innovation_zeta * self.innovation_boost * bar)
        results = max(float(sum(self.innovation_history)), 36.0 * per_month)
        items = self.other_ip if self.has_core_ip() else 1
        return self.score_besides_rd(t, items, results) + 10.0 >= r.hitech_min_score

    def protect_innovation(self, t: int) -> None:
        """An invention application (decided after a lag), or a utility model / copyright."""
        r = self.model.rules
        u = self.draw(t, rng.PATENT_APPLICATION)
        if u < r.invention_application_probability:
            span = r.grant_lag_max - r.grant_lag_min + 1
            lag = r.grant_lag_min + int(self.draw(t, rng.GRANT_LAG) * span)
            self.pending_applications[(t + lag) % PENDING_SLOTS] += 1
            self.applications_ytd += 1
        elif (
            u
            < r.invention_application_probability
            + (1.0 - r.invention_application_probability) * r.other_ip_probability
        ):
            self.other_ip += 1

    def decide_patents(self, t: int) -> None:
        """Grant or refuse the applications due this month."""
        r = self.model.rules
        slot = t % PENDING_SLOTS
        due = self.pending_applications[slot]
        self.pending_applications[slot] = 0
        grants = rng.binomial_py(due, r.grant_probability, self.draw(t, rng.GRANT))
        self.invention_patents += grants
        self.grants_ytd += grants

    # ----------------------------------------------------------------------- 31 December

    def close_year(self, t: int, policy, cultivation_pass_bonus: float) -> None:
        """Tax, then book the year; R&D plans revised; status rounds; high growth."""
        self.pay_income_tax(t, policy)
        self.book_year()
        self.lapse_patents(t)
        self.set_size_effects()
        self.revise_rd_preference(t)
        self.certification_round(t, policy, cultivation_pass_bonus)
        self.registry_round(t, policy)
        self.high_growth_round(t)

    def high_growth_round(self, t: int) -> None:
        """Recognised, growing fast, and seeking the recognition (a trait, drawn once)."""
        rules = self.model.rules
        trait = rng.uniform_py(
            self.model.seed, rng.INIT_MONTH, self.firm_id, rng.HIGH_GROWTH_TAKE_UP
        )
        seeks = trait < self.model.sector_params.high_growth_take_up[self.sector]
        self.high_growth = (
            self.recognised(t)
            and seeks
            and self.revenue_history[0] >= rules.high_growth_min_revenue
            and self.yearly_growth(t) >= rules.high_growth_min_growth
        )

    def pay_income_tax(self, t: int, policy) -> None:
        """Income tax on profit less the extra R&D deduction, losses set off oldest first."""
        sector = self.model.setup.population.sectors[self.sector]
        certified = self.hitech_until >= t
        deduction = self.deduction(policy, sector.industrial, self.tech_sme)
        rate = policy.tax_hitech if certified else policy.tax_standard
        recognised = certified or self.tech_sme
        carry = policy.loss_carry_years_recognised if recognised else policy.loss_carry_years
        usable = [age for age in range(len(self.tax_losses)) if age < carry]
        carried = 0.0
        for age in usable:
            carried += self.tax_losses[age]
        taxable = self.profit_ytd - deduction * self.rd_ytd
        tax = rate * max(taxable - carried, 0.0)
        used = min(max(taxable, 0.0), carried)
        for age in reversed(usable):
            take = min(used, self.tax_losses[age])
            self.tax_losses[age] -= take
            used -= take
        self.tax_losses = [max(-taxable, 0.0)] + self.tax_losses[:-1]
        self.forgone_deduction_last_year = rate * max(self.profit_ytd - carried, 0.0) - tax
        self.forgone_rate_last_year = policy.tax_standard * max(taxable - carried, 0.0) - tax
        self.taxable_last_year = taxable
        self.tax_ytd = tax
        self.cash -= tax

    def lapse_patents(self, t: int) -> None:
        """Patents whose yearly fee is not paid lapse."""
        r = self.model.rules
        lapsed = rng.binomial_py(
            self.invention_patents, r.patent_lapse_rate, self.draw(t, rng.LAPSE)
        )
        self.invention_patents -= lapsed

    def set_size_effects(self) -> None:
        """Growth volatility and exit hazard for the year: the sector's, scaled by size."""
        r, sector = self.model.rules, self.model.setup.population.sectors[self.sector]
        size = max(self.revenue, 1e-6) / sector.revenue_median
        self.growth_volatility = sector.revenue_volatility * min(
            3.0, size ** (-r.size_volatility_exponent)
        )
        self.size_exit_factor = min(r.size_exit_cap, size ** (-r.size_exit_exponent))

    def revise_rd_preference(self, t: int) -> None:
        """A yearly shock to preferred R&D, reverting to its long-run level; stops and starts."""
        r = self.model.rules
        u = self.draw(t, rng.RD_START)
        if self.rd_intensity > 0.0 and u < r.rd_stop_rate:
            self.rd_intensity = 0.0
        elif self.rd_intensity > 0.0:
            z = rng.normal_py(self.model.seed, t, self.firm_id, rng.RD_PREFERENCE)
            gap = math.log(self.rd_intensity_long_run / self.rd_intensity)
            shock = r.rd_preference_reversion * gap + r.rd_preference_volatility * z
            self.rd_intensity = min(self.rd_intensity * math.exp(shock), 1.0)
        elif u < self.rd_start_rate:
            self.rd_intensity = self.rd_intensity_long_run

    def book_year(self) -> None:
        """Push this year's totals onto the three-year histories and reset the counters."""
        self.revenue_history = [self.revenue_ytd] + self.revenue_history[:2]
        self.rd_history = [self.rd_ytd] + self.rd_history[:2]
        self.innovation_history = [self.innovations_ytd] + self.innovation_history[:2]
        self.applications_last_year = self.applications_ytd
        self.grants_last_year = self.grants_ytd
        self.tax_last_year = self.tax_ytd
        self.revenue_ytd = self.rd_ytd = self.tax_ytd = self.profit_ytd = 0.0
        self.innovations_ytd = self.applications_ytd = self.grants_ytd = 0

    def rd_ratio(self, years: int) -> float:
        """R&D / revenue over the last ``years`` booked years the firm existed in."""
        rd = sum(self.rd_history[y] for y in range(years) if self.revenue_history[y] > 0.0)
        revenue = sum(v for v in self.revenue_history[:years] if v > 0.0)
        return rd / revenue if revenue > 0.0 else 0.0

    def yearly_growth(self, t: int) -> float:
        """Compound revenue growth over the last two years; 0 without three full years."""
        full_history = self.birth_month <= t - 36
        if not full_history or self.revenue_history[2] <= 0.0 or self.revenue_history[0] <= 0.0:
            return 0.0
        return math.sqrt(self.revenue_history[0] / self.revenue_history[2]) - 1.0

    def tech_staff_share(self) -> float:
        """Tech staff / employees."""
        return self.tech_staff / self.employees

    def recognised(self, t: int) -> bool:
        """Registered as a tech SME or certified into next year."""
        return self.tech_sme or self.hitech_until > t

    def hitech_score(self, t: int) -> float:
        """IP 30 + transfer of results 30 + R&D management 20 + growth 20."""
        threshold = self.hitech_rd_threshold(self.revenue_history[0])
        excess = max(0.0, self.rd_ratio(3) - threshold) / threshold
        management = 10.0 + 10.0 * min(1.0, excess)
        return self.score_besides_rd(t, self.other_ip, sum(self.innovation_history)) + management

    def score_besides_rd(self, t: int, other_ip: int, results: float) -> float:
        """IP, transfer-of-results and growth points, with ``other_ip`` utility models held."""
        transfer = min(30.0, 10.0 + 6.0 * results)
        growth = min(20.0, max(0.0, 10.0 + 40.0 * self.yearly_growth(t)))
        return _hitech_ip_points(self.invention_patents, other_ip) + transfer + growth

    def has_core_ip(self) -> bool:
        """An invention patent or another IP item (HNTE core IP)."""
        return self.invention_patents > 0 or self.other_ip > 0

    def file_core_ip(self, t: int) -> None:
        """At the R&D bar without core IP: one utility model or copyright filed (or bought)."""
        if self.has_core_ip() or not self.aims_at_hitech(t):
            return
        if self.rd_ratio(3) >= self.hitech_rd_threshold(self.revenue_history[0]):
            self.other_ip += 1

    def meets_hitech_criteria(self, t: int) -> bool:
        """Age, core IP, tech staff, 3-year R&D ratio, high-tech income, score."""
        r = self.model.rules
        return (
            t - self.birth_month >= r.hitech_min_age_months
            and (self.invention_patents > 0 or self.other_ip > 0)
            and self.tech_staff_share() >= r.hitech_min_tech_staff_share
            and self.rd_ratio(3) >= self.hitech_rd_threshold(self.revenue_history[0])
            and self.hitech_product_share >= r.hitech_min_product_share
            and self.hitech_score(t) >= r.hitech_min_score
        )

    def certification_round(self, t: int, policy, cultivation_pass_bonus: float) -> None:
        """Audits of certified firms; applications and renewals.

        A firm meeting the criteria applies (or renews) when the status is worth more over its
        validity than applying costs; coached firms (the cultivation pool) always apply and
        pass review more often.
        """
        r = self.model.rules
        if self.hitech_until > t:
            below = self.rd_ratio(1) < self.hitech_rd_threshold(self.revenue_history[0])
            if below and self.draw(t, rng.HITECH_AUDIT) < r.hitech_audit_rate:
                self.hitech_until = t
            return
        if not self.registry_aware:
            return
        self.file_core_ip(t)
        if not self.meets_hitech_criteria(t):
            return
        first = self.hitech_since == NEVER
        worth = self.hitech_benefit(policy) * r.hitech_validity_years
        worth += policy.award_new_hitech if first else policy.award_renewed_hitech
        cost = 2.0 * r.hitech_application_cost * self.draw(t, rng.HITECH_APPLICATION)
        if not (self.cultivated or worth > cost):
            return
        pass_rate = r.hitech_review_pass_rate
        if self.cultivated:
            pass_rate = min(1.0, pass_rate + cultivation_pass_bonus)
        if self.draw(t, rng.HITECH_REVIEW) < pass_rate:
            self.hitech_until = t + r.hitech_validity_months
            if first:
                self.hitech_since = t

    def tech_sme_score(self) -> float:
        """Tech staff (20) + R&D/sales (50) + IP (30) points."""
        share, ratio = self.tech_staff_share(), self.rd_ratio(1)
        staff_points = _tier(share, TECH_STAFF_POINTS)
        rd_points = _tier(ratio, RD_POINTS)
        if self.invention_patents > 0:
            ip_points = INVENTION_PATENT_POINTS
        else:
            ip_points = OTHER_IP_POINTS * min(self.other_ip, OTHER_IP_MAX_ITEMS)
        return staff_points + rd_points + ip_points

    def registry_round(self, t: int, policy) -> None:
        """The tech-SME registry: who stays, who registers.

        Small enough, and certified or scoring >= 60 with tech staff, a firm stays registered;
        such a firm registers once it knows the registry and its benefits exceed the cost.
        """
        r = self.model.rules
        awareness = r.registry_awareness_rate  # outside sources, and peers (Bass)
        peers = self.model.sector_params.registered_share[self.sector]
        awareness += r.registry_word_of_mouth * peers
        if not self.registry_aware and self.draw(t, rng.AWARENESS) < awareness:
            self.registry_aware = True
        assets = self.revenue_history[0] * r.assets_to_revenue + max(self.cash, 0.0)
        small = (
            self.employees <= r.tech_sme_max_employees
            and self.revenue_history[0] <= r.tech_sme_max_revenue
            and assets <= r.tech_sme_max_assets
        )
        has_staff = _tier(self.tech_staff_share(), TECH_STAFF_POINTS) > 0
        if small and self.hitech_until <= t and not self.tech_sme and self.registry_aware:
            self.file_ip_to_qualify(policy, has_staff)
        scored = self.tech_sme_score() >= r.tech_sme_min_score and has_staff
        if not (small and (self.hitech_until > t or scored)):
            self.tech_sme = False
        elif not self.tech_sme and self.registry_aware:
            cost = 2.0 * r.tech_sme_compliance_cost * self.draw(t, rng.REGISTRATION)
            self.tech_sme = self.registration_benefit(policy) > cost

    def file_ip_to_qualify(self, policy, has_staff: bool) -> None:
        """Software copyrights or utility models filed to reach the registry score.

        Only when IP points alone are short and registering is worth more than they cost.
        """
        r = self.model.rules
        if self.invention_patents > 0 or not has_staff:
            return
        shortfall = r.tech_sme_min_score - self.tech_sme_score()
        room = OTHER_IP_MAX_ITEMS - min(self.other_ip, OTHER_IP_MAX_ITEMS)
        items = math.ceil(shortfall / OTHER_IP_POINTS)
        if shortfall <= 0.0 or items > room:
            return
        if self.registration_benefit(policy) > items * r.ip_item_cost + r.tech_sme_compliance_cost:
            self.other_ip += items

    def registration_benefit(self, policy) -> float:
        """Extra deduction on last year's R&D if taxpaying, the award, access to credit."""
        industrial = self.model.setup.population.sectors[self.sector].industrial
        extra = self.deduction(policy, industrial, True) - self.deduction(policy, industrial, False)
        paying = self.taxable_last_year > 0.0
        saving = policy.tax_standard * extra * self.rd_history[0] if paying else 0.0
        status = self.model.rules.tech_sme_status_value
        return saving + policy.award_new_tech_sme + policy.credit_access_value + status


def kumaraswamy(u: float, a: float, b: float) -> float:
    """Inverse CDF of Kumaraswamy(a, b)."""
    return (1.0 - (1.0 - u) ** (1.0 / b)) ** (1.0 / a)


def _hitech_ip_points(invention_patents: int, other_ip: int) -> float:
    """HNTE IP points: 16 + the quantity grade (invention patent 7.5; 5+/3-4/1-2 items)."""
    if invention_patents > 0:
        return 23.5
    if other_ip >= 5:
        return 21.5
    if other_ip >= 3:
        return 19.5
    return 17.5 if other_ip >= 1 else 0.0


def _tier(value: float, tiers) -> float:
    """Points of the first tier whose bar ``value`` reaches (highest first); 0 below all."""
    return next((float(points) for bar, points in tiers if value >= bar), 0.0)
