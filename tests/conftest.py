from pathlib import Path

import pytest

from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = ROOT / "scenarios" / "liangping_2021_2025.toml"
SMOKE_SCENARIO = ROOT / "scenarios" / "ci_smoke.toml"
REFERENCE_SCENARIO = ROOT / "tests" / "data" / "reference_300.toml"


@pytest.fixture(scope="session")
def liangping():
    return load_scenario(DEFAULT_SCENARIO)


@pytest.fixture(scope="session")
def small():
    return load_scenario(REFERENCE_SCENARIO)
