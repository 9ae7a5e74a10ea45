"""Hypothesis fuzz of what users feed innosim: scenario files, experiment files, plan CSVs and
command-line flags. Each input either loads or is refused with one line (``InputError``, exit
status 2): never another exception, a traceback or a hang. Derandomized and bounded for CI.
"""

import math
import tomllib

import pytest
from conftest import SMOKE_SCENARIO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.batch.experiment import load_experiment
from sim.cli import main
from sim.scenario import load_scenario
from sim.schema import InputError
from sim.targets import read_plan_targets

FUZZ = settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SCENARIO = tomllib.loads(SMOKE_SCENARIO.read_text())
TARGETS = (SMOKE_SCENARIO.parent / SCENARIO["targets"]["file"]).read_text()

hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 0.0, -0.0, 1e-320]),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def toml(data) -> str:
    """A TOML rendering of plain data (tables, arrays of tables, scalars, nan and inf)."""

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return "nan" if v != v else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
        if isinstance(v, str):
            return '"' + v.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + "}"
        return str(v)

    def key(k):
        return '"' + k.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'

    lines = []
    for name, table in data.items():
        if isinstance(table, dict):
            lines.append(f"[{key(name)}]")
            lines += [f"{key(k)} = {value(v)}" for k, v in table.items() if v is not None]
        elif isinstance(table, list) and table and all(isinstance(t, dict) for t in table):
            for t in table:
                lines.append(f"[[{key(name)}]]")
                lines += [f"{key(k)} = {value(v)}" for k, v in t.items() if v is not None]
        elif table is not None:
            lines.insert(0, f"{key(name)} = {value(table)}")
    return "\n".join(lines) + "\n"


@st.composite
def mutated(draw, document: dict):
    """``document`` with one to three keys changed, removed or added, at any depth."""
    data = tomllib.loads(toml(document))
    for _ in range(draw(st.integers(1, 3))):
        node = data
        while True:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            k = draw(st.sampled_from(keys))
            child = node[k]
            if isinstance(child, (dict, list)) and child and draw(st.booleans()):
                node = child
                continue
            action = draw(st.sampled_from(["replace", "remove", "add"]))
            if action == "replace" or isinstance(node, list):
                node[k] = draw(hostile)
            elif action == "remove":
                del node[k]
            else:
                node[draw(st.text(min_size=1, max_size=8))] = draw(hostile)
            break
    return data


raw_bytes = st.one_of(
    st.just(b""),
    st.binary(max_size=200),
    st.just(b"\xff\xfe not utf-8 \x80"),
    st.just(SMOKE_SCENARIO.read_bytes()[:300]),  # cut short
)


def loads_or_one_line(load, path):
    try:
        load(path)
    except InputError as err:
        assert "\n" not in str(err) and str(err), repr(err)


@FUZZ
@given(data=st.one_of(mutated(SCENARIO), raw_bytes))
def test_scenario_files_load_or_give_one_line(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("scenario")
    (folder / "targets").mkdir()
    (folder / SCENARIO["targets"]["file"]).write_text(TARGETS)
    path = folder / "s.toml"
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        try:
            path.write_text(toml(data))
        except UnicodeEncodeError:  # a lone surrogate cannot be a file's text
            return
    loads_or_one_line(load_scenario, path)


EXPERIMENT = {
    "experiment": {"name": "fuzz", "scenario": str(SMOKE_SCENARIO)},
    "sampler": {"method": "latin_hypercube", "samples": 2, "seed": 1},
    "replications": {"seeds": 2},
    "outputs": {"indicators": ["hitech_firms"], "years": [2021]},
    "base": {"scenario.horizon_months": 12},
    "levers": {"policy.hitech_tax_rate": [0.1, 0.15]},
    "uncertainties": {"firms.innovation_zeta": {"range": [0.3, 0.9]}},
}


@FUZZ
@given(data=st.one_of(mutated(EXPERIMENT), raw_bytes))
def test_experiment_files_load_or_give_one_line(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("experiment") / "e.toml"
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        try:
            path.write_text(toml(data))
        except UnicodeEncodeError:
            return
    loads_or_one_line(load_experiment, path)


csv_cell = st.one_of(
    st.sampled_from(["", "nan", "inf", "-inf", "1e400", "-5", "abc", '"', "1,2", "\x00"]),
    st.text(max_size=6),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@FUZZ
@given(
    edits=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 8), csv_cell), max_size=4),
    drop_lines=st.lists(st.integers(0, 30), max_size=2),
    raw=st.one_of(st.none(), raw_bytes),
)
def test_plan_csvs_load_or_give_one_line(tmp_path_factory, edits, drop_lines, raw):
    rows = [line.split(",") for line in TARGETS.splitlines()]
    for row, column, cell in edits:
        if row < len(rows) and column < len(rows[row]):
            rows[row][column] = cell
    rows = [r for i, r in enumerate(rows) if i not in drop_lines]
    path = tmp_path_factory.mktemp("csv") / "plan.csv"
    if raw is not None:
        path.write_bytes(raw)
    else:
        try:
            path.write_text("\n".join(",".join(r) for r in rows) + "\n")
        except UnicodeEncodeError:
            return
    loads_or_one_line(lambda p: read_plan_targets(p, 2020, 2025, "scenario.toml"), path)


flag_value = st.one_of(
    st.sampled_from(["0", "-1", "1", "2", "abc", "", "1e3", "99999999999999999999999", "nan"]),
    st.text(max_size=8).filter(lambda s: "\x00" not in s),
)
run_flags = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["--seed", "--months", "--format", "--agents"]), flag_value),
        st.tuples(st.sampled_from(["--bogus", "-x", "--seed=", "--months=-3"])),
    ),
    max_size=3,
)


@FUZZ
@given(flags=run_flags)
def test_cli_flags_run_or_exit_2_with_one_line(capsys, flags):
    args = ["run", str(SMOKE_SCENARIO), "--months", "1", "--format", "csv"]
    for flag in flags:
        args += list(flag)
    capsys.readouterr()
    try:
        status = main(args)
    except SystemExit as exit:  # argparse
        status = exit.code
    err = capsys.readouterr().err
    assert status in (0, 2), (args, err)
    if status == 2:
        assert err.count("\n") == 1 and "Traceback" not in err, (args, err)


@pytest.mark.parametrize(
    "flags",
    [
        ["--workers", "0"],
        ["--workers", "x"],
        ["--engine", "spark"],
        ["--resume", "--force"],
        ["--agents", "half"],
        ["--scheduler", "tcp://127.0.0.1:1"],
    ],
)
def test_bad_batch_flags_exit_2_with_one_line(tmp_path, capsys, flags):
    path = tmp_path / "e.toml"
    path.write_text(toml(EXPERIMENT))
    try:
        status = main(["batch", str(path), "--out", str(tmp_path / "out"), *flags])
    except SystemExit as exit:
        status = exit.code
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()
