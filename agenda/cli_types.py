"""The command line's value types for argparse: a day, an age, bounded numbers. Each refuses a
bad value with one line naming it (argparse adds the option and exits 2).
"""

from __future__ import annotations

import argparse
import math
from datetime import date, timedelta
from typing import Any

MAX_AGE_DAYS = 100 * 366  # --older-than: a century is already "everything"


def option_date(value: str) -> date:
    """An argparse type: a day written 2026-11-24."""
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date like 2026-11-24") from exc


def option_age(value: str) -> timedelta:
    """An argparse type: an age in days or weeks ("400d", "12w"), at most a century."""
    units = {"d": 1, "w": 7}
    if len(value) >= 2 and value[:-1].isdigit() and value[-1] in units:
        days = int(value[:-1]) * units[value[-1]]
        if not 1 <= days <= MAX_AGE_DAYS:
            raise argparse.ArgumentTypeError(
                f"'{value}' is out of range: between 1d and {MAX_AGE_DAYS}d"
            )
        return timedelta(days=days)
    raise argparse.ArgumentTypeError(f"'{value}' is not an age like 400d or 12w")


def bounded_int(low: int, high: int) -> Any:
    """An argparse type: a whole number in [low, high] ("1e20" and "10**30" are refused)."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{value}' is not a whole number") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range: between {low} and {high}")
        return number

    parse.__name__ = "whole number"
    return parse


def bounded_float(low: float, high: float) -> Any:
    """An argparse type: a finite number in [low, high] (NaN and infinities refused)."""

    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{value}' is not a number") from None
        if not (math.isfinite(number) and low <= number <= high):
            raise argparse.ArgumentTypeError(
                f"{value} is out of range: between {low:g} and {high:g}"
            )
        return number

    parse.__name__ = "number"
    return parse
