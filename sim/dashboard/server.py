"""Start the dashboard's Solara server with nothing leaving the machine.

Solara would otherwise report telemetry, look up its newest version on the package index at
start, and fetch front-end files missing from its cache from a CDN. Here the bundles come from
the ``solara-assets`` package through ``/_solara/cdn``, and a cache miss goes to a dead local
address so it fails on this machine instead of calling out.
"""

import os
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).with_name("app.py")
# A port nothing listens on (discard): an asset missing from solara-assets fails here, locally.
DEAD_CDN = "http://127.0.0.1:9/cdn"
OFFLINE_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_ASSETS_CDN": DEAD_CDN,
    "MPLBACKEND": "Agg",
}


def server_env(scenario: Path, counterfactual: Path) -> dict[str, str]:
    """The environment of the server process: offline settings and the scenarios served."""
    env = dict(os.environ) | OFFLINE_ENV
    env["INNOSIM_SCENARIO"] = str(scenario.resolve())
    env["INNOSIM_COUNTERFACTUAL"] = str(counterfactual.resolve())
    return env


def server_command(host: str, port: int) -> list[str]:
    """``solara run`` of the app, in production mode, without the version look-up."""
    return [
        sys.executable, "-m", "solara", "run", str(APP),
        "--host", host, "--port", str(port), "--production", "--no-check-version",
    ]  # fmt: skip


def start(scenario: Path, counterfactual: Path, host: str, port: int) -> subprocess.Popen:
    """Start the server in a child process (tests stop it; the CLI waits for it)."""
    return subprocess.Popen(server_command(host, port), env=server_env(scenario, counterfactual))
