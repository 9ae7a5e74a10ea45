"""Knowledge-value loans: awareness of the scheme spreads (Bass), repaid firms renew."""

import numpy as np
from test_policies import ONE_LEVER, district

from sim.model import InnovationEcosystem

CREDIT = ONE_LEVER["credit"]["credit"]


def scheme(months=36, **levers):
    """The test district with only the loan scheme, for ``months``."""
    model = district({"credit": CREDIT | levers}, horizon_months=months)
    return InnovationEcosystem(setup=model, agents="lean")


def aware_share(model):
    f = model.firms.arrays()
    pool = np.flatnonzero(f.alive & (f.tech_sme | (f.hitech_until >= model.month)))
    return f.loan_aware[pool].mean()


def test_awareness_of_the_scheme_rises_from_its_start():
    model = scheme(awareness_rate=0.2)
    shares = [aware_share(model)]
    for _ in range(3):
        for _ in range(12):
            model.step()
        shares.append(aware_share(model))
    assert shares[0] == 0.0  # the district's plan table has served no firm at year 0
    assert shares[1] > 0.0 and shares[3] > shares[1]


def test_borrowers_spread_the_word():
    quiet, talkative = scheme(24, word_of_mouth=0.0), scheme(24, word_of_mouth=5.0)
    for _ in range(24):
        quiet.step()
        talkative.step()
    assert talkative.groups["credit"].bank.loans_made > 0
    assert aware_share(talkative) > aware_share(quiet)


def test_no_firm_applies_if_none_can_learn_of_the_scheme():
    model = scheme(awareness_rate=0.0, word_of_mouth=0.0)
    for _ in range(36):
        model.step()
    assert not model.firms.arrays().loan_aware.any()
    assert model.groups["credit"].bank.loans_made == 0


def test_a_firm_that_repaid_renews_its_line():
    model = scheme(renewal_rate=1.0, term_months=3)
    bank = model.groups["credit"].bank
    renewed = 0
    for _ in range(36):
        model.step()
        f = model.firms.arrays()
        renewed += len(bank.renewing)
        # every renewing firm holds a new loan, due a full term from now
        assert (f.loan_balance[bank.renewing] > 0).all()
        assert (f.loan_due_month[bank.renewing] == model.month + 3).all()
    assert renewed > 0
    assert bank.loans_made > len(bank.firms_served)  # more loans than firms: repeat loans


def test_without_renewals_fewer_loans_per_firm():
    def loans_per_firm(rate):
        model = scheme(renewal_rate=rate, term_months=3)
        for _ in range(36):
            model.step()
        bank = model.groups["credit"].bank
        return bank.loans_made / len(bank.firms_served)

    assert loans_per_firm(0.0) < loans_per_firm(1.0)
