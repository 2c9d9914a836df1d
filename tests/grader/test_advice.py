"""The transfer-advice check: full marks for every correct advisor, nothing for a constant
answer, and each advice mutant loses exactly the questions of its misconception."""

from __future__ import annotations

import pytest

from gradekit.components.training import LITTLE_DATA, SIMILAR
from gradekit.sandbox.runner import LocalSession
from gradekit_reference.diagnosis import CurveDiagnoser
from gradekit_reference.mutants.training import MUTANTS

from .conftest import grader
from .test_diagnosis_bank import CORRECT, _submitted

CHECKS = ("curves.transfer-advice", "curves.transfer-advice-hidden")


def _verdict(check_id: str, factory):
    check = next(c for c in grader("training").checks if c.spec.id == check_id)
    outcome = LocalSession({(check.target.kind, check.target.name): factory}).run(check.plan)
    return grader("training").verdict(check, outcome, diagnose=False), check.plan.meta


class Constant(CurveDiagnoser):
    """Always the commonest cell of the grid."""

    def advise(self, data_size, similarity):
        return "finetune_few"


@pytest.mark.parametrize("check_id", CHECKS)
@pytest.mark.parametrize("name", sorted(CORRECT))
def test_every_correct_advisor_gets_full_marks(check_id: str, name: str) -> None:
    result, _ = _verdict(check_id, _submitted(CORRECT[name]))
    assert result.score == result.max_score, [c.message for c in result.cases if not c.passed]


@pytest.mark.parametrize("check_id", CHECKS)
def test_a_constant_answer_earns_nothing(check_id: str) -> None:
    result, _ = _verdict(check_id, Constant)
    assert result.score == 0
    assert any(c.name == "better than guessing" and not c.passed for c in result.cases)


def test_the_grid_asks_both_thresholds_edges() -> None:
    _, meta = _verdict(CHECKS[0], CurveDiagnoser)
    sizes, sims = set(meta["sizes"].tolist()), set(meta["similarities"].tolist())
    assert {LITTLE_DATA - 1, LITTLE_DATA, LITTLE_DATA + 1} <= sizes
    assert SIMILAR in sims and min(abs(s - SIMILAR) for s in sims - {SIMILAR}) < 1e-6


@pytest.mark.parametrize("check_id", CHECKS)
def test_the_inclusive_threshold_fails_at_exactly_1000_examples_only(check_id: str) -> None:
    mutant = next(m for m in MUTANTS if m.name == "advice_little_inclusive")
    result, meta = _verdict(check_id, mutant.factory)
    failed = {c.name for c in result.cases if not c.passed}
    at_edge = {
        f"advise({n}, {s:.10g})"
        for n, s in zip(meta["sizes"], meta["similarities"], strict=True)
        if n == LITTLE_DATA
    }
    assert failed == at_edge and 0 < result.score < result.max_score


@pytest.mark.parametrize("check_id", CHECKS)
def test_swapped_rows_fail_every_different_data_question_only(check_id: str) -> None:
    mutant = next(m for m in MUTANTS if m.name == "advice_different_rows_swapped")
    result, meta = _verdict(check_id, mutant.factory)
    failed = {c.name for c in result.cases if not c.passed}
    different = {
        f"advise({n}, {s:.10g})"
        for n, s in zip(meta["sizes"], meta["similarities"], strict=True)
        if s < SIMILAR
    }
    assert failed == different and 0 < result.score < result.max_score
