"""CI smoke run: a short deterministic scenario whose result checksum is committed.

``python -m sim.smoke`` checks the checksum; ``python -m sim.smoke --update`` (or
``make checksum``) rewrites it after a deliberate change of results: say why in the commit.
"""

import hashlib
import json
import sys
from pathlib import Path

from sim.cli import render_json
from sim.run import run_scenario
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "ci_smoke.toml"
CHECKSUM = ROOT / "tests" / "data" / "ci_smoke.sha256"


SIGNIFICANT_DIGITS = 10


def smoke_checksum() -> str:
    """SHA-256 of the JSON result of the CI smoke scenario, floats to 10 significant digits.

    On one machine a result is byte-identical whatever the threads, engine or agent mode (the
    tests check the full bytes). Across machines the last bit of ``exp``, ``log`` and ``pow``
    may differ (the maths library and NumPy pick code paths by CPU features, and a NumPy
    or pandas release may change a summation order), so the committed checksum is taken over
    floats rounded to ``SIGNIFICANT_DIGITS``: any change of the model moves far more digits.
    """
    result = json.loads(render_json(run_scenario(load_scenario(SCENARIO))))
    text = json.dumps(_rounded(result), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rounded(value):
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def main(argv: list[str] | None = None) -> int:
    """Check (default) or ``--update`` the committed checksum."""
    argv = sys.argv[1:] if argv is None else argv
    digest = smoke_checksum()
    if argv == ["--update"]:
        CHECKSUM.write_text(digest + "\n")
        print(f"wrote {CHECKSUM.relative_to(ROOT)}: {digest}")
        return 0
    expected = CHECKSUM.read_text().strip()
    if digest != expected:
        print(f"smoke result changed: {digest} != committed {expected}", file=sys.stderr)
        return 1
    print(f"smoke checksum ok: {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
