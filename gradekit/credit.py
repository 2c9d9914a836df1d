"""How a check's cases become its share of the points: partial credit, and none for
answers that only agree with themselves, miss the component's purpose, or do nothing."""

from __future__ import annotations

from collections.abc import Iterable

from .checks import Case


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
