"""Plan indicators, computed on 31 December from the firm table and the regional closure.

Indicator ids are those of the plan tables (scenarios/targets/*.csv). The firms are the
innovation-relevant part of the economy; the rest of the region (GDP, R&D, R&D staff and
industry outside the modelled firms) is an exogenous closure whose year-0 levels are solved so
that every year-0 indicator equals its baseline value in the plan table, then grown at the
scenario's rates.
"""

from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.agents import ladder
from sim.schema import InputError

# id: (unit, meaning). The first 15 are plan indicators; the rest describe the run.
INDICATORS = {
    "tech_smes": ("firms", "registered technology-based SMEs"),
    "hitech_firms": ("firms", "certified high-tech enterprises"),
    "high_growth_firms": ("firms", "high-growth technology firms"),
    "specialized_firms": ("firms", "specialised-and-sophisticated SMEs (little giants included)"),
    "little_giants": ("firms", "specialised-and-sophisticated little giants"),
    "hidden_champions": ("firms", "hidden (single) champions"),
    "otc_listed": ("firms", "firms listed on the Chongqing OTC sci-tech board"),
    "star_listed": ("firms", "firms listed on the Shanghai STAR market"),
    "rd_gdp_ratio": ("percent", "gross R&D expenditure / GDP"),
    "rd_revenue_ratio_above_scale": ("percent", "R&D / revenue of above-scale industrial firms"),
    "invention_patents_per_10k": ("patents", "valid invention patents per 10,000 residents"),
    "rd_staff_per_10k_employed": ("persons", "R&D staff per 10,000 employed"),
    "hitech_industry_share": ("percent", "high-tech industries / above-scale industrial output"),
    "strategic_emerging_share": ("percent", "strategic emerging industries / above-scale output"),
    "industry_va_gdp_share": ("percent", "industrial value added / GDP"),
    "firms": ("firms", "operating modelled firms"),
    "births": ("firms", "firms founded during the year"),
    "exits": ("firms", "firms that exited during the year"),
    "hitech_new": ("firms", "firms newly certified at the year's round (first time or again)"),
    "hitech_lapsed": ("firms", "certificates ended at the year's round: not renewed or withdrawn"),
    "tech_smes_new": ("firms", "firms registered at the year's round"),
    "tech_smes_left": ("firms", "operating firms that left the registry at the year's round"),
    "valid_invention_patents": ("patents", "valid invention patents held by firms"),
    "invention_applications": ("applications", "invention applications filed in the year"),
    "invention_grants": ("patents", "invention patents granted in the year"),
    "business_rd": ("M CNY", "R&D spent by the modelled firms in the year"),
    "firm_revenue": ("M CNY", "revenue of the modelled firms in the year"),
    "firm_tax": ("M CNY", "income tax paid by the modelled firms in the year"),
    "gdp": ("M CNY", "regional GDP"),
    # delivered by the lever groups (sim/policies/)
    "high_end_talent": ("persons", "high-end talent recruited, cumulative"),
    "top_talent_ab": ("persons", "academician-level A/B talent, cumulative"),
    "tech_commissioners": ("person-times", "S&T commissioners dispatched in the year"),
    "rd_platforms": ("count", "municipal-or-higher R&D platforms"),
    "new_rd_institutes": ("count", "new-type R&D institutes"),
    "industry_research_institutes": ("count", "jointly built industry research institutes"),
    "rd_branches": ("count", "provincial/ministerial R&D branch institutions"),
    "service_institutions": ("count", "S&T service institutions (incubators etc.)"),
    "major_new_products": ("count", "major new products recognised in the year"),
    "tech_contract_value": ("100 M CNY", "technology contract turnover in the year"),
    "knowledge_collaborations": ("firms", "firms collaborating with a knowledge source this year"),
    "kvl_lent": ("M CNY", "knowledge-value loans lent in the year"),
    "kvl_loss_ratio": ("share", "overdue / lent, knowledge-value loans, cumulative"),
    "kvl_cumulative_firms": ("firms", "firms lent to by the knowledge-value scheme, cumulative"),
    "kvl_cumulative_firm_loans": ("loans", "knowledge-value loans made (firm-times), cumulative"),
    "compensation_fund_balance": ("M CNY", "risk-compensation fund at year end"),
    "equity_invested": ("M CNY", "guidance-fund investment in firms in the year"),
    "spend_vouchers": ("M CNY", "public spend: innovation vouchers used"),
    "spend_credit": ("M CNY", "public spend: risk compensation paid to the bank"),
    "spend_guidance_funds": ("M CNY", "public spend: public share of fund tickets"),
    "spend_rd_subsidies": ("M CNY", "public spend: incremental R&D subsidies and awards"),
    "spend_certification_support": ("M CNY", "public spend: coaching and status awards"),
    "spend_talent": ("M CNY", "public spend: talent subsidies and commissioners"),
    "spend_incubation": ("M CNY", "public spend: service-institution subsidies"),
    "spend_platforms": ("M CNY", "public spend: platform awards and institutes"),
    "spend_attraction": ("M CNY", "public spend: subsidies to attracted firms"),
    "spend_total": ("M CNY", "public spend on all levers"),
    "tax_expenditure_super_deduction": ("M CNY", "tax forgone through the R&D super-deduction"),
    "tax_expenditure_hitech_tax_rate": ("M CNY", "tax forgone through the 15% high-tech rate"),
    "public_cost_total": ("M CNY", "public spend plus tax expenditure"),
    "business_rd_relabelled": ("M CNY", "of business R&D, expenses relabelled as R&D"),
    "firm_payouts": ("M CNY", "cash paid out by the modelled firms to their owners"),
}
PLAN_INDICATORS = list(INDICATORS)[:15]
# Counts a lever schedule sets directly (the lever modules in sim/policies/ open talents,
# institutes and dispatches on the plan's yearly schedule): inputs, not simulated outcomes.
# rd_platforms is the schedule's quota less platforms in firms that exit, or quota lost when no
# certified firm is eligible; it stays an input. Every other indicator is an outcome.
INPUT_INDICATORS = frozenset(
    {
        "high_end_talent",
        "top_talent_ab",
        "rd_platforms",
        "new_rd_institutes",
        "industry_research_institutes",
        "rd_branches",
        "service_institutions",
        "tech_commissioners",
    }
)


def indicator_kind(indicator_id: str) -> str:
    """``"input"`` for a count a lever schedule sets, ``"outcome"`` for anything simulated."""
    return "input" if indicator_id in INPUT_INDICATORS else "outcome"


COUNT_INDICATORS = [
    "tech_smes",
    "hitech_firms",
    "high_growth_firms",
    "specialized_firms",
    "little_giants",
    "hidden_champions",
    "otc_listed",
    "star_listed",
    "firms",
    "births",
    "exits",
    "hitech_new",
    "hitech_lapsed",
    "tech_smes_new",
    "tech_smes_left",
    "valid_invention_patents",
    "invention_applications",
    "invention_grants",
    "high_end_talent",
    "top_talent_ab",
    "tech_commissioners",
    "rd_platforms",
    "new_rd_institutes",
    "industry_research_institutes",
    "rd_branches",
    "service_institutions",
    "major_new_products",
    "knowledge_collaborations",
    "kvl_cumulative_firms",
    "kvl_cumulative_firm_loans",
]


def status_flows(f, t: int, before: dict) -> dict[str, int]:
    """The certification and registry round of 31 December ``t`` as flows of operating firms.

    ``before``: ``hitech_until`` and ``tech_sme`` just before the round. A firm holds the
    certificate after the round when its validity runs past ``t``; one that did not hold it
    going in is newly certified (first time or again after a lapse); one whose status ends at
    the round (expired and not renewed, or withdrawn in the audit) lapses. Attracted firms
    arrive certified during the year, so no round counts them.
    """
    alive = f.alive
    held = before["hitech_until"] >= t
    holds = f.hitech_until > t
    registered = before["tech_sme"]
    return {
        "hitech_new": int(np.count_nonzero(alive & ~held & holds)),
        "hitech_lapsed": int(np.count_nonzero(alive & held & ~holds)),
        "tech_smes_new": int(np.count_nonzero(alive & f.tech_sme & ~registered)),
        "tech_smes_left": int(np.count_nonzero(alive & registered & ~f.tech_sme)),
    }


FIRM_COUNTS = (
    "tech_smes",
    "hitech_firms",
    "high_growth_firms",
    "firms",
    "valid_invention_patents",
    "invention_applications",
    "invention_grants",
)
FIRM_SUMS = (
    "business_rd",
    "firm_revenue",
    "firm_tax",
    "business_rd_relabelled",
    "firm_payouts",
    "value_added",
    "tech_staff",
    "above_scale_revenue",
    "above_scale_rd",
    "above_scale_hitech_revenue",
    "above_scale_strategic_revenue",
    "industrial_value_added",
)


def firm_totals(f, sector_flags, above_scale_revenue: float, month: int) -> dict[str, float]:
    """Sums over operating firms for the year just booked (``month`` is its December)."""
    counts, sums = operating_firm_sums(
        f,
        sector_flags["industrial"],
        sector_flags["hitech_industry"],
        sector_flags["strategic_emerging"],
        sector_flags["value_added_share"],
        above_scale_revenue,
        month,
    )
    totals = dict(zip(FIRM_COUNTS, counts.tolist(), strict=True))
    return totals | ladder.counts(f, month) | dict(zip(FIRM_SUMS, sums.tolist(), strict=True))


# One compiled pass, in row order: the numpy form gathered ~15 columns to the operating firms
# first, ~0.1 s a year at 10^6 firms.
@njit(cache=True)
def operating_firm_sums(
    f, industrial, hitech_industry, strategic, value_added_share, above_scale_revenue, month
):
    """(``FIRM_COUNTS``, ``FIRM_SUMS``) over operating firms; revenue and R&D are the year's."""
    counts = np.zeros(len(FIRM_COUNTS), dtype=np.int64)
    sums = np.zeros(len(FIRM_SUMS))
    for i in range(f.alive.shape[0]):
        if not f.alive[i]:
            continue
        k = f.sector[i]
        counts[0] += f.tech_sme[i]
        counts[1] += f.hitech_until[i] > month
        counts[2] += f.high_growth[i]
        counts[3] += 1
        counts[4] += f.invention_patents[i]
        counts[5] += f.applications_last_year[i]
        counts[6] += f.grants_last_year[i]
        revenue = f.revenue_history[i, 0]
        rd = f.rd_history[i, 0]
        value_added = revenue * value_added_share[k]
        sums[0] += rd
        sums[1] += revenue
        sums[2] += f.tax_last_year[i]
        sums[3] += f.rd_relabelled_ytd[i]
        sums[4] += f.payout_ytd[i]
        sums[5] += value_added
        sums[6] += f.tech_staff[i]
        if industrial[k]:
            sums[11] += value_added
            if revenue >= above_scale_revenue:
                sums[7] += revenue
                sums[8] += rd
                sums[9] += revenue * hitech_industry[k]
                sums[10] += revenue * strategic[k]
    return counts, sums


def sector_flags(scenario) -> dict[str, np.ndarray]:
    """Per-sector arrays the indicators need."""
    sectors = scenario.population.sectors
    return {
        "industrial": np.array([s.industrial for s in sectors], dtype=np.bool_),
        "hitech_industry": np.array([s.hitech_industry for s in sectors], dtype=np.bool_),
        "strategic_emerging": np.array([s.strategic_emerging for s in sectors], dtype=np.bool_),
        "value_added_share": np.array([s.value_added_share for s in sectors]),
    }


@dataclass(frozen=True)
class RegionClosure:
    """The region outside the modelled firms, in year 0 (M CNY/yr and persons).

    ``other_industry_*``, ``public_rd`` and ``other_rd_staff`` are offsets between the sampled
    firms and the district's statistics; they may be negative when a sample overshoots.
    Only GDP outside the firms must be positive.
    """

    baseline_year: int
    other_gdp: float
    public_rd: float
    other_rd_staff: float
    other_industry_revenue: float
    other_industry_rd: float
    other_industry_strategic_revenue: float = 0.0
    other_industry_value_added: float = 0.0

    @classmethod
    def calibrate(cls, scenario, totals: dict[str, float]) -> "RegionClosure":
        """Solve the year-0 levels so year-0 indicators equal the plan's baseline values."""
        region, plan, source = scenario.region, scenario.plan, scenario.source

        def baseline(indicator_id: str) -> float | None:
            row = plan.get(indicator_id)
            return None if row is None else row.baseline / 100.0

        def require_non_negative(value: float, what: str) -> float:
            if value < 0:
                raise InputError(
                    f"{source}: population: year-0 firms imply {what} below zero ({value:.3g}); "
                    "the population is too large or too R&D-intensive for the region's baseline"
                )
            return value

        # Industry offsets may be negative: they correct the sampled above-scale firms to the
        # district's statistics, and the denominators they enter stay positive (H/s > 0).
        share = baseline("hitech_industry_share")
        other_revenue = 0.0
        if share:
            other_revenue = (
                totals["above_scale_hitech_revenue"] / share - totals["above_scale_revenue"]
            )
        ratio = baseline("rd_revenue_ratio_above_scale")
        other_industry_rd = 0.0
        if ratio is not None:
            other_industry_rd = (
                ratio * (totals["above_scale_revenue"] + other_revenue) - totals["above_scale_rd"]
            )
        other_gdp = require_non_negative(region.gdp - totals["value_added"], "GDP outside firms")
        # Public R&D and R&D staff outside firms are offsets too: a sampled population may
        # overshoot the district by a little for some seeds; the totals stay exact in year 0.
        rd_gdp = baseline("rd_gdp_ratio")
        public_rd = 0.0
        if rd_gdp is not None:
            public_rd = rd_gdp * region.gdp - totals["business_rd"] - other_industry_rd
        staff_row = plan.get("rd_staff_per_10k_employed")
        other_staff = 0.0
        if staff_row is not None:
            other_staff = staff_row.baseline / 1e4 * region.employed - totals["tech_staff"]
        strategic = baseline("strategic_emerging_share")
        other_strategic = 0.0
        if strategic is not None:
            other_strategic = (
                strategic * (totals["above_scale_revenue"] + other_revenue)
                - totals["above_scale_strategic_revenue"]
            )
        industry_share = baseline("industry_va_gdp_share")
        other_industry_va = 0.0
        if industry_share is not None:
            other_industry_va = industry_share * region.gdp - totals["industrial_value_added"]
        return cls(
            scenario.baseline_year, other_gdp, public_rd, other_staff, other_revenue,
            other_industry_rd, other_strategic, other_industry_va,
        )  # fmt: skip

    def indicators(self, scenario, year: int, totals: dict[str, float]) -> dict[str, float]:
        """Indicator values for ``year`` from the firms' totals and the grown closure."""
        region = scenario.region
        n = year - self.baseline_year
        population = region.population * (1 + region.population_growth) ** n
        employed = region.employed * (1 + region.employment_growth) ** n
        other_gdp = self.other_gdp * (1 + region.rest_gdp_growth) ** n
        public_rd = self.public_rd * (1 + region.rest_rd_growth) ** n
        other_staff = self.other_rd_staff * (1 + region.rest_rd_staff_growth) ** n
        industry_growth = (1 + region.rest_industry_growth) ** n
        other_revenue = self.other_industry_revenue * industry_growth
        other_industry_rd = self.other_industry_rd * industry_growth

        gdp = totals["value_added"] + other_gdp
        above_revenue = totals["above_scale_revenue"] + other_revenue
        values = {name: totals[name] for name in INDICATORS if name in totals}
        values["rd_gdp_ratio"] = (
            100.0 * (totals["business_rd"] + public_rd + other_industry_rd) / gdp
        )
        values["rd_revenue_ratio_above_scale"] = (
            100.0 * (totals["above_scale_rd"] + other_industry_rd) / above_revenue
            if above_revenue > 0
            else 0.0
        )
        values["hitech_industry_share"] = (
            100.0 * totals["above_scale_hitech_revenue"] / above_revenue
            if above_revenue > 0
            else 0.0
        )
        other_strategic = self.other_industry_strategic_revenue * industry_growth
        values["strategic_emerging_share"] = (
            100.0 * (totals["above_scale_strategic_revenue"] + other_strategic) / above_revenue
            if above_revenue > 0
            else 0.0
        )
        other_industry_va = self.other_industry_value_added * industry_growth
        values["industry_va_gdp_share"] = (
            100.0 * (totals["industrial_value_added"] + other_industry_va) / gdp
        )
        other_patents = region.other_invention_patents * (1 + region.rest_rd_growth) ** n
        values["invention_patents_per_10k"] = (
            1e4 * (totals["valid_invention_patents"] + other_patents) / population
        )
        values["rd_staff_per_10k_employed"] = 1e4 * (totals["tech_staff"] + other_staff) / employed
        values["gdp"] = gdp
        return values
