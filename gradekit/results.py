"""The results schema (versioned): what grading produces, for every output format."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1
Status = Literal["passed", "failed", "error", "timeout"]


class CaseResult(BaseModel):
    """One case inside a check."""

    model_config = ConfigDict(extra="forbid")

    name: str
    passed: bool
    message: str = ""


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
    checks: list[CheckResult]


class GradeReport(BaseModel):
    """A grading run: the schema version, gradekit's version and every submission."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    gradekit_version: str
    assignment: str
    submissions: list[SubmissionResult]
