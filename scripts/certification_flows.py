"""Who the HNTE round certifies each year, who lapses, and the pool certifications come from.

A diagnostic of the certification round (docs/calibration.md, "Why certification runs ahead
from 2021"), not part of the model: it runs a scenario and, around each 31 December round,
reads the firm table before and after.

    python scripts/certification_flows.py SCENARIO [--seed S] [--months M] [--set KEY=VALUE ...]
                                          [--latent-in-fields SHARE]

Per year: the certified stock after the round and the registry; certificates expiring at the
round, renewed (and the renewal rate), withdrawn in the audit; first certifications by where
the firm comes from (year-0 registered, year-0 latent, entrant; year-0 certified and attracted
firms are never first) and certifications again after a lapse; the first certifiers' median age
(years), revenue (M CNY/yr) and three-year reported R&D ratio, and the share that reached for
the bar (relabelled R&D this year); the expired certificates not renewed by the first criterion
they miss (score, three-year R&D ratio, other) or none (not worth applying, or failed review);
and the pool after the round: uncertified firms with their main products in the HNTE fields,
those of them that know the ladder, those that aim at the R&D bar, and the aware firms meeting
every criterion.

``--latent-in-fields SHARE`` is a counterfactual, not a scenario option: it keeps only that
share of the year-0 latent firms in the high-tech fields (the others make 30% high-tech
products), to show how much the later rows depend on the latent pool.
"""

import argparse
import tomllib

import numpy as np
from numba import njit

from sim.agents import kernels as K
from sim.agents.firms import NEVER
from sim.agents.population import STATUSES
from sim.model import InnovationEcosystem
from sim.scenario import load_scenario

ORIGINS = (*STATUSES, "entrant", "attracted")
FAILS = ("score", "rd", "other")


@njit
def criteria_missed(f, r, t):
    """Per firm: 0 meets every HNTE criterion; else 1 score, 2 three-year R&D ratio, 3 other."""
    missed = np.zeros(f.alive.shape[0], np.int8)
    aims = np.zeros(f.alive.shape[0], np.bool_)
    ratio = np.zeros(f.alive.shape[0])
    for i in range(f.alive.shape[0]):
        if not f.alive[i]:
            continue
        aims[i] = K.aims_at_hitech(f, r, i, t)
        ratio[i] = K.rd_ratio(f, i, 3)
        if K.hitech_score(f, r, i, t) < r.hitech_min_score:
            missed[i] = 1
        elif ratio[i] < K.hitech_rd_threshold(r, f.revenue_history[i, 0]):
            missed[i] = 2
        elif not K.meets_hitech_criteria(f, r, i, t):
            missed[i] = 3
    return missed, aims, ratio


def year_row(model, f, t, before, origin):
    """The round of 31 December ``t`` as counts (``before``: columns just before it)."""
    alive, u, since, relabelled = before
    after = f.hitech_until
    missed, aims, ratio = criteria_missed(f, model.rules, t)
    expiring = alive & (u == t)
    renewed = expiring & (after > t)
    new = alive & (u < t) & (after > t)
    first = new & (since == NEVER)
    lapsed = expiring & ~renewed
    uncertified = alive & (after <= t)
    fields = uncertified & (f.hitech_product_share >= model.rules.hitech_min_product_share)
    age = (t - f.birth_month) / 12.0
    median = lambda values: float(np.median(values[first])) if first.any() else 0.0  # noqa: E731
    return {
        "year": model.date(t)[0],
        "stock": int((alive & (after > t)).sum()),
        "registry": int((f.alive & f.tech_sme).sum()),
        "expiring": int(expiring.sum()),
        "renewed": int(renewed.sum()),
        "renewal_rate": round(renewed.sum() / max(expiring.sum(), 1), 2),
        "withdrawn": int((alive & (u > t) & (after == t)).sum()),
        **{f"first_{o}": int((first & (origin == k)).sum()) for k, o in enumerate(ORIGINS)},
        "again": int((new & (since != NEVER)).sum()),
        "first_age": round(median(age), 1),
        "first_revenue": round(median(f.revenue_history[:, 0]), 2),
        "first_rd_ratio": round(median(ratio), 3),
        "first_reached": round(float((relabelled[first] > 0).mean()), 2) if first.any() else 0,
        **{
            f"lapsed_{name}": int((lapsed & (missed == k + 1)).sum())
            for k, name in enumerate(FAILS)
        },
        "lapsed_met_all": int((lapsed & (missed == 0)).sum()),
        "in_fields": int(fields.sum()),
        "in_fields_aware": int((fields & f.registry_aware).sum()),
        "aiming": int((uncertified & aims).sum()),
        "meet_all_aware": int((uncertified & (missed == 0) & f.registry_aware).sum()),
    }


def main() -> None:
    """Run the scenario and print one row a year (tab-separated)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--months", type=int)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--latent-in-fields", type=float)
    args = parser.parse_args()
    overrides = {}
    for item in args.set:
        key, value = item.split("=", 1)
        overrides[key] = tomllib.loads(f"v = {value}")["v"]
    scenario = load_scenario(args.scenario, overrides or None)
    model = InnovationEcosystem(setup=scenario, seed=args.seed, agents="lean")
    sectors = scenario.population.sectors
    counts = np.array([[getattr(s, status) for status in STATUSES] for s in sectors])
    origin0 = np.repeat(np.tile(np.arange(len(STATUSES)), len(sectors)), counts.ravel())
    f = model.firms.arrays()
    if args.latent_in_fields is not None:
        share = f.hitech_product_share[: origin0.size]
        spread = (np.arange(origin0.size) * 0.6180339887) % 1.0  # a fixed low-discrepancy split
        latent_in = (origin0 == STATUSES.index("latent")) & (share >= 0.6)
        share[latent_in & (spread >= args.latent_in_fields)] = 0.3
    rows = []
    close_firm_years = model.close_firm_years

    def close_with_flows(t):
        f = model.firms.arrays()
        origin = np.where(f.attracted, ORIGINS.index("attracted"), ORIGINS.index("entrant"))
        origin[: origin0.size] = origin0
        before = (f.alive.copy(), f.hitech_until.copy(), f.hitech_since.copy(),
                  f.rd_relabelled_ytd.copy())  # fmt: skip
        close_firm_years(t)
        rows.append(year_row(model, f, t, before, origin))

    model.close_firm_years = close_with_flows
    model.run(args.months or scenario.scenario.horizon_months)
    keys = list(rows[0])
    print("\t".join(keys))
    for row in rows:
        print("\t".join(str(row[key]) for key in keys))


if __name__ == "__main__":
    main()
