"""The code's structure: imports point inward (policies use agents, never the reverse)."""

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parent.parent / "sim"


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def upward_imports(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(SIM.parent)} imports {module}"
        for path in sorted((SIM / folder).glob("*.py"))
        for module in sorted(imported_modules(path))
        if module.startswith(forbidden)
    ]


def test_agents_never_import_policies_or_the_model():
    above = ("sim.policies", "sim.model", "sim.run", "sim.scenario", "sim.batch", "sim.cli")
    assert upward_imports("agents", above) == []


def test_policies_never_import_the_model():
    assert upward_imports("policies", ("sim.model", "sim.run", "sim.batch", "sim.cli")) == []


def test_the_walk_sees_imports():
    # the check would pass vacuously if it read no imports
    assert "sim.agents.firms" in imported_modules(SIM / "agents" / "kernels.py")
