"""Every mutant of a graded component fails a check, loses points, and is named.

The mutant's outcome is produced by the same plan executor the worker uses, run here on
the trusted mutant, then judged exactly as a submission's outcome.
"""

from __future__ import annotations

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


def test_the_catalogue_is_large():
    assert len(all_mutants()) >= 30
    assert len({m.name for m in all_mutants()}) == len(all_mutants())


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_fails_and_its_misconception_is_named(mutant):
    g = grader(GRADED[(mutant.kind, mutant.target)])
    checks = [c for c in g.checks if (c.target.kind, c.target.name) == (mutant.kind, mutant.target)]
    session = LocalSession({(mutant.kind, mutant.target): mutant.factory})
    verdicts = [g.verdict(c, session.run(c.plan)) for c in checks]
    failing = [v for v in verdicts if v.status != "passed"]
    assert failing, f"{mutant.name} passes every check of {mutant.target}"
    assert all(v.score < v.max_score for v in failing)
    assert any(mutant.misconception in (v.misconception or "") for v in failing), [
        (v.name, v.misconception) for v in failing
    ]
