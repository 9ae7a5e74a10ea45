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
        source="literature range 0.2-1.5 (Hall & Van Reenen 2000; Dechezlepretre et al. 2016)",
        doc="elasticity of R&D intensity to its after-tax user cost",
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
        0.6,
        unit="1/(M CNY/month)",
        lo=0,
        source="Dosi et al. 2010 form; level set so firms file about 2/3 of the district's "
        "2016-2020 invention applications (607 in 5 years)",
        doc="p(innovate) = 1 - exp(-zeta * R&D)",
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
    exit_hazard: float = param(0.03, unit="1/yr", lo=0, hi=1, source=ASSUMED)
    young_exit_hazard: float = param(
        0.059,
        unit="1/yr",
        lo=0,
        hi=1,
        source=DOMAIN + ": 83.4% of new Chongqing firms survive 3 years",
    )
    young_age_months: int = param(36, unit="months", lo=0, hi=600, source=DOMAIN)
    distress_exit_hazard: float = param(
        0.05, unit="1/month", lo=0, hi=1, source=ASSUMED, doc="extra hazard when cash < 0"
    )
    threshold_band: float = param(
        0.01, unit="share", lo=0, hi=1, source=DOMAIN + ": bunching at the HNTE R&D ratio"
    )
    threshold_margin: float = param(0.002, unit="share", lo=0, hi=1, source=ASSUMED)
    assets_to_revenue: float = param(0.8, unit="-", lo=0, hi=100, source=ASSUMED)


@dataclass(frozen=True, kw_only=True)
class Certification:
    """The status rules: tech-SME registry, high-tech (HNTE) rounds, high-growth status."""

    tech_sme_max_employees: float = param(500, unit="persons", lo=0, source="tech-SME rules 2017")
    tech_sme_max_revenue: float = param(200, unit="M CNY/yr", lo=0, source="tech-SME rules 2017")
    tech_sme_max_assets: float = param(200, unit="M CNY", lo=0, source="tech-SME rules 2017")
    tech_sme_min_score: float = param(60, unit="points", lo=0, hi=100, source="tech-SME rules")
    tech_sme_registration_rate: float = param(
        0.8, unit="prob/yr", lo=0, hi=1, source=ASSUMED, doc="eligible firms that register"
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
    hitech_application_rate: float = param(
        0.7, unit="prob/yr", lo=0, hi=1, source=ASSUMED, doc="eligible firms that apply"
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


def per_month(rate_per_year: float) -> float:
    """Monthly probability equivalent to a yearly hazard."""
    return 1.0 - (1.0 - rate_per_year) ** (1.0 / 12.0)


# Rules the kernels read that are derived from a declared yearly value.
DERIVED_RULES = {
    "lapse_per_month": lambda s: per_month(s.firms.patent_lapse_rate),
    "exit_per_month": lambda s: per_month(s.firms.exit_hazard),
    "young_exit_per_month": lambda s: per_month(s.firms.young_exit_hazard),
    "hitech_validity_months": lambda s: 12 * s.certification.hitech_validity_years,
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


SectorParams = namedtuple(
    "SectorParams", ["industrial", "growth", "volatility", "margin", "value_added_share"]
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
    ],
)
