"""What machine and software a benchmark ran on."""

import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).absolute().parent.parent


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's answer)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gb() -> float | None:
    """Total memory in GB from /proc/meminfo."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def git_state() -> dict:
    """Commit of the work tree and whether sim/ has uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or None
    dirty = bool(git("status", "--porcelain", "--", "sim"))
    return {"commit": commit, "sim_modified": dirty}


def describe() -> dict:
    """Cores, memory, CPU model and the versions that matter for speed."""
    import numba
    import numpy

    try:
        import mesa

        mesa_version = mesa.__version__
    except ImportError:  # pragma: no cover - mesa is a dependency
        mesa_version = None
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gb": memory_gb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numba": numba.__version__,
        "numpy": numpy.__version__,
        "mesa": mesa_version,
        "executable": sys.executable,
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        **git_state(),
    }
