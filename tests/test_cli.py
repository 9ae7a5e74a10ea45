"""The command line as a user runs it: subprocesses, exit codes, bytes."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import DEFAULT_SCENARIO, REFERENCE_SCENARIO, ROOT, THREADED_KERNELS

INNOSIM = str(Path(sys.executable).parent / "innosim")  # the installed console script


def innosim(*args, env=None, check=True):
    result = subprocess.run(
        [INNOSIM, *map(str, args)],
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    if check and result.returncode != 0:
        raise AssertionError(result.stderr.decode())
    return result


def test_json_output_shape(tmp_path):
    out = innosim("run", REFERENCE_SCENARIO, "--seed", "7", "--format", "json").stdout
    data = json.loads(out)
    assert list(data) == ["scenario", "seed", "months", "indicators", "scorecard"]
    assert data["scenario"] == "reference_300" and data["seed"] == 7
    assert [row["year"] for row in data["indicators"]] == [2020, 2021, 2022]
    for row in data["indicators"]:
        for key in (
            "tech_smes",
            "hitech_firms",
            "high_growth_firms",
            "rd_gdp_ratio",
            "rd_revenue_ratio_above_scale",
            "invention_patents_per_10k",
            "rd_staff_per_10k_employed",
            "hitech_industry_share",
        ):
            assert key in row
    assert isinstance(data["indicators"][1]["hitech_firms"], int)
    card = {entry["id"]: entry for entry in data["scorecard"]}
    assert set(card["hitech_firms"]) == {"id", "kind", "value", "target", "met"}
    assert card["hitech_firms"]["target"] == 130


def test_default_scenario_json_is_byte_identical_across_runs_and_thread_counts():
    args = ("run", DEFAULT_SCENARIO, "--seed", "7", "--format", "json")
    first = innosim(*args).stdout
    again = innosim(*args).stdout
    one_thread = innosim(*args, env={"NUMBA_NUM_THREADS": "1"}).stdout
    two_threads = innosim(*args, env={"NUMBA_NUM_THREADS": "2"}).stdout
    assert first == again == one_thread == two_threads
    assert json.loads(first)["indicators"][-1]["year"] == 2025


@THREADED_KERNELS
def test_a_table_large_enough_for_parallel_kernels_gives_the_same_bytes_on_1_and_2_threads(
    tmp_path,
):
    # The kernels share firms out to threads only above kernels.PARALLEL_MIN_ROWS (4,096).
    text = Path(DEFAULT_SCENARIO).read_text().replace("other = 300", "other = 6000", 1)
    scenario = tmp_path / "large.toml"
    scenario.write_text(text)
    shutil.copytree(Path(DEFAULT_SCENARIO).parent / "targets", tmp_path / "targets")
    shutil.copytree(Path(DEFAULT_SCENARIO).parent / "calibration", tmp_path / "calibration")
    args = ("run", scenario, "--months", "13", "--format", "json")
    one_thread = innosim(*args, env={"NUMBA_NUM_THREADS": "1"}).stdout
    two_threads = innosim(*args, env={"NUMBA_NUM_THREADS": "2"}).stdout
    assert one_thread == two_threads
    assert json.loads(one_thread)["indicators"][0]["firms"] > 6000


def test_table_output_ends_with_scorecard_and_has_no_progress_bar_when_piped():
    result = innosim("run", REFERENCE_SCENARIO)
    text = result.stdout.decode()
    assert "Scorecard" in text and "hitech_firms" in text and "targets met" in text
    assert b"months" not in result.stderr  # the progress bar is for terminals only


def test_lang_zh_writes_the_table_in_chinese_with_the_plan_tables_names():
    from test_report import english_phrases

    from sim.scenario import load_scenario

    args = ("run", REFERENCE_SCENARIO, "--months", "12")
    zh = innosim(*args, "--lang", "zh").stdout.decode()
    en = innosim(*args, "--lang", "en").stdout.decode()
    assert innosim(*args).stdout.decode() == en  # English by default
    plan = load_scenario(REFERENCE_SCENARIO).plan
    card = json.loads(innosim(*args, "--lang", "zh", "--format", "json").stdout)["scorecard"]
    assert {e["id"] for e in card} <= {row.id for row in plan.rows}
    for entry in card:
        row = plan.get(entry["id"])
        assert row.name_zh and re.search(
            rf"^  {entry['id']} .* {re.escape(row.name_zh)}$", zh, re.M
        )
        assert re.search(rf"^  {entry['id']} .* {re.escape(row.name)}$", en, re.M)
        assert row.name not in zh
    assert "考核表(末年数值对照规划目标):" in zh and "Scorecard" not in zh
    outcomes = [e for e in card if e["kind"] == "outcome"]
    met = sum(e["met"] for e in outcomes)
    assert f"实现结果类目标 {met} 个(共 {len(outcomes)} 个)" in zh
    assert english_phrases(zh) == [] and english_phrases(en)
    lines = [line for line in zh.splitlines() if line.startswith("  hitech_firms ")]
    assert len(lines) == 1 and lines[0].rstrip().endswith("国家高新技术企业")


def test_csv_and_parquet_outputs_agree(tmp_path):
    csv_path, parquet_path = tmp_path / "r.csv", tmp_path / "r.parquet"
    innosim("run", REFERENCE_SCENARIO, "--format", "csv", "--out", csv_path)
    innosim("run", REFERENCE_SCENARIO, "--format", "parquet", "--out", parquet_path)
    from_csv = pd.read_csv(csv_path)
    from_parquet = pd.read_parquet(parquet_path)
    assert list(from_csv.columns) == list(from_parquet.columns)
    assert from_csv["hitech_firms"].tolist() == from_parquet["hitech_firms"].tolist()
    pd.testing.assert_series_equal(
        from_csv["rd_gdp_ratio"], from_parquet["rd_gdp_ratio"], check_exact=True
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv", "r.parquet"]  # no temp files


def test_months_flag_shortens_the_run():
    data = json.loads(
        innosim("run", REFERENCE_SCENARIO, "--months", "12", "--format", "json").stdout
    )
    assert data["months"] == 12 and len(data["indicators"]) == 2


def test_help_is_useful():
    top = innosim("--help").stdout.decode()
    assert "run" in top and "Liangping" in top
    run = innosim("run", "--help").stdout.decode()
    for flag in ("--seed", "--months", "--out", "--format", "json"):
        assert flag in run


def write(tmp_path, text, name="bad.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def scenario_text(**replace):
    text = DEFAULT_SCENARIO.read_text()
    for folder in ("targets", "calibration"):
        text = text.replace(f'file = "{folder}/', f'file = "{ROOT}/scenarios/{folder}/')
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new, 1)
    return text


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"seed = 2021": "seed = 2021\ncolour = 3"}, "scenario.colour = 3: unknown key"),
        (
            {"hitech = 10": "hitech = -3"},
            "population.sectors[0].hitech = -3: must be between 0 and 10000000",
        ),
        (
            {"[region]": "[certification]\nhitech_review_pass_rate = 1.5\n\n[region]"},
            "certification.hitech_review_pass_rate = 1.5: must be a probability between 0 and 1",
        ),
        ({"liangping_14th_fyp_targets.csv": "nowhere.csv"}, 'targets.file = "'),
        ({"[region]": "[region\n"}, "invalid TOML"),
        (
            {"horizon_months = 60": 'horizon_months = "long"'},
            'scenario.horizon_months = "long": must be a whole number',
        ),
    ],
)
def test_bad_scenarios_give_one_line_and_exit_2(tmp_path, change, expected):
    path = write(tmp_path, scenario_text(**change))
    result = innosim("run", path, check=False)
    err = result.stderr.decode()
    assert result.returncode == 2
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert str(path) in err and expected in err
    assert result.stdout == b""


def test_missing_targets_file_names_the_file(tmp_path):
    path = write(tmp_path, scenario_text(**{"liangping_14th_fyp_targets.csv": "nowhere.csv"}))
    err = innosim("run", path, check=False).stderr.decode()
    assert "nowhere.csv" in err and "file not found" in err


@pytest.mark.parametrize(
    "args, expected",
    [
        (("--seed", "-1"), "--seed"),
        (("--months", "0"), "--months"),
        (("--format", "xml"), "--format"),
        (("--format", "parquet"), "needs --out"),
        (("--out", "/no/such/dir/x.json"), "does not exist"),
        (("--lang", "fr"), "--lang"),
    ],
)
def test_bad_flags_give_one_line_and_exit_2(args, expected):
    result = innosim("run", REFERENCE_SCENARIO, *args, check=False)
    err = result.stderr.decode()
    assert result.returncode == 2 and err.count("\n") == 1 and expected in err, err


def test_failed_output_leaves_no_partial_file(tmp_path):
    out = tmp_path / "result.json"
    out.write_text("previous result\n")
    bad = write(tmp_path, scenario_text(**{"hitech = 10": "hitech = -3"}))
    assert innosim("run", bad, "--out", out, check=False).returncode == 2
    assert out.read_text() == "previous result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "result.json"]


def test_progress_bar_shows_on_a_terminal():
    import pty

    controller, terminal = pty.openpty()
    result = subprocess.run(
        [INNOSIM, "run", str(REFERENCE_SCENARIO), "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=terminal,
        cwd=ROOT,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert result.returncode == 0
    plain = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", shown)  # the bar's colours and cursor codes
    assert b"24/24 months" in plain and b"reference_300" in plain
    json.loads(result.stdout)  # the bar never mixes into the result
