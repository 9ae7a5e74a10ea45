"""``innosim validate``: the district scenario's runs against observed values (sim/validate.py)."""

import json

import numpy as np
import pytest
from conftest import DEFAULT_SCENARIO, ROOT
from test_cli import innosim

from sim.cli import main
from sim.effects import run_seeds, stacked
from sim.scenario import load_scenario
from sim.schema import InputError
from sim.validate import Row, read_observed, relative_error, simulated_years, summarise, validate
from sim.validate_commands import render_validation
from sim.words import Words

SEEDS = [2021, 2022, 2023]  # the scenario's seed upward, as --seeds 3 takes them
MONTHS = "24"  # 2020 (the baseline), 2021, 2022
ARGS = ("--seeds", str(len(SEEDS)), "--months", MONTHS)


@pytest.fixture(scope="module")
def runs(liangping):
    """The runs the command makes, made here from the library: the numbers to check against."""
    return stacked(run_seeds(liangping, SEEDS, int(MONTHS)))


def own(runs, indicator, year):
    values = runs.loc[runs["year"] == year, indicator].to_numpy(dtype=float)
    return [float(q) for q in np.quantile(values, [0.05, 0.5, 0.95])]


@pytest.fixture(scope="module")
def observed(runs, tmp_path_factory):
    """Observations built from the runs: on the median, far off, on the band's edge, year 0."""
    _, median_smes, _ = own(runs, "tech_smes", 2021)
    _, median_hitech, _ = own(runs, "hitech_firms", 2022)
    lo_births, _, _ = own(runs, "births", 2022)
    path = tmp_path_factory.mktemp("observed") / "observed.csv"
    path.write_text(
        "source,id,year,value,unit\n"  # extra columns, in any place, are ignored
        f"test,tech_smes,2021,{median_smes!r},firms\n"
        f"test,hitech_firms,2022,{10 * median_hitech!r},firms\n"
        f"test,births,2022,{lo_births!r},firms\n"
        "plan 2020,rd_gdp_ratio,2020,0.74,percent\n",
        encoding="utf-8",
    )
    return path


def validate_json(observed, *extra):
    out = innosim("validate", DEFAULT_SCENARIO, observed, *ARGS, "--format", "json", *extra)
    return json.loads(out.stdout)


def test_rows_are_the_runs_own_median_and_band_and_the_scores_follow_from_them(runs, observed):
    data = validate_json(observed)
    assert list(data) == [
        "scenario", "observed_file", "seeds", "months", "band", "rows", "summary", "held_out",
        "baseline_year", "baseline", "left_out",
    ]  # fmt: skip
    assert data["scenario"] == "liangping_2021_2025" and data["seeds"] == SEEDS
    assert data["months"] == 24 and data["band"] == [0.05, 0.95]
    rows = {(r["id"], r["year"]): r for r in data["rows"]}
    assert list(rows) == [
        ("tech_smes", 2021), ("hitech_firms", 2022), ("births", 2022), ("rd_gdp_ratio", 2020),
    ]  # fmt: skip
    for row in data["rows"]:
        assert list(row) == [
            "id", "year", "month", "observed", "median", "lo", "hi", "error_percent", "in_band",
            "held_out",
        ]  # fmt: skip
        assert row["month"] == 12  # no month column: 31 December
        lo, median, hi = own(runs, row["id"], row["year"])
        assert (row["lo"], row["median"], row["hi"]) == (lo, median, hi)
        assert row["held_out"] is False

    on_median = rows["tech_smes", 2021]
    assert on_median["observed"] == on_median["median"]
    assert on_median["error_percent"] == 0 and on_median["in_band"] is True
    far = rows["hitech_firms", 2022]
    assert far["error_percent"] == pytest.approx(-90.0) and far["in_band"] is False
    edge = rows["births", 2022]  # the band's edges belong to it
    assert edge["observed"] == edge["lo"] < edge["hi"] and edge["in_band"] is True
    assert edge["error_percent"] == pytest.approx(100 * (edge["median"] / edge["lo"] - 1))
    year0 = rows["rd_gdp_ratio", 2020]  # reproduced by construction: a band of zero width
    assert year0["lo"] == pytest.approx(0.74, abs=1e-12) == year0["hi"]
    assert year0["in_band"] is True and abs(year0["error_percent"]) < 1e-9

    # year 0 is the runs' start, not a result: summarised apart
    summary = data["summary"]
    errors = [abs(r["error_percent"]) for r in data["rows"] if r["year"] > 2020]
    assert summary["rows"] == 3
    assert summary["mape_percent"] == pytest.approx(sum(errors) / 3)
    assert summary["band_coverage"] == pytest.approx(2 / 3)
    assert list(summary["by_id"]) == ["tech_smes", "hitech_firms", "births"]
    assert data["baseline_year"] == 2020 and data["left_out"] == []
    assert data["baseline"]["rows"] == 1 and list(data["baseline"]["by_id"]) == ["rd_gdp_ratio"]
    assert summary["by_id"]["hitech_firms"] == {
        "rows": 1, "mape_percent": pytest.approx(90.0), "band_coverage": 0.0,
    }  # fmt: skip
    assert data["held_out"] == {
        "rows": 0, "mape_percent": None, "band_coverage": None, "by_id": {},
    }  # fmt: skip


def test_held_out_rows_are_reported_but_summarised_apart(observed):
    data = validate_json(observed, "--hold-out", "2022", "--hold-out", "rd_gdp_ratio")
    held = [(r["id"], r["year"]) for r in data["rows"] if r["held_out"]]
    assert held == [("hitech_firms", 2022), ("births", 2022), ("rd_gdp_ratio", 2020)]
    assert len(data["rows"]) == 4
    assert data["summary"]["rows"] == 1 and list(data["summary"]["by_id"]) == ["tech_smes"]
    assert data["summary"]["mape_percent"] == 0 and data["summary"]["band_coverage"] == 1
    out = data["held_out"]  # the year-0 row held out is with year 0
    assert out["rows"] == 2 and out["band_coverage"] == pytest.approx(1 / 2)
    assert list(out["by_id"]) == ["hitech_firms", "births"]
    errors = [abs(r["error_percent"]) for r in data["rows"] if r["held_out"] and r["year"] > 2020]
    assert out["mape_percent"] == pytest.approx(sum(errors) / 2)

    text = innosim(
        "validate", DEFAULT_SCENARIO, observed, *ARGS, "--hold-out", "2022"
    ).stdout.decode()
    lines = text.splitlines()
    assert sum(line.endswith("(held out)") for line in lines) == 2
    summary = next(line for line in lines if line.startswith("Summary:"))
    held = next(line for line in lines if line.startswith("Held out:"))
    assert "band coverage 1 of 1 (100%)" in summary
    assert "band coverage 1 of 2 (50.0%)" in held and "MAPE" in held


def test_table_has_a_row_per_observation_with_its_columns_then_the_summary(observed):
    result = innosim("validate", DEFAULT_SCENARIO, observed, *ARGS)
    assert result.stderr == b""  # no progress bar when not on a terminal
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith(f"liangping_2021_2025 against {observed}: 3 seeds (seeds 2021 to")
    header = next(i for i, line in enumerate(lines) if line.startswith("id "))
    assert lines[header].split() == [
        "id", "year", "observed", "median", "5-95%", "band", "error", "in", "band",
    ]  # fmt: skip
    rows = [line.split() for line in lines[header + 1 : header + 5]]
    assert [(r[0], r[1]) for r in rows] == [
        ("tech_smes", "2021"), ("hitech_firms", "2022"), ("births", "2022"),
        ("rd_gdp_ratio", "2020"),
    ]  # fmt: skip
    assert rows[0][-2:] == ["0%", "yes"] and rows[1][-2:] == ["-90.0%", "no"]
    assert rows[3][-3:] == ["yes", "(year", "0)"]
    assert lines[header + 5] == ""
    assert lines[header + 6].startswith("Summary: MAPE ")
    assert lines[header + 6].endswith("band coverage 2 of 3 (66.7%)")
    assert "Held out" not in result.stdout.decode()
    assert any(
        line.startswith("Year 0 (2020, the runs' start: not in the summary): MAPE ")
        for line in lines
    )
    assert not any(line.startswith("Left out") for line in lines)


def test_relative_error_and_scores_on_hand_made_rows():
    assert relative_error(110.0, 100.0) == pytest.approx(10.0)
    assert relative_error(-3.0, -2.0) == pytest.approx(-50.0)  # below a negative observation
    assert relative_error(0.0, 0.0) == 0.0 and relative_error(1.0, 0.0) is None

    def row(key, error, inside, observed=1.0):
        return Row(key, 2021, observed, 0, 0, 0, error, inside, False)

    summary = summarise([row("a", 10.0, True), row("a", -30.0, False), row("b", None, False, 0)])
    assert summary.overall.mape_percent == pytest.approx(20.0)  # the undefined error is left out
    assert summary.overall.band_coverage == pytest.approx(1 / 3)
    assert summary.by_id["b"].mape_percent is None and summary.by_id["b"].band_coverage == 0
    assert summarise([]).overall.to_json() == {
        "rows": 0, "mape_percent": None, "band_coverage": None,
    }  # fmt: skip


def test_an_observation_within_a_year_is_compared_on_the_line_between_its_31_decembers(
    runs, tmp_path
):
    def by_seed(indicator, year):
        rows = runs[runs["year"] == year].sort_values("seed")
        return rows[indicator].to_numpy(dtype=float)

    def quantiles(values):
        return [float(q) for q in np.quantile(values, [0.05, 0.5, 0.95])]

    path = tmp_path / "observed.csv"
    path.write_text(
        "id,year,month,value\n"
        "tech_smes,2022,6,250\n"  # a stock at the end of June
        "births,2022,3,90\n"  # a flow: the twelve months to the end of March
        "hitech_firms,2022,,70\n"  # no month: 31 December
        "rd_gdp_ratio,2021,12,0.8\n",
        encoding="utf-8",
    )
    data = validate_json(path)
    rows = {r["id"]: r for r in data["rows"]}
    assert [r["month"] for r in data["rows"]] == [6, 3, 12, 12]
    smes = by_seed("tech_smes", 2021) + 6 / 12 * (
        by_seed("tech_smes", 2022) - by_seed("tech_smes", 2021)
    )
    births = by_seed("births", 2021) + 3 / 12 * (by_seed("births", 2022) - by_seed("births", 2021))
    assert [rows["tech_smes"][k] for k in ("lo", "median", "hi")] == quantiles(smes)
    assert [rows["births"][k] for k in ("lo", "median", "hi")] == quantiles(births)
    assert rows["tech_smes"]["median"] != own(runs, "tech_smes", 2022)[1]
    assert [rows["hitech_firms"][k] for k in ("lo", "median", "hi")] == own(
        runs, "hitech_firms", 2022
    )
    assert rows["rd_gdp_ratio"]["median"] == own(runs, "rd_gdp_ratio", 2021)[1]

    text = innosim("validate", DEFAULT_SCENARIO, path, *ARGS).stdout.decode()
    shown = [line.split()[:2] for line in text.splitlines() if line.startswith(("tech", "birt"))]
    assert shown == [["tech_smes", "2022-06"], ["births", "2022-03"]]


# ------------------------------------------------------------------- bad input: exit 2, one line


def run_main(capsys, *argv):
    """``innosim ARGV`` in this process: (exit status, stdout, stderr)."""
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exit_:  # argparse errors
        status = exit_.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def fails(capsys, path, *extra):
    status, out, err = run_main(capsys, "validate", DEFAULT_SCENARIO, path, *ARGS, *extra)
    assert status == 2, err
    assert out == ""  # nothing written
    assert err.count("\n") == 1 and err.endswith("\n"), err
    return err


GOOD = "id,year,value\ntech_smes,2021,190\n"
BAD_FILES = {
    "not UTF-8": (b"id,year,value\ntech_smes,2021,19\xb0\n", ["not UTF-8"]),
    "empty": (b"", ["empty file", "id,year,value"]),
    "blank": (b"\n  \n", ["empty file"]),
    "header only": (b"id,year,value\n", ["no rows after the header"]),
    "no value column": (
        b"id,year,amount\ntech_smes,2021,190\n",
        ["column 'value' is missing", "has id, year, amount", "needs id, year, value"],
    ),
    "no year column": (b"id,value\ntech_smes,190\n", ["column 'year' is missing"]),
    "text value": (
        b"id,year,value\ntech_smes,2021,190\ntech_smes,2022,many\n",
        ["line 3 value = 'many'", "must be a number"],
    ),
    "empty value": (b"id,year,value\ntech_smes,2021,\n", ["line 2 value = ''", "a number"]),
    "nan value": (b"id,year,value\ntech_smes,2021,nan\n", ["line 2 value = 'nan'", "finite"]),
    "inf value": (b"id,year,value\ntech_smes,2021,-inf\n", ["value = '-inf'", "finite"]),
    "unknown id": (
        b"id,year,value\nhitech_firm,2021,60\n",
        ["line 2 id = 'hitech_firm'", "not an indicator", "did you mean hitech_firms", "tech_smes"],
    ),
    "empty id": (b"id,year,value\n,2021,60\n", ["line 2 id = ''", "needs an indicator id"]),
    "every row before year 0": (
        b"id,year,value\ntech_smes,2019,180\n",
        ["every row is dated before 31 December 2020", "liangping_2021_2025", "nothing is left"],
    ),
    "year beyond --months": (b"id,year,value\ntech_smes,2025,400\n", ["year = 2025", "2022"]),
    "fractional year": (b"id,year,value\ntech_smes,2021.5,180\n", ["year = '2021.5'", "whole"]),
    "duplicate": (
        b"id,year,value,note\ntech_smes,2021,180,a\nhitech_firms,2021,60,\ntech_smes,2021,181,b\n",
        ["line 4", "id = 'tech_smes', year = 2021 repeats line 2", "one value per"],
    ),
    "month out of range": (
        b"id,year,month,value\ntech_smes,2021,13,190\n",
        ["line 2 month = '13'", "a month 1-12", "empty for 31 December"],
    ),
    "month as a name": (b"id,year,month,value\ntech_smes,2021,June,190\n", ["month = 'June'"]),
    "fractional month": (b"id,year,month,value\ntech_smes,2021,6.5,190\n", ["month = '6.5'"]),
    "month before the first 31 December": (
        b"id,year,month,value\ntech_smes,2020,6,190\n",
        ["every row is dated before 31 December 2020", "the baseline year"],
    ),
    "a bad value before year 0 is still an error": (
        b"id,year,value\ntech_smes,2019,many\ntech_smes,2021,190\n",
        ["line 2 value = 'many'", "must be a number"],
    ),
    "month of a flow with no value the year before": (
        b"id,year,month,value\nbirths,2021,6,80\n",
        ["line 2 id = 'births', year = 2021", "no value of births in 2020 or 2021"],
    ),
    "flow in the baseline year": (
        b"id,year,value\nbirths,2020,80\n",
        ["line 2 id = 'births', year = 2020", "no value of births in 2020"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_malformed_observed_file_is_one_line_naming_file_field_and_value(capsys, tmp_path, case):
    content, expected = BAD_FILES[case]
    path = tmp_path / "observed.csv"
    path.write_bytes(content)
    err = fails(capsys, path)
    assert err.startswith(f"innosim: error: {path}: "), err
    for piece in expected:
        assert piece in err, (piece, err)


def test_missing_file_and_bad_flags_are_one_line_with_exit_2(capsys, tmp_path):
    missing = tmp_path / "nowhere.csv"
    assert f"{missing}: file not found" in fails(capsys, missing)
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    for seeds in ("0", "-2", "many", "2.5"):
        err = fails(capsys, good, "--seeds", seeds)
        assert err.startswith("innosim validate: error: argument --seeds:") and repr(seeds) in err
        assert "whole number" in err
    err = fails(capsys, good, "--hold-out", "2030")
    assert "--hold-out 2030: no row of" in err and "its years: 2021" in err
    err = fails(capsys, good, "--hold-out", "hitech_firms")
    assert "--hold-out hitech_firms" in err and "its ids: tech_smes" in err
    err = fails(capsys, good, "--format", "csv")
    assert "argument --format" in err and "'csv'" in err


def test_the_installed_command_exits_2_with_one_line():
    result = innosim(
        "validate", DEFAULT_SCENARIO, ROOT / "scenarios/targets/liangping_baseline_2020.csv",
        check=False,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode().count("\n") == 1
    assert b"column 'year' is missing" in result.stderr


def test_the_shipped_2020_file_is_reproduced_in_year_0(capsys):
    path = ROOT / "scenarios" / "targets" / "liangping_observed_2020.csv"
    status, out, err = run_main(
        capsys, "validate", DEFAULT_SCENARIO, path, *ARGS, "--format", "json"
    )
    assert status == 0, err
    rows = json.loads(out)["rows"]
    assert len(rows) > 10 and all(r["year"] == 2020 for r in rows)
    # every baseline value by construction, but the patent density: 148 patents in 658,000
    # residents are 2.2492 per 10,000, which the plan rounds to 2.25
    missed = [r["id"] for r in rows if not r["in_band"]]
    assert missed == ["invention_patents_per_10k"]
    assert all(abs(r["error_percent"]) < 0.05 for r in rows)


def test_rows_before_year_0_are_left_out_and_listed(tmp_path, capsys):
    # a series that begins before the scenario's start validates as it is: the history the
    # runs start after is left out, named by line, and the rest compared
    path = tmp_path / "series.csv"
    path.write_text(
        "id,year,month,value\n"
        "tech_smes,2018,,150\n"  # before year 0
        "kvl_cumulative_firms,2020,6,5\n"  # mid-year in the baseline year: before it too
        "tech_smes,2020,,205\n"  # year 0
        "tech_smes,2021,,230\n"
    )
    status, out, err = run_main(
        capsys, "validate", DEFAULT_SCENARIO, path, *ARGS, "--format", "json"
    )
    assert status == 0, err
    data = json.loads(out)
    assert [(r["year"], r["month"]) for r in data["left_out"]] == [(2018, 12), (2020, 6)]
    assert [r["line"] for r in data["left_out"]] == [2, 3]
    assert [r["year"] for r in data["rows"]] == [2020, 2021]
    assert data["summary"]["rows"] == 1 and data["baseline"]["rows"] == 1
    status, out, _ = run_main(capsys, "validate", DEFAULT_SCENARIO, path, *ARGS)
    assert status == 0
    assert "Left out: 2 rows dated before 31 December 2020, the runs' year 0 (lines 2, 3)." in out
    # the library's reader keeps refusing them unless asked to leave them out
    years = simulated_years(load_scenario(DEFAULT_SCENARIO), 24)
    with pytest.raises(InputError, match="line 2 year = 2018: not simulated"):
        read_observed(path, years, "liangping_2021_2025")


def test_help_names_the_band_and_the_json_shape(capsys):
    status, out, _ = run_main(capsys, "validate", "--help")
    assert status == 0
    assert "5-95% band" in out and "%%" not in out and "held_out" in out
    assert "--lang {en,zh}" in out and "month" in out


def test_the_table_in_chinese_has_the_same_rows_and_names_each_indicator(liangping, observed):
    observations = read_observed(observed, simulated_years(liangping, 24), liangping.scenario.name)
    result = validate(liangping, observations, str(observed), SEEDS, 24, held_years={2022})
    en_lines = render_validation(result).splitlines()
    zh_lines = render_validation(result, Words("zh", liangping.plan)).splitlines()
    assert zh_lines[0].startswith("liangping_2021_2025 对照 ") and "3 个随机种子" in zh_lines[0]
    header = next(i for i, line in enumerate(zh_lines) if line.startswith("指标"))
    rows = zh_lines[header + 1 : header + 5]
    assert rows[0].endswith("科技型企业") and rows[1].endswith("否(留出)  国家高新技术企业")
    # the numbers are the English table's
    en_header = next(i for i, line in enumerate(en_lines) if line.startswith("id "))
    for zh_row, en_row in zip(rows, en_lines[en_header + 1 : en_header + 5], strict=True):
        assert zh_row.split()[:7] == en_row.split()[:7]
    assert any(line.startswith("汇总: MAPE ") for line in zh_lines)
    assert any(line.startswith("留出样本: MAPE ") and "区间覆盖 1/2" in line for line in zh_lines)
