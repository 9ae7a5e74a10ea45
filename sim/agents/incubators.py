"""Incubators and other S&T service institutions, as agents with tenants.

The mechanism (capacity from floor area, who applies, selection, services and the support they
buy) is documented in ``sim/policies/incubation.py``, which drives these agents.
"""

import mesa
import numpy as np
from numba import njit

from sim import rng
from sim.agents.firms import NEVER
from sim.agents.kernels import DirectCall
from sim.agents.rules import (
    INVENTION_PATENT_POINTS,
    OTHER_IP_MAX_ITEMS,
    OTHER_IP_POINTS,
    RD_POINTS,
    TECH_STAFF_POINTS,
    tier_points,
)


class Incubator(mesa.Agent):
    """A service institution (maker space, incubator, accelerator) with room for tenants.

    Its tenants are the firms whose ``incubator`` column holds its ``number``. Its places are
    its floor area over the area a tenant takes; its services this year are what its operating
    subsidy buys per place.
    """

    def __init__(self, model: mesa.Model, number: int, levers, opened_year: int):
        super().__init__(model)
        self.number = number  # its place in the list of incubators + 1; 0 in the table: none
        self.area = levers.area_per_institution  # m2
        self.capacity = places(levers)
        self.opened_year = opened_year
        self.subsidy_received = 0.0  # M CNY, cumulative
        self.services_per_place = 0.0  # M CNY/place/yr: this year's subsidy over its places
        self.graduates = 0

    def subsidise(self, subsidy: float) -> None:
        """The year's operating subsidy (M CNY) buys services for its places."""
        self.subsidy_received += subsidy
        self.services_per_place = subsidy / self.capacity if self.capacity > 0 else 0.0

    def support(self, levers) -> float:
        """The share of full support its tenants receive this year (``support_share``)."""
        return support_share(self.services_per_place, levers)


def graduate(f, t: int, incubators: list[Incubator]) -> np.ndarray:
    """Tenants whose incubation ended (or who exited) leave; returns each incubator's free places.

    One pass over the table for all incubators (incubator ``k`` is number ``k + 1``).
    """
    tenants = np.flatnonzero(f.incubator != 0)
    ends = ~f.alive[tenants] | (f.incubated_until[tenants] < t)
    leaving = tenants[ends]
    count = len(incubators)
    graduated = np.bincount(f.incubator[leaving[f.alive[leaving]]], minlength=count + 1)
    for k in np.flatnonzero(graduated[1:]):
        incubators[k].graduates += int(graduated[k + 1])
    f.incubator[leaving] = 0
    f.incubated_until[leaving] = NEVER
    f.exit_hazard_factor[leaving] = 1.0  # graduates lose the support
    f.growth_boost[leaving] = 0.0
    staying = np.bincount(f.incubator[tenants[~ends]], minlength=count + 1)[1:]
    capacity = np.array([incubator.capacity for incubator in incubators], dtype=np.int64)
    return np.maximum(capacity - staying, 0)


def admit(f, newcomers: np.ndarray, free: np.ndarray, t: int, incubators, levers) -> None:
    """Newcomers become tenants for ``incubation_months``, with their incubator's support.

    In order, they fill each incubator's ``free`` places, incubator 1 first.
    """
    numbers = np.repeat(np.arange(1, len(incubators) + 1), free)[: len(newcomers)]
    f.incubator[newcomers] = numbers
    f.incubated_until[newcomers] = t + levers.incubation_months - 1
    support(f, newcomers, incubators, levers)


def support(f, tenants: np.ndarray, incubators, levers) -> None:
    """Set tenants' exit-hazard factor and growth boost from their incubator's support."""
    shares = np.array([incubator.support(levers) for incubator in incubators])
    share = shares[f.incubator[tenants] - 1]
    f.exit_hazard_factor[tenants] = 1.0 - (1.0 - levers.exit_hazard_factor) * share
    f.growth_boost[tenants] = levers.growth_boost * share


def places(levers) -> int:
    """Tenants one institution has room for: its floor area over the area a tenant takes."""
    return int(levers.area_per_institution // levers.area_per_tenant)


def support_share(services_per_tenant: float, levers) -> float:
    """Share of full support: space alone gives ``space_support_share``, services the rest.

    ``σ + (1 − σ)·s/(s + s½)``: s the service spending per tenant (M CNY/yr), s½ =
    ``service_half_cost``; saturating, so the first yuan per tenant buys the most.
    """
    space = levers.space_support_share
    if services_per_tenant <= 0.0:
        return space
    services = services_per_tenant / (services_per_tenant + levers.service_half_cost)
    return space + (1.0 - space) * services


def applicant_score(f, rows: np.ndarray) -> np.ndarray:
    """What incubators rank applicants by: the tech-SME evaluation score of their observables.

    Tech-staff share (20 points), the R&D intensity it runs now (``rd_effort``: a start-up has
    no booked years; 50 points) and IP (30 points), by the 2017 tech-SME rules
    (``sim/agents/rules.py``). Whole numbers, out of 100.
    """
    share = np.divide(
        f.tech_staff[rows], f.employees[rows], out=np.zeros(len(rows)), where=f.employees[rows] > 0
    )
    ip = np.where(
        f.invention_patents[rows] > 0,
        INVENTION_PATENT_POINTS,
        OTHER_IP_POINTS * np.minimum(f.other_ip[rows], OTHER_IP_MAX_ITEMS),
    )
    return tier_points(share, TECH_STAFF_POINTS) + tier_points(f.rd_effort[rows], RD_POINTS) + ip


@njit(cache=True, inline="always")
def is_technology_startup(f, i, min_tech_staff_share):
    """Whether firm ``i`` meets the incubators' entry rules apart from age.

    An R&D plan, at least ``min_tech_staff_share`` tech staff, not attracted from outside.
    """
    return (
        f.rd_intensity[i] > 0
        and f.tech_staff[i] >= min_tech_staff_share * f.employees[i]
        and not f.attracted[i]
    )


# The loops below run without Numba's reference counting (_nrt=False), as the firm kernels do:
# with it, each inlined call that takes the firm table counts its ~80 arrays, ~70 ns a firm.
@njit(cache=True, _nrt=False)
def technology_startups_of(f, rows, min_tech_staff_share, out):
    """Write ``is_technology_startup`` of each of ``rows`` into ``out``."""
    for k in range(rows.shape[0]):
        out[k] = is_technology_startup(f, rows[k], min_tech_staff_share)


def technology_startups(f, rows: np.ndarray, levers) -> np.ndarray:
    """Which of ``rows`` meet the incubators' entry rules apart from age."""
    out = np.empty(len(rows), dtype=np.bool_)
    TECHNOLOGY_STARTUPS_OF(f, rows.astype(np.int64), levers.min_tech_staff_share, out)
    return out


@njit(cache=True, inline="always")
def seeks_place(traits, i, application_share):
    """Whether firm ``i`` seeks a place: a trait of the firm, drawn once (same in every month).

    ``traits`` is the key of the firm's lifelong draws, ``rng.month_key(seed, rng.INIT_MONTH)``.
    """
    return rng.draw(rng.entity_key(traits, i), rng.INCUBATION_SEEKER) < application_share


def applicants(f, born_since: int, levers, seed: int) -> np.ndarray:
    """Rows, in order, of the operating non-tenants born since ``born_since`` that seek a place.

    Only technology start-ups (``is_technology_startup``) count; ``seeks_place`` is a trait.
    """
    rows = np.empty(len(f.alive), dtype=np.int64)
    count = FILL_APPLICANTS(
        f, born_since, levers.min_tech_staff_share, seed, levers.application_share, rows
    )
    return rows[:count]


# One compiled pass: at 10^6 firms the same filters in numpy cost ~4 ms a month.
@njit(cache=True, _nrt=False)
def fill_applicants(f, born_since, min_tech_staff_share, seed, application_share, rows):
    """Write ``applicants`` into ``rows``; returns how many."""
    traits = rng.month_key(seed, rng.INIT_MONTH)
    count = 0
    for i in range(f.alive.shape[0]):
        if (
            f.birth_month[i] >= born_since
            and f.alive[i]
            and f.incubator[i] == 0
            and is_technology_startup(f, i, min_tech_staff_share)
            and seeks_place(traits, i, application_share)
        ):
            rows[count] = i
            count += 1
    return count


def incubation_candidates(f, t: int, seed: int, levers, room: int) -> np.ndarray:
    """The first ``room`` applicants, most promising first.

    Applicants are technology start-ups (``technology_startups``) founded at most
    ``admission_max_age_months`` ago that seek a place (``seeks_place``) and are not tenants.
    Incubators rank them by ``applicant_score``, highest first; ties are broken by a lottery
    draw keyed on (seed, month, firm), so the order never depends on the table's.
    """
    rows = applicants(f, t - levers.admission_max_age_months, levers, seed)
    if len(rows) == 0:
        return rows
    draws = rng.uniforms(seed, t, rows.astype(np.int64), rng.INCUBATOR_ADMISSION)
    return rows[best_first(applicant_score(f, rows), draws, room)]


def best_first(score: np.ndarray, draws: np.ndarray, room: int) -> np.ndarray:
    """Indices of the ``room`` highest scores, ties to the lowest draw, in that order.

    ``np.lexsort((draws, -score))[:room]``, but only the contenders (a score at least the
    ``room``-th highest) are sorted: a large region has tens of thousands of applicants a month
    for a few dozen places.
    """
    contenders = np.arange(len(score))
    if 0 < room < len(score):
        cut = np.partition(score, len(score) - room)[len(score) - room]
        contenders = np.flatnonzero(score >= cut)
    order = np.lexsort((draws[contenders], -score[contenders]))
    return contenders[order[:room]]


TECHNOLOGY_STARTUPS_OF = DirectCall(technology_startups_of)
FILL_APPLICANTS = DirectCall(fill_applicants)
