"""Inputs apart from outcomes: counts a lever schedule sets are inputs, the rest outcomes."""

import json

from conftest import DEFAULT_SCENARIO
from test_cli import innosim

from sim.indicators import INDICATORS, INPUT_INDICATORS, indicator_kind


def test_every_input_is_an_indicator_and_every_other_indicator_an_outcome():
    assert INPUT_INDICATORS <= set(INDICATORS)
    assert indicator_kind("hitech_firms") == "outcome"
    assert indicator_kind("service_institutions") == "input"


def test_json_scorecard_gives_each_entry_a_kind_and_the_table_counts_outcomes_only():
    args = ("run", DEFAULT_SCENARIO, "--months", "12")
    card = json.loads(innosim(*args, "--format", "json").stdout)["scorecard"]
    kinds = {entry["id"]: entry["kind"] for entry in card}
    assert kinds["hitech_firms"] == "outcome" and kinds["high_end_talent"] == "input"
    assert set(kinds.values()) == {"outcome", "input"}
    assert {i for i, k in kinds.items() if k == "input"} == INPUT_INDICATORS & set(kinds)
    text = innosim(*args).stdout.decode()
    outcomes = [e for e in card if e["kind"] == "outcome"]
    met = sum(e["met"] for e in outcomes)
    assert f"{met} of {len(outcomes)} outcome targets met" in text
    assert text.index("Outcomes:") < text.index("Inputs (set by a lever schedule):")
