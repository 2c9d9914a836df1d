"""What every check kind provides: options, a plan, the expected result, and a judgement.

A check kind never sees the student's objects, only the plain values the plan produced.
``expect`` runs the same plan on trusted code (the reference, or a mutant when the grader
looks for a misconception), and ``judge`` turns the two into cases with messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from ..results import Figure
from ..sandbox.plan import Outcome, Plan

Run = Callable[[Plan], Outcome]
"""Runs a plan on trusted components (the reference or a mutant) in the parent."""


class Options(BaseModel):
    """A check kind's own parameters in the assignment file; unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class Case:
    """One verdict inside a check: a name, passed or not, and a message saying why."""

    name: str
    passed: bool
    message: str = ""
    weight: float = 1.0
    compared: bool = True
    """Whether the case compares with the expected outcome (False: a self-consistency
    case, such as central differences of the student's own forward)."""
    gate: bool = False
    """Whether the check earns nothing when this case fails: the component's purpose, such
    as a diagnoser doing better than guessing."""
    evidence: bool = False
    """Whether a self-consistency case still tells mutants apart: it is judged against the
    expected outcome's own behaviour (which inputs it modifies), so a mutant must match it
    to explain a failure (see ``misconceptions``)."""
    severe: bool = False
    """Whether failing this case means the component fails its purpose (non-finite values
    on ordinary or large inputs, a generator ignored): its credit is capped at half."""


@dataclass(frozen=True)
class Target:
    """What a check exercises: component ``kind/name``, built with ``kwargs``."""

    kind: str
    name: str
    kwargs: dict[str, Any]
    seed: int
    reference: Callable[..., Any]
    """The trusted factory of the same component: shapes and expected values come from it."""

    def build(self) -> Any:
        """A fresh trusted instance (never the student's)."""
        return self.reference(**self.kwargs)

    def rng(self, salt: int = 0) -> np.random.Generator:
        """The check's own generator: the same inputs on every run."""
        return np.random.default_rng([self.seed, salt])


class CheckKind:
    """A kind of check, e.g. ``gradient``; subclasses set the class attributes below."""

    name: ClassVar[str]
    """The ``type`` an assignment file uses for it."""
    kinds: ClassVar[tuple[str, ...]]
    """The component kinds it can check."""
    options: ClassVar[type[Options]] = Options
    summary: ClassVar[str] = ""
    """One line for students: what the check verifies."""

    def plan(self, target: Target, options: Any) -> Plan:
        """The calls to make on the component: the same plan for student and reference."""
        raise NotImplementedError

    def expect(self, target: Target, options: Any, plan: Plan, run: Run) -> Any:
        """What a correct component gives: by default the plan's outcome on trusted code."""
        return run(plan)

    def judge(
        self, target: Target, options: Any, plan: Plan, outcome: Outcome, expected: Any
    ) -> list[Case]:
        """Compare the student's outcome with the expected one, case by case."""
        raise NotImplementedError

    def figure(
        self, target: Target, options: Any, plan: Plan, outcome: Outcome, expected: Any
    ) -> Figure | None:
        """The data of a picture of the student's outcome beside the expected one, for the
        HTML report (histogram counts and curves, not raw arrays); None: no picture."""
        return None
