"""Reliability of batches (docs/reliability.md): resume never mixes inputs, no run is lost, and
every failure of the disk, the input or a worker is one line that says what to do.

Each failure is shown twice: the one-line message, then that a later resume (after fixing the
cause) gives exactly the dataset of an uninterrupted batch. Kills are real (SIGKILL, SIGINT);
the precise kill points use a small driver that wraps ``os.fsync`` in the batch process and
kills that process when it flushes a chosen file, i.e. in the middle of that file's write.
"""

import contextlib
import errno
import json
import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SMOKE_SCENARIO

from sim.batch import read_results
from sim.batch.batch import run_batch
from sim.batch.engines import InlineEngine
from sim.batch.store import ResultStore, StoreError
from sim.cli import main
from sim.scenario import load_scenario
from sim.schema import InputError

INNOSIM = str(Path(sys.executable).parent / "innosim")
SWEEP = '[levers]\n"policy.hitech_tax_rate" = [0.10, 0.15]\n'

# Runs `innosim ARGS...` and SIGKILLs itself when it fsyncs the NTH file whose name matches
# PATTERN: after the file's bytes are written, before it is renamed into place.
KILL_DURING_WRITE = """
import os, re, signal, sys
pattern, nth, args = re.compile(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
real_fsync, seen = os.fsync, [0]
def fsync(fd):
    if pattern.search(os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))):
        seen[0] += 1
        if seen[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)
    real_fsync(fd)
os.fsync = fsync
from sim.cli import main
sys.exit(main(args))
"""


def experiment(tmp_path, seeds=2, scenario=SMOKE_SCENARIO, extra="", name="exp.toml"):
    """2 tax rates x ``seeds`` seeds of the 12-month CI smoke scenario."""
    path = tmp_path / name
    path.write_text(
        f'[experiment]\nname = "tiny"\nscenario = "{scenario}"\n\n'
        f"[replications]\nseeds = {seeds}\n\n{SWEEP}{extra}"
    )
    return path


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The uninterrupted datasets, by seed count, made inline in this process."""
    made = {}

    def dataset(seeds: int, scenario=SMOKE_SCENARIO) -> pd.DataFrame:
        if (seeds, scenario) not in made:
            where = tmp_path_factory.mktemp(f"clean{seeds}")
            run_batch(experiment(where, seeds, scenario), engine="inline", out=where / "out")
            made[seeds, scenario] = read_results(where / "out")
        return made[seeds, scenario]

    return dataset


def cli(capsys, *args) -> tuple[int, str]:
    """``innosim ARGS`` in this process: exit status and stderr."""
    capsys.readouterr()
    status = main([str(a) for a in args])
    return status, capsys.readouterr().err


def one_line(err: str) -> bool:
    return err.count("\n") == 1 and "Traceback" not in err


def resume_inline(path, out):
    return run_batch(path, engine="inline", out=out, resume=True)


def same_dataset(out, expected):
    pd.testing.assert_frame_equal(read_results(out), expected, check_exact=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert all(r["status"] == "ok" and r["sha256"] for r in manifest["runs"])
    assert not [p for p in out.rglob(".*")]  # no temporary or lock file left


@pytest.fixture
def inline_engine(monkeypatch):
    """The CLI's batch runs inline in this process (so a test can patch what it does)."""
    monkeypatch.setattr("sim.batch.batch.make_engine", lambda *a: InlineEngine())


# ------------------------------------------------------------------ resume cannot mix inputs


def copied_scenario(tmp_path) -> Path:
    """The smoke scenario and its plan table in ``tmp_path``, so a test may change them."""
    (tmp_path / "targets").mkdir()
    shutil.copy(SMOKE_SCENARIO, tmp_path / "smoke.toml")
    name = load_scenario(SMOKE_SCENARIO).targets.file
    shutil.copy(SMOKE_SCENARIO.parent / name, tmp_path / name)
    return tmp_path / "smoke.toml"


def test_resume_refuses_a_changed_data_file_and_resumes_once_it_is_restored(
    tmp_path, capsys, clean
):
    scenario = copied_scenario(tmp_path)
    targets = tmp_path / load_scenario(scenario).targets.file
    path, out = experiment(tmp_path, scenario=scenario), tmp_path / "out"
    run_batch(path, engine="inline", out=out)
    for run_id in (1, 3):  # as if killed before these finished
        ResultStore(out).run_path(run_id).unlink()
    original = targets.read_bytes()
    targets.write_bytes(original.replace(b"130", b"140"))
    status, err = cli(capsys, "batch", path, "--out", out, "--resume")
    assert status == 2 and one_line(err), err
    assert f"targets.file {targets} changed" in err and "would mix two models" in err
    assert sorted(ResultStore(out).finished()) == [0, 2]  # nothing touched
    targets.write_bytes(original)
    assert resume_inline(path, out).done == 2
    same_dataset(out, clean(2))


def test_resume_refuses_another_model_version(tmp_path, capsys, monkeypatch):
    path, out = experiment(tmp_path), tmp_path / "out"
    run_batch(path, engine="inline", out=out)
    other = {"code_sha256": "0" * 64, "numpy": "1.0"}
    monkeypatch.setattr("sim.batch.batch.model_version", lambda: other)
    status, err = cli(capsys, "batch", path, "--out", out, "--resume")
    assert status == 2 and one_line(err)
    assert "model code changed" in err and "numpy" in err


def test_damaged_run_files_are_named_by_report_and_made_again_by_resume(tmp_path, capsys, clean):
    path, out = experiment(tmp_path), tmp_path / "out"
    run_batch(path, engine="inline", out=out)
    store = ResultStore(out)
    store.run_path(0).write_bytes(b"not parquet")
    data = bytearray(store.run_path(1).read_bytes())
    data[len(data) // 3] ^= 0xFF  # one flipped bit pattern inside a data page
    store.run_path(1).write_bytes(bytes(data))
    # run 2 finished after the manifest's last update (no checksum recorded) and was cut short
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["runs"][2] = {"run_id": 2, "status": "pending"}
    (out / "manifest.json").write_text(json.dumps(manifest))
    store.run_path(2).write_bytes(store.run_path(2).read_bytes()[:500])

    status, err = cli(capsys, "report", out)
    assert status == 2 and one_line(err)
    assert f"{store.run_path(0)}: damaged run file" in err and "--resume" in err
    with pytest.raises(StoreError, match="run-000000.parquet: damaged"):
        read_results(out)

    summary = resume_inline(path, out)
    assert (summary.skipped, summary.done) == (1, 3)
    assert sorted(p.name.split(".")[0] for p in summary.damaged) == [
        "run-000000",
        "run-000001",
        "run-000002",
    ]
    assert all(p.parent == out / "damaged" for p in summary.damaged)
    same_dataset(out, clean(2))


def test_a_second_batch_on_the_same_directory_refuses_at_once(tmp_path, capsys):
    path, out = experiment(tmp_path), tmp_path / "out"
    run_batch(path, engine="inline", out=out)
    with ResultStore(out).lock():  # held as a running batch holds it
        started = time.monotonic()
        status, err = cli(capsys, "batch", path, "--out", out, "--resume")
        assert time.monotonic() - started < 10
    assert status == 2 and one_line(err)
    assert f"{out}: another innosim batch is writing here (pid {os.getpid()}" in err
    assert resume_inline(path, out).skipped == 4  # released: the next one goes ahead


def test_force_starts_over_but_never_deletes_files_a_batch_did_not_write(
    tmp_path, capsys, clean, inline_engine
):
    path, out = experiment(tmp_path), tmp_path / "out"
    run_batch(path, engine="inline", out=out)
    ResultStore(out).run_path(0).write_bytes(b"stale")
    status, err = cli(capsys, "batch", path, "--out", out)
    assert status == 2 and "--force to start over" in err
    assert cli(capsys, "batch", path, "--out", out, "--force")[0] == 0
    same_dataset(out, clean(2))
    (out / "notes.txt").write_text("mine")
    status, err = cli(capsys, "batch", path, "--out", out, "--force")
    assert status == 2 and one_line(err) and "holds files a batch did not write (notes.txt)" in err
    assert (out / "notes.txt").read_text() == "mine" and (out / "manifest.json").exists()


# -------------------------------------------------------------- disk and path failures


@pytest.mark.parametrize(
    "where, expected",
    [
        ("file/out", "is a file, not a directory; choose another --out"),
        ("/proc/innosim-results", "/proc is a special system filesystem"),
        ("full-disk/out", "MB is free on that disk; free some space or choose another --out"),
    ],
)
def test_output_problems_are_one_line_before_any_run(
    tmp_path, capsys, monkeypatch, where, expected
):
    path = experiment(tmp_path)
    (tmp_path / "file").write_text("a regular file")
    (tmp_path / "full-disk").mkdir()
    real_usage = shutil.disk_usage

    def usage(p):
        full = str(p).startswith(str(tmp_path / "full-disk"))
        return real_usage(p)._replace(free=10_000) if full else real_usage(p)

    monkeypatch.setattr("sim.batch.store.shutil.disk_usage", usage)
    out = Path(where) if where.startswith("/") else tmp_path / where
    status, err = cli(capsys, "batch", path, "--out", out)
    assert status == 2 and one_line(err), err
    assert err.startswith(f"innosim: error: --out {out}: ") and expected in err
    assert not out.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_output_directory_is_one_line(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    status, err = cli(capsys, "batch", experiment(tmp_path), "--out", locked / "out")
    assert status == 2 and one_line(err) and "is not writable (permission denied)" in err


def limited_files(limit: int):
    """A file size limit for a child process: writes beyond ``limit`` bytes fail (EFBIG)."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_write_that_fails_at_start_leaves_nothing_half_made(tmp_path, clean):
    # design.parquet (~4 kB) does not fit under the limit; the experiment copy does.
    path, out = experiment(tmp_path), tmp_path / "out"
    result = subprocess.run(
        [INNOSIM, "batch", path, "--out", out, "--workers", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        preexec_fn=limited_files(2000),
    )
    assert result.returncode == 2 and one_line(result.stderr), result.stderr
    assert re.search(r"design\.parquet.*: cannot write: file too large", result.stderr)
    assert not out.exists()
    run_batch(path, engine="inline", out=out)  # a plain new start works: no --force needed
    same_dataset(out, clean(2))


def test_a_full_disk_mid_batch_stops_with_the_resume_command(
    tmp_path, capsys, monkeypatch, clean, inline_engine
):
    path, out = experiment(tmp_path), tmp_path / "out"
    real_write = ResultStore.write_run
    writes = []

    def write_run(self, run_id, frame, meta):
        writes.append(run_id)
        if len(writes) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, run_id, frame, meta)

    monkeypatch.setattr(ResultStore, "write_run", write_run)
    status, err = cli(capsys, "batch", path, "--out", out)
    assert status == 1 and one_line(err), err
    run_file = ResultStore(out).run_path(2)
    assert err.startswith(f"innosim: error: {run_file}: cannot write: no space left on the disk")
    assert "2 of 4 runs are saved: fix that, then resume with: innosim batch" in err
    command = err.split("resume with: ")[1].strip()
    assert shlex.split(command)[-3:] == ["--out", str(out), "--resume"]
    monkeypatch.setattr(ResultStore, "write_run", real_write)
    assert resume_inline(path, out).skipped == 2
    same_dataset(out, clean(2))


@pytest.mark.parametrize(
    "damage, expected",
    [
        ("manifest.json", "manifest.json: unreadable manifest"),
        ("manifest-list", "manifest.json: not a batch manifest (a JSON list, not an object)"),
        ("manifest-runs", "manifest.json: not a batch manifest (runs does not list runs_total"),
        ("design.parquet", "design.parquet: damaged"),
    ],
)
def test_corrupt_manifest_or_design_is_one_line_in_report_and_resume(
    tmp_path, capsys, damage, expected
):
    path, out = experiment(tmp_path), tmp_path / "out"
    run_batch(path, engine="inline", out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    if damage == "manifest-list":
        (out / "manifest.json").write_text("[1, 2]")
    elif damage == "manifest-runs":
        manifest["runs"] = manifest["runs"][:2]
        (out / "manifest.json").write_text(json.dumps(manifest))
    else:
        (out / damage).write_bytes(b"\x00\xff garbage")
    for command in (["report", out], ["batch", path, "--out", out, "--resume"]):
        status, err = cli(capsys, *command)
        assert status == 2 and one_line(err), err
        assert expected in err and str(out) in err
        assert "--force" in err or command[0] == "report" and "--force" in err
    run_batch(path, engine="inline", out=out, force=True)  # the way out the message gives
    assert read_results(out)["run_id"].nunique() == 4


# ------------------------------------------------------------------ kills and interruptions


def as_a_terminal_job() -> None:
    """In the child: Ctrl-C as a shell leaves it, whatever the test process inherited.

    A child inherits ignored and blocked signals; a test run (threads of earlier tests, the
    runner's own handling) must not decide whether the batch sees Ctrl-C.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def start_batch(path, out, *flags, env=None):
    return subprocess.Popen(
        [INNOSIM, "batch", str(path), "--out", str(out), *flags],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job
        preexec_fn=as_a_terminal_job,
        env={**os.environ, **(env or {})},
    )


def wait_for_runs(process, out, count, timeout=180):
    deadline = time.monotonic() + timeout
    while len(ResultStore(out).finished()) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no run finished in time"
        time.sleep(0.02)


# Batches interrupted mid-way: 60 runs of the district's five years (~0.15-0.25 s each here,
# against ~0.06 s for the 12-month smoke scenario), so an interruption after the second run
# finds runs still to do even when the test process waits seconds for its turn on the CPU.
INTERRUPTED_SEEDS = 30
INTERRUPTED_SCENARIO = ROOT / "scenarios" / "liangping_2021_2025.toml"


def press_ctrl_c(process, timeout: float = 120) -> str:
    """Ctrl-C, once, to the batch's process group; its stderr once it has stopped.

    One press must stop it: the timeout only turns a batch that goes on into a clear failure.
    """
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
    try:
        return process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        pytest.fail(f"one Ctrl-C did not stop the batch within {timeout:.0f} s")


def test_ctrl_c_prints_the_exact_resume_command_and_it_completes_the_dataset(tmp_path, clean):
    path, out = experiment(tmp_path, INTERRUPTED_SEEDS, INTERRUPTED_SCENARIO), tmp_path / "out"
    process = start_batch(path, out, "--workers", "1")
    try:
        wait_for_runs(process, out, 2)
        err = press_ctrl_c(process)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130 and one_line(err), err
    assert re.match(r"innosim batch: interrupted; \d+ of 60 runs are saved in ", err)
    command = shlex.split(err.split("resume with: ")[1])
    assert command == ["innosim", "batch", str(path), "--out", str(out), "--workers", "1",
                       "--resume"]  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    again = subprocess.run([INNOSIM, *command[1:]], cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    same_dataset(out, clean(INTERRUPTED_SEEDS, INTERRUPTED_SCENARIO))


# Runs `innosim ARGS` and presses Ctrl-C (SIGINT to itself) from inside a finalizer when it
# fsyncs the NTH file whose name matches PATTERN: Python raises the KeyboardInterrupt of that
# press inside ``__del__`` and drops it ("Exception ignored in ..."), as it does when a real
# press lands while the batch runs pyarrow's ParquetWriter.__del__ or a garbage collection.
PRESS_IN_A_FINALIZER = """
import os, re, signal, sys
pattern, nth, args = re.compile(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
real_fsync, seen = os.fsync, [0]
class Finalizer:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
def fsync(fd):
    if pattern.search(os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))):
        seen[0] += 1
        if seen[0] == nth:
            Finalizer()
    real_fsync(fd)
os.fsync = fsync
if __name__ == "__main__":  # not in the fork server, which imports this as __mp_main__
    from sim.cli import main
    sys.exit(main(args))
"""


def test_one_ctrl_c_whose_interrupt_python_drops_in_a_finalizer_still_stops_the_batch(
    tmp_path, clean
):
    path, out = experiment(tmp_path), tmp_path / "out"
    process = subprocess.run(
        [sys.executable, "-c", PRESS_IN_A_FINALIZER, r"^\.run-000001\.parquet\.", "1"]
        + ["batch", str(path), "--out", str(out), "--workers", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        start_new_session=True,
        preexec_fn=as_a_terminal_job,
    )
    err = process.stderr
    assert process.returncode == 130 and one_line(err), err  # not 0 after every run
    assert re.match(r"innosim batch: interrupted; 2 of 4 runs are saved in ", err), err
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    command = shlex.split(err.split("resume with: ")[1])
    assert command == ["innosim", "batch", str(path), "--out", str(out), "--workers", "1",
                       "--resume"]  # fmt: skip
    assert resume_inline(path, out).done == 2
    same_dataset(out, clean(2))


def test_ctrl_c_recorded_in_a_finalizer_is_raised_by_the_next_check():
    from sim import ctrl_c

    class Finalizer:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)

    hook = sys.unraisablehook
    with ctrl_c.CtrlC() as block:
        Finalizer()  # its KeyboardInterrupt is dropped by Python, not printed
        assert block.pressed
        with pytest.raises(KeyboardInterrupt):
            ctrl_c.check()
    ctrl_c.check()  # the block is over: nothing pending
    assert sys.unraisablehook is hook and signal.getsignal(signal.SIGINT) is not block._handle


def process_group(pgid: int) -> list:
    import psutil

    group = []
    for p in psutil.process_iter():
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(p.pid) == pgid:
                group.append(p)
    return group


def worker_processes(pid: int) -> list:
    """The pool's workers: grandchildren of the batch, under the fork server."""
    import psutil

    return [worker for child in psutil.Process(pid).children() for worker in child.children()]


def test_a_killed_worker_is_a_failed_run_the_batch_goes_on_and_resume_retries_it(tmp_path, clean):
    path, out = experiment(tmp_path, INTERRUPTED_SEEDS, INTERRUPTED_SCENARIO), tmp_path / "out"
    process = start_batch(path, out, "--workers", "2")
    try:
        wait_for_runs(process, out, 2)
        workers = worker_processes(process.pid)
        assert len(workers) == 2
        workers[0].kill()  # SIGKILL
        _, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 1 and one_line(err) and "Traceback" not in err, err
    assert "--resume retries them" in err
    records = [json.loads(p.read_text()) for p in (out / "errors").iterdir()]
    assert records and all("a worker process died" in r["error"] for r in records)
    assert len(ResultStore(out).finished()) + len(records) == 2 * INTERRUPTED_SEEDS  # went on
    summary = resume_inline(path, out)
    assert summary.done == len(records)
    same_dataset(out, clean(INTERRUPTED_SEEDS, INTERRUPTED_SCENARIO))
    assert not list((out / "errors").iterdir())


@pytest.mark.parametrize(
    "point, pattern, nth",
    [
        ("creating the results directory", r"^\.design\.parquet\.", 1),
        ("writing a run file", r"^\.run-000002\.parquet\.", 1),
        ("writing the last manifest", r"^\.manifest\.json\.", 3),
    ],
)
def test_sigkill_in_the_middle_of_a_write_then_resume_gives_the_uninterrupted_dataset(
    tmp_path, clean, point, pattern, nth
):
    path, out = experiment(tmp_path), tmp_path / "out"
    killed = subprocess.Popen(
        [sys.executable, "-c", KILL_DURING_WRITE, pattern, str(nth)]
        + ["batch", str(path), "--out", str(out), "--workers", "1"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert killed.wait(timeout=300) == -signal.SIGKILL
        orphans_exit_by = time.monotonic() + 30  # the pool's workers end with their batch
        while any(p.status() != "zombie" for p in process_group(killed.pid)):
            assert time.monotonic() < orphans_exit_by, "workers outlived the killed batch"
            time.sleep(0.1)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(killed.pid, signal.SIGKILL)
    temporaries = [p for p in out.rglob(".*.tmp")]
    assert temporaries, f"killed while {point}: its temporary file should be there"
    summary = resume_inline(path, out)
    assert summary.total == 4
    same_dataset(out, clean(2))
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["status"] for s in manifest["sessions"]][-1] == "complete"
    if point != "creating the results directory":
        assert manifest["sessions"][0]["status"] == "killed"


# ------------------------------------------------------------------------- bounded sizes


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("population.sectors[0].other", 10**8, "must be between 0 and 10000000"),
        ("policy.talent.recruits_per_year", 1e9, "must be between 0 and 100000"),
        ("population.sectors[0].births_per_year", 10**7, "must be between 0 and 1000000"),
    ],
)
def test_sizes_beyond_their_declared_bounds_are_refused(key, value, expected):
    with pytest.raises(InputError, match=re.escape(f"{key} = {value}: {expected}")):
        load_scenario(SMOKE_SCENARIO, {key: value})


def test_a_scenario_that_needs_more_memory_than_available_is_refused_with_the_estimate():
    from sim.resources import available_bytes, peak_bytes

    overrides = {
        "population.sectors[0].births_per_year": 1_000_000,
        "population.sectors[1].births_per_year": 1_000_000,
        "scenario.horizon_months": 1200,
    }
    with pytest.raises(InputError) as refused:
        load_scenario(SMOKE_SCENARIO, overrides)
    message = str(refused.value)
    assert "\n" not in message
    assert re.search(r"population: a run needs about [\d,.]+ GB of memory at its peak "
                     r"\(200,00\d,\d{3} firms over 1200 months\), more than the [\d,.]+ GB "
                     r"available", message)  # fmt: skip
    assert available_bytes() is not None
    small = load_scenario(SMOKE_SCENARIO)
    assert peak_bytes(small) < available_bytes()


def test_a_huge_lever_value_in_an_experiment_is_refused_before_any_run(tmp_path, capsys):
    path = experiment(
        tmp_path, extra='"population.sectors[0].births_per_year" = [10.0, 900000.0]\n'
    )
    path.write_text(path.read_text() + '\n[base]\n"scenario.horizon_months" = 1200\n')
    status, err = cli(capsys, "batch", path, "--out", tmp_path / "out")
    assert status == 2 and one_line(err) and "GB of memory at its peak" in err
    assert not (tmp_path / "out").exists()
