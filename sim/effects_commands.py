"""``innosim compare`` and ``innosim effects``: paired effects from the command line.

Imported by ``sim.cli`` at start-up, so nothing heavy is imported at module level.
"""

import json
import math
import sys
from pathlib import Path

from sim.flags import add_set_flag, months, non_negative_int, positive_int
from sim.schema import InputError
from sim.words import LANGS, Words, ljust, rjust

FORMATS = ("table", "json")


class CliError(InputError):
    """A bad flag value."""


def add_compare_command(sub) -> None:
    """``innosim compare``."""
    compare = sub.add_parser(
        "compare",
        help="paired difference of two scenarios (same seeds) per indicator and year",
        description=(
            "Run scenarios A and B on the same seeds (common random numbers) and print A minus "
            "B per indicator and year: the mean over seeds and its 90% confidence interval. "
            "Inputs (counts a lever schedule sets) are marked. A progress bar shows on a "
            "terminal only."
        ),
        epilog=(
            "Example: innosim compare scenarios/liangping_2021_2025.toml "
            "scenarios/liangping_no_policy.toml --seeds 10. JSON: {a, b, seeds, level, "
            "indicators: {<id>: [{year, a, b, mean, lo, hi}]}}."
        ),
    )
    compare.add_argument("a", type=Path, help="scenario A (e.g. the plan)")
    compare.add_argument("b", type=Path, help="scenario B (e.g. the counterfactual)")
    _common_flags(compare)
    _lang_flag(compare)
    compare.set_defaults(handler=compare_command)


def add_effects_command(sub) -> None:
    """``innosim effects``."""
    effects = sub.add_parser(
        "effects",
        help="what each lever group buys: paired effect on every outcome and public cost",
        description=(
            "For each lever group, the scenario minus the same scenario with that group "
            "switched off (its declared defaults; hitech_tax_rate: the standard rate; "
            "super_deduction: held at its baseline-year rate), on the same seeds, for every "
            "outcome in the plan's target year: mean and 90% confidence interval. Cost: the "
            "group's budget spend (spend_<group>) plus its tax expenditure "
            "(tax_expenditure_<group>) when the model books it, summed over the years run "
            "(M CNY). A progress bar shows on a terminal only."
        ),
        epilog=(
            "Example: innosim effects scenarios/liangping_2021_2025.toml --seeds 10. JSON: "
            '{"levers": [{"lever", "cost", "effects": {<id>: {"mean", "lo", "hi", '
            '"per_10m_cny", "cost_per_unit"}}}]}. Groups: vouchers, credit, guidance_funds, '
            "rd_subsidies, certification_support, talent, incubation, platforms, attraction, "
            "hitech_tax_rate, super_deduction."
        ),
    )
    effects.add_argument("scenario", type=Path, help="scenario TOML file")
    effects.add_argument(
        "--lever",
        action="append",
        metavar="GROUP",
        help="only this lever group (repeatable; default: every group)",
    )
    _common_flags(effects)
    _lang_flag(effects)
    effects.set_defaults(handler=effects_command)


def _lang_flag(parser) -> None:
    parser.add_argument(
        "--lang",
        choices=LANGS,
        default="en",
        help="language of the table format: headings, lever groups, units, indicator names",
    )


def _common_flags(parser) -> None:
    parser.add_argument(
        "--seeds", type=positive_int, default=10, help="seeds, shared by both sides (default 10)"
    )
    parser.add_argument(
        "--base-seed",
        type=non_negative_int,
        help="first seed (default: the (first) scenario's seed)",
    )
    parser.add_argument(
        "--months", type=months, help="months to simulate, 1-1200 (default: the horizon)"
    )
    add_set_flag(
        parser, help="set a scenario value on every side (repeatable), checked like the file"
    )
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")


def compare_command(args) -> int:
    """Print A minus B."""
    from sim.effects import compare_scenarios, seeds_from
    from sim.progress import ProgressBar
    from sim.scenario import load_scenario

    a = load_scenario(args.a, dict(args.set))
    b = load_scenario(args.b, dict(args.set))
    seeds = seeds_from(a, args.seeds, args.base_seed)
    label = f"{a.scenario.name} vs {b.scenario.name}"
    with ProgressBar(label, 2 * len(seeds)) as bar:
        done = iter(range(1, 2 * len(seeds) + 1))
        comparison = compare_scenarios(a, b, seeds, args.months, lambda: bar.update(next(done)))
    if args.format == "json":
        sys.stdout.write(json.dumps(comparison.to_json_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(render_comparison(comparison, Words(args.lang, a.plan)))
    return 0


def effects_command(args) -> int:
    """Print each lever group's effects and cost."""
    from sim.effects import LEVER_GROUPS, lever_effects, runs_needed, seeds_from
    from sim.progress import ProgressBar
    from sim.scenario import load_scenario

    for group in args.lever or ():
        if group not in LEVER_GROUPS:
            raise CliError(
                f"--lever {group}: not a lever group; allowed: {', '.join(LEVER_GROUPS)}"
            )
    scenario = load_scenario(args.scenario, dict(args.set))
    seeds = seeds_from(scenario, args.seeds, args.base_seed)
    total = runs_needed(args.lever, seeds)
    with ProgressBar(f"{scenario.scenario.name}: effects", total) as bar:
        done = iter(range(1, total + 1))
        effects = lever_effects(
            scenario, seeds, args.lever, args.months, lambda: bar.update(next(done))
        )
    if args.format == "json":
        sys.stdout.write(json.dumps(effects.to_json_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(render_effects(effects, Words(args.lang, scenario.plan)))
    return 0


# --------------------------------------------------------------------------------- tables


def render_comparison(c, words: Words | None = None) -> str:
    """One block per indicator: a year a line, A, B, A - B [90% interval].

    In Chinese (``words``) each block's title adds the indicator's name.
    """
    from sim.indicators import INDICATORS, PLAN_INDICATORS

    words = words or Words("en")
    t = words.t
    lines = [
        words(
            "compare_heading", a=c.a, b=c.b, count=len(c.seeds), first=c.seeds[0],
            last=c.seeds[-1],
        ),
        "",
    ]  # fmt: skip
    shown = [*PLAN_INDICATORS, "business_rd", "firms", "spend_total"]
    shown += [i for i in c.rows["indicator"].unique() if i not in shown]
    for indicator in shown:
        rows = c.rows[c.rows["indicator"] == indicator]
        if rows.empty or (rows[["a", "b"]].isna().all().all()):
            continue
        kind = rows["kind"].iloc[0]
        unit = words.unit(INDICATORS[indicator][0])
        tag = t["compare_input"] if kind == "input" else ""
        name = f" {words.indicator(indicator)}" if words.lang == "zh" else ""
        lines.append(f"{indicator} ({unit}){tag}{name}")
        lines.append(
            f"  {ljust(t['compare_year'], 6)}{'A':>12}{'B':>12}"
            f"{rjust(t['compare_difference'], 12)}   {t['compare_interval']}"
        )
        for r in rows.itertuples():
            lines.append(
                f"  {r.year:<6}{_n(r.a):>12}{_n(r.b):>12}{_n(r.mean, True):>12}   "
                f"{_band(r.lo, r.hi)}"
            )
    return "\n".join(lines) + "\n"


def render_effects(e, words: Words | None = None) -> str:
    """One block per lever group: cost, then each outcome's effect, per 10 M CNY, cost/unit.

    In Chinese (``words``), a group is named beside its id and each row ends with the
    indicator's name; the ids stay, since flags and files use them.
    """
    from sim.indicators import INDICATORS

    words = words or Words("en")
    t = words.t
    chinese = words.lang == "zh"
    lines = [words("effects_heading", scenario=e.scenario, year=e.year, seeds=len(e.seeds)), ""]
    header = (
        f"  {ljust(t['effects_outcome'], 30)}{rjust(t['effects_unit'], 11)}"
        f"{rjust(t['effects_effect'], 11)}   {ljust(t['effects_interval'], 22)}"
        f"{rjust(t['effects_per_10m'], 13)}{rjust(t['effects_per_unit'], 12)}"
    )
    for lever in e.levers:
        cost = lever.cost
        name = f"{lever.lever}({words.lever(lever.lever)})" if chinese else lever.lever
        items = " + ".join(e.cost_items[lever.lever]) or t["effects_no_cost"]
        lines.append(
            words(
                "effects_cost", lever=name, cost=_n(cost.mean), band=_band(cost.lo, cost.hi),
                year=e.year, items=items,
            )
        )  # fmt: skip
        moved = [k for k, v in lever.effects.items() if _moves(v)]
        if moved:
            lines.append(header)
        for k in moved:
            v = lever.effects[k]
            per = lever.per_10m(k)
            per_unit = lever.cost_per_unit(k)
            row = (
                f"  {k:<30}{rjust(words.unit(INDICATORS[k][0]), 11)}{_n(v.mean, True):>11}   "
                f"{_band(v.lo, v.hi):<22}{_n(per.mean, True) if per else t['na']:>13}"
                f"{_n(per_unit) if per_unit is not None else '-':>12}"
            )
            lines.append(f"{row}  {words.indicator(k)}" if chinese else row)
        still = [k for k in lever.effects if k not in moved]
        if still:
            lines.append("  " + words("effects_none", ids=", ".join(still)))
        lines.append("")
    lines.append(t["effects_footer"])
    return "\n".join(lines) + "\n"


def _moves(v) -> bool:
    return any(x == x and abs(x) > 1e-12 for x in (v.mean, v.lo, v.hi))


def _n(x, sign: bool = False) -> str:
    """Three significant figures, at most four decimals, thousands separated; n/a for NaN.

    Never scientific notation: a difference below 0.00005 reads as (+/-)0.0000.
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if x == 0:
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(x))))) if abs(x) < 1000 else 0
    return f"{x:{'+' if sign else ''},.{min(digits, 4)}f}"


def _band(lo, hi) -> str:
    if lo is None or lo != lo:
        return "[n/a]"
    return f"[{_n(lo, True)}, {_n(hi, True)}]"
