"""How a check's cases become its share of the points: partial credit, and none for
answers that only agree with themselves, miss the component's purpose, or do nothing."""

from __future__ import annotations

import math
from collections.abc import Iterable

from .checks import Case
from .results import CheckResult

SEVERE_CAP = 0.5
"""The share of a component's points it can keep when it fails its purpose."""


def credit(cases: list[Case], free: Iterable[frozenset[str]] = ()) -> float:
    """The passed share of the cases' weights, in [0, 1].

    Self-consistency cases (inputs left alone, backward linear in dout) earn nothing when
    every comparison with the expected outcome fails: a component that returns garbage,
    or nothing, is not partly right for leaving its inputs alone; nor is one that fails a
    gate case (its purpose). ``free`` holds, for
    each component that does nothing (see ``Grader.null_passes``), the cases it passes:
    a submission that passes no more than one of them does earns nothing.
    """
    total = sum(c.weight for c in cases) or 1.0
    compared = [c for c in cases if c.compared]
    if compared and not any(c.passed for c in compared):
        return 0.0
    if any(c.gate and not c.passed for c in cases):
        return 0.0
    passed = {c.name for c in cases if c.passed}
    if any(passed <= nothing for nothing in free):
        return 0.0
    return sum(c.weight for c in cases if c.passed) / total


def cap_severe(results: list[CheckResult]) -> list[CheckResult]:
    """Cap each component that fails a severe case (its purpose) at ``SEVERE_CAP`` of its
    points: its public checks are scaled by one factor and its hidden ones by another, so
    a student's kit (public checks only) scores them as the grader does; every check of
    it says why.

    Partial credit is shared among cases by count; without the cap a component that fails
    its purpose on one case (a frozen dropout mask, nan on large scores) would keep most
    of its points for the cases it gets right. Scores are rounded down to 1e-6, so the
    capped total never exceeds the cap.
    """
    components: dict[str, list[int]] = {}
    for i, r in enumerate(results):
        components.setdefault(r.component, []).append(i)
    out = list(results)
    for indices in components.values():
        severe = [(results[i].name, c.name) for i in indices for c in results[i].cases if c.severe]
        if not severe:
            continue
        factors: dict[int, float] = {}
        for visibility in ("public", "hidden"):
            group = [i for i in indices if results[i].visibility == visibility]
            total = sum(results[i].score for i in group)
            cap = SEVERE_CAP * sum(results[i].max_score for i in group)
            if total > cap:
                factors.update({i: cap / total for i in group})
        if not factors:
            continue
        check, case = severe[0]
        why = (
            f"credit capped at {SEVERE_CAP:.0%} of {results[indices[0]].component}'s points: "
            f"{check} fails its purpose ({case})"
        )
        for i in indices:
            r = results[i]
            message = f"{r.message}; {why}" if r.message else why
            score = math.floor(r.score * factors.get(i, 1.0) * 1e6) / 1e6
            out[i] = r.model_copy(update={"score": score, "message": message})
    return out
