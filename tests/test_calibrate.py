"""``innosim calibrate`` (sim/calibrate.py) and experiments drawing from its posterior.

Real runs of the district scenario with small budgets: the fit must find a parameter that
made the observed data, give the same result after Ctrl-C and ``--resume``, and refuse bad
input in one line before any run.
"""

import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import time
import tomllib

import numpy as np
import pytest
from conftest import DEFAULT_SCENARIO, ROOT
from test_cli import INNOSIM, innosim

from sim.cli import main
from sim.effects import run_seeds, stacked
from sim.scenario import load_scenario

KEY = "firms.innovation_zeta"
TRUTH = 1.0  # the declared range is 0.5 to 4.5: the prior's median, 2.5, is far from it
OBSERVED = ("tech_smes", "hitech_firms", "invention_patents_per_10k", "rd_gdp_ratio")
YEARS = (2021, 2022, 2023)
FIT = ("--param", KEY, "--only", "--budget", "160", "--population", "20", "--hold-out", "2023")


@pytest.fixture(scope="module")
def observed(tmp_path_factory):
    """The district's medians over five seeds at zeta = 1, 2021-2023: the synthetic history."""
    scenario = load_scenario(DEFAULT_SCENARIO, {KEY: TRUTH})
    runs = stacked(run_seeds(scenario, range(101, 106), 36))
    lines = ["id,year,value"]
    for indicator in OBSERVED:
        for year in YEARS:
            median = float(np.median(runs.loc[runs["year"] == year, indicator]))
            lines.append(f"{indicator},{year},{median!r}")
    path = tmp_path_factory.mktemp("history") / "observed.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def fit(observed, out, *extra):
    return innosim("calibrate", DEFAULT_SCENARIO, observed, "--out", out, *FIT, *extra)


@pytest.fixture(scope="module")
def fitted(observed, tmp_path_factory):
    """An uninterrupted calibration on two workers: (--out, its document, stdout)."""
    out = tmp_path_factory.mktemp("fit") / "fit.toml"
    result = fit(observed, out, "--workers", "2")
    return out, tomllib.loads(out.read_text()), result.stdout.decode()


def test_calibrate_recovers_the_parameter_that_made_the_data(fitted, observed):
    out, doc, stdout = fitted
    q = doc["parameters"][KEY]
    assert abs(q["median"] - TRUTH) < 0.3, q  # the prior's median is 2.5
    assert q["q05"] <= TRUTH <= q["q95"], q
    assert q["q95"] - q["q05"] < 1.5, q  # the prior's 90% interval is 3.6 wide
    assert doc["values"] == {KEY: q["median"]}
    assert q["range"] == [0.5, 4.5] and q["range_from"] == "declared" and q["default"] == 1.5
    # the fit beats the declared default on the fitted rows and on the held-out year
    check = doc["check"]
    assert check["fitted"]["rows"] == 8 and check["held_out"]["rows"] == 4
    for rows in ("fitted", "held_out"):
        assert check[rows]["mape_percent"] < check["defaults"][rows]["mape_percent"]
    held = [r for r in check["rows"] if r["held_out"]]
    assert {r["year"] for r in held} == {2023} and len(check["rows"]) == 12
    # provenance: what was fitted to what, with which library, how far it went
    p = doc["provenance"]
    assert p["library"] == "pyabc" and p["library_version"] == "0.13.0"
    assert p["files"]["observed"]["sha256"] == _sha256(observed)
    assert p["files"]["scenario"]["sha256"] == _sha256(DEFAULT_SCENARIO)
    assert p["budget"] == 160 and 20 <= p["runs"] <= 160 and p["generations"] >= 3
    assert p["hold_out"] == ["2023"] and p["seeds_per_evaluation"] == 1 and p["months"] == 36
    assert doc["distance"]["fitted_rows"] == 8
    assert doc["distance"]["best"] <= doc["distance"]["mean"] <= doc["distance"]["threshold"]
    weights = doc["posterior"]["weight"]
    assert len(weights) == 20 == len(doc["posterior"][KEY])
    assert sum(weights) == pytest.approx(1.0)
    assert re.search(rf"^{re.escape(KEY)}\s+\S+\s+\[", stdout, re.M), stdout
    assert stdout.rstrip().endswith(f"Wrote {out}.")


def _sha256(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def generations(database) -> int:
    if not database.exists() or database.stat().st_size == 0:
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            return db.execute("select count(*) from populations where t >= 0").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_ctrl_c_then_the_printed_resume_command_gives_the_uninterrupted_fit(
    fitted, observed, tmp_path
):
    history = tmp_path / "observed.csv"
    history.write_bytes(observed.read_bytes())
    out = tmp_path / "fit.toml"
    database = tmp_path / "fit.toml.abc.db"
    command = [INNOSIM, "calibrate", str(DEFAULT_SCENARIO), str(history), "--out", str(out)]
    command += [*FIT, "--workers", "1"]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, as a terminal's job
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while generations(database) < 1:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no generation finished in time"
            time.sleep(0.1)
        time.sleep(1.0)  # into generation 1
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130 and err.count("\n") == 1, err
    assert re.match(
        rf"innosim calibrate: interrupted; \d+ generations? \(\d+ runs\) (is|are) saved in "
        rf"{re.escape(str(database))}; resume with: ",
        err,
    ), err
    resume = shlex.split(err.split("resume with: ")[1])
    assert resume[:6] == ["innosim", "calibrate", str(DEFAULT_SCENARIO), str(history), "--out",
                          str(out)]  # fmt: skip
    assert resume[-1] == "--resume" and not out.exists()
    again = subprocess.run([INNOSIM, *resume[1:]], cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    doc, reference = tomllib.loads(out.read_text()), fitted[1]
    for part in ("values", "parameters", "distance", "check", "posterior"):
        assert doc[part] == reference[part], part
    state = json.loads((tmp_path / "fit.toml.abc.json").read_text())
    assert [s["status"] for s in state["sessions"]] == ["interrupted", "complete"]

    # a resume refuses other settings or inputs, in one line, before any run
    other = innosim(*resume[1:], "--seeds", "2", check=False)
    assert other.returncode == 2 and other.stderr.decode().count("\n") == 1
    assert "was started with other settings (seeds 1 -> 2)" in other.stderr.decode()
    history.write_text(history.read_text() + "births,2022,30\n")
    changed = innosim(*resume[1:], check=False)
    assert changed.returncode == 2, changed.stderr
    assert f"other inputs (observed {history} changed)" in changed.stderr.decode()
    fresh = innosim(*resume[1:-1], check=False)  # without --resume: refused, not overwritten
    assert fresh.returncode == 2 and "pass --resume to continue it" in fresh.stderr.decode()


@pytest.fixture
def calibrate_error(observed, tmp_path, capsys):
    """Run ``innosim calibrate`` in this process with bad input: (exit status, the one line)."""

    def run(*args, scenario=DEFAULT_SCENARIO, history=None):
        argv = ["calibrate", str(scenario), str(history or observed)]
        if "--out" not in args:
            argv += ["--out", str(tmp_path / "fit.toml")]
        try:
            status = main([*argv, *map(str, args)])
        except SystemExit as exit_:
            status = exit_.code
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert not list(tmp_path.glob("fit.toml*")), "a refused calibration leaves no file"
        return status, err.strip()

    return run


@pytest.mark.parametrize(
    "args, message",
    [
        (("--budget", "0"), r"argument --budget: '0': must be a whole number >= 1"),
        (("--param", "firms.x=1"), r"'firms\.x=1': the range must be LO:HI, numbers"),
        (("--param", "firms.relabel_share=0.6:0.3"), r"LO must be below HI"),
        (("--method", "smm"), r"argument --method: invalid choice: 'smm'"),
        (("--out", "fit.csv"), r"--out fit\.csv: must end in \.toml or \.json"),
        (("--out", "/nonexistent/fit.toml"), r"directory /nonexistent does not exist"),
        (("--param", "firms.nope=0:1"), r"firms\.nope is not a scenario parameter"),
        (
            ("--param", "firms.grant_lag_min=10:20"),
            r"is not a number that varies continuously; fix it with --set",
        ),
        (
            ("--param", "firms.relabel_share=0.5:1.5"),
            r"--param firms\.relabel_share=0\.5:1\.5: HI = 1\.5: must be a probability between 0",
        ),
        (
            ("--param", "firms.imitation_rate"),
            r"no calibration range is declared for firms\.imitation_rate; give one",
        ),
        (
            ("--param", KEY, "--set", f"{KEY}=2"),
            r"firms\.innovation_zeta is also fixed by --set; drop one of the two",
        ),
        (("--only",), r"--only: name the parameters to fit with --param"),
        (("--budget", "30", "--population", "20", "--seeds", "2"), r"does not pay for the first"),
        (("--population", "3"), r"--population 3: must be at least 5"),
        (("--hold-out", "2021", "--hold-out", "2022", "--hold-out", "2023"), r"every row .* held"),
        (("--hold-out", "2025"), r"--hold-out 2025: no row of .* has year 2025"),
        (("--resume",), r"--resume: no calibration to resume beside .*fit\.toml"),
        (("--resume", "--force"), r"--resume and --force: choose one"),
        (("--set", "firms.relabel_share=2"), r"firms\.relabel_share = 2: must be a probability"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2_before_any_run(calibrate_error, args, message):
    status, err = calibrate_error(*args)
    assert status == 2 and re.search(message, err), err


@pytest.mark.parametrize(
    "text, message",
    [
        ("id,year,value\nhitech_firms,2020,64\n", r"every row is of 2020, the baseline year"),
        ("id,year,value\nhitech_firms,2022,0\n", r"line 2 .* value = 0: the distance is relative"),
        ("id,year\nhitech_firms,2022\n", r"column 'value' is missing"),
        ("id,year,value\nhitech,2022,80\n", r"line 2 id = 'hitech': not an indicator"),
        ("id,year,value\nhitech_firms,2031,80\n", r"year = 2031: not simulated"),
        ("", r"empty file"),
    ],
)
def test_bad_observed_files_are_one_line_and_exit_2(calibrate_error, tmp_path, text, message):
    history = tmp_path / "history" / "observed.csv"
    history.parent.mkdir()
    history.write_text(text)
    status, err = calibrate_error(history=history)
    assert status == 2 and re.search(message, err), err


def test_on_a_dask_cluster_the_fit_is_the_same(fitted, observed, tmp_path):
    out = tmp_path / "dask.toml"
    fit(observed, out, "--engine", "dask", "--workers", "2")
    doc, reference = tomllib.loads(out.read_text()), fitted[1]
    for part in ("values", "parameters", "distance", "check", "posterior"):
        assert doc[part] == reference[part], part
    assert "--engine dask" in doc["provenance"]["command"]
