"""The results schema (versioned): what grading produces, for every output format."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1
Status = Literal["passed", "failed", "error", "timeout"]


class CaseResult(BaseModel):
    """One case inside a check."""

    model_config = ConfigDict(extra="forbid")

    name: str
    passed: bool
    message: str = ""
    severe: bool = False
    """A failure that caps the component's credit at half (docs/grading.md)."""


class Series(BaseModel):
    """One named set of points: a line (``x`` may be empty: 0, 1, 2, ...), a 2-D path, a
    histogram (``x`` the bin edges, ``y`` the counts) or bars (``y`` per category).

    Values are rounded to 4 significant digits; ``None`` stands for a non-finite value.
    """

    model_config = ConfigDict(extra="forbid")

    label: str
    x: list[float | None] = []
    y: list[float | None]

    @classmethod
    def of(cls, label: str, y: Iterable[Any], x: Iterable[Any] = ()) -> Series:
        """A series from numbers or arrays, rounded, with non-finite values as None."""
        return cls(label=label, x=_rounded(x), y=_rounded(y))


def _rounded(values: Iterable[Any]) -> list[float | None]:
    out: list[float | None] = []
    for v in values:
        v = float(v)
        out.append(float(f"{v:.4g}") if math.isfinite(v) else None)
    return out


class Panel(BaseModel):
    """One plot of a figure: its kind, axes and series."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["histogram", "line", "path", "bar", "scatter"]
    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    log: bool = False
    """A logarithmic y axis (line, bar)."""
    logx: bool = False
    """A logarithmic x axis (scatter, line)."""
    categories: list[str] = []
    """The bars' names (bar panels)."""
    problem: str | None = None
    """For a path: the problem of ``gradekit.problems`` whose contours lie underneath."""
    marks: dict[str, float] = {}
    """Labelled horizontal lines, e.g. a tolerance."""
    series: list[Series]


class Figure(BaseModel):
    """The data of one check's picture (counts and curves, never raw arrays), for reports."""

    model_config = ConfigDict(extra="forbid")

    title: str
    panels: list[Panel]


class CheckResult(BaseModel):
    """One check's verdict for one submission."""

    model_config = ConfigDict(extra="forbid")

    name: str
    """The check's id, e.g. ``relu.gradient``."""
    title: str
    component: str
    type: str
    status: Status
    score: float
    max_score: float
    message: str
    """What is wrong, where, expected and received values, and the tolerance."""
    misconception: str | None = None
    """The known mistake the submission behaves like, in the lecture's terms."""
    visibility: Literal["public", "hidden"]
    cases: list[CaseResult] = []
    output: str = ""
    """The student's own traceback, when their code raised."""
    figure: Figure | None = None
    """The data of the check's picture, when the grader was asked for figures."""


class SubmissionResult(BaseModel):
    """Every check of one assignment for one submission."""

    model_config = ConfigDict(extra="forbid")

    submission: str
    """The submission's name: its file or folder name without ``.py``."""
    path: str
    assignment: str
    score: float
    max_score: float
    load_error: str | None = None
    notes: list[str] = []
    """What the grader left out of the submission, once each (a notebook's IPython lines
    and skipped cells), for the student to see."""
    checks: list[CheckResult]


class GradeReport(BaseModel):
    """A grading run: the schema version, gradekit's version and every submission."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    gradekit_version: str
    assignment: str
    submissions: list[SubmissionResult]
    analytics: dict[str, Any] | None = None
    """The class at a glance, derived from the submissions (``gradekit.report.analytics``
    ``ClassAnalytics``: per check the pass rate and score histogram, the misconceptions
    with the submissions that show each, the pairs of similar submissions); written by
    ``gradekit grade --json`` and reused by ``gradekit report``."""
