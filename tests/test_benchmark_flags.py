"""The benchmark commands refuse bad input with one line naming the value, exit status 2."""

from pathlib import Path

import pytest

from benchmarks import interleave


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["/no/such/kernels.py"], "'/no/such/kernels.py': no such file"),
        (["sim/agents/kernels.py", "--firms", "1.5"], "'1.5': must be a whole number of firms"),
        (["sim/agents/kernels.py", "--firms", "x"], "'x': must be a whole number of firms"),
        (["sim/agents/kernels.py", "--calls", "0"], "'0': must be a whole number >= 1"),
        (["sim/agents/kernels.py", "--month", "5000"], "'5000': must be a whole number from 1"),
    ],
)
def test_interleave_refuses_bad_input_before_running_anything(capsys, monkeypatch, args, named):
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    with pytest.raises(SystemExit) as stop:
        interleave.main(args)
    assert stop.value.code == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert message.startswith("python -m benchmarks.interleave: error:") and named in message


def test_interleave_reads_a_firm_count_as_written_in_the_docs():
    assert interleave.firm_count("1e6") == 1_000_000 and interleave.firm_count("1105") == 1105
