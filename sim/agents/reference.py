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
        tax_rate = policy.tax_hitech if certified else policy.tax_standard
        super_deduction = (
            policy.super_deduction_industrial if sector.industrial else policy.super_deduction_other
        )
        sales = self.revenue / 12.0

        z = rng.normal_py(self.model.seed, t, self.firm_id, rng.DEMAND)
        sigma = sector.revenue_volatility
        growth = (sector.revenue_growth - 0.5 * sigma * sigma) / 12.0 + sigma * math.sqrt(
            1.0 / 12.0
        ) * z
        growth += self.growth_boost / 12.0

        # vouchers pay part of the R&D services bought; the incremental subsidy part of R&D
        voucher_rate = 0.0
        if self.voucher_balance > 0.0:
            voucher_rate = policy.voucher_cost_share * policy.services_share
        price = (1.0 - voucher_rate) * (1.0 - policy.rd_subsidy_rate)
        intensity = self.planned_rd_intensity(tax_rate, super_deduction, price)
        rd = min(intensity * sales, r.rd_cash_share * max(self.cash, 0.0))
        voucher = min(self.voucher_balance, voucher_rate * rd)

        zeta = r.innovation_zeta * self.innovation_boost
        if self.draw(t, rng.INNOVATION) < 1.0 - math.exp(-zeta * rd):
            jump = r.jump_max * kumaraswamy(self.draw(t, rng.JUMP), r.jump_a, r.jump_b)
            growth += math.log1p(jump)
            self.innovations_ytd += 1
            if jump >= policy.major_product_jump and (self.tech_sme or certified):
                self.major_products_ytd += 1
            self.hitech_product_share += r.hitech_product_step * (1.0 - self.hitech_product_share)
            self.protect_innovation(t)
        self.decide_patents(t)

        self.revenue *= math.exp(growth)
        self.employees = max(1.0, self.employees * math.exp(r.employment_elasticity * growth))
        wanted_staff = 12.0 * rd / self.rd_per_tech_staff
        self.tech_staff += r.staff_adjustment * (wanted_staff - self.tech_staff)
        self.tech_staff = min(self.tech_staff, self.employees)

        interest = self.loan_balance * self.loan_rate / 12.0
        profit = sales * sector.operating_margin - rd - interest
        tax = tax_rate * max(profit - super_deduction * rd, 0.0)
        self.cash += profit - tax + voucher
        self.voucher_balance -= voucher
        self.voucher_used_ytd += voucher
        self.services_bought_ytd += policy.services_share * rd
        self.interest_ytd += interest
        self.rd_spend = rd
        self.rd_ytd += rd
        self.revenue_ytd += sales
        self.tax_ytd += tax

        young = t - self.birth_month < r.young_age_months
        hazard = r.young_exit_per_month if young else r.exit_per_month
        if self.cash < 0.0:
            hazard += r.distress_exit_hazard
        if self.draw(t, rng.EXIT) < hazard * self.exit_hazard_factor:
            self.alive = False
            self.exit_month = t

    def hitech_rd_threshold(self, revenue: float) -> float:
        """Minimum R&D/revenue for the HNTE status at this revenue (M CNY/yr)."""
        r = self.model.rules
        if revenue <= r.hitech_small_revenue:
            return r.hitech_rd_ratio_small
        if revenue <= r.hitech_large_revenue:
            return r.hitech_rd_ratio_medium
        return r.hitech_rd_ratio_large

    def planned_rd_intensity(self, tax_rate: float, super_deduction: float, price: float) -> float:
        """Preferred intensity scaled by the after-tax user cost; bunched at the HNTE bar.

        ``price`` is the share of R&D cost the firm pays itself after vouchers and subsidies.
        """
        r = self.model.rules
        user_cost = max(price - tax_rate * (1.0 + super_deduction), 0.05)
        reference = max(1.0 - tax_rate * (1.0 + r.rd_reference_super_deduction), 0.05)
        ratio = user_cost / reference
        intensity = self.rd_intensity * ratio ** (-r.rd_user_cost_elasticity)
        threshold = self.hitech_rd_threshold(self.revenue)
        if threshold - r.threshold_band <= intensity < threshold:
            intensity = threshold + r.threshold_margin
        return intensity

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
        """Grant or refuse the applications due this month; let valid patents lapse."""
        r = self.model.rules
        slot = t % PENDING_SLOTS
        due = self.pending_applications[slot]
        self.pending_applications[slot] = 0
        grants = rng.binomial_py(due, r.grant_probability, self.draw(t, rng.GRANT))
        lapsed = rng.binomial_py(self.invention_patents, r.lapse_per_month, self.draw(t, rng.LAPSE))
        self.invention_patents += grants - lapsed
        self.grants_ytd += grants

    # ----------------------------------------------------------------------- 31 December

    def close_year(self, t: int, cultivation_pass_bonus: float) -> None:
        """Book the year; then the HNTE round, the tech-SME registry and high growth."""
        self.book_year()
        self.certification_round(t, cultivation_pass_bonus)
        self.registry_round(t)
        self.high_growth = self.recognised(t) and (
            self.revenue_history[0] >= self.model.rules.high_growth_min_revenue
            and self.yearly_growth(t) >= self.model.rules.high_growth_min_growth
        )

    def book_year(self) -> None:
        """Push this year's totals onto the three-year histories and reset the counters."""
        self.revenue_history = [self.revenue_ytd] + self.revenue_history[:2]
        self.rd_history = [self.rd_ytd] + self.rd_history[:2]
        self.innovation_history = [self.innovations_ytd] + self.innovation_history[:2]
        self.applications_last_year = self.applications_ytd
        self.grants_last_year = self.grants_ytd
        self.tax_last_year = self.tax_ytd
        self.revenue_ytd = self.rd_ytd = self.tax_ytd = 0.0
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
        ip = min(30.0, 6.0 + 8.0 * self.invention_patents + 4.0 * self.other_ip)
        transfer = min(30.0, 10.0 + 6.0 * sum(self.innovation_history))
        threshold = self.hitech_rd_threshold(self.revenue_history[0])
        excess = max(0.0, self.rd_ratio(3) - threshold) / threshold
        management = 10.0 + 10.0 * min(1.0, excess)
        growth = min(20.0, max(0.0, 10.0 + 40.0 * self.yearly_growth(t)))
        return ip + transfer + management + growth

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

    def certification_round(self, t: int, cultivation_pass_bonus: float) -> None:
        """Certified firms may be audited; others (and expiring ones) apply and are reviewed.

        Firms in the cultivation pool always apply and pass review more often.
        """
        r = self.model.rules
        if self.hitech_until > t:
            below = self.rd_ratio(1) < self.hitech_rd_threshold(self.revenue_history[0])
            if below and self.draw(t, rng.HITECH_AUDIT) < r.hitech_audit_rate:
                self.hitech_until = t
            return
        renewing = self.hitech_until == t
        applies = (
            renewing
            or self.cultivated
            or self.draw(t, rng.HITECH_APPLICATION) < r.hitech_application_rate
        )
        pass_rate = r.hitech_review_pass_rate
        if self.cultivated:
            pass_rate = min(1.0, pass_rate + cultivation_pass_bonus)
        if applies and self.meets_hitech_criteria(t):
            if self.draw(t, rng.HITECH_REVIEW) < pass_rate:
                self.hitech_until = t + r.hitech_validity_months
                if self.hitech_since == NEVER:
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

    def registry_round(self, t: int) -> None:
        """Small enough, and certified or scoring >= 60 with tech staff: stays or registers."""
        r = self.model.rules
        assets = self.revenue_history[0] * r.assets_to_revenue + max(self.cash, 0.0)
        small = (
            self.employees <= r.tech_sme_max_employees
            and self.revenue_history[0] <= r.tech_sme_max_revenue
            and assets <= r.tech_sme_max_assets
        )
        has_staff = _tier(self.tech_staff_share(), TECH_STAFF_POINTS) > 0
        scored = self.tech_sme_score() >= r.tech_sme_min_score and has_staff
        if not (small and (self.hitech_until > t or scored)):
            self.tech_sme = False
        elif not self.tech_sme:
            self.tech_sme = self.draw(t, rng.REGISTRATION) < r.tech_sme_registration_rate


def kumaraswamy(u: float, a: float, b: float) -> float:
    """Inverse CDF of Kumaraswamy(a, b)."""
    return (1.0 - (1.0 - u) ** (1.0 / b)) ** (1.0 / a)


def _tier(value: float, tiers) -> float:
    """Points of the first tier whose bar ``value`` reaches (highest first); 0 below all."""
    return next((float(points) for bar, points in tiers if value >= bar), 0.0)
