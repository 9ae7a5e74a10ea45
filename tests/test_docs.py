from sim.docs import LEVERS_DOC, MODEL_DOC, levers_document, render


def test_model_doc_generated_tables_are_current():
    text = MODEL_DOC.read_text()
    assert render(text) == text, "docs/model.md is stale: run `python -m sim.docs`"


def test_every_parameter_has_a_unit_and_a_source():
    from sim.scenario import Scenario
    from sim.schema import parameter_rows

    for row in parameter_rows(Scenario):
        assert row["unit"], row["name"]
        assert row["source"], row["name"]


def test_levers_doc_is_current():
    assert LEVERS_DOC.read_text() == levers_document(), "run `python -m sim.docs`"


def test_every_lever_module_documents_its_mechanism():
    from sim.agents.government import SPENDING_GROUPS

    text = levers_document()
    for lever in SPENDING_GROUPS:
        assert f"`policy.{lever}." in text, lever
