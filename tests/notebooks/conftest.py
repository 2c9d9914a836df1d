"""Graders for the notebook tests, built once per worker (reference outcomes cached)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from gradekit.assignments import load_assignment
from gradekit.grading import Grader

ROOT = Path(__file__).parents[2]
BUNDLED = ("backprop", "initialization", "optimization", "regularization", "training")


@cache
def grader(name: str, **limits: float) -> Grader:
    """One grader per bundled assignment and limits, for the whole session."""
    return Grader(load_assignment(name), limits=limits or None)
