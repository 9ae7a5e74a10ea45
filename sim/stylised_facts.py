"""The stylised facts of firm dynamics the model is compared with: one declarative table.

Each entry names a statistic that ``sim.stylised`` computes from a run, the value or range the
literature reports and its source. ``lo``/``hi`` bound the range a model value is accepted in
(``None``: open side); a fact with neither is descriptive (its ``within`` is ``null``).
``docs/stylised.md`` shows this table (``python -m sim.stylised --doc-table`` prints it).
"""

from dataclasses import dataclass

CHONGQING_SURVIVAL = (
    "Chongqing market-entity statistics (83.4% of new firms survive 3 years), as in "
    "firms.young_exit_hazard"
)
# 83.4% over three years is an annual exit rate of 1 - 0.834^(1/3)
CHONGQING_YOUNG_EXIT_RATE = 1.0 - 0.834 ** (1.0 / 3.0)


@dataclass(frozen=True)
class Fact:
    """One stylised fact: what is computed and what the literature says."""

    id: str
    group: str
    statistic: str
    literature: str
    source: str
    lo: float | None = None
    hi: float | None = None

    def within(self, value: float | None) -> bool | None:
        """Whether ``value`` lies in [lo, hi]; ``None`` if descriptive or not computed."""
        if value is None or (self.lo is None and self.hi is None):
            return None
        return (self.lo is None or value >= self.lo) and (self.hi is None or value <= self.hi)


AXTELL = "Axtell 2001, Science 293: 1.06 for US employment (Census 1997), ~1 for receipts"
GABAIX = "Gabaix 2009, Annu. Rev. Econ. 1 (firm size: Zipf, tail index close to 1)"
CABRAL_MATA = "Cabral & Mata 2003, AER 93 (log size right-skewed, more so for young firms)"
STANLEY = "Stanley et al. 1996, Nature 379; Bottazzi & Secchi 2006, RAND J. Econ. 37"
SIZE_VARIANCE = "Stanley et al. 1996 (beta 0.15-0.2); Amaral et al. 1997, J. Phys. I France 7"
EXIT_AGE = "Dunne, Roberts & Samuelson 1989, QJE 104; Haltiwanger, Jarmin & Miranda 2013, REStat 95"
EXIT_SIZE = (
    "Evans 1987, J. Ind. Econ. 35; Dunne, Roberts & Samuelson 1989, QJE 104 (recalled: check)"
)
RD_PERSISTENCE = (
    "Manez et al. 2009, J. Ind. Econ. 57 (sunk costs; Spanish manufacturing, ESEE): "
    "about 9 in 10 R&D performers perform again the next year"
)
RD_RETURN = (
    "Hall, Mairesse & Mohnen 2010, Handbook of the Economics of Innovation 2, ch. 24: private "
    "rates of return to R&D mostly 0.2-0.3 in growth regressions on R&D intensity (recalled: check)"
)
CHEN = "Chen, Liu, Suarez Serrato & Xu 2021, AER 111 (bunching at the 3/4/5% HNTE notches)"
INCUBATION_MATCHED = (
    "Schwartz 2013, J. Technol. Transf. 38 (matched controls, 5 German incubators: no higher "
    "survival after graduation); Amezcua 2010 (US, matched: lower survival, faster growth)"
)

# fmt: off
FACTS: tuple[Fact, ...] = (
    # firm-size distribution (last 31 December of the run, all seeds pooled)
    Fact("size.revenue.median", "size", "median revenue, M CNY/yr (quantiles in detail)",
         "descriptive", "-"),
    Fact("size.revenue.skew_log", "size", "skewness of log revenue",
         "> 0", CABRAL_MATA, lo=0.0),
    Fact("size.revenue.tail10", "size", "Pareto tail index of revenue, Hill, top 10%",
         "~1 (0.8-1.3)", AXTELL + "; " + GABAIX, lo=0.8, hi=1.3),
    Fact("size.revenue.tail5", "size", "Pareto tail index of revenue, Hill, top 5%",
         "~1 (0.8-1.3)", AXTELL + "; " + GABAIX, lo=0.8, hi=1.3),
    Fact("size.employees.median", "size", "median employees (quantiles in detail)",
         "descriptive", "-"),
    Fact("size.employees.skew_log", "size", "skewness of log employees",
         "> 0", CABRAL_MATA, lo=0.0),
    Fact("size.employees.tail10", "size", "Pareto tail index of employees, Hill, top 10%",
         "1.06 (0.8-1.3)", AXTELL, lo=0.8, hi=1.3),
    Fact("size.employees.tail5", "size", "Pareto tail index of employees, Hill, top 5%",
         "1.06 (0.8-1.3)", AXTELL, lo=0.8, hi=1.3),
    # annual growth rates of surviving firms: log revenue growth, year-sector demeaned
    Fact("growth.sd", "growth", "sd of annual log revenue growth",
         "descriptive", "-"),
    Fact("growth.excess_kurtosis", "growth", "excess kurtosis of growth rates",
         "> 1 (Laplace: 3; Gaussian: 0)", STANLEY, lo=1.0),
    Fact("growth.subbotin_b", "growth", "Subbotin shape b (1: Laplace, 2: Gaussian)",
         "~1 (0.7-1.3)", STANLEY, lo=0.7, hi=1.3),
    Fact("growth.laplace_vs_normal", "growth",
         "log-likelihood per obs., Laplace minus Gaussian",
         "> 0 (Laplace fits better)", STANLEY, lo=0.0),
    Fact("growth.size_slope", "growth", "slope of log sd(growth) on log revenue",
         "-0.15 to -0.2 (accepted -0.25 to -0.10)", SIZE_VARIANCE, lo=-0.25, hi=-0.10),
    Fact("growth.rd_premium", "growth",
         "slope of growth on R&D intensity, firms > 3 years old",
         "0.2-0.3 (accepted 0.1-0.5)", RD_RETURN, lo=0.1, hi=0.5),
    # R&D persistence
    Fact("rd.rank_first_last", "rd", "Spearman of R&D intensity, first vs last year, performers",
         "< 0.9: persistent, not a fixed trait", RD_PERSISTENCE, hi=0.9),
    Fact("rd.rank_year_to_year", "rd", "Spearman of R&D intensity, year to year",
         "high but < 1", RD_PERSISTENCE, hi=0.98),
    Fact("rd.performer_stays", "rd", "share of R&D performers performing next year",
         "~0.9 (0.8-0.97)", RD_PERSISTENCE, lo=0.8, hi=0.97),
    # exit rates by age (exits per firm-year at risk)
    Fact("exit.age_0_2", "exit", "exit rate, age 0-2 years, 1/yr",
         f"{CHONGQING_YOUNG_EXIT_RATE:.3f} (0.04-0.08)", CHONGQING_SURVIVAL, lo=0.04, hi=0.08),
    Fact("exit.age_3_5", "exit", "exit rate, age 3-5 years, 1/yr",
         "below age 0-2", EXIT_AGE),
    Fact("exit.age_6_10", "exit", "exit rate, age 6-10 years, 1/yr",
         "below age 3-5", EXIT_AGE),
    Fact("exit.age_over_10", "exit", "exit rate, age > 10 years, 1/yr",
         "lowest", EXIT_AGE),
    Fact("exit.old_to_young", "exit", "exit rate age > 10 / exit rate age 0-2",
         "< 1 (exit falls with age)", EXIT_AGE, hi=1.0),
    Fact("exit.small_to_large", "exit",
         "exit rate next year, smallest / largest quarter of its sector's revenue",
         "> 1 (exit falls with size)", EXIT_SIZE, lo=1.0),
    # R&D intensity around the HNTE thresholds (firm-years, booked R&D / booked revenue)
    Fact("hnte.bunching_ratio", "hnte",
         "firm-years in [t, t+0.5pp) / [t-0.5pp, t), t: threshold",
         "> 1.5 (sharp excess mass above, hole below)", CHEN, lo=1.5),
    Fact("hnte.histogram_mass", "hnte",
         "firm-years in t-2pp..t+2pp (0.25pp bins in detail)",
         "descriptive", CHEN),
    # incubation
    Fact("incubation.survival_all", "incubation", "3-year survival of new firms, all",
         "0.834 (0.78-0.88)", CHONGQING_SURVIVAL, lo=0.78, hi=0.88),
    Fact("incubation.survival_incubated", "incubation",
         "3-year survival, incubated technology start-ups",
         "above similar non-tenants if incubation works", "-"),
    Fact("incubation.survival_not_incubated", "incubation",
         "3-year survival, similar non-tenants (year, band, age)",
         "descriptive", "-"),
    Fact("incubation.survival_gap", "incubation", "incubated minus similar non-tenants",
         "> 0 while tenants are supported (no consensus size)", INCUBATION_MATCHED),
    Fact("incubation.survival_gap_naive", "incubation",
         "incubated minus all other new firms, same birth years",
         "descriptive: differs from the matched gap by selection", "-"),
)
# fmt: on

FACTS_BY_ID = {fact.id: fact for fact in FACTS}
