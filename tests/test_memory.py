"""Importing the simulator turns off numpy's huge-page advice, unless the user set it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = "import sim; from numpy._core import multiarray; print(multiarray._get_madvise_hugepage())"


def hugepage_advice_after_import(setting: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if setting is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = setting
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.mark.parametrize(("setting", "advice"), [(None, "False"), ("1", "True"), ("0", "False")])
def test_huge_page_advice_is_off_unless_the_user_asks(setting, advice):
    assert hugepage_advice_after_import(setting) == advice
