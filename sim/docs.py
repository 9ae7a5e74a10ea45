"""Generated parts of docs/model.md: parameter, firm-variable and indicator tables.

``python -m sim.docs`` rewrites the blocks between ``<!-- BEGIN name -->`` and
``<!-- END name -->``; a test fails when the committed document is stale.
"""

import re
import sys
from pathlib import Path

from sim.agents.firms import FIRM_COLUMNS
from sim.indicators import INDICATORS
from sim.scenario import Scenario
from sim.schema import markdown_table, parameter_rows

MODEL_DOC = Path(__file__).resolve().parent.parent / "docs" / "model.md"


def firm_variables_table() -> str:
    """Markdown table of the firm table's columns."""
    lines = ["| variable | type | unit | meaning |", "|---|---|---|---|"]
    for name, (dtype, shape, unit, meaning) in FIRM_COLUMNS.items():
        kind = dtype.__name__ + (f"[{shape[0]}]" if shape else "")
        lines.append(f"| `{name}` | {kind} | {unit} | {meaning} |")
    return "\n".join(lines) + "\n"


def indicators_table() -> str:
    """Markdown table of the indicators a run reports."""
    lines = ["| id | unit | meaning |", "|---|---|---|"]
    lines += [f"| `{name}` | {unit} | {meaning} |" for name, (unit, meaning) in INDICATORS.items()]
    return "\n".join(lines) + "\n"


BLOCKS = {
    "parameters": lambda: markdown_table(parameter_rows(Scenario)),
    "firm-variables": firm_variables_table,
    "indicators": indicators_table,
}


def render(text: str) -> str:
    """``text`` with every generated block brought up to date."""
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"docs/model.md has no block {name}")
        text = pattern.sub(lambda m, make=make: m.group(1) + make() + m.group(2), text)
    return text


def main() -> int:
    """Rewrite docs/model.md's generated blocks."""
    text = MODEL_DOC.read_text()
    MODEL_DOC.write_text(render(text))
    print(f"updated {MODEL_DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
