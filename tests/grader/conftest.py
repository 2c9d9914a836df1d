"""Shared fixtures for grader tests: loaded assignments and graders, built once."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from gradekit.assignments import load_assignment
from gradekit.grading import Grader

ROOT = Path(__file__).parents[2]
REFERENCE = ROOT / "reference"
BUNDLED = ("backprop", "initialization", "optimization", "regularization", "training")


@cache
def grader(name: str) -> Grader:
    """One grader per bundled assignment for the whole session (reference outcomes cached)."""
    return Grader(load_assignment(name))


@pytest.fixture(params=BUNDLED)
def assignment_name(request) -> str:
    return request.param
