"""Doing nothing earns nothing: null submissions score 0 on every bundled assignment.

``tests/submissions/null/nothing.py`` registers every component of every bundled
assignment, each answering with its input back (unchanged weights, a constant schedule,
a no-op transform), zeros, or noise from its own generator. Its only points may come
from checks where doing that is the component's job (a ``Constant(0)`` initializer),
and there it must pass every case.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from gradekit.assignments import load_assignment
from gradekit.grading import Grader

from .conftest import BUNDLED, grader

NOTHING = Path(__file__).parents[1] / "submissions" / "null" / "nothing.py"
MODES = ("identity", "zeros", "random")


@cache
def null_file(mode: str, folder: Path) -> Path:
    path = folder / f"{mode}.py"
    path.write_text(NOTHING.read_text().replace('MODE = "zeros"', f'MODE = "{mode}"', 1))
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("nulls")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", BUNDLED)
def test_a_null_submission_earns_nothing(name, mode, folder):
    result = grader(name).grade(null_file(mode, folder))
    assert result.load_error is None
    paid = {c.name: c for c in result.checks if c.score > 0}
    for check in paid.values():  # only where doing nothing is the job, and then wholly
        assert check.status == "passed", (mode, check.name, check.score, check.message)
        assert check.component == "initializers/constant", (mode, check.name)
    if mode != "zeros":
        assert result.score == 0, {k: c.score for k, c in paid.items()}


def test_without_the_null_rule_the_nulls_would_earn_points(folder):
    """The rule is what stops them: with no null components known, zeros earn points."""
    assignment = load_assignment("optimization")
    blind = Grader(assignment)
    blind.nulls_for = None
    result = blind.grade(null_file("zeros", folder))
    assert result.score > 0
