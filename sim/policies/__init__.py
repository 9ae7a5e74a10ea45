"""Policy levers: one module a lever group, each with its parameters, mechanism and hooks.

``LEVER_GROUPS`` is the order in which the schedule (``InnovationEcosystem.step``) calls the
groups' hooks within each phase of a month.
"""

from numba import njit

from sim.policies.attraction import Attraction
from sim.policies.certification import CertificationSupport
from sim.policies.credit import KnowledgeValueCredit
from sim.policies.guidance_funds import GuidanceFunds
from sim.policies.incubation import Incubation
from sim.policies.platforms import Platforms
from sim.policies.rd_subsidies import RdSubsidies
from sim.policies.talent import TalentProgrammes
from sim.policies.tax import Tax
from sim.policies.vouchers import Vouchers

LEVER_GROUPS = (
    Tax,
    Vouchers,
    CertificationSupport,
    RdSubsidies,
    TalentProgrammes,
    Incubation,
    Platforms,
    KnowledgeValueCredit,
    GuidanceFunds,
    Attraction,
)


def update_innovation_boost(policy, f) -> None:
    """A firm's innovation multiplier: talents, platform, knowledge partner, commissioner visit.

    The knowledge partner counts by its fit to the firm's field (``partner_fit``).
    """
    set_innovation_boost(
        f.innovation_boost, f.talents, f.platform, f.partner_fit, f.commissioner_visits,
        float(policy.talent.innovation_boost), float(policy.platforms.innovation_boost),
        float(policy.platforms.collaboration_boost), float(policy.talent.commissioner_boost),
    )  # fmt: skip


@njit(cache=True)
def set_innovation_boost(boost, talents, platform, fit, visits, talent, host, partner, visit):
    """``update_innovation_boost`` in one pass over the firms (numpy made five)."""
    for i in range(boost.shape[0]):
        boost[i] = (
            1.0 + talent * talents[i] + host * platform[i] + partner * fit[i] + visit * visits[i]
        )
