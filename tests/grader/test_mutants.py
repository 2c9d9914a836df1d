"""Every mutant of a graded component fails a check, loses points, and is named right or
not at all: a wrong misconception sends a student to the wrong line.

The mutant's outcomes are produced by the same plan executor the worker uses, run here on
the trusted mutant, then judged exactly as a submission's outcomes (``judge_all``, which
names a misconception from every check of the component).
"""

from __future__ import annotations

from functools import cache

import pytest

from gradekit.sandbox.runner import LocalSession
from gradekit_reference.mutants import all_mutants

from .conftest import BUNDLED, grader

GRADED = {
    (m.kind, m.target): name
    for name in BUNDLED
    for m in all_mutants()
    if any((c.target.kind, c.target.name) == (m.kind, m.target) for c in grader(name).checks)
}
MUTANTS = [m for m in all_mutants() if (m.kind, m.target) in GRADED]


@cache
def verdicts(name: str) -> list:
    """The mutant ``name``'s verdicts on every check of its component."""
    (mutant,) = [m for m in MUTANTS if m.name == name]
    g = grader(GRADED[(mutant.kind, mutant.target)])
    checks = [c for c in g.checks if (c.target.kind, c.target.name) == (mutant.kind, mutant.target)]
    session = LocalSession({(mutant.kind, mutant.target): mutant.factory})
    return g.judge_all(checks, [session.run(c.plan) for c in checks], name)


def naming(name: str) -> str:
    """``right``, ``wrong`` or ``none``: what the mutant's failing checks name."""
    (mutant,) = [m for m in MUTANTS if m.name == name]
    said = {v.misconception for v in verdicts(name) if v.status != "passed"} - {None}
    if not said:
        return "none"
    return "right" if all(mutant.misconception in s for s in said) else "wrong"


def test_the_catalogue_is_large():
    assert len(all_mutants()) >= 30
    assert len({m.name for m in all_mutants()}) == len(all_mutants())


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_fails_and_is_named_right_or_not_at_all(mutant):
    failing = [v for v in verdicts(mutant.name) if v.status != "passed"]
    assert failing, f"{mutant.name} passes every check of {mutant.target}"
    assert all(v.score < v.max_score for v in failing)
    assert naming(mutant.name) != "wrong", [(v.name, v.misconception) for v in failing]


def test_most_of_the_catalogue_is_named(capsys):
    """Over the whole catalogue: no wrong name, and most mutants named right."""
    tally = {"right": [], "wrong": [], "none": []}
    for mutant in MUTANTS:
        tally[naming(mutant.name)].append(mutant.name)
    with capsys.disabled():
        counts = ", ".join(f"{k} {len(v)}" for k, v in tally.items())
        print(f"\nmisconceptions over {len(MUTANTS)} mutants: {counts}; none: {tally['none']}")
    assert tally["wrong"] == []
    assert len(tally["right"]) >= 0.75 * len(MUTANTS), tally["none"]
