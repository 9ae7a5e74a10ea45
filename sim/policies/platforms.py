"""R&D platforms, and knowledge sources linked to firms by collaborations (产学研).

**Platforms.** At year 0 the district's recognised platforms sit in the firms with the most
R&D. Each 31 December up to the year's quota of certified firms with R&D of at least
``min_rd`` are recognised as new municipal platforms (an award each) and innovate faster
(``innovation_boost``).

**Knowledge sources** (after the SKIN model: Gilbert, Pyka & Ahrweiler 2001) are agents, each
with a knowledge field (a sector) and room for partner firms a year: the ``universities``
partner universities (``university_capacity`` each) and the ``existing_new_rd_institutes`` at
year 0, then the new R&D institutes, industry research institutes (``institute_capacity``
each) and R&D branches (``branch_capacity``) the plan opens each January, each paid
``institute_cost`` a year. A source opens in the field with the most firms seeking a partner
per place, counting its own places (the D'Hondt rule): universities spread over the fields in
proportion to demand, and new institutes go where firms lack partners.

**Collaborations**, formed each January for the year. Firms whose R&D last year was at least
``partner_min_rd`` seek a partner and queue in a lottery weighted by R&D (key -log(u)/R&D, u
the firm's draw for the month: sources favour larger contracts, and since the draw is keyed by
firm id and month, no result depends on the order firms are stored in). Every seeker first
takes a free place with a source of its own field, in queue order; those left take the places
left in other fields. A collaboration is

- a **technology contract**: the firm buys ``services_share`` of its R&D from its source as it
  spends it, booked as the source's contracts and the district's technology-contract turnover
  (``tech_contract_value``); ``services_share`` is calibrated so that the year-0 partners'
  contracts equal the 2020 turnover (98 M CNY). Vouchers pay their ``cost_share`` of the
  services a holder buys at this share of its R&D;
- a **knowledge spillover**: the firm's innovation multiplier rises by ``collaboration_boost``
  times its fit, 1 with a source of its own field and ``cross_field_fit`` with one of another.

More institutes add places and fields: more firms collaborate, buy services and innovate, so
the lever moves technology contracts, innovation and patents through the collaborations.
"""

from dataclasses import dataclass

import numpy as np

from sim import rng
from sim.agents.institutes import KnowledgeSource
from sim.policies.lever_group import LeverGroup
from sim.ranking import first_k
from sim.schema import param
from sim.sources import ASSUMED, BASELINE, OFF, PLAN

SPILLOVER_SOURCES = (
    "literature range 0-0.5 (docs/model.md 7.9: Robin & Schubert 2013; Barge-Gil & "
    "Vivas-Augier 2024; Hsu & Hsu 2022; Bragoli et al. 2024); mid-range value, an uncertainty"
)


@dataclass(frozen=True, kw_only=True)
class PlatformLevers:
    """R&D platforms, knowledge sources and their collaborations with firms."""

    existing_platforms: int = param(
        43, unit="count", lo=0, hi=10_000, source=BASELINE + ": 43 in 2020"
    )
    new_platforms_per_year: float = param(0.0, unit="count/yr", lo=0, hi=1000, source=OFF)
    platform_award: float = param(0.0, unit="M CNY", lo=0, source=OFF)
    min_rd: float = param(1.0, unit="M CNY/yr", lo=0, source=ASSUMED)
    innovation_boost: float = param(
        0.3, unit="x zeta", lo=0, source=ASSUMED, doc="added to a platform firm's multiplier"
    )
    existing_new_rd_institutes: int = param(
        4, unit="count", lo=0, hi=10_000, source=BASELINE + ": 4"
    )
    new_rd_institutes_per_year: float = param(0.0, unit="count/yr", lo=0, hi=1000, source=OFF)
    industry_research_institutes_per_year: float = param(
        0.0, unit="count/yr", lo=0, hi=1000, source=OFF
    )
    rd_branches_per_year: float = param(0.0, unit="count/yr", lo=0, hi=1000, source=OFF)
    institute_cost: float = param(2.0, unit="M CNY/institute/yr", lo=0, source=ASSUMED)
    universities: int = param(21, unit="count", lo=1, hi=10_000, source=BASELINE + ": 21 partners")
    university_capacity: int = param(
        3,
        unit="firms/yr",
        lo=0,
        hi=100_000,
        source=ASSUMED + "; range 1-5: the partner universities are outside the district",
        doc="partner firms a university takes a year",
    )
    institute_capacity: int = param(
        10,
        unit="firms/yr",
        lo=0,
        hi=100_000,
        source=ASSUMED + "; range 5-20: a county-level institute's client firms",
        doc="partner firms a new R&D or industry research institute takes a year",
    )
    branch_capacity: int = param(
        5, unit="firms/yr", lo=0, hi=100_000, source=ASSUMED + "; range 2-10"
    )
    partner_min_rd: float = param(
        0.1,
        unit="M CNY/yr",
        lo=0,
        source=ASSUMED + "; about 220 of the district's ~1,700 firms at year 0",
        doc="firms with at least this R&D last year seek a knowledge partner",
    )
    collaboration_boost: float = param(
        0.25,
        unit="x zeta",
        lo=0,
        source=SPILLOVER_SOURCES,
        doc="added to a partner firm's multiplier, times its fit",
    )
    cross_field_fit: float = param(
        0.5,
        unit="share",
        lo=0,
        hi=1,
        source=ASSUMED + "; knowledge from a distant field is harder to absorb (SKIN; "
        "Nooteboom et al. 2007)",
        doc="fit of a source of another field",
    )
    services_share: float = param(
        0.0,
        unit="share of R&D",
        lo=0,
        hi=1,
        source=PLAN + ": 0 means calibrate so the year-0 partners' contracts = 98 M CNY",
        doc="share of a partner firm's R&D bought from its source (technology contracts)",
    )


# kind of source: (its opening rate, its capacity) among the levers
SOURCE_LEVERS = {
    "university": (None, "university_capacity"),
    "new_rd_institute": ("new_rd_institutes_per_year", "institute_capacity"),
    "industry_research_institute": ("industry_research_institutes_per_year", "institute_capacity"),
    "rd_branch": ("rd_branches_per_year", "branch_capacity"),
}
OPENED_BY_PLAN = ("new_rd_institute", "industry_research_institute", "rd_branch")


class Platforms(LeverGroup):
    """Sources open and collaborations form each January; platforms and contracts on 31 December."""

    name = "platforms"
    flows = ("tech_contract_value",)
    placements = {"platform": False, "knowledge_partner": 0, "partner_fit": 0.0}

    def __init__(self, model, f):
        super().__init__(model, f)
        year = model.setup.baseline_year
        levers = self.levers_in(year)
        self.sources: list[KnowledgeSource] = []
        self.opened = dict.fromkeys(OPENED_BY_PLAN, 0)  # opened since year 0, by kind
        self.recognised = 0  # platforms recognised since year 0
        seekers = self.seekers(f)
        self.open_sources(f, seekers, "university", levers.universities, year)
        self.open_sources(f, seekers, "new_rd_institute", levers.existing_new_rd_institutes, year)
        self.form_collaborations(f, seekers, rng.INIT_MONTH)  # the partnerships of year 0
        self.services_share = self._services_share(model, f)
        self._place_existing_platforms(f, levers.existing_platforms)

    # ------------------------------------------------------------------------- January

    def on_january(self, f, t: int, year: int) -> None:
        """Institutes open on the plan's schedule and are paid; collaborations form."""
        levers = self.levers_in(year)
        seekers = self.seekers(f)
        for kind in OPENED_BY_PLAN:
            rate, _ = SOURCE_LEVERS[kind]
            due = self.opened_by(year, rate) - self.opened[kind]
            self.open_sources(f, seekers, kind, due, year)
            self.opened[kind] += due
        funded = [source for source in self.sources if source.kind in OPENED_BY_PLAN]
        funded = [source for source in funded if source.opened_year > self._baseline_year]
        for source in funded:
            source.funding_received += levers.institute_cost
        cost = levers.institute_cost * len(funded)
        self.government.record(self.name, cost)
        self.government.received(self.name, cost)
        self.form_collaborations(f, seekers, t)

    def seekers(self, f) -> np.ndarray:
        """Firms seeking a knowledge partner: R&D last year of at least ``partner_min_rd``."""
        rd = f.rd_history[:, 0]
        return np.flatnonzero(f.alive & (rd >= self.levers.partner_min_rd) & (rd > 0.0))

    def open_sources(self, f, seekers: np.ndarray, kind: str, count: int, year: int) -> None:
        """``count`` sources of ``kind``, each in the field with most seekers per place."""
        if count <= 0:
            return
        sectors = len(self.model.setup.population.sectors)
        demand = np.bincount(f.sector[seekers], minlength=sectors).astype(float)
        places = np.zeros(sectors)
        for source in self.sources:
            places[source.field] += self.capacity(source)
        own = getattr(self.levers, SOURCE_LEVERS[kind][1])
        for _ in range(count):
            field = int(np.argmax(demand / (places + max(own, 1))))  # D'Hondt: first field on ties
            number = len(self.sources) + 1
            self.sources.append(KnowledgeSource(self.model, number, kind, field, year))
            places[field] += own

    def capacity(self, source: KnowledgeSource) -> int:
        """Partner firms ``source`` takes a year (its kind's capacity in force)."""
        return getattr(self.levers, SOURCE_LEVERS[source.kind][1])

    def form_collaborations(self, f, seekers: np.ndarray, month: int) -> None:
        """This year's partnerships: each seeker's source (``knowledge_partner``) and its fit."""
        f.knowledge_partner[:] = 0
        f.partner_fit[:] = 0.0
        if not self.sources or len(seekers) == 0:
            return
        ids = seekers.astype(np.int64)
        draws = rng.uniforms(self.model.seed, month, ids, rng.KNOWLEDGE_PARTNER)
        partner, fit = match_partners(
            seekers,
            f.sector[seekers],
            f.rd_history[seekers, 0],
            draws,
            np.array([source.field for source in self.sources]),
            np.array([self.capacity(source) for source in self.sources]),
            self.levers.cross_field_fit,
        )
        f.knowledge_partner[seekers] = partner
        f.partner_fit[seekers] = fit

    def in_force(self, year: int) -> dict:
        """The share of R&D a partner firm buys as services (technology contracts)."""
        return {"services_share": self.services_share}

    # ----------------------------------------------------------------------- 31 December

    def on_december(self, f, t: int, year: int, before: dict) -> None:
        """Recognise the year's new platforms; sources book their contracts."""
        self.recognise_platforms(f, t, year)
        self.book_contracts(f, year)

    def recognise_platforms(self, f, t: int, year: int) -> None:
        """The year's quota of new municipal R&D platforms, in the certified firms with most R&D."""
        levers = self.levers_in(year)
        quota = self.opened_by(year, "new_platforms_per_year") - self.recognised
        if quota <= 0:
            return
        rows = np.flatnonzero(
            f.alive & (f.hitech_until > t) & ~f.platform & (f.rd_history[:, 0] >= levers.min_rd)
        )
        chosen = rows[first_k(-f.rd_history[rows, 0], quota)]
        f.platform[chosen] = True
        self.recognised += quota
        self.government.pay_firms(f, chosen, np.full(len(chosen), levers.platform_award), self.name)

    def book_contracts(self, f, year: int) -> None:
        """Partner firms' services are the sources' contracts; firms without a partner buy none.

        The firm step books ``services_share`` of every R&D performer's R&D as it is spent; the
        purchases of firms without a partner are struck out here.
        """
        f.services_bought_ytd[f.knowledge_partner == 0] = 0.0
        count = len(self.sources) + 1
        contracts = np.bincount(f.knowledge_partner, f.services_bought_ytd, minlength=count)
        partners = np.bincount(f.knowledge_partner, minlength=count)
        for source in self.sources:
            source.book_year(year, contracts[source.number], partners[source.number])

    # ------------------------------------------------------------------------ indicators

    def stock_indicators(self, f) -> dict:
        """Platforms, institutes (plan indicators) and the firms collaborating with a source."""
        return {
            "rd_platforms": self.external_platforms + int(np.count_nonzero(f.alive & f.platform)),
            "new_rd_institutes": self.levers.existing_new_rd_institutes
            + self.opened["new_rd_institute"],
            "industry_research_institutes": self.opened["industry_research_institute"],
            "rd_branches": self.opened["rd_branch"],
            "knowledge_collaborations": int(np.count_nonzero(f.knowledge_partner)),
        }

    def flow_indicators(self, f, year: int) -> dict:
        """Technology-contract turnover of the year (plan unit: 100 M CNY)."""
        return {"tech_contract_value": float(f.services_bought_ytd.sum()) / 100.0}

    def year0_indicators(self, f) -> dict:
        """Year 0: contract turnover is the calibrated share of the year-0 partners' R&D."""
        values = super().year0_indicators(f)
        values["tech_contract_value"] = self.services_share * self._partners_rd(f) / 100.0
        return values

    # ------------------------------------------------------------------------- internals

    @property
    def _baseline_year(self) -> int:
        return self.model.setup.baseline_year

    def _partners_rd(self, f) -> float:
        """R&D of the year-0 partner firms (M CNY)."""
        return float(f.rd_history[f.knowledge_partner > 0, 0].sum())

    def _services_share(self, model, f) -> float:
        """Share of a partner's R&D bought as services: set, or calibrated to year 0's turnover."""
        share = self.levers_in(model.setup.baseline_year).services_share
        row = model.setup.plan.get("tech_contract_value")
        rd = self._partners_rd(f)
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


def first_of_each_field(fields: np.ndarray, key: np.ndarray, size: int) -> np.ndarray:
    """Indices of the firms among the ``size`` lowest keys of their field (ties kept), in order.

    With ``size`` twice the places, every firm that ``match_partners`` can give a place is
    among them: a firm further back in its field's queue has more than all the places of
    leftover rivals ahead of it. Queueing these alone gives the same matches as queueing all
    (a large region has ~10^5 seekers a year for ~10^2 places).
    """
    keep = np.zeros(len(key), dtype=bool)
    for field in np.unique(fields):
        mine = np.flatnonzero(fields == field)
        if len(mine) > size:
            cut = np.partition(key[mine], size - 1)[size - 1]
            mine = mine[key[mine] <= cut]
        keep[mine] = True
    return np.flatnonzero(keep)


def match_partners(
    firms: np.ndarray,
    fields: np.ndarray,
    rd: np.ndarray,
    draws: np.ndarray,
    source_fields: np.ndarray,
    capacity: np.ndarray,
    cross_field_fit: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Each seeking firm's partner (source number, 0: none) and fit, in the order given.

    Firms queue by the key ``-log(draw)/rd`` (a lottery weighted by R&D; ties by firm id).
    The places of the sources are taken one round at a time: every source's first place,
    then every source's second, and so on (sources by number), so partners spread over the
    sources of a field. First each field's seekers take its places in queue order; then the
    seekers left take the places left, in other fields, at ``cross_field_fit``.
    """
    partner = np.zeros(len(firms), dtype=np.int32)
    fit = np.zeros(len(firms))
    if len(firms) == 0 or capacity.sum() == 0:
        return partner, fit
    key = -np.log(draws) / rd
    contenders = first_of_each_field(fields, key, 2 * int(capacity.sum()))
    queue = contenders[np.lexsort((firms[contenders], key[contenders]))]
    numbers = np.repeat(np.arange(1, len(capacity) + 1), capacity)
    rounds = np.arange(len(numbers)) - np.repeat(np.cumsum(capacity) - capacity, capacity)
    places = numbers[np.lexsort((numbers, rounds))]
    place_field = source_fields[places - 1]
    taken = np.zeros(len(places), dtype=bool)
    queued_fields = fields[queue]
    for field in np.unique(queued_fields):
        mine = queue[queued_fields == field]
        free = np.flatnonzero(place_field == field)[: len(mine)]
        partner[mine[: len(free)]] = places[free]
        fit[mine[: len(free)]] = 1.0
        taken[free] = True
    left = queue[partner[queue] == 0]
    free = np.flatnonzero(~taken)[: len(left)]
    partner[left[: len(free)]] = places[free]
    fit[left[: len(free)]] = cross_field_fit
    return partner, fit
