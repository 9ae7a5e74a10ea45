"""Calibration files (sim/calibration.py) as scenarios and experiments read them.

A scenario's ``[calibration] file`` applies the fitted values; an experiment's
``[uncertainties] from`` draws whole particles of the posterior sample.
"""

import json
import re
import tomllib

import numpy as np
import pytest
from conftest import DEFAULT_SCENARIO, REFERENCE_SCENARIO
from test_cli import innosim

from sim.batch import build_design, load_experiment, read_results
from sim.batch.batch import run_batch
from sim.batch.report import make_report
from sim.calibration import FORMAT, Posterior, read_calibration, to_toml, write_calibration
from sim.scenario import Scenario, load_scenario
from sim.schema import InputError, declared, fit_ranges

KEY = "firms.innovation_zeta"
FITTED = {"firms.innovation_zeta": 2.25, "certification.registry_awareness_rate": 0.4}


def calibration(path, values=FITTED, **extra):
    """A calibration file as innosim calibrate writes it (the parts scenarios read)."""
    keys = list(values)
    document = {
        "format": FORMAT,
        "scenario": "test",
        "values": values,
        "posterior": {"weight": [0.5, 0.25, 0.25]}
        | {k: [values[k], 0.9 * values[k], 1.1 * values[k]] for k in keys},
    } | extra
    write_calibration(path, document)
    return path


def test_the_declared_calibration_ranges_are_those_of_the_uncertain_behaviour():
    assert fit_ranges(Scenario) == {
        "firms.rd_user_cost_elasticity": (0.2, 2.0),
        "firms.innovation_zeta": (0.5, 4.5),
        "firms.relabel_share": (0.2, 0.7),
        "firms.competition_chi": (0.2, 0.6),
        "certification.tech_sme_status_value": (0.0, 0.05),
        "certification.registry_awareness_rate": (0.03, 0.3),
        "certification.registry_word_of_mouth": (0.2, 0.6),
        "certification.hitech_status_value": (0.02, 0.3),
    }
    assert declared(Scenario, "population.sectors[2].births_per_year")[0] is float
    assert declared(Scenario, "firms") is None and declared(Scenario, "firms.nope") is None


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_written_files_read_back_whole(tmp_path, suffix):
    path = calibration(tmp_path / f"fit{suffix}", provenance={"seconds": 1.5, "ok": True})
    found = read_calibration(path, str(path))
    assert found.values == FITTED
    assert found.posterior.keys == tuple(FITTED)
    assert found.posterior.weights.tolist() == [0.5, 0.25, 0.25]
    assert found.posterior.values[:, 0].tolist() == [2.25, 0.9 * 2.25, 1.1 * 2.25]
    assert found.document["provenance"] == {"seconds": 1.5, "ok": True}


def test_toml_writer_quotes_dotted_keys_and_drops_nulls():
    document = {
        "format": FORMAT,
        "values": {"firms.x": 1.0},
        "a": {"b": {"c": [1, 2.5], "none": None}, "rows": [{"id": "x", "y": None}]},
    }
    assert tomllib.loads(to_toml(document)) == {
        "format": FORMAT,
        "values": {"firms.x": 1.0},
        "a": {"b": {"c": [1, 2.5]}, "rows": [{"id": "x"}]},
    }


def test_posterior_draws_follow_the_weights():
    posterior = Posterior(("k",), np.array([[1.0], [2.0], [3.0]]), np.array([0.5, 0.25, 0.25]))
    u = (np.arange(400) + 0.5) / 400  # evenly spread, as a Latin hypercube column
    draws = posterior.draw(u)
    assert np.bincount(draws).tolist() == [200, 100, 100]
    assert posterior.draw(np.array([0.0, 1.0])).tolist() == [0, 2]


def test_a_scenario_naming_a_calibration_file_runs_with_its_values(tmp_path):
    fit = calibration(tmp_path / "fit.toml")
    scenario = load_scenario(REFERENCE_SCENARIO, {"calibration.file": str(fit)})
    assert scenario.firms.innovation_zeta == 2.25
    assert scenario.certification.registry_awareness_rate == 0.4
    assert scenario.calibration.file == str(fit)
    # --set (and an experiment's levers and uncertainties) still override the fitted values
    again = load_scenario(
        REFERENCE_SCENARIO, {"calibration.file": str(fit), "firms.innovation_zeta": 1.0}
    )
    assert again.firms.innovation_zeta == 1.0 and again.certification.registry_awareness_rate == 0.4

    named = innosim(
        "run", REFERENCE_SCENARIO, "--set", f"calibration.file={json.dumps(str(fit))}",
        "--format", "json",
    ).stdout  # fmt: skip
    by_hand = innosim(
        "run", REFERENCE_SCENARIO, "--set", "firms.innovation_zeta=2.25",
        "--set", "certification.registry_awareness_rate=0.4", "--format", "json",
    ).stdout  # fmt: skip
    plain = innosim("run", REFERENCE_SCENARIO, "--format", "json").stdout
    assert json.loads(named)["indicators"] == json.loads(by_hand)["indicators"]
    assert json.loads(named)["indicators"] != json.loads(plain)["indicators"]


def test_a_calibration_file_relative_to_the_scenario_file_wins_over_its_own_values(tmp_path):
    text = DEFAULT_SCENARIO.read_text().replace(
        'file = "targets/', f'file = "{DEFAULT_SCENARIO.parent}/targets/'
    )
    text = re.sub(r'\[calibration\]\nfile = "[^"]*"\n', "", text)  # the shipped fit: replaced
    scenario_path = tmp_path / "scenario.toml"
    scenario_path.write_text(
        text + '\n[firms]\ninnovation_zeta = 0.9\n\n[calibration]\nfile = "fits/fit.json"\n'
    )
    (tmp_path / "fits").mkdir()
    calibration(tmp_path / "fits" / "fit.json")
    assert load_scenario(scenario_path).firms.innovation_zeta == 2.25


@pytest.mark.parametrize(
    "content, message",
    [
        (None, r"calibration\.file \(.*missing\.toml\): file not found$"),
        ("format = 'other'\n", r'format = "other": not a calibration file written by innosim'),
        (f"format = '{FORMAT}'\n", r"values is missing: must be a table of dotted scenario keys"),
        (
            f"format = '{FORMAT}'\n[values]\n'firms.nope' = 1.0\n",
            r'values\."firms\.nope" = 1\.0: not a scenario parameter$',
        ),
        (
            f"format = '{FORMAT}'\n[values]\n'firms.relabel_share' = 1.5\n",
            r'values\."firms\.relabel_share" = 1\.5: must be a probability between 0 and 1$',
        ),
        (
            f"format = '{FORMAT}'\n[values]\n'firms.relabel_share' = 'high'\n",
            r'values\."firms\.relabel_share" = "high": must be a finite number$',
        ),
        (f"format = '{FORMAT}'\n[values\n", r"invalid TOML"),
    ],
)
def test_a_bad_calibration_file_is_one_line_and_exit_2(tmp_path, content, message):
    path = tmp_path / "missing.toml"
    if content is not None:
        path.write_text(content)
    result = innosim(
        "run", REFERENCE_SCENARIO, "--set", f"calibration.file={json.dumps(str(path))}",
        check=False,
    )  # fmt: skip
    err = result.stderr.decode()
    assert result.returncode == 2 and err.count("\n") == 1, err
    assert err.startswith(f"innosim: error: {REFERENCE_SCENARIO}: calibration.file"), err
    assert re.search(message, err.strip()), err


def test_read_calibration_checks_the_posterior_columns(tmp_path):
    path = tmp_path / "fit.json"
    path.write_text(
        json.dumps(
            {
                "format": FORMAT,
                "values": {"firms.x": 1.0},
                "posterior": {"weight": [1.0, 1.0], "firms.x": [1.0]},
            }
        )  # fmt: skip
    )
    with pytest.raises(InputError, match=r'posterior\."firms\.x": has 1 values, posterior'):
        read_calibration(path, "fit.json")


# ------------------------------------------------------------- experiments drawing from it


def posterior_experiment(tmp_path, fit_name="fit.toml", sampler="latin_hypercube", extra=""):
    path = tmp_path / "experiment.toml"
    path.write_text(
        f"""
[experiment]
name = "from_posterior"
scenario = "{REFERENCE_SCENARIO}"

[sampler]
method = "{sampler}"
samples = 8
seed = 5

[replications]
seeds = 1

[base]
"scenario.horizon_months" = 12

[uncertainties]
from = "{fit_name}"
"region.rest_gdp_growth" = {{ range = [0.02, 0.08] }}
{extra}
"""
    )
    return path


def test_an_experiment_draws_its_uncertainties_from_the_posterior_and_the_report_says_so(
    tmp_path,
):
    calibration(tmp_path / "fit.toml")  # three particles, weights 1/2, 1/4, 1/4
    path = posterior_experiment(tmp_path)
    experiment = load_experiment(path)
    design = build_design(experiment)
    assert build_design(load_experiment(path)).runs.equals(design.runs)  # reproducible
    awareness = "certification.registry_awareness_rate"
    pairs = list(zip(design.runs[KEY], design.runs[awareness], strict=True))
    particles = [(2.25, 0.4), (0.9 * 2.25, 0.9 * 0.4), (1.1 * 2.25, 1.1 * 0.4)]
    assert set(pairs) <= set(particles)  # whole particles: the keys are drawn jointly
    assert sorted(pairs.count(p) for p in particles) == [2, 2, 4]  # stratified by weight
    assert design.runs["region.rest_gdp_growth"].nunique() == 8

    summary = run_batch(path, engine="inline", out=tmp_path / "out")
    assert summary.done == 8 and summary.failed == 0
    data = read_results(tmp_path / "out")
    assert set(zip(data[KEY], data[awareness], strict=True)) == set(pairs)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["inputs"]["uncertainties.from"]["file"] == str(tmp_path / "fit.toml")
    report = make_report(tmp_path / "out", out=tmp_path / "report", effect_seeds=0)
    html = report.html.read_text()
    assert "These probabilities include parameter uncertainty from a calibration" in html
    assert f"{KEY}, certification.registry_awareness_rate take the values" in html


@pytest.mark.parametrize(
    "fit_name, sampler, extra, message",
    [
        (
            "none.toml",
            "latin_hypercube",
            "",
            r"uncertainties\.from \(.*none\.toml\): file not found",
        ),
        (
            "fit.toml",
            "sobol",
            "",
            r'draws particles of a posterior sample: set sampler\.method = "latin_hypercube"',
        ),
        (
            "fit.toml",
            "latin_hypercube",
            '"firms.innovation_zeta" = { range = [1.0, 2.0] }',
            r'uncertainties\."firms\.innovation_zeta" = .*is drawn from fit\.toml',
        ),
    ],
)
def test_bad_posterior_references_are_one_line(tmp_path, fit_name, sampler, extra, message):
    calibration(tmp_path / "fit.toml")
    with pytest.raises(InputError, match=message):
        load_experiment(posterior_experiment(tmp_path, fit_name, sampler, extra))
