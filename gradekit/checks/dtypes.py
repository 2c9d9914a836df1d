"""The contract's float64 rule, judged before any number: a float answer of a narrower
dtype from one of the student's methods.

A float32 forward that is right to float32 precision would otherwise surface as a small
relative error somewhere else: central differences of that forward disagree with a correct
backward, a running statistic read back from it is off by 1e-8. The grader names the
dtype first, the call that returned it, and what the contract asks for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..sandbox.plan import Outcome, Plan
from .base import Case

NAME = "float64 outputs"


def _narrow(value: Any, path: str = "") -> Iterator[tuple[str, np.dtype]]:
    """The paths below ``value`` holding a float narrower than float64 (an array, or a
    numpy float32 scalar, which arrives as a 0-d array)."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.dtype != np.float64:
        yield path, value.dtype
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _narrow(item, f"{path}[{key!r}]")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _narrow(item, f"{path}[{i}]")


def float64_case(plan: Plan, outcome: Outcome) -> Case | None:
    """A failing case naming the calls of the student's methods (and the attributes read)
    that returned a float narrower than float64, or None when there is none. gradekit's
    own routines are left out: they hand back what they measured in their own dtype."""
    found: dict[str, np.dtype] = {}
    for op in plan.ops:
        key = op.get("save")
        if op.get("op") not in ("call", "get") or key not in outcome.values:
            continue
        what = op.get("method") or op.get("attr")
        for path, dtype in _narrow(outcome.values[key]):
            found.setdefault(f"{what}{path}", dtype)
    if not found:
        return None
    named = ", ".join(f"{where} returned {dtype}" for where, dtype in list(found.items())[:3])
    return Case(
        NAME,
        False,
        f"{named}; return float64 (the contract's outputs are float64: the comparisons "
        "below are made at the precision you returned)",
        0.5,
        compared=False,
    )
