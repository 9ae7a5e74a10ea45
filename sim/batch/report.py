"""``make_report``: attainment of the plan targets per policy mix, from a results directory.

For each policy mix and each plan target the model computes, in the evaluation year (the
plan's target year, 2025 for the 14th Five-Year Plan):

* probability of meeting the target = share of the mix's finished runs (seeds x uncertainty
  samples) whose value is at least the target;
* median and 5-95% band of the value;
* paired effect against the baseline mix: the difference run by run on the same seed (and
  the same uncertainty sample), then its median and 5-95% band; common random numbers make
  this far less noisy than comparing the two distributions;
* public spend per additional high-tech firm, when the results carry spend columns
  (``spend_total`` or ``spend_*``, M CNY per year): the mean extra spend over the years
  simulated up to the evaluation year divided by the mean number of extra certified firms;
  "n/a" otherwise.

Plus fan charts (median and 5-95% band per year, with the target), Sobol or Morris indices
when the sampler was sobol or morris, and a PRIM box per target: the ranges of levers and
uncertainties in which the target fails most often. Everything goes to ``report.html`` (one
self-contained file: images are embedded data URIs, styles inline) and CSV tables beside it.
"""

import base64
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.batch.analysis import morris_indices, prim, sobol_indices
from sim.batch.cart import cart_discovery
from sim.batch.store import DESIGN, SAMPLES, ResultStore, read_results, write_atomic
from sim.schema import InputError

BAND = (0.05, 0.95)
MAX_MIXES_IN_CHART = 6
HITECH = "hitech_firms"


@dataclass
class Report:
    """What ``make_report`` wrote and computed."""

    out: Path
    html: Path
    year: int
    attainment: pd.DataFrame  # one row per (policy mix, target)
    spend: pd.DataFrame  # one row per policy mix, or empty when there are no spend columns
    sensitivity: pd.DataFrame  # Sobol or Morris indices, or empty
    discovery: pd.DataFrame  # one row per target: the PRIM box where it fails
    charts: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cart: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per target: CART box


def make_report(
    results: str | Path,
    *,
    baseline: int = 0,
    out: str | Path | None = None,
    year: int | None = None,
) -> Report:
    """Write the report of a results directory (see the module docstring)."""
    results = Path(results)
    store = ResultStore(results)
    manifest = store.read_manifest()
    design = store.read_frame(DESIGN)
    data = read_results(results)
    if data.empty:
        raise InputError(f"{results}: no finished runs to report on")
    ctx = _Context(manifest, design, store.read_frame(SAMPLES), data, baseline, year)
    out = Path(out) if out else results / "report"
    out.mkdir(parents=True, exist_ok=True)

    attainment = ctx.attainment()
    spend = ctx.spend()
    sensitivity = ctx.sensitivity()
    discovery = ctx.discovery()
    cart = cart_discovery(ctx.final, ctx.discovery_factors(), ctx.targets)
    charts = [
        _save_png(out / f"fan_{t['id']}.png", ctx.fan_chart(t, attainment)) for t in ctx.targets
    ]

    _save_csv(out / "attainment.csv", attainment)
    _save_csv(out / "mixes.csv", ctx.mixes)
    if not spend.empty:
        _save_csv(out / "spend.csv", spend)
    if not sensitivity.empty:
        _save_csv(out / f"{ctx.sampler['method']}.csv", sensitivity)
    _save_csv(out / "discovery.csv", discovery)
    _save_csv(out / "cart.csv", cart)
    page = out / "report.html"
    text = _html(ctx, attainment, spend, sensitivity, discovery, charts, cart)
    write_atomic(page, text.encode("utf-8"))
    return Report(
        out, page, ctx.year, attainment, spend, sensitivity, discovery, charts, ctx.notes, cart
    )


class _Context:
    """The results of one batch, prepared for the report."""

    def __init__(
        self,
        manifest: dict,
        design: pd.DataFrame,
        samples: pd.DataFrame,
        data: pd.DataFrame,
        baseline: int,
        year: int | None,
    ):
        self.manifest = manifest
        self.samples = samples
        self.experiment = manifest["experiment"]
        self.sampler = self.experiment["sampler"]
        self.design = design
        self.notes: list[str] = []
        self.spend_missing = ""
        self.levers = [f["key"] for f in self.experiment["levers"]]
        self.uncertainties = [f["key"] for f in self.experiment["uncertainties"]]
        self.lever_ranges = any("range" in f for f in self.experiment["levers"])
        self.mixes = design.drop_duplicates("policy_mix_id")[["policy_mix_id", *self.levers]]
        self.mixes = self.mixes.reset_index(drop=True)
        mix_ids = self.mixes["policy_mix_id"].tolist()
        if baseline not in mix_ids:
            raise InputError(
                f"--baseline {baseline}: no such policy mix; this batch has mixes "
                f"{mix_ids[0]} to {mix_ids[-1]} (see mixes.csv)"
            )
        self.baseline = baseline
        indicator_columns = [c for c in data.columns if c not in design.columns and c != "year"]
        self.data = data.astype({c: "float64" for c in indicator_columns})
        years = sorted(self.data["year"].unique().tolist())
        target_year = int(manifest["scenario"]["target_year"])
        if year is not None:
            if year not in years:
                raise InputError(f"--year {year}: the results hold years {_years(years)}")
            self.year = year
        elif target_year in years:
            self.year = target_year
        else:
            self.year = years[-1]
            self.notes.append(
                f"The runs end in {self.year}, before the plan's target year {target_year}: "
                f"probabilities compare {self.year} values with the {target_year} targets."
            )
        self.targets = [t for t in manifest["scenario"]["targets"] if t["id"] in self.data]
        if not self.targets:
            raise InputError(
                f"the results keep none of the plan's indicators ({_ids(manifest)}); "
                "keep them in the experiment's [outputs]"
            )
        self.final = self.data[self.data["year"] == self.year].reset_index(drop=True)
        self.pair_keys = ["seed"] if self.lever_ranges else ["sample_id", "seed"]
        failed = [r for r in manifest["runs"] if r.get("status") == "error"]
        pending = len(design) - len(self.data["run_id"].unique()) - len(failed)
        if failed:
            self.notes.append(
                f"{len(failed)} runs failed (errors/ has each error); statistics use the "
                "finished runs only."
            )
        if pending > 0:
            self.notes.append(f"{pending} runs have not run yet (innosim batch --resume).")

    # ---------------------------------------------------------------------- attainment

    def attainment(self) -> pd.DataFrame:
        rows = []
        base = self.final[self.final["policy_mix_id"] == self.baseline]
        for _, mix in self.mixes.iterrows():
            runs = self.final[self.final["policy_mix_id"] == mix["policy_mix_id"]]
            paired = runs.merge(base, on=self.pair_keys, suffixes=("", "_base"))
            for t in self.targets:
                values = runs[t["id"]].dropna()
                diff = (paired[t["id"]] - paired[f"{t['id']}_base"]).dropna()
                rows.append(
                    {
                        "policy_mix_id": int(mix["policy_mix_id"]),
                        **{k: mix[k] for k in self.levers},
                        "indicator": t["id"],
                        "unit": t["unit"],
                        "year": self.year,
                        "target": t["target"],
                        "runs": len(values),
                        "p_meet": float((values >= t["target"]).mean()) if len(values) else np.nan,
                        "median": _quantile(values, 0.5),
                        "p05": _quantile(values, BAND[0]),
                        "p95": _quantile(values, BAND[1]),
                        "paired_runs": len(diff),
                        "effect_median": _quantile(diff, 0.5),
                        "effect_p05": _quantile(diff, BAND[0]),
                        "effect_p95": _quantile(diff, BAND[1]),
                    }
                )
        return pd.DataFrame(rows)

    # --------------------------------------------------------------------------- spend

    def spend_column(self) -> pd.Series | None:
        """Public spend per run and year (M CNY): ``spend_total``, else the sum of ``spend_*``."""
        if "spend_total" in self.data:
            return self.data["spend_total"]
        parts = [c for c in self.data.columns if c.startswith("spend_")]
        if not parts:
            return None
        return self.data[parts].sum(axis=1, min_count=1)

    def spend(self) -> pd.DataFrame:
        spend = self.spend_column()
        if spend is None or HITECH not in self.data:
            self.spend_missing = (
                "the results carry no public spend columns (spend_*)"
                if spend is None
                else f"the results do not keep {HITECH}"
            )
            return pd.DataFrame()
        first = int(self.manifest["scenario"]["years"][0])
        window = (self.data["year"] > first) & (self.data["year"] <= self.year)
        per_run = (
            self.data.assign(_spend=spend)[window].groupby("run_id")["_spend"].sum(min_count=1)
        )
        final = self.final.assign(cumulative_spend=self.final["run_id"].map(per_run))
        base = final[final["policy_mix_id"] == self.baseline]
        rows = []
        for _, mix in self.mixes.iterrows():
            runs = final[final["policy_mix_id"] == mix["policy_mix_id"]]
            paired = runs.merge(base, on=self.pair_keys, suffixes=("", "_base"))
            extra_spend = paired["cumulative_spend"] - paired["cumulative_spend_base"]
            extra_firms = paired[HITECH] - paired[f"{HITECH}_base"]
            mean_spend, mean_firms = extra_spend.mean(), extra_firms.mean()
            per_firm = mean_spend / mean_firms if mean_firms > 0 else np.nan
            rows.append(
                {
                    "policy_mix_id": int(mix["policy_mix_id"]),
                    **{k: mix[k] for k in self.levers},
                    "spend_to_year_median": _quantile(runs["cumulative_spend"].dropna(), 0.5),
                    "extra_spend_mean": mean_spend,
                    "extra_hitech_firms_mean": mean_firms,
                    "spend_per_additional_hitech_firm": per_firm,
                }
            )
        return pd.DataFrame(rows)

    # --------------------------------------------------------------------- sensitivity

    def sensitivity(self) -> pd.DataFrame:
        method = self.sampler["method"]
        if method not in ("sobol", "morris"):
            return pd.DataFrame()
        store_samples = self.samples
        names = [c for c in store_samples.columns if c != "sample_id"]
        discrete = [f["key"] for f in self.experiment["levers"] if "values" in f]
        groups = self.final.groupby(discrete, sort=True) if discrete else [((), self.final)]
        n_points = len(store_samples)
        frames = []
        for key, group in groups:
            key = key if isinstance(key, tuple) else (key,)
            for t in self.targets:
                y = group.groupby("sample_id")[t["id"]].mean()
                if len(y) != n_points or y.isna().any():
                    self.notes.append(
                        f"{method} indices for {t['id']}: n/a ({n_points - len(y)} sample points "
                        "lack a finished run)."
                    )
                    continue
                y = y.sort_index().to_numpy()
                if np.ptp(y) == 0:
                    continue  # a constant output has no variance to apportion
                if method == "sobol":
                    table = sobol_indices(names, y, bool(self.sampler["second_order"]))
                else:
                    x = store_samples.sort_values("sample_id")[names].to_numpy()
                    table = morris_indices(names, x, y, int(self.sampler["levels"]))
                table.insert(0, "indicator", t["id"])
                for k, v in zip(discrete, key, strict=True):
                    table.insert(0, k, v)
                frames.append(table)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    # ---------------------------------------------------------------- scenario discovery

    def discovery_factors(self) -> list[str]:
        """Levers and uncertainties that vary and are numbers: what discovery splits on."""
        factors = [k for k in self.levers + self.uncertainties if self.final[k].nunique() > 1]
        return [k for k in factors if pd.api.types.is_numeric_dtype(self.final[k])]

    def discovery(self) -> pd.DataFrame:
        factors = self.discovery_factors()
        rows = []
        for t in self.targets:
            values = self.final[["run_id", *factors, t["id"]]].dropna()
            fails = (values[t["id"]] < t["target"]).to_numpy()
            row = {
                "indicator": t["id"],
                "target": t["target"],
                "runs": len(values),
                "fail_rate": float(fails.mean()) if len(values) else np.nan,
            }
            if not factors:
                row["box"] = "n/a: no lever or uncertainty varies"
            elif not fails.any():
                row["box"] = "target met in every run"
            elif fails.all():
                row["box"] = "target missed in every run"
            else:
                box = prim(values[factors].astype(float), fails)
                if box is None:
                    row["box"] = "no range of the factors concentrates the failures"
                else:
                    row |= {
                        "box": box.describe(),
                        "coverage": box.coverage,
                        "density": box.density,
                        "mass": box.mass,
                    }
            rows.append(row)
        return pd.DataFrame(rows)

    # --------------------------------------------------------------------------- charts

    def mix_label(self, mix_id: int) -> str:
        row = self.mixes[self.mixes["policy_mix_id"] == mix_id].iloc[0]
        parts = [f"{_short(k)}={_fmt(row[k])}" for k in self.levers]
        label = f"mix {mix_id}" + (f": {', '.join(parts)}" if parts else "")
        return label + (" (baseline)" if mix_id == self.baseline else "")

    def chart_mixes(self, indicator: str, attainment: pd.DataFrame) -> list[int]:
        ids = self.mixes["policy_mix_id"].tolist()
        if len(ids) <= MAX_MIXES_IN_CHART:
            return ids
        rows = attainment[attainment["indicator"] == indicator]
        best = rows.sort_values(["p_meet", "median"], ascending=False)["policy_mix_id"]
        others = [i for i in best.tolist() if i != self.baseline]
        return [self.baseline, *others[: MAX_MIXES_IN_CHART - 1]]

    def fan_chart(self, target: dict, attainment: pd.DataFrame):
        from matplotlib.figure import Figure

        indicator = target["id"]
        fig = Figure(figsize=(7.5, 4.2), dpi=100)
        fig.subplots_adjust(left=0.1, right=0.98, top=0.92, bottom=0.12)
        ax = fig.add_subplot()
        shown = self.chart_mixes(indicator, attainment)
        colors = [f"C{i}" for i in range(10)]
        for n, mix_id in enumerate(shown):
            rows = self.data[self.data["policy_mix_id"] == mix_id]
            stats = rows.groupby("year")[indicator].quantile([BAND[0], 0.5, BAND[1]]).unstack()
            stats = stats.dropna()
            color = colors[n % len(colors)]
            ax.fill_between(
                stats.index, stats[BAND[0]], stats[BAND[1]], color=color, alpha=0.18, linewidth=0
            )
            ax.plot(stats.index, stats[0.5], color=color, linewidth=2, label=self.mix_label(mix_id))
        target_year = int(self.manifest["scenario"]["target_year"])
        ax.axhline(target["target"], color="black", linestyle="--", linewidth=1)
        ax.plot(
            [target_year],
            [target["target"]],
            marker="*",
            color="black",
            markersize=11,
            linestyle="none",
            label=f"target {target_year}: {_fmt(target['target'])}",
        )
        ax.set_title(f"{target['name']} ({indicator})", fontsize=10)
        ax.set_xlabel("year (31 December)")
        ax.set_ylabel(target["unit"])
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
        return fig


def _save_png(path: Path, fig) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    write_atomic(path, buffer.getvalue())
    return path


def _save_csv(path: Path, frame: pd.DataFrame) -> None:
    text = frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    write_atomic(path, text.encode("utf-8"))


# ------------------------------------------------------------------------------- the page

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;
color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}
.note{background:#fff8e1;border-left:4px solid #f0c000;padding:.4em .8em;margin:.5em 0}
.meta td{text-align:left}img{max-width:100%;margin:.5em 0}.small{font-size:.85em;color:#555}
"""


def _html(ctx: _Context, attainment, spend, sensitivity, discovery, charts, cart=None) -> str:
    e, m = ctx.experiment, ctx.manifest
    statuses = [r.get("status") for r in m["runs"]]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>innosim report: {_e(e['name'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Experiment {_e(e['name'])}: attainment of the plan targets in {ctx.year}</h1>",
    ]
    if e.get("description"):
        parts.append(f"<p>{_e(e['description'])}</p>")
    meta = {
        "base scenario": f"{m['scenario']['name']} ({m['scenario']['file']})",
        "sampler": json.dumps(e["sampler"]),
        "seeds per mix and sample": len(e["seeds"]),
        "policy mixes": len(ctx.mixes),
        "runs": f"{statuses.count('ok')} finished, {statuses.count('error')} failed, "
        f"{len(statuses)} in the design",
        "baseline mix": ctx.mix_label(ctx.baseline),
        "experiment sha256": e["sha256"],
        "code version": json.dumps(m.get("code_version")),
        "batch sessions": "; ".join(
            f"{s.get('started')} to {s.get('finished')} ({s.get('status')})" for s in m["sessions"]
        ),
    }
    parts.append(_table(pd.DataFrame({"": list(meta), "value": list(meta.values())}), "meta"))
    for note in ctx.notes:
        parts.append(f'<p class="note">{_e(note)}</p>')

    parts.append("<h2>Policy mixes</h2>")
    parts.append(_table(ctx.mixes))

    parts.append(f"<h2>Probability of meeting each target in {ctx.year}</h2>")
    parts.append(
        '<p class="small">Share of each mix\'s runs (seeds x uncertainty samples) whose value '
        "is at least the target.</p>"
    )
    matrix = attainment.pivot(index="policy_mix_id", columns="indicator", values="p_meet")
    matrix = matrix[[t["id"] for t in ctx.targets]]
    header = "".join(
        f"<th>{_e(t['id'])}<br><span class='small'>&ge; {_fmt(t['target'])}</span></th>"
        for t in ctx.targets
    )
    body = []
    for mix_id, row in matrix.iterrows():
        cells = "".join(_p_cell(v) for v in row.tolist())
        body.append(f"<tr><td class='l'>{_e(ctx.mix_label(mix_id))}</td>{cells}</tr>")
    parts.append(f"<table><tr><th class='l'>policy mix</th>{header}</tr>{''.join(body)}</table>")

    parts.append(
        f"<h2>Values in {ctx.year} and paired effects against mix {ctx.baseline}</h2>"
        '<p class="small">Median [5%, 95%] of the value; effect = difference run by run on '
        f"the same seeds ({' and '.join(ctx.pair_keys)}), median [5%, 95%].</p>"
    )
    detail = attainment.assign(
        value=[
            f"{_fmt(a)} [{_fmt(b)}, {_fmt(c)}]"
            for a, b, c in zip(
                attainment["median"], attainment["p05"], attainment["p95"], strict=True
            )
        ],
        effect=[
            f"{_fmt(a)} [{_fmt(b)}, {_fmt(c)}]"
            for a, b, c in zip(
                attainment["effect_median"],
                attainment["effect_p05"],
                attainment["effect_p95"],
                strict=True,
            )
        ],
    )
    parts.append(
        _table(
            detail[["policy_mix_id", "indicator", "target", "runs", "p_meet", "value", "effect"]]
        )
    )

    parts.append("<h2>Public spend per additional high-tech firm</h2>")
    if spend.empty:
        parts.append(f"<p>n/a: {_e(ctx.spend_missing)}.</p>")
    else:
        parts.append(
            f'<p class="small">Extra spend (M CNY, years to {ctx.year}) over the baseline '
            "mix divided by the extra certified high-tech firms, run by run on the same seeds "
            "(ratio of means). n/a where the mix adds no firms.</p>"
        )
        parts.append(_table(spend))

    parts.append("<h2>Fan charts</h2>")
    parts.append(
        '<p class="small">Median (line) and 5-95% band of each shown mix by year; dashed '
        "line and star: the plan target.</p>"
    )
    for path in charts:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        parts.append(f'<img alt="{_e(path.stem)}" src="data:image/png;base64,{data}">')

    method = e["sampler"]["method"]
    if method in ("sobol", "morris"):
        parts.append(f"<h2>Sensitivity ({method})</h2>")
        if sensitivity.empty:
            parts.append("<p>n/a (see notes above).</p>")
        else:
            what = (
                "S1: first-order share of variance; ST: total (with interactions)"
                if method == "sobol"
                else "mu*: mean absolute change over a factor's range; sigma: interactions"
            )
            parts.append(f'<p class="small">{what}; outputs are seed means in {ctx.year}.</p>')
            parts.append(_table(sensitivity))

    parts.append("<h2>Scenario discovery: where targets fail (PRIM)</h2>")
    parts.append(
        '<p class="small">For each target, the box of lever and uncertainty ranges in which it '
        "fails most often (highest density among boxes that keep at least half the failing "
        "runs). coverage: share of failing runs inside the box; density: share of runs inside "
        "the box that fail; mass: share of all runs inside.</p>"
    )
    parts.append(_table(discovery))
    if cart is not None:
        parts.append(_cart_section(cart))
    parts.append(
        '<p class="small">innosim report; results directory layout and definitions: '
        "docs/experiments.md.</p></body></html>"
    )
    return "\n".join(parts) + "\n"


def _cart_section(cart: pd.DataFrame) -> str:
    """The CART boxes beside PRIM's."""
    return (
        "<h2>Scenario discovery: where targets fail (CART)</h2>"
        '<p class="small">A classification tree (depth 3, leaves of at least 5% of the runs) '
        "splits the runs on lever and uncertainty values; the leaf where the target fails most "
        "often is shown with its coverage, density and mass, defined as for PRIM.</p>"
        + _table(cart)
    )


def _table(frame: pd.DataFrame, css: str = "") -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = "".join(
            f"<td class='l'>{_e(v)}</td>" if isinstance(v, str) else f"<td>{_e(_fmt(v))}</td>"
            for v in record
        )
        rows.append(f"<tr>{cells}</tr>")
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}><tr>{head}</tr>{''.join(rows)}</table>"


def _p_cell(p: float) -> str:
    if p is None or p != p:
        return "<td>n/a</td>"
    green = int(200 + 55 * (1 - p))
    red = int(255 - 80 * p)
    return f"<td style='background:rgb({red},{green},200)'>{p:.0%}</td>"


def _short(key: str) -> str:
    """A lever's short label: ``vouchers.budget``, ``hitech_tax_rate``."""
    parts = key.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 3 else parts[-1]


def _quantile(values: pd.Series, q: float) -> float:
    return float(np.quantile(values, q)) if len(values) else np.nan


def _fmt(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if value != value:
            return "n/a"
        return f"{value:.4g}"
    return str(value)


def _e(value) -> str:
    return html.escape(str(value))


def _years(years: list[int]) -> str:
    return f"{years[0]} to {years[-1]}" if years else "none"


def _ids(manifest: dict) -> str:
    return ", ".join(t["id"] for t in manifest["scenario"]["targets"][:8])
