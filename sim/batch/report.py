"""``make_report``: which policy mix most likely meets the targets, and what each lever buys.

The page answers both questions on its first screen, in Chinese or English.

Statistics come from ``sim.batch.summary`` (attainment, ranking, findings) and ``sim.effects``
(what each lever group buys), both on typed inputs: the experiment is re-read from the copy in
the results directory as an ``Experiment``. This module draws the charts, fills the Jinja2
template ``templates/report.html.j2`` and writes the files:

    report.html   the page (self-contained: one embedded PNG, inline styles, no scripts)
    report.xlsx   every table, one sheet each (for Excel users)
    *.csv         the same tables as CSV
    fan_charts.png  small multiples: one panel per outcome target

docs/experiments.md defines every figure.
"""

import base64
import dataclasses
import io
import math
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from sim.batch.analysis import (
    ALL_MET,
    ALL_MISSED,
    NO_FACTOR,
    NO_RESTRICTION,
    boxes_where_targets_fail,
    morris_indices,
    prim,
    sobol_indices,
)
from sim.batch.cart import NO_SKLEARN, cart_discovery
from sim.batch.cart import NOTHING as CART_NOTHING
from sim.batch.experiment import Experiment, load_experiment
from sim.batch.inputs import changed_since, copies_in
from sim.batch.store import (
    DESIGN,
    EXPERIMENT_COPY,
    INPUTS,
    SAMPLES,
    ResultStore,
    StoreError,
    read_results,
    write_atomic,
)
from sim.batch.summary import BAND, Summary, summarise
from sim.indicators import INDICATORS
from sim.schema import InputError
from sim.words import LANGS, Words, check_lang

__all__ = ["LANGS", "Report", "Words", "make_report"]
EFFECT_SEEDS = 10  # at most this many of the experiment's seeds for the lever effects
CJK_FONTS = ["DejaVu Sans", "Noto Sans CJK SC"]  # DejaVu for Latin, Noto for Chinese glyphs
MAX_CHART_MIXES = 3  # the baseline, the best mix and the mix most unlike the baseline


@dataclass
class Report:
    """What ``make_report`` wrote and computed."""

    out: Path
    html: Path
    year: int
    summary: Summary
    lever_effects: pd.DataFrame  # one row per (lever group, outcome), or empty
    sensitivity: pd.DataFrame
    discovery: pd.DataFrame
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def attainment(self) -> pd.DataFrame:
        """One row per (policy mix, target)."""
        return self.summary.attainment


def make_report(
    results: str | Path,
    *,
    baseline: int = 0,
    out: str | Path | None = None,
    year: int | None = None,
    lang: str = "en",
    effect_seeds: int | None = None,
    progress: bool = False,
) -> Report:
    """Write the report of a results directory (see the module docstring).

    ``effect_seeds`` = 0 skips the lever-effect runs; default: up to ``EFFECT_SEEDS`` of the
    experiment's seeds.
    """
    check_lang(lang)
    results = Path(results)
    store = ResultStore(results)
    manifest = store.read_manifest()
    experiment = _experiment(results, manifest)
    runs = store.read_frame(DESIGN)
    data = read_results(results)
    if data.empty:
        raise InputError(f"{results}: no finished runs to report on")
    indicator_columns = [c for c in data.columns if c not in runs.columns and c != "year"]
    data = data.astype({c: "float64" for c in indicator_columns})
    words = Words(lang, experiment.scenario.plan)
    notes: list[str] = []
    year = _evaluation_year(experiment, data, year, notes, words)
    mix_ids = runs["policy_mix_id"].unique().tolist()
    if baseline not in mix_ids:
        raise InputError(
            f"--baseline {baseline}: no such policy mix; this batch has mixes "
            f"{min(mix_ids)} to {max(mix_ids)} (see mixes.csv)"
        )
    notes += _run_notes(manifest, runs, data, words)
    summary = summarise(experiment, runs, data, year, baseline)
    if not summary.targets:
        raise InputError(
            "the results keep none of the plan's indicators; keep them in the experiment's "
            "[outputs]"
        )
    effects = _lever_effects(experiment, effect_seeds, progress)
    samples = store.read_frame(SAMPLES)
    sensitivity = _sensitivity(experiment, summary, data, samples, notes, words)
    discovery = _discovery(experiment, summary, data)
    cart = _cart(experiment, summary, data)

    out = Path(out) if out else results / "report"
    out.mkdir(parents=True, exist_ok=True)
    chart = fan_charts(summary, data, words)
    files = [_save(out / "fan_charts.png", chart)]
    tables = {
        "ranking": summary.ranking,
        "attainment": summary.attainment,
        "mixes": summary.mixes,
        "lever_effects": _effects_frame(effects, summary.year),
        "discovery": discovery,
        "cart": cart,
    }
    if not sensitivity.empty:
        tables[experiment.sampler.method] = sensitivity
    for name, frame in tables.items():
        files.append(_save(out / f"{name}.csv", _csv(frame)))
    files.append(_save(out / "report.xlsx", _workbook(tables)))
    page = render_page(
        experiment, manifest, summary, effects, sensitivity, (discovery, cart), chart, words, notes
    )
    html_path = _save(out / "report.html", page.encode("utf-8"))
    return Report(
        out,
        html_path,
        year,
        summary,
        tables["lever_effects"],
        sensitivity,
        discovery,
        files + [html_path],
        notes,
    )


# ------------------------------------------------------------------------------ inputs


def _experiment(results: Path, manifest: dict) -> Experiment:
    """The experiment as validated data, read from the files its runs were made with.

    The results' copy of the experiment file, with the copies of the base scenario, its data
    files and its design table that the batch kept (``inputs/``), so the originals may have
    moved or changed since. A batch made before batches kept copies reads the originals, which
    must be unchanged. Either way every file read has the SHA-256 the manifest recorded.
    """
    original = Path(manifest["experiment"]["file"])
    files = copies_in(results, manifest["copies"]) if "copies" in manifest else {}
    if files is None:
        raise StoreError(
            f"{results}/{INPUTS}: a copy of the batch's inputs is missing or damaged; run "
            f"innosim batch with --out {results} --resume to copy them again"
        )
    experiment = load_experiment(results / EXPERIMENT_COPY, base_dir=original.parent, files=files)
    if experiment.scenario_sha256 != manifest["scenario"]["sha256"]:
        raise InputError(
            f"{results}: the base scenario {experiment.scenario_path} changed since the batch "
            "ran (its SHA-256 differs from the manifest's); restore it to report on these runs"
        )
    changed = changed_since(manifest.get("inputs", {}), experiment)
    if changed:
        raise InputError(
            f"{results}: {', '.join(changed)} changed since the batch ran (SHA-256 differs from "
            "the manifest's) and the batch keeps no copy of it; restore it to report on these runs"
        )
    return experiment


def _evaluation_year(
    e: Experiment, data: pd.DataFrame, year: int | None, notes: list, words: Words
) -> int:
    years = sorted(int(y) for y in data["year"].unique())
    target_year = e.scenario.plan.target_year
    if year is not None:
        if year not in years:
            raise InputError(f"--year {year}: the results hold years {years[0]} to {years[-1]}")
        return year
    if target_year in years:
        return target_year
    notes.append(words("note_runs_end", last=years[-1], target=target_year))
    return years[-1]


def _run_notes(manifest: dict, runs: pd.DataFrame, data: pd.DataFrame, words: Words) -> list[str]:
    failed = sum(1 for r in manifest["runs"] if r.get("status") == "error")
    pending = len(runs) - data["run_id"].nunique() - failed
    notes = []
    if failed:
        notes.append(words("note_failed", n=failed))
    if pending > 0:
        notes.append(words("note_pending", n=pending))
    return notes


def _lever_effects(e: Experiment, effect_seeds: int | None, progress: bool):
    """Each lever group's paired effect in the experiment's base scenario (sim.effects)."""
    from sim.effects import lever_effects, runs_needed
    from sim.progress import ProgressBar

    count = min(len(e.seeds), EFFECT_SEEDS) if effect_seeds is None else effect_seeds
    if count == 0:
        return None
    seeds = list(e.seeds[:count])
    total = runs_needed(None, seeds)
    with ProgressBar(f"{e.name}: lever effects", total, enabled=progress) as bar:
        done = iter(range(1, total + 1))
        return lever_effects(e.scenario, seeds, on_run=lambda: bar.update(next(done)))


def _effects_frame(effects, year: int) -> pd.DataFrame:
    if effects is None:
        return pd.DataFrame()
    rows = []
    for lever in effects.levers:
        for k, v in lever.effects.items():
            per = lever.per_10m(k)
            rows.append(
                {
                    "lever": lever.lever,
                    "cost_mcny": lever.cost.mean,
                    "cost_items": " + ".join(effects.cost_items[lever.lever]),
                    "indicator": k,
                    "unit": INDICATORS[k][0],
                    "year": year,
                    "effect_mean": v.mean,
                    "effect_lo": v.lo,
                    "effect_hi": v.hi,
                    "per_10m_cny_mean": per.mean if per else math.nan,
                    "per_10m_cny_lo": per.lo if per else math.nan,
                    "per_10m_cny_hi": per.hi if per else math.nan,
                    "mcny_per_unit": lever.cost_per_unit(k),
                }
            )
    return pd.DataFrame(rows)


# -------------------------------------------------------------- sensitivity and discovery


def _sensitivity(e: Experiment, s: Summary, data, samples, notes, words: Words) -> pd.DataFrame:
    method = e.sampler.method
    if method not in ("sobol", "morris"):
        return pd.DataFrame()
    final = data[data["year"] == s.year]
    names = [c for c in samples.columns if c != "sample_id"]
    discrete = [f.key for f in e.levers if not f.sampled]
    groups = final.groupby(discrete, sort=True) if discrete else [((), final)]
    frames = []
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        for t in s.outcomes:
            y = group.groupby("sample_id")[t.id].mean()
            if len(y) != len(samples) or y.isna().any():
                notes.append(words("note_sensitivity_na", method=method, indicator=t.id))
                continue
            y = y.sort_index().to_numpy()
            if np.ptp(y) == 0:
                continue  # a constant output has no variance to apportion
            if method == "sobol":
                table = sobol_indices(names, y, e.sampler.second_order)
            else:
                x = samples.sort_values("sample_id")[names].to_numpy()
                table = morris_indices(names, x, y, e.sampler.levels)
            table.insert(0, "indicator", t.id)
            for k, v in zip(discrete, key, strict=True):
                table.insert(0, k, v)
            frames.append(table)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _discovery_factors(e: Experiment, final: pd.DataFrame) -> list[str]:
    """Levers and uncertainties that vary and are numbers: what discovery splits on."""
    factors = [f.key for f in e.factors if f.key in final and final[f.key].nunique() > 1]
    return [k for k in factors if pd.api.types.is_numeric_dtype(final[k])]


def _cart(e: Experiment, s: Summary, data: pd.DataFrame) -> pd.DataFrame:
    """Per outcome target, the CART leaf where it fails most (``sim.batch.cart``)."""
    final = data[data["year"] == s.year]
    targets = [{"id": t.id, "target": t.target} for t in s.outcomes]
    return cart_discovery(final, _discovery_factors(e, final), targets)


def _discovery(e: Experiment, s: Summary, data: pd.DataFrame) -> pd.DataFrame:
    """Per outcome target, the PRIM box of lever and uncertainty ranges where it fails."""
    final = data[data["year"] == s.year]
    factors = _discovery_factors(e, final)

    def prim_box(x, fails):
        box = prim(x, fails)
        if box is None:
            return None
        return {"box": box.describe(), "coverage": box.coverage, "density": box.density,
                "mass": box.mass}  # fmt: skip

    targets = [(t.id, t.target) for t in s.outcomes]
    rows = boxes_where_targets_fail(final, factors, targets, prim_box, PRIM_NOTHING)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- words


PRIM_NOTHING = "no range of the factors concentrates the failures"
# The discovery tables' sentences, by the key of their words in each language.
BOX_SENTENCES = {
    NO_FACTOR: "box_no_factor",
    ALL_MET: "box_all_met",
    ALL_MISSED: "box_all_missed",
    NO_RESTRICTION: "box_no_restriction",
    PRIM_NOTHING: "box_prim_nothing",
    CART_NOTHING: "box_cart_nothing",
    NO_SKLEARN: "box_no_sklearn",
}


def box_text(box, words: Words) -> str:
    """A discovery box (``a in [0.2, 0.5] and b > 3``) or sentence in the page's language."""
    if not isinstance(box, str):
        return words.t["na"]
    if box in BOX_SENTENCES:
        return words(BOX_SENTENCES[box])
    return box.replace(" and ", words.t["box_and"]).replace(" in ", words.t["box_in"])


# A lever's key as experiments, results and ``--set`` spell it.
LEVER_KEY = re.compile(r"\bpolicy(?:\.[A-Za-z_]\w*)+")


def lever_html(key: str, words: Words, after: str = "") -> Markup:
    """A factor as the page shows it: its name (then ``after``), its key in small type.

    The key stays visible (``<span class="id">``, as the dashboard keeps it under each lever),
    so a reader maps the name to the experiment file and ``--set``. A factor without a name in
    this language (``Words.factor``) is shown by its key alone, as before names existed.
    """
    name = words.factor(key)
    if name is None:
        return escape(key + after)
    return Markup('{}{} <span class="id">{}</span>').format(name, after, key)


def levers_named(text: str, words: Words) -> Markup:
    """``text`` for the page, each lever key in it shown by ``lever_html``."""
    parts, end = [], 0
    for match in LEVER_KEY.finditer(text):
        parts += [escape(text[end : match.start()]), lever_html(match.group(), words)]
        end = match.end()
    return Markup("").join([*parts, escape(text[end:])])


def param_unit(key: str) -> str:
    """The declared unit of the scenario parameter at dotted ``key`` ("" if unknown)."""
    from sim.scenario import Scenario

    tp, unit = Scenario, ""
    for part in key.split("."):
        name = part.partition("[")[0]
        if not dataclasses.is_dataclass(tp):
            return unit
        fields = {f.name: f for f in dataclasses.fields(tp)}
        if name not in fields:
            return ""
        unit = fields[name].metadata.get("unit", "")
        tp = typing.get_type_hints(tp)[name]
        if typing.get_origin(tp) is tuple:
            tp = typing.get_args(tp)[0]
    return unit


# --------------------------------------------------------------------------------- page


def mix_label(s: Summary, mix_id: int, words: Words | None = None, html: bool = False):
    """``mix 3 "plan": vouchers.budget = 5 M CNY/yr, ...`` (``组合 3`` in Chinese).

    A lever with a name in the page's language is named by it (``创新券年度预算 = 5 百万元/年``);
    with ``html`` the result is markup for the page, the lever's key in small type beside its
    name (``lever_html``).
    """
    words = words or Words("en")
    row = s.mixes[s.mixes["policy_mix_id"] == mix_id].iloc[0]
    parts = []
    for key in s.mixes.columns:
        if key in ("policy_mix_id", "mix"):
            continue
        unit = param_unit(key)
        value = fmt(row[key], na=words.t["na"]) + (
            f" {words.unit(unit)}" if unit and unit not in ("-", "flag", "text") else ""
        )
        name = words.factor(key)
        if name is None:
            parts.append(f"{_short(key)} = {value}")
        else:
            parts.append(Markup("{} = {}").format(lever_html(key, words), value) if html
                         else f"{name} = {value}")  # fmt: skip
    name = f' "{row["mix"]}"' if "mix" in s.mixes.columns else ""
    head = words("mix_n", id=int(mix_id)) + name
    if html:
        return Markup("{}: {}").format(head, Markup(", ").join(parts)) if parts else escape(head)
    return head + (f": {', '.join(parts)}" if parts else "")


def _mix_header(column: str, words: Words) -> Markup:
    """A column of the mixes table: its id columns by name, a lever with its unit."""
    if column in ("policy_mix_id", "mix"):
        return escape(words.t[f"col_{column}"])
    return lever_html(column, words, after=f" ({words.unit(param_unit(column))})")


def render_page(
    e, manifest, s: Summary, effects, sensitivity, boxes, chart: bytes, words: Words, notes
) -> str:
    """Fill the Jinja2 template."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sim.batch", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    t = words.t
    na = t["na"]
    context = {
        "t": t,
        "name": e.name,
        "description": e.info.description,
        "notes": notes,
        "answer": answer_sentences(s, words),
        "ranking": [
            {
                "rank": int(r.rank),
                "label": mix_label(s, r.policy_mix_id, words, html=True),
                "mean": _mean_met(r.targets_met_mean, na) + f" / {r.outcome_targets}",
                "interval": _band(r.targets_met_lo, r.targets_met_hi, 2, na=na),
                "runs": int(r.runs),
            }
            for r in s.ranking.itertuples()
        ],
        "best_label": mix_label(s, s.best, words).split(":")[0],
        "baseline_label": mix_label(s, s.baseline, words).split(":")[0],
        "legend": [
            {"colour": p_colour(p), "label": f"{p:.0%}"} for p in (0.0, 0.25, 0.5, 0.75, 1.0)
        ],
        "outcome_rows": _target_rows(s, words),
        "input_rows": _input_rows(s, words),
        "chart": base64.b64encode(chart).decode("ascii"),
        "mix_columns": [_mix_header(c, words) for c in s.mixes.columns],
        "mix_rows": [[fmt(v, na=na) for v in row] for row in s.mixes.itertuples(index=False)],
        "method": e.sampler.method,
        "sensitivity_help": "",
        "sensitivity_columns": [
            t[c] if c in ("indicator", "factor") else lever_html(c, words)
            for c in sensitivity.columns
        ],
        "sensitivity_rows": [
            [
                lever_html(v, words) if c == "factor" else fmt(v, na=na)
                for c, v in zip(sensitivity.columns, row, strict=True)
            ]
            for row in sensitivity.itertuples(index=False)
        ],
        "discovery_rows": _box_rows(boxes[0], words),
        "cart_rows": _box_rows(boxes[1], words),
        "metadata": _metadata(e, manifest, s, words),
        "posterior": posterior_note(e, words),
    }
    context |= _lever_context(effects, s, words)
    return env.get_template("report.html.j2").render(context)


def posterior_note(e: Experiment, words: Words) -> str:
    """What the probabilities carry when uncertainties come from a posterior (or "")."""
    if e.posterior is None:
        return ""
    from sim.calibration import read_calibration

    document = read_calibration(e.posterior_path, str(e.posterior_path)).document
    provenance = document.get("provenance", {})
    return words.t["posterior_note"].format(
        keys=", ".join(e.posterior.keys),
        file=e.posterior_path.name,
        particles=len(e.posterior.weights),
        method=document.get("method", "?"),
        scenario=document.get("scenario", "?"),
        observed=Path(provenance.get("observed_file", "?")).name,
    )


def _box_rows(boxes: pd.DataFrame, words: Words) -> list[dict]:
    na = words.t["na"]
    return [
        {
            "name": words.indicator(r["indicator"]),
            "fail_rate": fmt(r.get("fail_rate", math.nan), percent=True, na=na),
            "box": levers_named(box_text(r["box"], words), words),
            "coverage": fmt(r.get("coverage", math.nan), percent=True, na=na),
            "density": fmt(r.get("density", math.nan), percent=True, na=na),
        }
        for r in boxes.to_dict(orient="records")
    ]


def answer_sentences(s: Summary, words: Words) -> list[str]:
    """The answer in plain sentences: the best mix, then what no mix changes or reaches."""
    zh = words.lang == "zh"
    best = s.ranking.iloc[0]
    base = s.ranking[s.ranking["policy_mix_id"] == s.baseline].iloc[0]
    n = int(best.outcome_targets)
    out = []
    band = _band(best.targets_met_lo, best.targets_met_hi, 2, na=words.t["na"])
    mean, base_mean = f"{best.targets_met_mean:.2f}", f"{base.targets_met_mean:.2f}"
    tied = s.ranking[s.ranking["targets_met_mean"] == best.targets_met_mean]
    if len(tied) == len(s.ranking) and len(tied) > 1:
        out.append(
            f"全部 {len(tied)} 个组合预期实现的结果类目标一样多:{mean} 个(共 {n} 个),"
            "本批次的组合之间没有差别。"
            if zh
            else f"All {len(tied)} mixes are expected to meet the same number of outcome "
            f"targets in {s.year}: {mean} of {n}; the mixes do not differ on this count."
        )
        return out + _findings(s, words, zh)
    leaders = ", ".join(mix_label(s, int(i), words) for i in tied["policy_mix_id"].iloc[:6])
    if zh:
        out.append(
            f"{leaders} 预期实现的结果类目标最多:{mean} 个(共 {n} 个,"
            f"90%区间 {band});基准组合为 {base_mean} 个。"
        )
    else:
        lead = f"{leaders} tie for" if len(tied) > 1 else f"{leaders} is expected to meet"
        out.append(
            f"{lead} the most outcome targets in {s.year}: "
            f"{mean} of {n} (90% interval {band}); the baseline mix {base_mean}."
        )
    close = s.ranking[
        (s.ranking["targets_met_mean"] >= best.targets_met_lo)
        & (s.ranking["targets_met_mean"] < best.targets_met_mean)
    ]
    if len(close) > 0 and best.targets_met_lo == best.targets_met_lo:
        ids = ", ".join(str(int(i)) for i in close["policy_mix_id"].iloc[:5])
        out.append(
            f"组合 {ids} 的均值落在第一名的区间内,与第一名差别不显著。"
            if zh
            else f"Mixes {ids} lie within the top mix's interval: not clearly worse."
        )
    return out + _findings(s, words, zh)


def _findings(s: Summary, words: Words, zh: bool) -> list[str]:
    """Plain sentences on what no mix reaches and what the mixes do not change."""
    out = []
    names = {k: [words.indicator(i) for i in v] for k, v in s.findings.items()}
    if names.get("never_met"):
        gaps = []
        for i in s.findings["never_met"]:
            rows = s.attainment[s.attainment["indicator"] == i]
            na = words.t["na"]
            best_median, target = fmt(rows["median"].max(), na=na), fmt(rows["target"].iloc[0])
            gaps.append(f"{words.indicator(i)} ({best_median} / {target})")
        out.append(
            (
                "没有任何组合在任何一次运行中实现以下目标(最佳中位数 / 目标):"
                if zh
                else "No mix meets these targets in any run (best median / target): "
            )
            + "; ".join(gaps)
            + ("。" if zh else ".")
        )
    if names.get("no_difference"):
        out.append(
            (
                "这些政策工具对以下目标没有影响,各组合的实现概率相同:"
                if zh
                else "These levers change nothing here: every mix has the same probability for "
            )
            + "; ".join(names["no_difference"])
            + ("。" if zh else ".")
        )
    if names.get("always_met"):
        out.append(
            ("所有组合在每次运行中都实现:" if zh else "Every mix meets in every run: ")
            + "; ".join(names["always_met"])
            + ("。" if zh else ".")
        )
    if s.inputs:
        out.append(
            f"{len(s.inputs)} 个投入类指标(由政策排期直接设定)单独列出,不计入排名。"
            if zh
            else f"{len(s.inputs)} input targets (counts a lever schedule sets) are listed apart "
            "and not ranked on."
        )
    return out


def _target_rows(s: Summary, words: Words) -> list[dict]:
    t = words.t
    rows = []
    for target in s.outcomes:
        a = s.attainment[s.attainment["indicator"] == target.id]
        best = a[a["policy_mix_id"] == s.best].iloc[0]
        base = a[a["policy_mix_id"] == s.baseline].iloc[0]
        top = a.sort_values(["p_meet", "policy_mix_id"], ascending=[False, True]).iloc[0]
        finding = ""
        if target.id in s.findings["never_met"]:
            finding = t["never"]
        elif target.id in s.findings["always_met"]:
            finding = t["always"]
        elif target.id in s.findings["no_difference"]:
            finding = t["no_diff"]
        rows.append(
            {
                "id": target.id,
                "name": words.indicator(target.id),
                "target": f"≥ {fmt(target.target)} {words.unit(target.unit)}",
                "best": _p(best, t["na"]),
                "best_colour": p_colour(best.p_meet),
                "base": _p(base, t["na"]),
                "base_colour": p_colour(base.p_meet),
                "highest": words(
                    "highest_in",
                    p=fmt(top.p_meet, percent=True, na=t["na"]),
                    mix=words("mix_n", id=int(top.policy_mix_id)),
                ),
                "finding": finding,
            }
        )
    return rows


def _input_rows(s: Summary, words: Words) -> list[dict]:
    rows = []
    for target in s.inputs:
        a = s.attainment[
            (s.attainment["indicator"] == target.id) & (s.attainment["policy_mix_id"] == s.best)
        ].iloc[0]
        rows.append(
            {
                "id": target.id,
                "name": words.indicator(target.id),
                "target": f"≥ {fmt(target.target)} {words.unit(target.unit)}",
                "median": fmt(a["median"], na=words.t["na"]),
                "best": _p(a, words.t["na"]),
            }
        )
    return rows


def _lever_context(effects, s: Summary, words: Words) -> dict:
    t = words.t
    na = t["na"]
    if effects is None:
        return {"lever_rows": [], "lever_quiet": [], "lever_note": t["lever_not_computed"]}
    rows, quiet = [], []
    for lever in effects.levers:
        moved = [k for k, v in lever.effects.items() if v.excludes_zero]
        cost = f"{fmt(lever.cost.mean)}" if lever.cost.mean > 0 else t["not_booked"]
        still = [words.indicator(k) for k in lever.effects if k not in moved]
        if not moved:
            quiet.append(f"{words.lever(lever.lever)} ({cost}): {t['lever_no_effect']}")
            continue
        for n, k in enumerate(moved):
            v, per, unit = lever.effects[k], lever.per_10m(k), INDICATORS[k][0]
            per_unit = lever.cost_per_unit(k)
            rows.append(
                {
                    "first": n == 0,
                    "span": len(moved),
                    "lever": words.lever(lever.lever),
                    "cost": cost,
                    "outcome": f"{words.indicator(k)} ({words.unit(unit)})",
                    "effect": f"{fmt(v.mean, sign=True, na=na)} {_band(v.lo, v.hi, na=na)}",
                    "per_10m": f"{fmt(per.mean, sign=True, na=na)} {_band(per.lo, per.hi, na=na)}"
                    if per
                    else na,
                    "per_unit": fmt(per_unit, na=na) if per_unit is not None else "-",
                }
            )
        if still:
            label = f"{words.lever(lever.lever)}: {t['lever_no_effect_on']}"
            quiet.append(label + "; ".join(still))
    note = words("lever_note", seeds=len(effects.seeds), year=effects.year)
    return {"lever_rows": rows, "lever_quiet": quiet, "lever_note": note}


def _metadata(e: Experiment, manifest: dict, s: Summary, words: Words) -> list[tuple[str, str]]:
    t = words.t
    statuses = [r.get("status") for r in manifest["runs"]]
    code = manifest.get("code_version") or {}
    sampler = e.sampler.method
    if e.sampler.method != "full_factorial":
        sampler = words(
            "meta_sampler_detail",
            method=e.sampler.method,
            samples=e.sampler.samples,
            seed=e.sampler.seed,
        )
    seeds = words("meta_seeds_detail", n=len(e.seeds), first=e.seeds[0], last=e.seeds[-1])
    runs = words(
        "meta_runs_detail",
        ok=statuses.count("ok"),
        failed=statuses.count("error"),
        total=len(statuses),
    )
    return [
        (t["meta_scenario"], f"{e.scenario.scenario.name} ({e.scenario_path.name})"),
        (t["meta_year"], str(s.year)),
        (t["meta_sampler"], sampler),
        (t["meta_seeds"], seeds),
        (t["meta_mixes"], str(len(s.mixes))),
        (t["meta_runs"], runs),
        (t["meta_baseline"], mix_label(s, s.baseline, words, html=True)),
        (t["meta_paired"], t["meta_and"].join(s.pair_keys)),
        (t["meta_code"], f"innosim {code.get('package')}, git {code.get('git')}"),
        (t["meta_sha"], e.sha256[:16] + "…"),
    ] + (
        [(t["meta_uncertainties_from"], f"{e.posterior_path} (SHA-256 {posterior_sha[:16]}…)")]
        if (posterior_sha := manifest.get("inputs", {}).get("uncertainties.from", {}).get("sha256"))
        else []
    )


# ------------------------------------------------------------------------------- charts


def chart_mixes(s: Summary) -> list[int]:
    """The baseline, the top-ranked mix and the mix whose outcomes differ most from the baseline."""
    shown = [s.baseline] + ([s.best] if s.best != s.baseline else [])
    a = s.attainment[s.attainment["kind"] == "outcome"]
    base = a[a["policy_mix_id"] == s.baseline].set_index("indicator")["median"]
    distance = {}
    for mix_id, rows in a.groupby("policy_mix_id"):
        scale = base.abs().replace(0, 1)
        distance[mix_id] = float(
            ((rows.set_index("indicator")["median"] - base).abs() / scale).sum()
        )
    for mix_id in sorted(distance, key=lambda m: (-distance[m], m)):
        if len(shown) >= MAX_CHART_MIXES:
            break
        if mix_id not in shown and distance[mix_id] > 0:
            shown.append(int(mix_id))
    return shown


def fan_charts(s: Summary, data: pd.DataFrame, words: Words) -> bytes:
    """Small multiples: one panel per outcome target, a shared colour legend on top."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    outcomes = s.outcomes
    columns = 3
    rows = max(1, math.ceil(len(outcomes) / columns))
    shown = chart_mixes(s)
    with matplotlib.rc_context({"font.family": CJK_FONTS, "axes.unicode_minus": False}):
        fig = Figure(figsize=(13, 2.6 * rows + 0.8), dpi=90)
        axes = fig.subplots(rows, columns, squeeze=False)
        for ax, target in zip(axes.flat, outcomes, strict=False):
            for n, mix_id in enumerate(shown):
                mine = data[data["policy_mix_id"] == mix_id]
                q = (
                    mine.groupby("year")[target.id]
                    .quantile([BAND[0], 0.5, BAND[1]])
                    .unstack()
                    .dropna()
                )
                ax.fill_between(
                    q.index, q[BAND[0]], q[BAND[1]], color=f"C{n}", alpha=0.15, linewidth=0
                )
                ax.plot(
                    q.index,
                    q[0.5],
                    color=f"C{n}",
                    linewidth=1.8,
                    label=mix_label(s, mix_id, words).split(":")[0],
                )
            ax.axhline(target.target, color="black", linestyle="--", linewidth=1)
            ax.set_title(
                f"{words.indicator(target.id)} (≥ {fmt(target.target)} {words.unit(target.unit)})",
                fontsize=9,
            )
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[len(outcomes) :]:
            ax.set_visible(False)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        handles.append(Line2D([], [], color="black", linestyle="--"))
        labels.append("目标" if words.lang == "zh" else "plan target")
        fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=9, frameon=False)
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / (2.6 * rows + 0.8)))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    return buffer.getvalue()


# -------------------------------------------------------------------------------- files


def _save(path: Path, content: bytes) -> Path:
    write_atomic(path, content)
    return path


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, float_format="%.10g", lineterminator="\n").encode("utf-8")


def _workbook(tables: dict[str, pd.DataFrame]) -> bytes:
    """Every table as a sheet of one .xlsx workbook (openpyxl)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in tables.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()


# ------------------------------------------------------------------------------- format


def p_colour(p: float) -> str:
    """Probability as a colour from pale red (0) to green (1); grey for n/a."""
    if p != p:
        return "#eeeeee"
    red, green = int(250 - 110 * p), int(205 + 30 * p)
    blue = int(205 - 40 * p)
    return f"rgb({red},{green},{blue})"


def _p(row, na: str = "n/a") -> str:
    if row.p_meet != row.p_meet:
        return na
    return f"{row.p_meet:.0%} [{row.p_lo:.0%}, {row.p_hi:.0%}]"


def fmt(value, sign: bool = False, percent: bool = False, na: str = "n/a") -> str:
    """One number format for the whole page: 3 significant figures, separators, no exponents.

    ``na`` is what a missing number (NaN) shows.
    """
    if value is None or isinstance(value, str):
        return "" if value is None else value
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, np.integer)):
        return f"{int(value):{'+' if sign else ''},d}"
    value = float(value)
    if value != value:
        return na
    if percent:
        return f"{value:.0%}"
    if value == 0:
        return "0"
    if float(value).is_integer() and abs(value) < 1e7:
        return f"{value:{'+' if sign else ''},.0f}"
    digits = max(0, 2 - int(math.floor(math.log10(abs(value))))) if abs(value) < 1000 else 0
    return f"{value:{'+' if sign else ''},.{min(digits, 4)}f}"


def _mean_met(mean: float, na: str) -> str:
    """The expected number of targets met, 2 decimals (``na`` for a mix with no finished run)."""
    return na if mean != mean else f"{mean:.2f}"


def _band(lo, hi, digits: int | None = None, na: str = "n/a") -> str:
    if lo is None or lo != lo:
        return f"[{na}]"
    if digits is not None:
        return f"[{lo:.{digits}f}, {hi:.{digits}f}]"
    return f"[{fmt(lo, sign=True)}, {fmt(hi, sign=True)}]"


def _short(key: str) -> str:
    """A lever's short label: ``vouchers.budget``, ``hitech_tax_rate``."""
    parts = key.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 3 else parts[-1]
