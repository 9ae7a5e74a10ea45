"""CI smoke run: a 12-month, ~650-firm scenario whose checksum is committed.

A change in results must be deliberate: `make checksum` regenerates the checksum, and the
commit says why.
"""

from sim.smoke import CHECKSUM, smoke_checksum


def test_smoke_scenario_result_matches_committed_checksum():
    assert smoke_checksum() == CHECKSUM.read_text().strip(), (
        "results changed; if deliberate, run `make checksum` and say why in the commit"
    )
