"""Gradescope's autograder ``results.json``, as its specification documents it.

Written from Gradescope's "Autograder Specifications" page (output format): a top-level
score (required unless every test has one), optional execution_time, output, visibility
and extra data, and a list of tests, each with an optional score, max_score, status,
name, output and visibility. Unknown fields are rejected, so a typo fails the test.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]
Format = Literal["text", "html", "simple_format", "md", "ansi"]


class GradescopeTest(BaseModel):
    """One entry of ``tests``."""

    model_config = ConfigDict(extra="forbid")

    score: float | None = None
    max_score: float | None = Field(default=None, ge=0)
    status: Literal["passed", "failed"] | None = None
    name: str = ""
    name_format: Format | None = None
    number: str | None = None
    output: str = ""
    output_format: Format | None = None
    tags: list[str] = []
    visibility: Visibility = "visible"
    extra_data: dict[str, Any] = {}


class GradescopeResults(BaseModel):
    """The whole ``results.json``."""

    model_config = ConfigDict(extra="forbid")

    score: float | None = None
    execution_time: float | None = Field(default=None, ge=0)
    output: str = ""
    output_format: Format | None = None
    test_output_format: Format | None = None
    test_name_format: Format | None = None
    visibility: Visibility = "visible"
    stdout_visibility: Visibility = "hidden"
    extra_data: dict[str, Any] = {}
    tests: list[GradescopeTest] = []
    leaderboard: list[dict[str, Any]] = []

    @model_validator(mode="after")
    def _scored(self) -> GradescopeResults:
        if self.score is None and any(t.score is None for t in self.tests):
            raise ValueError("score is required unless every test has one")
        return self
