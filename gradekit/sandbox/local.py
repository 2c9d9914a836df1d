"""Trusted code (the reference, the mutants) run in the grader's process through the very
same plan executor as a worker's."""

from __future__ import annotations

import warnings

from .plan import Factory, Outcome, Plan, execute


class LocalSession:
    """Runs plans in this process on trusted factories: the reference or a mutant."""

    def __init__(self, factories: dict[tuple[str, str], Factory]) -> None:
        self._factories = factories

    def run(self, plan: Plan, timeout: float | None = None) -> Outcome:
        """Execute ``plan`` here; only for trusted code."""

        def resolve(kind: str, name: str) -> Factory:
            return self._factories[(kind, name)]

        with warnings.catch_warnings():  # a mutant's numpy warnings are part of its bug
            warnings.simplefilter("ignore")
            return execute(plan.ops, plan.arrays, resolve)
