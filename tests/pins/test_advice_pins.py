"""The transfer-advice check's verdicts (``checks.advice``), pinned: the grid of questions
at the thresholds' edges, a case per question with the rule in its message, unreadable
answers, and the gate against guessing the commonest cell (a binomial tail)."""

from __future__ import annotations

import math

import numpy as np

from gradekit.checks.advice import Advice, AdviceOptions, _above_chance, _cells, questions
from gradekit.checks.base import Target
from gradekit.checks.diagnosis import GUESSING
from gradekit.components.training import LITTLE_DATA, SIMILAR
from gradekit.sandbox.plan import Failure, Outcome, Plan

TARGET = Target("diagnosers", "advisor", {}, 3, object)


def tail(n, p, right):
    return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(right, n + 1))


def test_the_grid_asks_every_cell_and_both_edges_of_each_threshold():
    sizes, sims = questions(TARGET, AdviceOptions())
    assert len(sizes) == len(sims) == 49 and sizes.dtype == np.int64
    assert {LITTLE_DATA - 1, LITTLE_DATA, LITTLE_DATA + 1} <= set(sizes.tolist())
    assert {SIMILAR - 1e-9, SIMILAR, SIMILAR + 1e-9} <= set(sims.tolist())
    pairs = set(zip(sizes.tolist(), sims.tolist(), strict=True))
    assert (LITTLE_DATA, SIMILAR) in pairs and (1, 0.0) in pairs and (10**6, 1.0) in pairs
    more, more_sims = questions(TARGET, AdviceOptions(random=5))
    assert len(more) == 54 and np.array_equal(more[:49], sizes)
    assert np.all((more[49:] >= 1) & (more[49:] <= 10**6)) and np.all(more_sims[49:] <= 1)


def test_answers_are_read_as_label_indices_of_one_per_question():
    cells = np.array([0, 1, 2])
    assert _cells(Outcome({"advice": {"cells": cells}}), 3) is cells
    assert _cells(Outcome({"advice": cells}), 3) is cells
    assert _cells(Outcome({"advice": cells.astype(np.uint8)}), 3) is not None
    assert _cells(Outcome({"advice": cells}), 4) == (
        "unreadable result ndarray of shape (3,) and dtype int64"
    )
    assert _cells(Outcome({"advice": cells.astype(float)}), 3).startswith("unreadable result")
    assert _cells(Outcome({"advice": {"x": cells}}), 3) == "unreadable result NoneType"
    assert _cells(Outcome({"advice": [0, 1, 2]}), 3) == "unreadable result list"
    failure = Failure(0, "TypeError", "advise() takes 2", "")
    assert _cells(Outcome({}, failure, "error"), 3) == (
        "advice: not computed, your code raised TypeError: advise() takes 2"
    )


def gate(right, want):
    got = np.array([w if i < right else (w + 1) % 4 for i, w in enumerate(want)])
    return _above_chance(got, np.array(want))


def test_the_gate_passes_from_the_first_score_guessing_reaches_rarely_enough():
    want = [0, 1, 2, 3] * 5  # commonest cell: 1 in 4
    r = next(k for k in range(21) if tail(20, 0.25, k) <= GUESSING)
    case = gate(r, want)
    assert (case.name, case.passed, case.weight, case.gate, case.message) == (
        "better than guessing",
        True,
        0.0,
        True,
        "",
    )
    case = gate(r - 1, want)
    assert (case.name, case.passed, case.weight, case.gate) == (
        "better than guessing",
        False,
        0.0,
        True,
    )
    assert case.message == (
        f"better than guessing: {r - 1} of 20 right, which guessing the commonest cell "
        f"reaches with probability {tail(20, 0.25, r - 1):.2g}: the advice earns nothing"
    )


def test_the_guessing_rate_is_the_commonest_expected_cell():
    want = [2] * 15 + [0, 1, 3, 0, 1]  # 3 in 4
    for right in range(14, 21):
        assert gate(right, want).passed == (tail(20, 0.75, right) <= GUESSING)
    assert not gate(19, want).passed and gate(20, want).passed is (tail(20, 0.75, 20) <= 1e-3)
    assert not gate(20, [1] * 20).passed


def judged(got, want, sizes=(999, 1000), sims=(0.5, 0.4999999999)):
    plan = Plan(meta={"sizes": np.array(sizes), "similarities": np.array(sims)})
    outcome, expected = (Outcome({"advice": {"cells": np.array(c)}}) for c in (got, want))
    return Advice().judge(TARGET, AdviceOptions(), plan, outcome, expected)


def test_a_case_per_question_named_by_its_arguments():
    cases = judged([0, 3], [0, 3])
    assert [c.name for c in cases] == [
        "advise(999, 0.5)",
        "advise(1000, 0.4999999999)",
        "better than guessing",
    ]
    assert [c.passed for c in cases[:2]] == [True, True]
    assert cases[0].message == cases[1].message == ""


def test_a_wrong_cell_gives_the_tables_thresholds():
    cases = judged([0, 2], [0, 3])
    assert [c.passed for c in cases[:2]] == [True, False]
    assert cases[1].message == (
        "advise(1000, 0.4999999999): answered 'finetune_few', expected 'finetune_many' (very "
        "little data is fewer than 1000 examples; similar data has a similarity of 0.5 or more)"
    )
    cases = judged([7, 3], [0, 3])
    assert cases[0].message.startswith(
        "advise(999, 0.5): answered an answer that is not a label, expected 'linear_on_top'"
    )


def test_unreadable_answers_fail_every_question_and_a_failed_reference_one():
    plan = Plan(meta={"sizes": np.array([1, 2]), "similarities": np.array([0.0, 1.0])})
    expected = Outcome({"advice": np.array([1, 0])})
    cases = Advice().judge(TARGET, AdviceOptions(), plan, Outcome({"advice": [1, 0]}), expected)
    assert [(c.name, c.passed) for c in cases] == [("advise(1, 0)", False), ("advise(2, 1)", False)]
    assert cases[1].message == "advise(2, 1): unreadable result list"
    failed = Outcome({}, None, "crashed")
    (case,) = Advice().judge(TARGET, AdviceOptions(), plan, expected, failed)
    assert (case.name, case.passed) == ("advice", False)
    assert case.message == "the reference's run failed: advice: not computed (crashed)"


def test_the_gate_passes_at_exactly_guessing(monkeypatch):
    from gradekit.checks import advice

    monkeypatch.setattr(advice, "GUESSING", 2.0**-10)
    want = [0, 1] * 5  # commonest cell 1 in 2: P(all 10 right) = 2^-10
    assert gate(10, want).passed
    assert not gate(9, want).passed


def test_the_commonest_cell_may_be_the_first_and_answers_off_the_table_are_not_counted():
    want = [0] * 15 + [1, 2, 3, 0, 1]  # 16 in 20 are cell 0
    case = gate(19, want)
    assert not case.passed
    assert f"with probability {tail(20, 0.8, 19):.2g}:" in case.message
    case = _above_chance(np.array([-1, -1]), np.array([-1, -1]))
    assert case.passed  # nothing to guess: no question has a cell of the table
    case = _above_chance(np.array([3]), np.array([3]))
    assert case.message == (
        "better than guessing: 1 of 1 right, which guessing the commonest cell reaches with "
        "probability 1: the advice earns nothing"
    )
