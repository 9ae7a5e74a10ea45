"""Command-line flags shared by every ``innosim`` subcommand: types (argparse ``type=``), flags."""

import argparse


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number >= 1")
    return value


def non_negative_int(text: str) -> int:
    """A whole number from 0 to 2**63-1 (seeds, counts)."""
    value = _whole(text)
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number from 0 to 2**63-1")
    return value


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number") from None


def setting(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` of ``--set``: a dotted scenario key and a TOML value.

    The value is read as TOML (``8``, ``0.2``, ``true``, ``[1, 2]``, ``{ 2021 = 1.0 }``), or
    taken as text when it is not TOML (``scenario.name=plan_b``). The scenario loader then
    checks it like a value in the file.
    """
    import tomllib

    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or not raw.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r}: must be KEY=VALUE with a dotted scenario key, e.g. policy.vouchers.budget=8"
        )
    try:
        value = tomllib.loads(f"value = {raw.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key, value


def add_set_flag(parser, help: str, type=setting) -> None:
    """``--set KEY=VALUE`` (repeatable) on ``parser``; ``type`` may wrap ``setting``."""
    parser.add_argument(
        "--set", type=type, action="append", default=[], metavar="KEY=VALUE", help=help
    )


MAX_MONTHS = 1200  # the declared bound of scenario.horizon_months (sim/scenario.py)


def months(text: str) -> int:
    """A number of months to simulate: 1 to ``MAX_MONTHS``."""
    value = _whole(text)
    if not 1 <= value <= MAX_MONTHS:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number from 1 to {MAX_MONTHS}")
    return value
