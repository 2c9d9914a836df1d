"""Partial credit: a check's points shared among its cases, self-consistency not alone."""

from __future__ import annotations

import pytest

from gradekit.checks import Case
from gradekit.credit import credit


def cases(*spec: tuple[bool, bool, float]) -> list[Case]:
    """Cases from (passed, compared, weight) triples."""
    return [Case(f"c{i}", p, "", w, c) for i, (p, c, w) in enumerate(spec)]


@pytest.mark.parametrize(
    ("spec", "want"),
    [
        ([(True, True, 1), (True, True, 1), (True, False, 0.5)], 1.0),
        ([(True, True, 1), (False, True, 1), (True, False, 0.5), (False, False, 0.5)], 0.5),
        # every comparison fails: purity and linearity alone earn nothing
        ([(False, True, 1), (False, True, 1), (True, False, 0.5), (True, False, 0.5)], 0.0),
        # a reference-free check has no comparison: its own cases count
        ([(True, False, 1), (False, False, 1)], 0.5),
        ([], 0.0),
    ],
)
def test_credit(spec, want):
    assert credit(cases(*spec)) == pytest.approx(want)


def test_passing_no_more_than_a_null_does_earns_nothing():
    """``free``: what components that do nothing pass; a submission within one earns 0."""
    got = cases((True, True, 1), (True, False, 1), (False, True, 1))  # passes c0 and c1
    assert credit(got, [frozenset({"c0", "c1"})]) == 0.0
    assert credit(got, [frozenset({"c0", "c1", "c2"})]) == 0.0
    assert credit(got, [frozenset({"c0"}), frozenset({"c1"})]) == pytest.approx(2 / 3)
    assert credit(got, []) == pytest.approx(2 / 3)


def test_a_failed_gate_earns_nothing():
    gated = [Case("a", True), Case("b", True), Case("purpose", False, weight=0.0, gate=True)]
    assert credit(gated) == 0.0
    gated[-1] = Case("purpose", True, weight=0.0, gate=True)
    assert credit(gated) == 1.0
