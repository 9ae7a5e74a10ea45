"""The rules a firm lives by, as the kernels read them: behaviour, status criteria, levers.

``FirmBehaviour`` and ``Certification`` declare the parameters of the firm step and of the status
rounds (unit, range, source: docs/model.md). ``Rules`` packs them for the kernels, generated from
those declarations plus the few monthly rates derived from yearly ones. ``PolicyInForce`` is the
policy as the firm kernel reads it in one month; each lever group contributes its part
(``sim/policies``). The tech-SME score tiers are declared here once, for kernel and reference.
"""

from collections import namedtuple
from dataclasses import dataclass, fields

import numpy as np
from numba import njit

from sim.schema import param
from sim.sources import ASSUMED, DOMAIN


@dataclass(frozen=True, kw_only=True)
class FirmBehaviour:
    """Behavioural parameters of the monthly firm step."""

    rd_user_cost_elasticity: float = param(
        0.6,
        unit="-",
        lo=0,
        hi=3,
        source="literature range 0.2-1.5 (Hall & Van Reenen 2000; Dechezlepretre et al. 2016); "
        "fitted up to 2, Chen et al. 2021's elasticity of reported R&D (1.14 for real R&D)",
        doc="elasticity of R&D intensity to its after-tax user cost",
        fit=(0.2, 2.0),
    )
    rd_reference_super_deduction: float = param(
        0.75, unit="share", lo=0, hi=3, source=DOMAIN + ": 75% in 2018-2020"
    )
    rd_cash_share: float = param(
        0.5, unit="share/month", lo=0, hi=1, source=ASSUMED, doc="max share of cash spent on R&D"
    )
    rd_cost_per_staff: float = param(
        0.2, unit="M CNY/person/yr", lo=0.001, source=ASSUMED, doc="R&D spend per tech staff"
    )
    staff_adjustment: float = param(0.1, unit="1/month", lo=0, hi=1, source=ASSUMED)
    employment_elasticity: float = param(0.5, unit="-", lo=0, hi=2, source=ASSUMED)
    innovation_zeta: float = param(
        1.5,
        unit="1/month per unit R&D/revenue",
        lo=0,
        hi=100,
        source="Dosi et al. 2010 form, on R&D effort relative to size; level calibrated so "
        "firms file about 2/3 of the district's 2016-2020 invention applications; fitted over "
        "a factor 3 either side of it",
        doc="p(innovate in a month) = 1 - exp(-zeta * boost * real R&D / revenue)",
        fit=(0.5, 4.5),
    )
    jump_max: float = param(0.10, unit="share", lo=0, hi=2, source=ASSUMED)
    jump_a: float = param(1.0, unit="-", lo=0.01, hi=100, source="Kumaraswamy(1,3) ~ Beta(1,3)")
    jump_b: float = param(3.0, unit="-", lo=0.01, hi=100, source="Kumaraswamy(1,3) ~ Beta(1,3)")
    hitech_product_step: float = param(0.05, unit="share", lo=0, hi=1, source=ASSUMED)
    invention_application_probability: float = param(0.5, unit="prob", lo=0, hi=1, source=ASSUMED)
    other_ip_probability: float = param(0.6, unit="prob", lo=0, hi=1, source=ASSUMED)
    grant_probability: float = param(
        0.5, unit="prob", lo=0, hi=1, source=DOMAIN + ": China 2022, 0.80 M grants / 1.62 M"
    )
    grant_lag_min: int = param(16, unit="months", lo=1, hi=23, source=DOMAIN + ": 16-22 months")
    grant_lag_max: int = param(22, unit="months", lo=1, hi=23, source=DOMAIN + ": 16-22 months")
    patent_lapse_rate: float = param(0.06, unit="1/yr", lo=0, hi=1, source=ASSUMED)
    exit_hazard: float = param(
        0.025,
        unit="1/yr",
        lo=0,
        hi=1,
        source=ASSUMED + "; set so firms over 10 years old exit at about 3% a year",
        doc="exit hazard of a firm of its sector's median size, over young_age_months old",
    )
    young_exit_hazard: float = param(
        0.038,
        unit="1/yr",
        lo=0,
        hi=1,
        source=DOMAIN + ": set so that 83.4% of new firms survive 3 years (new Chongqing "
        "firms), with the size factor (most new firms are below their sector's median size)",
        doc="exit hazard of a young firm of its sector's median size",
    )
    young_age_months: int = param(36, unit="months", lo=0, hi=600, source=DOMAIN)
    distress_exit_hazard: float = param(
        0.05, unit="1/month", lo=0, hi=1, source=ASSUMED, doc="extra hazard when cash < 0"
    )
    threshold_margin: float = param(
        0.002, unit="share", lo=0, hi=1, source=ASSUMED, doc="aim above a threshold by this"
    )
    relabel_share: float = param(
        0.45,
        unit="share",
        lo=0,
        hi=1,
        source="Chen, Liu, Suarez Serrato & Xu 2021 (AER): ~45% of the reported R&D response "
        "to the high-tech notch is relabelled expense; fitted over 0.2-0.7 around it",
        doc="part of the R&D a firm adds to reach a threshold that is relabelled, not real",
        fit=(0.2, 0.7),
    )
    loss_value: float = param(
        0.5,
        unit="share",
        lo=0,
        hi=1,
        source=ASSUMED + "; range 0.3-0.9 (deductions of loss-making firms are carried "
        "forward, discounted and may expire)",
        doc="value of a yuan of deduction to a loss-making firm, against a taxpaying one",
    )
    # markets
    competition_chi: float = param(
        0.4,
        unit="1/yr",
        lo=0,
        hi=10,
        source="set on the R&D growth premium (stylised fact growth.rd_premium: the rate of "
        "return to R&D in growth regressions, 0.2-0.3, Hall, Mairesse & Mohnen 2010): 0.4 "
        "gives 0.31 (district, 3 seeds), 1.0 gave 0.78; within the responsiveness of growth to "
        "productivity measured by Decker, Haltiwanger, Jarmin & Miranda 2020, AER 110 (recalled: "
        "check); replicator form of Dosi, Fagiolo & Roventini 2010 (chi = 1 there, an abstract "
        "economy); range 0.2-0.6",
        doc="growth of market share per unit of log productivity above the sector mean",
        fit=(0.2, 0.6),
    )
    imitation_rate: float = param(
        0.2,
        unit="1/yr",
        lo=0,
        hi=5,
        source=ASSUMED + "; range 0.1-0.4: productivity gaps halve in ~2-7 years",
        doc="pace at which a firm's productivity moves toward its sector's mean",
    )
    productivity_dispersion: float = param(
        0.08,
        unit="log",
        lo=0,
        hi=2,
        source="about the stationary spread of innovation jumps against imitation",
        doc="sd of year-0 log productivity",
    )
    margin_productivity: float = param(
        1.0,
        unit="share per log",
        lo=0,
        hi=5,
        source=ASSUMED + "; range 0.5-2 (profitability differences persist and follow "
        "productivity: Mueller 1986; Syverson 2011)",
        doc="operating margin gained per unit of log productivity above the sector mean",
    )
    entrant_productivity_gap: float = param(
        0.05, unit="log", lo=-1, hi=1, source=ASSUMED, doc="new firms start this far below"
    )
    size_volatility_exponent: float = param(
        0.2,
        unit="-",
        lo=0,
        hi=1,
        source="Stanley et al. 1996 (Nature): sd of growth ~ size^-0.15..-0.2",
        doc="growth volatility scales as (revenue / sector median)^-exponent",
    )
    size_exit_exponent: float = param(
        0.3,
        unit="-",
        lo=0,
        hi=2,
        source="exit falls with size at given age (Evans 1987, J. Ind. Econ. 35; Dunne, Roberts "
        "& Samuelson 1989, QJE 104); set so the log size distribution is right-skewed "
        "(docs/stylised.md)",
        doc="exit hazard scales as (revenue / sector median)^-exponent",
    )
    size_exit_cap: float = param(
        4.0,
        unit="x",
        lo=1,
        hi=100,
        source=ASSUMED + ": the smallest firms exit at most this many times the median firm's rate",
        doc="largest size multiplier of the exit hazard",
    )
    event_rate: float = param(
        1.0,
        unit="1/yr",
        lo=0.01,
        hi=12,
        source=ASSUMED + "; range 0.5-2",
        doc="rate of lumpy demand events (a customer or contract won or lost)",
    )
    event_variance_share: float = param(
        0.6,
        unit="share",
        lo=0,
        hi=1,
        source="set so yearly growth rates are tent-shaped (excess kurtosis > 1: Stanley et "
        "al. 1996; Bottazzi & Secchi 2006)",
        doc="share of growth variance that comes in events",
    )
    # R&D planning
    rd_adjustment: float = param(
        0.3,
        unit="share/yr",
        lo=0.01,
        hi=1,
        source="Bloom, Griffith & Van Reenen 2002: short-run user-cost elasticity ~0.1 against "
        "~1 long run; range 0.1-0.5",
        doc="share of the gap to its target R&D intensity a firm closes in a year",
    )
    rd_preference_volatility: float = param(
        0.2,
        unit="1/sqrt(yr)",
        lo=0,
        hi=2,
        source=ASSUMED + "; range 0.1-0.3: R&D intensity persistent but not fixed",
        doc="sd of the yearly shock to a firm's log preferred R&D intensity",
    )
    rd_preference_reversion: float = param(
        0.3,
        unit="1/yr",
        lo=0,
        hi=1,
        source=ASSUMED + "; range 0.1-0.5: firm effects dominate R&D-intensity panels, the "
        "yearly deviation from them persists (lagged coefficient ~0.5-0.9)",
        doc="share of the log gap to its long-run preferred R&D intensity a firm closes in a year",
    )
    rd_stop_rate: float = param(
        0.05,
        unit="1/yr",
        lo=0,
        hi=1,
        source="R&D performance persists: ~90-95% of performers still perform a year later "
        "(Manez et al. 2009, check); range 0.03-0.1",
        doc="R&D performers that stop",
    )
    # finance
    cash_target_years: float = param(
        0.25,
        unit="yr of revenue",
        lo=0,
        hi=10,
        source=ASSUMED + "; range 0.1-0.5",
        doc="cash a firm keeps; above it, cash is paid out",
    )
    payout_rate: float = param(
        0.05, unit="share/month", lo=0, hi=1, source=ASSUMED, doc="of the cash above target"
    )
    assets_to_revenue: float = param(0.8, unit="-", lo=0, hi=100, source=ASSUMED)


@dataclass(frozen=True, kw_only=True)
class Certification:
    """The status rules: tech-SME registry, high-tech (HNTE) rounds, high-growth status."""

    tech_sme_registry_from: int = param(
        2017,
        unit="year",
        lo=1900,
        hi=2200,
        source=DOMAIN + ": tech-SME evaluation rules, Guokefahuo [2017] No. 115 (May 2017)",
        doc="first year of the registry (its 31 December round); before it there is no "
        "registry: no firm registers, and year 0 has no tech SMEs (firms still learn of the "
        "certification rung from outside sources, at certification.registry_awareness_rate)",
    )
    tech_sme_max_employees: float = param(500, unit="persons", lo=0, source="tech-SME rules 2017")
    tech_sme_max_revenue: float = param(200, unit="M CNY/yr", lo=0, source="tech-SME rules 2017")
    tech_sme_max_assets: float = param(200, unit="M CNY", lo=0, source="tech-SME rules 2017")
    tech_sme_min_score: float = param(60, unit="points", lo=0, hi=100, source="tech-SME rules")
    tech_sme_compliance_cost: float = param(
        0.005,
        unit="M CNY/yr",
        lo=0,
        hi=10,
        source=ASSUMED + " (an online self-assessment and yearly update)",
        doc="a firm registers when the registry's benefits exceed this",
    )
    tech_sme_status_value: float = param(
        0.01,
        unit="M CNY/yr",
        lo=0,
        hi=10,
        source=ASSUMED + "; range 0-0.05 (eligibility for municipal programmes, recognition)",
        doc="what being registered is worth to a firm beyond tax, awards and credit",
        fit=(0.0, 0.05),
    )
    ip_item_cost: float = param(
        0.005,
        unit="M CNY/item",
        lo=0,
        hi=1,
        source=ASSUMED + "; range 0.002-0.02 (software copyright or utility model with fees)",
        doc="cost of one utility model or software copyright filed to reach the score",
    )
    registry_awareness_rate: float = param(
        0.15,
        unit="prob/yr",
        lo=0,
        hi=1,
        source=ASSUMED + "; range 0.03-0.3 (Bass innovation coefficient p: about 0.03 in "
        "Sultan, Farley & Lehmann 1990; higher for a free public registry promoted by "
        "agencies); campaigns add to it (certification_support.campaign_firms)",
        doc="share of firms not aware of the registry that learn of it in a year from outside "
        "(media, agencies)",
        fit=(0.03, 0.3),
    )
    registry_word_of_mouth: float = param(
        0.38,
        unit="prob/yr per registered share",
        lo=0,
        hi=5,
        source="Bass 1969 imitation coefficient q; mean 0.38 in the meta-analysis of Sultan, "
        "Farley & Lehmann 1990 (range 0.2-0.6)",
        doc="awareness learnt from registered peers: q x the registered share of the sector's "
        "operating firms, a year",
        fit=(0.2, 0.6),
    )
    hitech_min_age_months: int = param(12, unit="months", lo=0, source="HNTE rules 2016")
    hitech_min_tech_staff_share: float = param(
        0.10, unit="share", lo=0, hi=1, source="HNTE rules 2016"
    )
    hitech_rd_ratio_small: float = param(0.05, unit="share", lo=0, hi=1, source="HNTE rules 2016")
    hitech_rd_ratio_medium: float = param(0.04, unit="share", lo=0, hi=1, source="HNTE rules")
    hitech_rd_ratio_large: float = param(0.03, unit="share", lo=0, hi=1, source="HNTE rules")
    hitech_small_revenue: float = param(50, unit="M CNY/yr", lo=0, source="HNTE rules 2016")
    hitech_large_revenue: float = param(200, unit="M CNY/yr", lo=0, source="HNTE rules 2016")
    hitech_min_product_share: float = param(0.6, unit="share", lo=0, hi=1, source="HNTE rules 2016")
    hitech_min_score: float = param(71, unit="points", lo=0, hi=100, source="HNTE rules 2016")
    hitech_validity_years: int = param(3, unit="yr", lo=1, hi=10, source="HNTE rules 2016")
    hitech_application_cost: float = param(
        0.1,
        unit="M CNY",
        lo=0,
        hi=10,
        source=ASSUMED + "; range 0.05-0.3 (audit, IP and consulting fees)",
        doc="cost of an application; a firm applies when the benefit over the validity is larger",
    )
    hitech_status_value: float = param(
        0.03,
        unit="M CNY/yr",
        lo=0,
        hi=10,
        source=ASSUMED + "; range 0.02-0.3 (procurement, subsidies and talent programmes open "
        "to certified firms, reputation with customers and investors)",
        doc="what the status is worth to a firm a year beyond the reduced tax rate and awards",
        fit=(0.02, 0.3),
    )
    hitech_review_pass_rate: float = param(0.85, unit="prob", lo=0, hi=1, source=ASSUMED)
    hitech_audit_rate: float = param(
        0.1,
        unit="prob/yr",
        lo=0,
        hi=1,
        source=DOMAIN + ": >4,300 lost status in 2025, most for the R&D ratio",
        doc="certified firms below the R&D ratio that lose status mid-validity",
    )
    high_growth_min_growth: float = param(0.2, unit="1/yr", lo=0, hi=10, source=ASSUMED)
    high_growth_min_revenue: float = param(2.0, unit="M CNY/yr", lo=0, source=ASSUMED)


# Technology-based SME evaluation (national rules, 2017): (bar, points), highest bar first.
TECH_STAFF_POINTS = ((0.30, 20.0), (0.25, 16.0), (0.20, 12.0), (0.15, 8.0), (0.10, 4.0))
RD_POINTS = ((0.06, 50.0), (0.05, 40.0), (0.04, 30.0), (0.03, 20.0), (0.02, 10.0))
INVENTION_PATENT_POINTS = 30.0  # one valid invention patent
OTHER_IP_POINTS = 6.0  # per utility model, software copyright or similar item
OTHER_IP_MAX_ITEMS = 4


def tier_points(values: np.ndarray, tiers) -> np.ndarray:
    """Points of the first tier (highest bar first) each value reaches; 0 below all.

    The form over many firms; the kernels' scalar twin is ``kernels.tier_points``. One
    compiled pass instead of a numpy pass per tier (the ladder's scores and the incubators'
    ranking call it over every candidate).
    """
    return tier_points_of(np.ascontiguousarray(values, dtype=np.float64), tiers)


@njit(cache=True)
def tier_points_of(values, tiers):
    """``tier_points`` of a contiguous float array."""
    points = np.zeros(values.shape[0])
    for i in range(values.shape[0]):
        for bar, points_of_tier in tiers:
            if values[i] >= bar:
                points[i] = points_of_tier
                break
    return points


def per_month(rate_per_year: float) -> float:
    """Monthly probability equivalent to a yearly hazard."""
    return 1.0 - (1.0 - rate_per_year) ** (1.0 / 12.0)


# Rules the kernels read that are derived from a declared yearly value.
DERIVED_RULES = {
    "exit_per_month": lambda s: per_month(s.firms.exit_hazard),
    "young_exit_per_month": lambda s: per_month(s.firms.young_exit_hazard),
    "hitech_validity_months": lambda s: 12 * s.certification.hitech_validity_years,
    "event_per_month": lambda s: s.firms.event_rate / 12.0,
    "rd_adjustment_per_month": lambda s: 1.0 - (1.0 - s.firms.rd_adjustment) ** (1.0 / 12.0),
}
Rules = namedtuple(
    "Rules",
    [f.name for f in fields(FirmBehaviour)]
    + [f.name for f in fields(Certification)]
    + list(DERIVED_RULES),
)


def build_rules(scenario) -> Rules:
    """The scenario's firm behaviour and certification rules, packed for the kernels."""
    declared = {f.name: getattr(scenario.firms, f.name) for f in fields(FirmBehaviour)}
    declared |= {f.name: getattr(scenario.certification, f.name) for f in fields(Certification)}
    return Rules(**declared, **{name: rule(scenario) for name, rule in DERIVED_RULES.items()})


def rules_in_year(rules: Rules, year: int) -> Rules:
    """The rules in force in ``year``: ``rules`` itself once the tech-SME registry exists.

    Before ``tech_sme_registry_from`` there is no registry: no firm is within its size limit
    (so none registers, files IP to qualify or stays registered) and none learns of it from
    registered peers. Firms still learn of the ladder from outside sources
    (``registry_awareness_rate``): its certification rung is older than the registry, and only
    firms that know the ladder apply for certification. Each value keeps its type, so the
    kernels see the same record type every year.
    """
    if year >= rules.tech_sme_registry_from:
        return rules
    return rules._replace(
        tech_sme_max_employees=type(rules.tech_sme_max_employees)(-1),
        registry_word_of_mouth=type(rules.registry_word_of_mouth)(0),
    )


SectorParams = namedtuple(
    "SectorParams",
    [
        "industrial",
        "growth",  # demand growth, 1/yr
        "volatility",
        "margin",
        "value_added_share",
        "median_revenue",  # M CNY/yr: the size at which volatility is the sector's
        "mean_productivity",  # revenue-weighted mean log productivity, updated every month
        "registered_share",  # registered tech SMEs / operating firms, before each year-end
        "high_growth_take_up",  # share of qualifying firms that seek high-growth recognition
    ],
)


def build_sector_params(scenario) -> SectorParams:
    """Per-sector arrays, indexed by a firm's ``sector``."""
    sectors = scenario.population.sectors
    return SectorParams(
        industrial=np.array([s.industrial for s in sectors], dtype=np.bool_),
        growth=np.array([s.revenue_growth for s in sectors], dtype=np.float64),
        volatility=np.array([s.revenue_volatility for s in sectors], dtype=np.float64),
        margin=np.array([s.operating_margin for s in sectors], dtype=np.float64),
        value_added_share=np.array([s.value_added_share for s in sectors], dtype=np.float64),
        median_revenue=np.array([s.revenue_median for s in sectors], dtype=np.float64),
        mean_productivity=np.zeros(len(sectors)),
        registered_share=np.zeros(len(sectors)),
        high_growth_take_up=np.zeros(len(sectors)),  # calibrated on the year-0 stock
    )


# The policy in force in one month, as the firm kernel reads it (scalars: one record a month).
PolicyInForce = namedtuple(
    "PolicyInForce",
    [
        "tax_standard",  # income-tax rate, share
        "tax_hitech",  # income-tax rate of certified firms, share
        "super_deduction_industrial",  # extra deduction, share of R&D
        "super_deduction_other",
        "voucher_cost_share",  # share of bought R&D services a voucher pays
        "services_share",  # share of R&D bought as services (technology contracts)
        "rd_subsidy_rate",  # perceived public share of marginal R&D (incremental subsidy)
        "major_product_jump",  # productivity jump that makes a major new product
        "super_deduction_tech_sme",  # extra deduction of registered tech SMEs, share of R&D
        "loss_carry_years",  # years a tax loss can be carried forward
        "loss_carry_years_recognised",  # the same for certified firms and tech SMEs
        "award_new_hitech",  # M CNY, paid for a first certification
        "award_renewed_hitech",  # M CNY, paid for a renewal
        "award_new_tech_sme",  # M CNY, paid for a new registration
        "credit_access_value",  # M CNY/yr a registered firm values access to credit at
    ],
)
