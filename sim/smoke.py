"""CI smoke run: a short deterministic scenario whose result checksum is committed.

``python -m sim.smoke`` checks the checksum; ``python -m sim.smoke --update`` (or
``make checksum``) rewrites it after a deliberate change of results: say why in the commit.
"""

import hashlib
import sys
from pathlib import Path

from sim.cli import render_json
from sim.run import run_scenario
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "ci_smoke.toml"
CHECKSUM = ROOT / "tests" / "data" / "ci_smoke.sha256"


def smoke_checksum() -> str:
    """SHA-256 of the JSON result of the CI smoke scenario."""
    result = run_scenario(load_scenario(SCENARIO))
    return hashlib.sha256(render_json(result).encode("utf-8")).hexdigest()


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
