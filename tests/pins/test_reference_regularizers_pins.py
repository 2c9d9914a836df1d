"""The reference penalties and early stopping (``gradekit_reference.regularizers``), pinned to
the spec: L2 ``(lam / 2) ||w||^2`` with gradient ``lam w``, L1 ``lam ||w||_1`` with
``lam sign(w)`` and sign(0) = 0, lam 1e-3 by default; early stopping's improvement by more
than ``min_delta``, the stop ``patience`` epochs after the best one, the copy of the best
weights, and a NaN loss that never improves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradekit_reference.regularizers import L1, L2, EarlyStopping

W = np.array([[0.5, -1.5, 0.0], [2.0, -0.25, 3.0]], dtype=np.float32)


def test_l2_penalty_is_half_lam_times_the_sum_of_squares():
    assert L2().lam == 1e-3
    value = L2(lam=0.2).penalty(W)
    assert isinstance(value, float)
    assert value == pytest.approx(0.1 * (0.25 + 2.25 + 4.0 + 0.0625 + 9.0), rel=1e-12)
    assert L2().penalty(np.array([3.0, 4.0])) == pytest.approx(0.5 * 1e-3 * 25, rel=1e-12)


def test_l2_gradient_is_lam_w():
    grad = L2(lam=0.2).grad(W)
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, 0.2 * W.astype(np.float64), rtol=1e-15)
    np.testing.assert_allclose(L2().grad(np.array([3.0, -4.0])), [3e-3, -4e-3], rtol=1e-15)


def test_l1_penalty_is_lam_times_the_sum_of_magnitudes():
    assert L1().lam == 1e-3
    value = L1(lam=0.2).penalty(W)
    assert isinstance(value, float)
    assert value == pytest.approx(0.2 * 7.25, rel=1e-12)
    assert L1().penalty(np.array([3.0, -4.0])) == pytest.approx(7e-3, rel=1e-12)


def test_l1_gradient_is_lam_sign_w_with_sign_0_equal_0():
    grad = L1(lam=0.2).grad(W)
    assert grad.dtype == np.float64
    assert grad.tolist() == [[0.2, -0.2, 0.0], [0.2, -0.2, 0.2]]
    np.testing.assert_allclose(L1().grad(np.array([3.0, -4.0, 0.0])), [1e-3, -1e-3, 0.0])


def test_early_stopping_starts_with_nothing_seen():
    stop = EarlyStopping()
    assert (stop.patience, stop.min_delta) == (5, 0.0)
    assert (stop.best_loss, stop.best_epoch, stop.best_params) == (math.inf, -1, None)
    assert (stop.wait, stop.epoch) == (0, 0)


def test_early_stopping_stops_patience_epochs_after_the_best_and_keeps_its_weights():
    stop = EarlyStopping(patience=2)
    w = np.array([1.0, 2.0])
    assert stop.step(1.0, {"w": w}) is False
    assert (stop.best_loss, stop.best_epoch, stop.wait, stop.epoch) == (1.0, 0, 0, 1)
    w[0] = 7.0  # the copy is a deep one
    assert stop.best_params["w"].tolist() == [1.0, 2.0]
    assert stop.step(0.5, {"w": np.array([3.0])}) is False
    assert (stop.best_loss, stop.best_epoch, stop.wait, stop.epoch) == (0.5, 1, 0, 2)
    assert stop.step(0.5, {"w": np.array([4.0])}) is False  # equal is no improvement
    assert (stop.wait, stop.epoch, stop.best_epoch) == (1, 3, 1)
    assert stop.step(0.7, {"w": np.array([5.0])}) is True  # epoch b + patience = 3
    assert (stop.wait, stop.epoch) == (2, 4)
    assert stop.best_params == {"w": pytest.approx(np.array([3.0]))}
    assert stop.step(0.1, {"w": np.array([6.0])}) is False  # an improving epoch never stops
    assert (stop.wait, stop.best_epoch, stop.epoch) == (0, 4, 5)


def test_early_stopping_with_patience_0_stops_at_the_first_epoch_without_improvement():
    stop = EarlyStopping(patience=0)
    assert stop.step(1.0, {}) is False
    assert stop.step(2.0, {}) is True


def test_early_stopping_needs_an_improvement_larger_than_min_delta():
    stop = EarlyStopping(patience=3, min_delta=0.1)
    stop.step(1.0, {})
    assert stop.step(0.9, {}) is False and stop.best_loss == 1.0 and stop.wait == 1
    assert stop.step(0.85, {}) is False and stop.best_epoch == 2 and stop.best_loss == 0.85
    assert stop.wait == 0


def test_early_stopping_never_counts_nan_as_an_improvement():
    stop = EarlyStopping(patience=1)
    assert stop.step(float("nan"), {"w": np.zeros(1)}) is True
    assert stop.best_params is None and stop.best_epoch == -1
    assert stop.step(np.float32(2.0), {}) is False and stop.best_loss == 2.0
