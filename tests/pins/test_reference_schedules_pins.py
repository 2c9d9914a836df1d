"""The reference learning-rate schedules (``gradekit_reference.schedules``), pinned to the
lecture's formulas: step decay x0.1 at epochs 30, 60, 90, ``lr0 exp(-k t)``, ``lr0 / (1 + k t)``,
each default, and the step counts they accept."""

from __future__ import annotations

import math

import pytest

from gradekit_reference.schedules import ExponentialDecay, InverseTimeDecay, StepDecay


def test_step_decay_defaults_are_x01_at_epochs_30_60_90():
    lr = StepDecay()
    assert [lr(e) for e in (0, 29)] == [0.1, 0.1]
    assert lr(30) == pytest.approx(0.01, rel=1e-12)
    assert lr(59) == pytest.approx(0.01, rel=1e-12)
    assert lr(60) == pytest.approx(1e-3, rel=1e-12)
    assert lr(90) == pytest.approx(1e-4, rel=1e-12)


def test_step_decay_uses_its_own_lr0_gamma_and_step_size():
    lr = StepDecay(lr0=2.0, gamma=0.5, step_size=3)
    assert [lr(e) for e in range(10)] == [2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    assert isinstance(lr(4), float)


def test_exponential_decay_is_lr0_exp_minus_k_t():
    assert ExponentialDecay()(0) == 0.1
    assert ExponentialDecay()(100) == pytest.approx(0.1 / math.e, rel=1e-12)
    lr = ExponentialDecay(lr0=3.0, k=0.5)
    assert lr(4) == pytest.approx(3.0 * math.exp(-2.0), rel=1e-12)
    assert isinstance(lr(1), float)


def test_inverse_time_decay_is_lr0_over_1_plus_k_t():
    assert InverseTimeDecay()(0) == 0.1
    assert InverseTimeDecay()(100) == pytest.approx(0.05, rel=1e-12)
    lr = InverseTimeDecay(lr0=3.0, k=0.5)
    assert lr(4) == pytest.approx(1.0, rel=1e-12)
    assert isinstance(lr(1), float)


@pytest.mark.parametrize("schedule", [StepDecay, ExponentialDecay, InverseTimeDecay])
def test_a_step_count_is_a_non_negative_integer(schedule):
    lr = schedule()
    assert lr(3.0) == lr(3)
    assert lr(0) == 0.1
    for bad in (-1, 2.5, -0.5):
        with pytest.raises(ValueError, match=r"step must be a non-negative integer, received"):
            lr(bad)
