"""The diagnosis check's verdicts (``checks.diagnosis``), pinned: a case per curve and per
recipe row with its message, and the gate: right answers beyond what guessing the
commonest label reaches with probability GUESSING (binomial tails of both parts)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradekit.checks.base import Case, Target
from gradekit.checks.diagnosis import (
    GUESSING,
    Diagnosis,
    DiagnosisOptions,
    _above_chance,
    answer_label,
    binomial_pmf,
    score,
)
from gradekit.components.training import CURVE_LABELS
from gradekit.sandbox.plan import Failure, Outcome, Plan


def tail(right, parts):
    """P(X_1 + X_2 >= right) for independent binomials ``(n, p)``, term by term."""

    def pmf(n, p, k):
        return math.comb(n, k) * p**k * (1 - p) ** (n - k)

    (n1, p1), (n2, p2) = parts
    return sum(
        pmf(n1, p1, a) * pmf(n2, p2, b)
        for a in range(n1 + 1)
        for b in range(n2 + 1)
        if a + b >= right
    )


def test_binomial_probabilities():
    assert np.allclose(binomial_pmf(3, 0.25), [27 / 64, 27 / 64, 9 / 64, 1 / 64])
    assert np.allclose(binomial_pmf(2, 1.0), [0, 0, 1])
    assert np.allclose(binomial_pmf(4, 0.0), [1, 0, 0, 0, 0])
    assert binomial_pmf(5, 0.3).sum() == pytest.approx(1.0)


CURVES = np.array([0, 1, 2, 3, 4, 5] * 2)  # commonest label: 2 of 12
CELLS = np.array([0, 1, 2, 3])  # commonest cell: 1 of 4
PARTS = ((12, 1 / 6), (4, 1 / 4))


def gate(right, want=(CURVES, CELLS)):
    cases = [Case(f"c{i}", i < right) for i in range(16)]
    return _above_chance(cases, want, 12, 4)


def threshold():
    return next(r for r in range(17) if tail(r, PARTS) <= GUESSING)


def test_the_gate_passes_from_the_first_score_guessing_reaches_rarely_enough():
    assert GUESSING == 1e-3
    r = threshold()
    assert tail(r - 1, PARTS) > GUESSING
    case = gate(r)
    assert (case.name, case.passed, case.weight, case.gate) == (
        "better than guessing",
        True,
        0.0,
        True,
    )
    assert case.message == ""
    assert gate(16).passed


def test_the_gate_fails_below_and_says_how_likely_guessing_reaches_it():
    r = threshold() - 1
    case = gate(r)
    assert (case.name, case.passed, case.weight, case.gate) == (
        "better than guessing",
        False,
        0.0,
        True,
    )
    assert case.message == (
        f"better than guessing: {r} of 16 right, which guessing the commonest answer reaches "
        f"with probability {tail(r, PARTS):.2g}: the diagnoser earns nothing"
    )
    assert gate(0).message.startswith(
        "better than guessing: 0 of 16 right, which guessing the commonest answer reaches "
        "with probability 1:"
    )


def test_the_guessing_rate_is_the_commonest_expected_label_per_part():
    curves = np.array([2] * 9 + [0, 1, 3])  # 9 of 12
    cells = np.array([0, 0, 0, 1])  # 3 of 4
    parts = ((12, 0.75), (4, 0.75))
    for right in (14, 15, 16):
        assert gate(right, (curves, cells)).passed == (tail(right, parts) <= GUESSING)
    assert not gate(15, (curves, cells)).passed
    assert f"with probability {tail(15, parts):.2g}:" in gate(15, (curves, cells)).message
    assert not gate(16, (np.array([4] * 12), np.array([1] * 4))).passed


def test_score_is_the_share_of_cases_passed():
    assert score([Case("a", True), Case("b", False), Case("c", True), Case("d", True)]) == 0.75
    assert score([]) == 0.0


def test_an_answer_outside_the_labels_is_named_so():
    assert answer_label(0, CURVE_LABELS) == "'not_training'"
    assert answer_label(5, CURVE_LABELS) == "'looks_good'"
    assert answer_label(6, CURVE_LABELS) == "an answer that is not a label"
    assert answer_label(-1, CURVE_LABELS) == "an answer that is not a label"


META = {
    "labels": ["not_training", "overfitting"],
    "situations": ["flat", "overfitting that starts late"],
    "facts": ["it is flat", "it turns up"],
    "cells": ["high_bias"],
    "rows": ["the lecture's table"],
    "errors": np.array([[0.15, 0.1, 0.0, 0.05]]),
}


def bank(curves, cells):
    return Outcome({"bank": {"curves": np.array(curves), "recipe": np.array(cells)}})


def judged(outcome, expected=None):
    target = Target("diagnosers", "curves", {}, 0, object)
    plan = Plan(meta=META)
    return Diagnosis().judge(
        target, DiagnosisOptions(), plan, outcome, expected or bank([0, 4], [1])
    )


def test_a_case_per_curve_and_row_named_by_place_and_situation():
    cases = judged(bank([0, 4], [1]))
    assert [c.name for c in cases] == [
        "curve 1 (flat)",
        "curve 2 (overfitting that starts late)",
        "recipe 1 (high_bias, the lecture's table)",
        "better than guessing",
    ]
    assert [c.passed for c in cases[:3]] == [True] * 3
    assert all(c.message == "" for c in cases[:3])


def test_a_misread_curve_says_what_was_answered_and_why_it_is_wrong():
    cases = judged(bank([5, 4], [1]))
    assert [c.passed for c in cases[:3]] == [False, True, True]
    assert cases[0].message == (
        "curve 1 (flat): answered 'looks_good', expected 'not_training': it is flat"
    )
    cases = judged(bank([0, 9], [1]))
    assert cases[1].message == (
        "curve 2 (overfitting that starts late): answered an answer that is not a label, "
        "expected 'overfitting': it turns up"
    )


def test_a_misread_row_shows_its_errors_bias_and_variance():
    cases = judged(bank([0, 4], [3]))
    assert [c.passed for c in cases[:3]] == [True, True, False]
    assert cases[2].message == (
        "recipe 1 (high_bias, the lecture's table): train error 0.150, test error 0.100, base "
        "error 0.000, tol 0.05 (bias 0.150, variance -0.050): answered "
        "'low_bias_and_variance', expected 'high_bias'"
    )


def test_unusable_answers_fail_every_case_and_a_failed_reference_one():
    failure = Failure(1, "KeyError", "'x'", "")
    cases = judged(Outcome({}, failure, "error"))
    assert [c.passed for c in cases] == [False] * 3
    assert cases[0].message == "curve 1 (flat): bank: not computed, your code raised KeyError: 'x'"
    for outcome in (
        bank([0, 4.0], [1]),
        bank([0, 4, 1], [1]),
        bank([0, 4], [[1]]),
        Outcome({"bank": {"curves": np.array([0, 4])}}),
    ):
        cases = judged(outcome)
        assert len(cases) == 3 and not any(c.passed for c in cases)
        assert cases[2].message.startswith("recipe 1 (high_bias, the lecture's table): unreadable")
    cases = judged(Outcome({"bank": [1]}))
    assert cases[1].message.endswith(": unreadable result list")
    (case,) = judged(bank([0, 4], [1]), Outcome({}, None, "timeout", "12 s"))
    assert (case.name, case.passed) == ("bank", False)
    assert case.message == "the reference's run failed: bank: not computed (12 s)"
    assert judged(bank(np.array([0, 4], dtype=np.uint8), [1]))[0].passed


def test_the_gate_passes_at_exactly_guessing(monkeypatch):
    from gradekit.checks import diagnosis

    monkeypatch.setattr(diagnosis, "GUESSING", 2.0**-10)
    want = (np.array([0, 1] * 5), np.array([2]))  # rates 1/2 and 1: P(all 11 right) = 2^-10
    cases = [Case(f"c{i}", True) for i in range(11)]
    assert _above_chance(cases, want, 10, 1).passed
    assert not _above_chance([*cases[:10], Case("x", False)], want, 10, 1).passed


def test_one_curve_is_guessed_right_for_sure_and_codes_may_be_unsigned():
    # rates 1 (one curve) and 1/3: P(7 of 7 right) = 3^-6 > GUESSING
    want = (np.array([3], dtype=np.uint64), np.array([0, 1, 2, 3, 0, 1], dtype=np.uint64))
    case = _above_chance([Case(f"c{i}", True) for i in range(7)], want, 1, 6)
    assert not case.passed
    assert f"with probability {3.0**-6:.2g}:" in case.message
