from sim.docs import MODEL_DOC, render


def test_model_doc_generated_tables_are_current():
    text = MODEL_DOC.read_text()
    assert render(text) == text, "docs/model.md is stale: run `python -m sim.docs`"


def test_every_parameter_has_a_unit_and_a_source():
    from sim.scenario import Scenario
    from sim.schema import parameter_rows

    for row in parameter_rows(Scenario):
        assert row["unit"], row["name"]
        assert row["source"], row["name"]
