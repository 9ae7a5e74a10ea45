"""The EMA Workbench adapter (sim.ema) driven by EMA Workbench itself."""

import json
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import ROOT, SMOKE_SCENARIO

from sim.schema import InputError

pytest.importorskip("ema_workbench")

from sim.ema import ERROR, ScenarioFunction, innosim_model, to_design  # noqa: E402

OUTCOMES = ["hitech_firms", "tech_smes", "rd_gdp_ratio"]

# One EMA design on a pool of two fresh interpreters: a valid point, a point the scenario
# rejects (elasticity 5 > 3), and a whole-number float for a whole-number parameter.
SCRIPT = textwrap.dedent(
    """
    import json, multiprocessing, sys, warnings
    import numpy as np
    warnings.filterwarnings("ignore", "ipyparallel not installed")
    from ema_workbench import MultiprocessingEvaluator, Sample, perform_experiments
    from sim.ema import innosim_model

    def main():
        multiprocessing.set_start_method(sys.argv[1])
        model = innosim_model(
            sys.argv[2],
            levers={"policy.vouchers.budget": (0, 10)},
            uncertainties={
                "firms.rd_user_cost_elasticity": (0.2, 1.5),
                "certification.hitech_validity_years": None,
            },
            outcomes=["hitech_firms", "tech_smes", "rd_gdp_ratio"],
            year=2021,
            series=["hitech_firms"],
            seeds=7,
        )
        scenarios = [
            Sample(firms_rd_user_cost_elasticity=0.8, certification_hitech_validity_years=4),
            Sample(firms_rd_user_cost_elasticity=5.0, certification_hitech_validity_years=3),
            Sample(
                firms_rd_user_cost_elasticity=1.2,
                certification_hitech_validity_years=np.float64(2.0),
            ),
        ]
        policies = [Sample(policy_vouchers_budget=5.0)]
        with MultiprocessingEvaluator(model, n_processes=2) as evaluator:
            experiments, outcomes = perform_experiments(
                model, scenarios, policies, evaluator=evaluator
            )
        rows = experiments.sort_values("scenario").index
        print(json.dumps({k: np.asarray(v)[rows].tolist() for k, v in outcomes.items()}))

    if __name__ == "__main__":
        main()
    """
)


@pytest.mark.parametrize("start_method", ["forkserver"])
def test_multiprocessing_evaluator_finishes_a_design_with_an_invalid_point(tmp_path, start_method):
    script = tmp_path / "drive_ema.py"
    script.write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), start_method, str(SMOKE_SCENARIO)],
        capture_output=True,
        text=True,
        timeout=300,  # a hung pool fails the test instead of hanging the suite
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out[ERROR] == [0.0, 1.0, 0.0]
    for name in OUTCOMES:
        assert np.isnan(out[name][1])
        assert not np.isnan(out[name][0]) and not np.isnan(out[name][2])
    assert np.isnan(out["hitech_firms_by_year"][1]).all()
    assert "firms.rd_user_cost_elasticity = 5.0: must be between 0 and 3" in done.stderr

    cli = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "innosim")
            if (ROOT / ".venv" / "bin" / "innosim").exists()
            else "innosim",
            "run",
            str(SMOKE_SCENARIO),
            "--set",
            "policy.vouchers.budget=5.0",
            "--set",
            "firms.rd_user_cost_elasticity=0.8",
            "--set",
            "certification.hitech_validity_years=4",
            "--seed",
            "7",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    years = {row["year"]: row for row in json.loads(cli.stdout)["indicators"]}
    for name in OUTCOMES:
        assert out[name][0] == years[2021][name]
    assert out["hitech_firms_by_year"][0] == [
        years[2020]["hitech_firms"],
        years[2021]["hitech_firms"],
    ]


def test_parameters_take_bounds_and_types_from_the_declarations():
    model = innosim_model(
        SMOKE_SCENARIO,
        levers={"policy.vouchers.budget": (0, 10), "population.sectors[0].industrial": None},
        uncertainties=["firms.rd_user_cost_elasticity", "certification.hitech_validity_years"],
        outcomes=["hitech_firms"],
        year=2021,
    )
    kinds = {p.name: (type(p).__name__, p.variable_name) for p in model.levers}
    kinds |= {p.name: (type(p).__name__, p.variable_name) for p in model.uncertainties}
    assert kinds == {
        "policy_vouchers_budget": ("RealParameter", ["policy.vouchers.budget"]),
        "population_sectors_0_industrial": (
            "BooleanParameter",
            ["population.sectors[0].industrial"],
        ),
        "firms_rd_user_cost_elasticity": ("RealParameter", ["firms.rd_user_cost_elasticity"]),
        "certification_hitech_validity_years": (
            "IntegerParameter",
            ["certification.hitech_validity_years"],
        ),
    }
    elasticity = model.uncertainties["firms_rd_user_cost_elasticity"]
    assert (elasticity.lower_bound, elasticity.upper_bound) == (0, 3)  # declared lo, hi
    years = model.uncertainties["certification_hitech_validity_years"]
    assert (years.lower_bound, years.upper_bound) == (1, 10)
    assert [o.name for o in model.outcomes] == ["hitech_firms", ERROR]
    clone = pickle.loads(pickle.dumps(model))  # what spawn and forkserver do to the model
    assert clone.function == model.function


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"year": 2025}, "year = 2025: ci_smoke.toml simulates 2020 to 2021"),
        (
            {"levers": ["policy.vouchers.budget"]},
            'levers["policy.vouchers.budget"]: declared allowed range is >= 0; give',
        ),
        (
            {"levers": {"policy.vouchrs.budget": (0, 1)}},
            'levers["policy.vouchrs.budget"]: not a scenario parameter; allowed keys here:',
        ),
        (
            {"uncertainties": {"firms.rd_user_cost_elasticity": (0.2, 4.0)}},
            "firms.rd_user_cost_elasticity = 4.0: must be between 0 and 3",
        ),
        ({"outcomes": ["hitech_firm"]}, 'outcomes = "hitech_firm": unknown indicator'),
        ({"seeds": [1, 1]}, "seeds = [1, 1]: must be distinct"),
    ],
)
def test_bad_arguments_are_one_line_errors(kwargs, message):
    with pytest.raises(InputError) as err:
        innosim_model(SMOKE_SCENARIO, **({"year": 2021} | kwargs))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_replications_average_over_seeds_and_count_failures():
    from ema_workbench import Sample, SequentialEvaluator, perform_experiments

    model = innosim_model(
        SMOKE_SCENARIO,
        uncertainties={"firms.grant_lag_min": (10, 22)},
        outcomes=["hitech_firms"],
        year=2021,
        seeds=[7, 8],
    )
    single = {s: model.function(**{"firms.grant_lag_min": 16}, seed=s) for s in (7, 8)}
    with SequentialEvaluator(model) as evaluator:
        # grant_lag_min 23 > grant_lag_max 22: valid alone, rejected together
        _, out = perform_experiments(
            model,
            [Sample(firms_grant_lag_min=16), Sample(firms_grant_lag_min=23)],
            evaluator=evaluator,
        )
    assert out["hitech_firms"][0] == np.mean([single[7]["hitech_firms"], single[8]["hitech_firms"]])
    assert np.isnan(out["hitech_firms"][1])
    assert out[ERROR].tolist() == [0.0, 1.0]


def test_a_sampled_float_for_a_whole_number_parameter_is_rounded_by_the_shared_rule():
    function = innosim_model(SMOKE_SCENARIO, outcomes=["hitech_firms"], year=2021, seeds=3).function
    assert isinstance(function, ScenarioFunction)
    a = function(**{"certification.hitech_validity_years": np.float64(2.5)})  # -> 2 (even)
    b = function(**{"certification.hitech_validity_years": 2})
    assert a == b and a[ERROR] == 0.0


def test_to_design_names_columns_by_dotted_key():
    import pandas as pd

    model = innosim_model(
        SMOKE_SCENARIO,
        levers={"policy.vouchers.budget": (0, 10)},
        uncertainties=["firms.rd_user_cost_elasticity"],
        year=2021,
    )
    experiments = pd.DataFrame(
        {
            "firms_rd_user_cost_elasticity": [0.5, 0.7],
            "policy_vouchers_budget": [1.0, 2.0],
            "scenario": pd.Categorical([0, 1]),
            "policy": pd.Categorical(["a", "a"]),
            "model": pd.Categorical(["ci_smoke"] * 2),
        }
    )
    design = to_design(experiments, model)
    assert list(design.columns) == [
        "sample_id",
        "firms.rd_user_cost_elasticity",
        "policy.vouchers.budget",
    ]
    assert design["sample_id"].tolist() == [0, 1]


def test_a_run_uses_one_numba_thread_and_gives_the_callers_setting_back(monkeypatch):
    import numba

    import sim.batch.worker

    seen = []
    real = sim.batch.worker.execute

    def spy(task):
        seen.append(numba.get_num_threads())
        return real(task)

    monkeypatch.setattr(sim.batch.worker, "execute", spy)
    before = numba.get_num_threads()
    function = innosim_model(SMOKE_SCENARIO, outcomes=["hitech_firms"], year=2021).function
    assert function()[ERROR] == 0.0
    assert seen == [1] and numba.get_num_threads() == before
