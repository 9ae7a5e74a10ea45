"""``innosim report``: attainment probabilities, paired effects, charts, HTML, sensitivity."""

import contextlib
import csv
import html
import io
import json
import re
import shutil
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_SCENARIO, ROOT
from test_batch import LAG_CLASH, write_experiment

from sim.batch import read_results
from sim.batch.analysis import prim
from sim.batch.batch import run_batch
from sim.batch.interop import make_model
from sim.batch.report import make_report
from sim.cli import main
from sim.run import run_scenario
from sim.scenario import load_scenario


def innosim(*args, check=True):
    """``innosim ARGS`` run by the console script's ``main`` in this process: its exit status,
    stdout and stderr, without a new interpreter's start-up for each message checked."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main([str(a) for a in args])
        except SystemExit as exit:  # argparse's errors
            status = exit.code
    if check and status != 0:
        raise AssertionError(err.getvalue())
    return SimpleNamespace(returncode=status, stdout=out.getvalue(), stderr=err.getvalue())


# Targets for 2021 near the middle of reference_300's outcomes, so probabilities are neither
# all 0 nor all 1 (the district's 2025 targets are far beyond a 300-firm population).
TARGETS_2021 = {
    "hitech_firms": 19,
    "tech_smes": 50,
    "rd_gdp_ratio": 0.80,
    "invention_patents_per_10k": 2.4,
}


def small_scenario(tmp_path):
    """reference_300 (12 months: 2020-2021) scored against a 2021 plan table."""
    plan = ROOT / "scenarios" / "targets" / "liangping_14th_fyp_targets.csv"
    with plan.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with (tmp_path / "plan_2021.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, ["id", "indicator_en", "unit", "value_2020", "target_2021"])
        writer.writeheader()
        for row in rows:
            target = TARGETS_2021.get(row["id"], row["target_2025"])
            writer.writerow(
                {
                    "id": row["id"],
                    "indicator_en": row["indicator_en"],
                    "unit": row["unit"],
                    "value_2020": row["value_2020"],
                    "target_2021": target,
                }
            )
    text = REFERENCE_SCENARIO.read_text()
    text = re.sub(r'file = ".*"', 'file = "plan_2021.csv"', text, count=1)
    text = text.replace("target_year = 2025", "target_year = 2021")
    path = tmp_path / "small.toml"
    path.write_text(text)
    return path


SWEEP = """
[replications]
seeds = 8

[levers]
"policy.hitech_tax_rate" = [0.15, 0.05]
"firms.innovation_zeta" = [0.6, 1.2]
"""


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    path = write_experiment(tmp, SWEEP, scenario=small_scenario(tmp), months=12)
    run_batch(path, engine="inline", out=tmp / "results")
    return tmp / "results"


@pytest.fixture(scope="module")
def report(sweep, tmp_path_factory):
    """The sweep's report against mix 0, shared by the tests that only read it."""
    return make_report(
        sweep, baseline=0, out=tmp_path_factory.mktemp("report") / "r", effect_seeds=0
    )


def test_report_writes_html_charts_workbook_and_tables(sweep, tmp_path):
    out = tmp_path / "report"
    result = innosim("report", sweep, "--out", out, "--effect-seeds", "1")
    assert "wrote" in result.stderr
    assert (out / "fan_charts.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("ranking", "attainment", "mixes", "lever_effects", "discovery"):
        assert (out / f"{name}.csv").is_file()
    assert (out / "report.xlsx").read_bytes()[:2] == b"PK"  # a zip: the xlsx container
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("data:image/png;base64,") == 1
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page)  # nothing external
    assert "<script" not in page
    assert "Probability of meeting each outcome target" in page
    assert "What each lever buys per yuan" in page
    assert "e-0" not in page  # no scientific notation in the tables


def test_attainment_probabilities_and_paired_effects_match_the_dataset(sweep, report):
    table = pd.read_csv(report.out / "attainment.csv")
    data = read_results(sweep)
    final = data[data["year"] == 2021]
    assert report.year == 2021 and not report.notes
    targets = table["indicator"].unique()
    assert set(TARGETS_2021) <= set(targets) and len(table) == 4 * len(targets)
    # One probability by hand: mix 3 (tax 5%, zeta 1.2), high-tech firms >= 19 in 2021.
    runs = final[final["policy_mix_id"] == 3]
    assert len(runs) == 8 and sorted(runs["seed"]) == list(range(99, 107))
    manual = sum(int(v) >= 19 for v in runs["hitech_firms"]) / 8
    row = table[(table["policy_mix_id"] == 3) & (table["indicator"] == "hitech_firms")]
    assert row["p_meet"].item() == pytest.approx(manual)
    assert row["target"].item() == 19 and row["runs"].item() == 8
    # ... and every other probability and median the same way
    for _, r in table.iterrows():
        values = final.loc[final["policy_mix_id"] == r["policy_mix_id"], r["indicator"]]
        values = values.astype(float)
        assert r["p_meet"] == pytest.approx((values >= r["target"]).mean())
        assert r["median"] == pytest.approx(values.median())
    probabilities = table["p_meet"]
    assert ((probabilities > 0) & (probabilities < 1)).any(), "targets should be informative"
    # paired effect: same seed, mix 3 minus mix 0
    base = final[final["policy_mix_id"] == 0].set_index("seed")["hitech_firms"].astype(float)
    diff = runs.set_index("seed")["hitech_firms"].astype(float) - base
    assert row["effect_mean"].item() == pytest.approx(diff.mean())
    assert row["effect_lo"].item() < diff.mean() < row["effect_hi"].item() or diff.std() == 0
    assert (table["p_lo"] <= table["p_meet"]).all() and (table["p_meet"] <= table["p_hi"]).all()
    baseline_rows = table[table["policy_mix_id"] == 0]
    assert (baseline_rows["effect_mean"] == 0).all()


def test_other_baseline_and_bad_arguments(sweep, tmp_path):
    report = make_report(sweep, baseline=2, out=tmp_path / "r", effect_seeds=0)
    assert (report.attainment.query("policy_mix_id == 2")["effect_mean"] == 0).all()
    result = innosim("report", sweep, "--baseline", "9", "--out", tmp_path / "x", check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "--baseline 9: no such policy mix; this batch has mixes 0 to 3" in result.stderr
    result = innosim("report", tmp_path / "nothing", check=False)
    assert result.returncode == 2 and "not a batch results directory" in result.stderr
    result = innosim("report", sweep, "--year", "2030", "--out", tmp_path / "y", check=False)
    assert result.returncode == 2 and "the results hold years 2020 to 2021" in result.stderr


@pytest.mark.parametrize("method, samples", [("sobol", 4), ("morris", 3)])
def test_sensitivity_indices_for_sobol_and_morris(tmp_path, method, samples):
    body = f"""
[sampler]
method = "{method}"
samples = {samples}

[replications]
seeds = [99]

[outputs]
indicators = ["hitech_firms", "tech_smes", "rd_gdp_ratio"]

[uncertainties]
"firms.innovation_zeta" = {{ range = [0.2, 1.5] }}
"firms.rd_user_cost_elasticity" = {{ range = [0.2, 1.5] }}
"""
    path = write_experiment(tmp_path, body, scenario=small_scenario(tmp_path), months=12)
    run_batch(path, engine="inline", out=tmp_path / "results")
    report = make_report(tmp_path / "results", out=tmp_path / "r", effect_seeds=0)
    table = report.sensitivity
    assert set(table["factor"]) == {"firms.innovation_zeta", "firms.rd_user_cost_elasticity"}
    columns = ["S1", "ST"] if method == "sobol" else ["mu_star", "sigma"]
    assert set(columns) <= set(table.columns)
    assert (tmp_path / "r" / f"{method}.csv").is_file()
    page = report.html.read_text()
    assert f"Sensitivity ({method})" in page
    assert report.lever_effects.empty  # --effect-seeds 0


def test_prim_finds_the_box_where_a_target_fails():
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 2000), "b": rng.uniform(0, 10, 2000)})
    fails = (x["a"] < 0.3) & (x["b"] > 5)
    box = prim(x, fails.to_numpy())
    assert box is not None and set(box.limits) == {"a", "b"}
    assert box.limits["a"][1] == pytest.approx(0.3, abs=0.05)
    assert box.limits["b"][0] == pytest.approx(5, abs=0.5)
    assert box.density > 0.8 and box.coverage >= 0.5
    assert prim(x, np.zeros(2000, dtype=bool)) is None  # nothing to find


def test_discovery_table_in_a_sweep(report):
    rows = report.discovery.set_index("indicator")
    assert set(rows.index) >= set(TARGETS_2021)
    assert all(isinstance(b, str) and b for b in rows["box"])


def test_a_lever_key_is_named_in_chinese_with_the_key_in_small_type_beside_it():
    from sim.batch.report import levers_named
    from sim.words import Words

    zh, en = Words("zh"), Words("en")
    assert zh.factor("policy.credit.loan_cap") == "单户授信额度上限"  # words.toml [levers]
    assert zh.factor("firms.innovation_zeta") is None  # an uncertainty: no name but its key
    assert en.factor("policy.credit.loan_cap") is None  # English names a lever by its key
    box = "policy.credit.loan_cap in [1, 3] and firms.innovation_zeta > 0.5"
    assert str(levers_named(box, zh)) == (
        '单户授信额度上限 <span class="id">policy.credit.loan_cap</span> in [1, 3] '
        "and firms.innovation_zeta &gt; 0.5"
    )
    assert str(levers_named(box, en)) == html.escape(box, quote=False)


def test_interop_model_function_is_the_model():
    model = make_model(REFERENCE_SCENARIO, outcomes=["hitech_firms", "tech_smes"])
    out = model(firms__innovation_zeta=np.float64(0.9), **{"policy.hitech_tax_rate": 0.1}, seed=7)
    scenario = load_scenario(
        REFERENCE_SCENARIO, {"firms.innovation_zeta": 0.9, "policy.hitech_tax_rate": 0.1}
    )
    final = run_scenario(scenario, 7).indicators.iloc[-1]
    assert out["hitech_firms"] == float(final["hitech_firms"])
    assert out["tech_smes"] == float(final["tech_smes"])
    assert out["met_hitech_firms"] == 0.0  # 300 firms are far from the district's 130
    assert set(out) == {"hitech_firms", "tech_smes", "met_hitech_firms", "met_tech_smes"}
    json.dumps(out)  # plain floats


# ------------------------------------------------------------------ the page in Chinese


def visible_text(page: str) -> str:
    """What a reader sees of a report page: no markup, style, image data or indicator ids."""
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    page = re.sub(r'<span class="id">.*?</span>', "", page)
    page = re.sub(r'src="data:[^"]*"', "", page)
    return html.unescape(re.sub(r"<[^>]+>", "\n", page))


WORD = r"[A-Za-z]{2,}(?:-[A-Za-z]+)*"


def english_phrases(text: str) -> list[str]:
    """Runs of three or more English words (dotted keys, ids, flags and files are not words)."""
    return re.findall(rf"(?<![\w./-]){WORD}(?:[ ,']+{WORD}){{2,}}(?![\w.])", text)


# English on the en page, its Chinese on the zh page: notes, mix labels, table words.
TRANSLATED = [
    (
        "The runs end in 2021, before the plan's target year 2025",
        "模拟运行止于 2021 年,早于规划目标年 2025 年",
    ),
    ("2 runs failed (errors/ has each error)", "2 次运行失败(每次的错误见 errors/ 目录)"),
    ("1 runs have not run yet (innosim batch --resume).", "1 次运行尚未进行"),
    ("Lever effects were not computed (--effect-seeds 0).", "未计算政策工具效果"),
    (
        "mix 0: grant_lag_min = 16 months, grant_lag_max = 18 months",
        "组合 0: grant_lag_min = 16 月",
    ),
    ("0% (mix 0)", "0%(组合 0)"),
    ("target missed in every run", "每次运行均未实现目标"),
    ("seeds per mix and sample", "每个组合与样本的随机种子"),
    ("6 finished, 2 failed, 8 in the design", "已完成 6 次,失败 2 次,设计共 8 次"),
    ("≥ 130 firms", "≥ 130 家"),
    ("n/a", "无"),
]


def test_a_chinese_report_has_no_english_sentence_left(tmp_path):
    path = write_experiment(tmp_path, LAG_CLASH)  # the runs of mix 2 fail; 12 months: 2021
    out = tmp_path / "out"
    run_batch(path, engine="inline", out=out)
    (out / "runs" / "run-000007.parquet").unlink()  # as if the batch stopped before it
    en = make_report(out, out=tmp_path / "en", lang="en", effect_seeds=0)
    zh = make_report(out, out=tmp_path / "zh", lang="zh", effect_seeds=0)
    en_text = visible_text(en.html.read_text(encoding="utf-8"))
    zh_text = visible_text(zh.html.read_text(encoding="utf-8"))
    for english, chinese in TRANSLATED:
        assert english in en_text, english
        assert chinese in zh_text and english not in zh_text, english
    assert len(zh.notes) == len(en.notes) == 3
    assert all(not english_phrases(note) for note in zh.notes)
    assert english_phrases(zh_text) == []
    assert "The runs end in" in " ".join(english_phrases(en_text))  # the check sees English


def test_every_word_is_in_both_languages_and_every_declared_unit_has_its_chinese():
    import dataclasses
    import string
    import typing

    from sim.batch.report import BOX_SENTENCES
    from sim.indicators import INDICATORS
    from sim.scenario import Scenario
    from sim.words import text

    words = text()
    assert set(words["en"]) == set(words["zh"])
    for key, english in words["en"].items():
        fields = {f for _, f, _, _ in string.Formatter().parse(english) if f}
        assert fields == {f for _, f, _, _ in string.Formatter().parse(words["zh"][key]) if f}, key
    for sentence, key in BOX_SENTENCES.items():
        assert words["en"][key] == sentence  # the tables' sentences, as the analyses write them

    units = {unit for unit, _ in INDICATORS.values()}

    def declared(tp):
        for f in dataclasses.fields(tp):
            units.add(f.metadata.get("unit", ""))
            hint = typing.get_type_hints(tp)[f.name]
            hint = typing.get_args(hint)[0] if typing.get_origin(hint) is tuple else hint
            if dataclasses.is_dataclass(hint):
                declared(hint)

    declared(Scenario)
    for plan in (ROOT / "scenarios" / "targets").glob("*.csv"):
        with plan.open(newline="", encoding="utf-8") as handle:
            units |= {row["unit"] for row in csv.DictReader(handle)}
    assert sorted(units - {""} - set(words["units"])) == []


# ------------------------------------------------------------- the inputs a batch keeps


def test_a_report_uses_the_inputs_kept_at_batch_time_after_they_move_or_change(tmp_path):
    # A scenario with its plan table beside it, and the experiment in another folder.
    work = tmp_path / "work"
    (work / "targets").mkdir(parents=True)
    plan = ROOT / "scenarios" / "targets" / "liangping_14th_fyp_targets.csv"
    shutil.copy(plan, work / "targets" / "plan.csv")
    text = re.sub(
        r'file = ".*"', 'file = "targets/plan.csv"', REFERENCE_SCENARIO.read_text(), count=1
    )
    (work / "s.toml").write_text(text)
    (tmp_path / "exp").mkdir()
    body = '[replications]\nseeds = 2\n\n[levers]\n"policy.hitech_tax_rate" = [0.10, 0.15]\n'
    path = write_experiment(tmp_path / "exp", body, scenario="../work/s.toml")
    out = tmp_path / "out"
    run_batch(path, engine="inline", out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    copies = manifest["copies"]
    assert set(copies) == {"scenario", "targets.file"}
    assert copies["scenario"]["copy"] == "inputs/s.toml"
    assert copies["targets.file"]["copy"] == "inputs/targets/plan.csv"
    for role, entry in copies.items():
        assert entry["sha256"] == manifest["inputs"][role]["sha256"]  # the digests resume checks
    before = make_report(out, out=tmp_path / "r0", effect_seeds=0)

    # The originals change: the report still shows the batch's targets and scenario ...
    (work / "targets" / "plan.csv").write_text(plan.read_text().replace(",130,", ",999,"))
    (work / "s.toml").write_text(text.replace('name = "reference_300"', 'name = "edited"'))
    changed = make_report(out, out=tmp_path / "r1", effect_seeds=0)
    pd.testing.assert_frame_equal(changed.attainment, before.attainment)
    assert changed.attainment.query("indicator == 'hitech_firms'")["target"].eq(130).all()
    assert "reference_300 (s.toml)" in changed.html.read_text()
    # ... while a resume refuses them, as it refuses any changed input
    result = innosim("batch", path, "--out", out, "--resume", check=False)
    assert result.returncode == 2 and "plan.csv changed" in result.stderr

    # ... and they move away, with the experiment file
    shutil.rmtree(work)
    path.rename(tmp_path / "moved.toml")
    moved = make_report(out, out=tmp_path / "r2", effect_seeds=0)
    pd.testing.assert_frame_equal(moved.attainment, before.attainment)

    # A damaged copy is one line naming the folder and the resume that copies them again
    copy = out / "inputs" / "targets" / "plan.csv"
    copy.write_text(copy.read_text().replace(",130,", ",131,"))
    result = innosim("report", out, "--effect-seeds", "0", "--out", tmp_path / "r3", check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert f"{out}/inputs: a copy of the batch's inputs is missing or damaged" in result.stderr


def test_a_batch_made_before_copies_reads_the_originals_and_resume_copies_them(tmp_path):
    path = write_experiment(
        tmp_path, "[replications]\nseeds = 1\n", scenario=small_scenario(tmp_path)
    )
    out = tmp_path / "out"
    run_batch(path, engine="inline", out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["copies"]  # as an older innosim wrote it
    (out / "manifest.json").write_text(json.dumps(manifest))
    shutil.rmtree(out / "inputs")
    plan = tmp_path / "plan_2021.csv"
    original = plan.read_bytes()
    plan.write_bytes(original.replace(b"hitech_firms,", b"hitech_firms ,", 1))
    result = innosim("report", out, "--effect-seeds", "0", check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert f"{plan} changed since the batch ran" in result.stderr
    plan.write_bytes(original)
    assert run_batch(path, engine="inline", out=out, resume=True).done == 0
    assert set(json.loads((out / "manifest.json").read_text())["copies"]) == {
        "scenario",
        "targets.file",
    }
    plan.unlink()
    assert make_report(out, out=tmp_path / "r", effect_seeds=0).year == 2021
