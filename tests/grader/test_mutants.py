"""Every mutant of a graded component fails a check, loses points, and is named right or
not at all: a wrong misconception sends a student to the wrong line. A mutant that breaks
its component's purpose keeps at most ``SEVERE_CAP`` of the points.

The mutant's outcomes are produced by the same plan executor the worker uses, run here on
the trusted mutant, then judged exactly as a submission's outcomes (``judge_all``, which
names a misconception from every check of the component).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from gradekit.credit import SEVERE_CAP
from gradekit_reference.mutants import Mutant, all_mutants, credit_table

GRADED = dict(credit_table.graded())
MUTANTS = list(GRADED)
GRADING_DOC = Path(__file__).parents[2] / "docs" / "grading.md"


@cache
def verdicts(mutant: Mutant) -> list:
    """The mutant's verdicts on every check of its component."""
    return credit_table.verdicts(mutant, GRADED[mutant])


def naming(mutant: Mutant) -> str:
    """``right``, ``wrong`` or ``none``: what the mutant's failing checks name."""
    said = {v.misconception for v in verdicts(mutant) if v.status != "passed"} - {None}
    if not said:
        return "none"
    return "right" if all(mutant.misconception in s for s in said) else "wrong"


def test_the_catalogue_is_large():
    assert len(all_mutants()) >= 30
    assert len({m.name for m in all_mutants()}) == len(all_mutants())
    assert len(MUTANTS) == len(all_mutants())  # every mutant is graded by some assignment


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_fails_and_is_named_right_or_not_at_all(mutant):
    failing = [v for v in verdicts(mutant) if v.status != "passed"]
    assert failing, f"{mutant.name} passes every check of {mutant.target}"
    assert all(v.score < v.max_score for v in failing)
    assert naming(mutant) != "wrong", [(v.name, v.misconception) for v in failing]


@pytest.mark.parametrize("mutant", [m for m in MUTANTS if m.breaks_purpose], ids=lambda m: m.name)
def test_a_mutant_that_breaks_the_purpose_keeps_at_most_the_cap(mutant):
    assert credit_table.kept(verdicts(mutant)) <= SEVERE_CAP + 1e-9
    assert any(c.severe for v in verdicts(mutant) for c in v.cases)


def test_most_of_the_catalogue_is_named(capsys):
    """Over the whole catalogue: no wrong name, and most mutants named right."""
    tally = {"right": [], "wrong": [], "none": []}
    for mutant in MUTANTS:
        tally[naming(mutant)].append(mutant.name)
    with capsys.disabled():
        counts = ", ".join(f"{k} {len(v)}" for k, v in tally.items())
        print(f"\nmisconceptions over {len(MUTANTS)} mutants: {counts}; none: {tally['none']}")
    assert tally["wrong"] == []
    assert len(tally["right"]) >= 0.75 * len(MUTANTS), tally["none"]


def test_the_credit_table_in_the_docs_is_current():
    found, today = credit_table.current(
        GRADING_DOC.read_text(encoding="utf-8"), lambda m, _: verdicts(m)
    )
    assert found == today, "run `python -m gradekit_reference.mutants.credit_table`"
