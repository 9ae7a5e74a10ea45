"""Policy levers: one module a lever group, each with its parameters, mechanism and hooks.

``LEVER_GROUPS`` is the order in which the schedule (``InnovationEcosystem.step``) calls the
groups' hooks within each phase of a month.
"""

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
    f.innovation_boost[:] = (
        1.0
        + policy.talent.innovation_boost * f.talents
        + policy.platforms.innovation_boost * f.platform
        + policy.platforms.collaboration_boost * f.partner_fit
        + policy.talent.commissioner_boost * f.commissioner_visits
    )
