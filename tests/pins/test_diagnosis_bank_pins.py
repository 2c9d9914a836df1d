"""The diagnosis bank's truth (``checks.diagnosis_bank``), pinned: how many curves of a label
are close calls, and the recipe rows: the lecture's table first, then high and low base
errors in turn, bias and variance 2 to 4 tol when high and at most half of it when low."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.diagnosis_bank import LECTURE_TABLE, SITUATIONS, _errors, rows, situations
from gradekit.components.training import CURVE_LABELS, RECIPE_LABELS


def names(label, count):
    return [s.name for s in situations(label, count)]


def test_a_third_of_a_labels_curves_rounded_up_are_ordinary_the_rest_close_calls():
    assert names("not_training", 8) == ["flat"] * 3 + ["flat under heavy noise"] * 5
    assert names("not_training", 3) == ["flat"] + ["flat under heavy noise"] * 2
    assert names("not_training", 4) == ["flat"] * 2 + ["flat under heavy noise"] * 2
    assert names("not_training", 1) == ["flat"]
    assert names("looks_good", 6) == ["a good run"] * 2 + ["a good run that levels off high"] * 4


def test_a_label_without_a_close_call_splits_half_and_half():
    assert names("error_increasing", 8) == ["rising"] * 4 + ["a dip before the climb"] * 4
    assert names("error_increasing", 3) == ["rising"] * 2 + ["a dip before the climb"]


def test_two_situations_per_label_in_label_order():
    assert [s.label for s in SITUATIONS] == [x for x in CURVE_LABELS for _ in range(2)]
    assert [s.close for s in SITUATIONS] == [False, True, False, False] + [False, True] * 4


def draws(cell, high, count=600, seed=0):
    rng = np.random.default_rng(seed)
    return np.array([_errors(cell, high, rng) for _ in range(count)])


@pytest.mark.parametrize("cell", RECIPE_LABELS)
@pytest.mark.parametrize("high", [True, False])
def test_recipe_rows_keep_bias_and_variance_far_from_tol(cell, high):
    train, test, base, tol = draws(cell, high).T
    bias, variance = (train - base) / tol, (test - train) / tol
    if cell in ("high_bias", "high_bias_and_variance"):
        assert bias.min() >= 2 and bias.max() <= 4
        assert bias.min() < 2.05 and bias.max() > 3.95
    else:
        assert bias.min() >= 0 and bias.max() <= 0.5
        assert bias.min() < 0.02 and bias.max() > 0.48
    if cell in ("high_variance", "high_bias_and_variance"):
        assert variance.min() >= 2 and variance.max() <= 4
        assert variance.min() < 2.05 and variance.max() > 3.95
    else:
        assert variance.max() <= 0.5 and variance.max() > 0.45
        assert np.all(test >= 0) and np.all(variance >= -1)
        assert variance.min() < -0.9
        if not high and cell == "low_bias_and_variance":  # the variance may take test to 0
            assert np.min(test[train < tol]) < 0.01
    if high:
        assert set(tol) == {0.02, 0.05}
        assert base.min() >= 0.1 and base.max() <= 0.3 and base.min() < 0.11 and base.max() > 0.29
    else:
        assert set(tol) == {0.02, 0.05, 0.1}
        assert base.min() == 0.0 and base.max() <= 0.05 and base.max() > 0.045
        assert 0.3 < np.mean(base == 0.0) < 0.7


def test_rows_start_with_the_lectures_table_then_alternate_base_errors():
    bank = rows(5, 4)
    assert len(bank) == 16
    assert [r.cell for r in bank] == [c for c in RECIPE_LABELS for _ in range(4)]
    for k, (train, test, cell) in enumerate(LECTURE_TABLE):
        first = bank[4 * k]
        assert first.errors == (train, test, 0.0, 0.05)
        assert (first.cell, first.situation) == (cell, "the lecture's table")
        assert [r.situation for r in bank[4 * k + 1 : 4 * k + 4]] == [
            "a high base error",
            "a low base error",
            "a high base error",
        ]
        assert bank[4 * k + 1].errors[2] >= 0.1 and bank[4 * k + 2].errors[2] <= 0.05
    assert [r.cell for r in rows(5, 1)] == list(RECIPE_LABELS)
    assert rows(5, 4) == bank and rows(6, 4) != bank
