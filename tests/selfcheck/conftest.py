"""Fixtures for the pytest self-check: starter kits written by ``gradekit init``.

The ``pytester`` plugin is enabled in ``tests/conftest.py`` (pytest allows
``pytest_plugins`` only in a top-level conftest).
"""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import pytest

from gradekit.assignments import load_assignment
from gradekit.cli import main
from gradekit.grading import Grader
from gradekit.results import SubmissionResult

EXAMPLES = Path(load_assignment("backprop").folder) / "examples"


@cache
def graded(example: str) -> SubmissionResult:
    """``Grader.grade`` of a bundled backprop example, once per session."""
    return Grader(load_assignment("backprop")).grade(EXAMPLES / f"{example}.py")


def public_ids(name: str = "backprop") -> list[str]:
    """The ids of an assignment's public checks, from its spec."""
    return [c.id for c in load_assignment(name).spec.checks if c.visibility == "public"]


def hidden_ids(name: str = "backprop") -> list[str]:
    return [c.id for c in load_assignment(name).spec.checks if c.visibility == "hidden"]


def check_id(nodeid: str) -> str:
    """``submission.py::relu::gradient`` -> ``relu.gradient``, the grader's check id."""
    return ".".join(nodeid.split("::")[1:])


@pytest.fixture
def kit(pytester: pytest.Pytester) -> Path:
    """A fresh backprop starter kit in pytester's folder, written by ``gradekit init``."""
    assert main(["init", "backprop", str(pytester.path)]) == 0
    return pytester.path


def use_example(kit: Path, example: str) -> None:
    """Replace the kit's template with a bundled example submission."""
    shutil.copy(EXAMPLES / f"{example}.py", kit / "submission.py")


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """Each collected check's pytest outcome, keyed by the grader's check id."""
    reports = result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
    return {check_id(r.nodeid): r.outcome for r in reports if r.when == "call"}
