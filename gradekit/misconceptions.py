"""Which mistake of the catalogue explains what a submission's checks saw.

A misconception is named only with a precision guarantee: a mutant of the catalogue
explains a component when, on every check of that component that compared anything, the
submission's answer matches the mutant's on every compared case (its failures and its
successes alike), and modifies the same inputs in place (``Case.evidence``). Judged one
check at a time, a mutant that explains one check's failure but disagrees elsewhere would
send the student to the wrong line; across checks it is left out. Where no mutant, or
more than two indistinguishable ones, explain everything, no misconception is named: the
cases' messages say what was seen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .sandbox.plan import Outcome

if TYPE_CHECKING:
    from .grading import MutantInfo, PreparedCheck
    from .results import CheckResult

Expected = Callable[["PreparedCheck", "MutantInfo"], Any]
"""A mutant's outcome on a check's plan (None when unknown or when it raised)."""

MAX_NAMED = 2
"""More mutants than this explaining the same answers name none."""


def explaining(
    check: PreparedCheck, outcome: Outcome, mutants: Sequence[MutantInfo], expected: Expected
) -> set[str] | None:
    """The names of the check's component's mutants that this answer matches on every
    compared case; None when the check is no evidence (nothing compared, no answer)."""
    if outcome.status in ("timeout", "crashed"):
        return None
    found = set()
    compared = False
    for mutant in mutants:
        if (mutant.kind, mutant.target) != (check.target.kind, check.target.name):
            continue
        want = expected(check, mutant)
        if want is None:
            continue
        try:
            cases = [c for c in check.judge(outcome, want) if c.compared or c.evidence]
        except Exception:  # an answer that cannot be judged against this mutant's
            continue
        compared = compared or bool(cases)
        if cases and all(c.passed for c in cases):
            found.add(mutant.name)
    return found if compared else None


def named(names: set[str], mutants: Sequence[MutantInfo]) -> str | None:
    """The misconceptions of ``names``, in catalogue order, or None when there are none or
    too many to tell apart."""
    if not 0 < len(names) <= MAX_NAMED:
        return None
    return " / ".join(m.misconception for m in mutants if m.name in names)


def across_checks(
    graded: Sequence[tuple[PreparedCheck, Outcome, CheckResult]],
    mutants: Sequence[MutantInfo],
    expected: Expected,
) -> list[CheckResult]:
    """The results with each failing check's misconception named from every check of its
    component: a mutant must explain them all. A check that compared nothing (a timeout,
    a crash) is no evidence either way and names nothing."""
    components: dict[str, list[int]] = {}
    for i, (check, _, _) in enumerate(graded):
        components.setdefault(check.spec.component, []).append(i)
    results = [result for _, _, result in graded]
    for indices in components.values():
        if all(results[i].status == "passed" for i in indices):
            continue
        seen = {i: explaining(graded[i][0], graded[i][1], mutants, expected) for i in indices}
        evidence = [names for names in seen.values() if names is not None]
        misconception = named(set.intersection(*evidence) if evidence else set(), mutants)
        for i in indices:
            if results[i].status != "passed" and seen[i] is not None:
                results[i] = results[i].model_copy(update={"misconception": misconception})
    return results
