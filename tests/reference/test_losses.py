"""The reference losses against central differences and against their formulas written out.

Every check is a small function returning an error so that the same check shows the
reference passing and each loss mutant failing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gradekit.numerics import numeric_gradient, relative_error
from gradekit_reference.losses import Hinge, SoftmaxCrossEntropy, SquaredError
from gradekit_reference.mutants.losses import MUTANTS

GRAD_TOL = 1e-7
"""Largest norm-wise relative error of dL/dy against central differences."""
EXACT_TOL = 1e-10
"""Largest relative error of a closed-form value."""

REFERENCE = {
    "squared_error": SquaredError,
    "softmax_cross_entropy": SoftmaxCrossEntropy,
    "hinge": Hinge,
}


def max_relative_error(received: Any, expected: Any) -> float:
    """Entry-wise relative error; entries below 1e-3 of the largest are floored there."""
    b = np.asarray(expected, dtype=np.float64)
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-300)
    return float(np.max(relative_error(received, b, floor=1e-3 * scale), initial=0.0))


def gradient_error(received: np.ndarray, expected: np.ndarray) -> float:
    """Norm-wise ``||a - b|| / (||a|| + ||b||)``: robust to round-off in tiny entries."""
    a, b = np.asarray(received, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if a.shape != b.shape:
        return np.inf
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


# ----------------------------------------------------------------------------- the inputs


def _regression() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((5, 3)), rng.standard_normal((5, 3))


def _regression_one() -> tuple[np.ndarray, np.ndarray]:
    return np.linspace(-1.0, 1.0, 4).reshape(1, 4), np.linspace(0.5, -0.3, 4).reshape(1, 4)


def _labels() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return 2.0 * rng.standard_normal((6, 4)), np.array([0, 3, 1, 1, 2, 0])


def _onehot() -> tuple[np.ndarray, np.ndarray]:
    z, t = _labels()
    return z, np.eye(4)[t]


def _soft() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    return 2.0 * rng.standard_normal((6, 4)), rng.dirichlet(np.ones(4), size=6)


def _hinge_targets(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    # margins 1 - t z at +-0.21, +-0.64, ... : on both sides of the kink, never on it
    margins = np.linspace(-1.5, 1.5, 8)
    t = np.where(np.arange(8) % 3 == 0, 1.0, -1.0)
    z = t * (1.0 - margins)
    return z.reshape(shape), t.reshape(shape)


CASES: dict[str, tuple[str, Callable[[], tuple[np.ndarray, np.ndarray]]]] = {
    "squared_error": ("squared_error", _regression),
    "squared_error_batch_1": ("squared_error", _regression_one),
    "cross_entropy_labels": ("softmax_cross_entropy", _labels),
    "cross_entropy_onehot": ("softmax_cross_entropy", _onehot),
    "cross_entropy_soft": ("softmax_cross_entropy", _soft),
    "hinge_vector": ("hinge", lambda: _hinge_targets((8,))),
    "hinge_column": ("hinge", lambda: _hinge_targets((8, 1))),
}
"""Case id -> (loss, inputs (y, t))."""


# ------------------------------------------------------------------------------ gradients


def loss_gradient_error(factory: Callable[..., Any], case: str) -> float:
    """Norm-wise relative error of ``backward()`` against central differences of forward."""
    y, t = CASES[case][1]()
    loss = factory()
    loss.forward(y, t)
    analytic = loss.backward()
    numeric = numeric_gradient(lambda: loss.forward(y, t), y, richardson=True)
    return gradient_error(analytic, numeric)


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_matches_central_differences(case: str) -> None:
    assert loss_gradient_error(REFERENCE[CASES[case][0]], case) <= GRAD_TOL


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward_scales_by_dout_and_inputs_are_unchanged(case: str) -> None:
    y, t = CASES[case][1]()
    y_copy, t_copy = y.copy(), t.copy()
    loss = REFERENCE[CASES[case][0]]()
    value = loss.forward(y, t)
    assert isinstance(value, float)
    g1 = loss.backward()
    assert g1.shape == y.shape
    assert max_relative_error(loss.backward(2.5), 2.5 * g1) <= EXACT_TOL
    assert max_relative_error(loss.backward(dout=-0.5), -0.5 * g1) <= EXACT_TOL
    assert np.array_equal(y, y_copy) and np.array_equal(t, t_copy)


# ---------------------------------------------------------------------- values by formula


def squared_error_value(y: np.ndarray, t: np.ndarray) -> float:
    """``(1/N) sum_n ||y_n - t_n||^2``, written out as loops."""
    rows = [
        sum((a - b) ** 2 for a, b in zip(yn, tn, strict=True)) for yn, tn in zip(y, t, strict=True)
    ]
    return sum(rows) / len(rows)


def cross_entropy_value(z: np.ndarray, t: np.ndarray) -> float:
    """``(1/N) sum_n (log sum_k exp z_nk - z_n[t_n])`` for integer labels, written out."""
    rows = [
        math.log(sum(math.exp(v) for v in zn)) - zn[int(tn)] for zn, tn in zip(z, t, strict=True)
    ]
    return sum(rows) / len(rows)


def hinge_value(z: np.ndarray, t: np.ndarray) -> float:
    """``(1/N) sum_n max(0, 1 - t_n z_n)``, written out."""
    rows = [
        max(0.0, 1.0 - float(tn) * float(zn)) for zn, tn in zip(z.ravel(), t.ravel(), strict=True)
    ]
    return sum(rows) / len(rows)


def value_error(factory: Callable[..., Any], case: str) -> float:
    """Relative error of ``forward`` against the formula written out, averaged over N."""
    target, inputs = CASES[case]
    y, t = inputs()
    if target == "squared_error":
        expected = squared_error_value(y, t)
    elif target == "hinge":
        expected = hinge_value(y, t)
    elif t.ndim == 1:
        expected = cross_entropy_value(y, t)
    else:  # one-hot or soft: -(1/N) sum_nk T_nk log softmax_nk, with log softmax written out
        expected = sum(
            -tk * (zk - math.log(sum(math.exp(v) for v in zn)))
            for zn, tn in zip(y, t, strict=True)
            for zk, tk in zip(zn, tn, strict=True)
        ) / len(y)
    return max_relative_error(factory().forward(y, t), expected)


@pytest.mark.parametrize("case", sorted(CASES))
def test_value_matches_formula(case: str) -> None:
    assert value_error(REFERENCE[CASES[case][0]], case) <= EXACT_TOL


def test_squared_error_batch_of_one_is_the_lectures_norm() -> None:
    y, t = _regression_one()
    assert max_relative_error(SquaredError().forward(y, t), np.sum((y - t) ** 2)) <= EXACT_TOL
    loss = SquaredError()
    loss.forward(y, t)
    assert max_relative_error(loss.backward(), 2.0 * (y - t)) <= EXACT_TOL


def test_cross_entropy_accepts_labels_and_onehot_alike() -> None:
    z, labels = _labels()
    by_label, by_onehot = SoftmaxCrossEntropy(), SoftmaxCrossEntropy()
    assert by_label.forward(z, labels) == pytest.approx(by_onehot.forward(z, np.eye(4)[labels]))
    assert max_relative_error(by_label.backward(), by_onehot.backward()) <= EXACT_TOL
    e = np.exp(z)
    softmax = e / e.sum(1, keepdims=True)
    assert max_relative_error(by_label.backward(), (softmax - np.eye(4)[labels]) / 6) <= 1e-12


def large_scores_error(factory: Callable[..., Any]) -> float:
    """Relative error of loss and gradient at scores of 1e4 (inf if anything is not finite).

    With scores this far apart, softmax is exactly one-hot on the row maximum in float64, so
    ``L_n = max_k z_nk - z_n[t_n]`` and ``dL/dz = (onehot(argmax) - onehot(t)) / N``.
    """
    z = 1e4 * np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 2.0], [3.0, -2.0, 0.0]])
    t = np.array([0, 1, 2])
    loss = factory()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        value = loss.forward(z, t)
        grad = loss.backward()
    if not (np.isfinite(value) and np.all(np.isfinite(grad))):
        return np.inf
    rows = np.arange(3)
    expected_value = np.mean(z.max(1) - z[rows, t])
    expected_grad = (np.eye(3)[z.argmax(1)] - np.eye(3)[t]) / 3
    return max(max_relative_error(value, expected_value), max_relative_error(grad, expected_grad))


def test_cross_entropy_large_scores_stay_finite() -> None:
    assert large_scores_error(SoftmaxCrossEntropy) <= EXACT_TOL


def test_hinge_subgradient_is_zero_at_the_kink() -> None:
    t = np.array([1.0, -1.0, 1.0, -1.0])
    z = np.array([1.0, -1.0, 0.5, 2.0])  # t z = 1, 1 (kinks), 0.5 (active), -2 (active)
    loss = Hinge()
    assert loss.forward(z, t) == pytest.approx((0.5 + 3.0) / 4)
    assert np.array_equal(loss.backward(), np.array([0.0, 0.0, -1.0, 1.0]) / 4)


def hinge_kink_error(factory: Callable[..., Any]) -> float:
    """Largest difference of the subgradient from the contract's, with t z = 1 twice."""
    t = np.array([1.0, -1.0, 1.0, -1.0])
    z = np.array([1.0, -1.0, 0.5, 2.0])  # t z = 1, 1 (kinks), 0.5 (active), -2 (active)
    loss = factory()
    loss.forward(z, t)
    return float(np.max(np.abs(loss.backward() - np.array([0.0, 0.0, -1.0, 1.0]) / 4)))


@pytest.mark.parametrize(
    ("factory", "y", "t"),
    [
        (SoftmaxCrossEntropy, np.zeros((2, 3)), np.array([0, 3])),
        (SoftmaxCrossEntropy, np.zeros((2, 3)), np.array([0.5, 1.0])),
        (SoftmaxCrossEntropy, np.zeros((2, 3)), np.zeros((2, 2))),
        (Hinge, np.zeros(3), np.ones((3, 1))),
    ],
    ids=["label_out_of_range", "fractional_label", "target_shape", "hinge_shape"],
)
def test_bad_targets_are_rejected(
    factory: Callable[..., Any], y: np.ndarray, t: np.ndarray
) -> None:
    with pytest.raises(ValueError):
        factory().forward(y, t)


# -------------------------------------------------------------------------------- mutants

CHECKS: dict[str, tuple[str, Callable[[Callable[..., Any]], float], float]] = {
    "gradient_squared_error": (
        "squared_error",
        lambda f: loss_gradient_error(f, "squared_error"),
        GRAD_TOL,
    ),
    "value_squared_error": ("squared_error", lambda f: value_error(f, "squared_error"), EXACT_TOL),
    "large_scores": ("softmax_cross_entropy", large_scores_error, EXACT_TOL),
    "value_cross_entropy": (
        "softmax_cross_entropy",
        lambda f: value_error(f, "cross_entropy_labels"),
        EXACT_TOL,
    ),
    "gradient_cross_entropy": (
        "softmax_cross_entropy",
        lambda f: loss_gradient_error(f, "cross_entropy_labels"),
        GRAD_TOL,
    ),
    "gradient_hinge": ("hinge", lambda f: loss_gradient_error(f, "hinge_vector"), GRAD_TOL),
    "kink_hinge": ("hinge", hinge_kink_error, EXACT_TOL),
}
"""Check name -> (loss, error of a factory, tolerance): the reference passes, a mutant fails."""

DETECTED_BY = {
    "squared_error_grad_no_factor_2": "gradient_squared_error",
    "squared_error_summed": "value_squared_error",
    "softmax_no_max_subtraction": "large_scores",
    "softmax_log_of_probability": "large_scores",
    "cross_entropy_summed": "value_cross_entropy",
    "cross_entropy_grad_not_averaged": "gradient_cross_entropy",
    "hinge_grad_wrong_sign": "gradient_hinge",
    "hinge_kink_active": "kink_hinge",
}
"""Mutant name -> the check that catches it."""


def test_every_mutant_has_a_check() -> None:
    names = [m.name for m in MUTANTS]
    assert len(names) == len(set(names)) and set(names) == set(DETECTED_BY)
    assert set(DETECTED_BY.values()) == set(CHECKS)
    for m in MUTANTS:
        assert m.kind == "losses" and m.target == CHECKS[DETECTED_BY[m.name]][0]


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_reference_passes_mutant_check(check: str) -> None:
    target, error, tol = CHECKS[check]
    assert error(REFERENCE[target]) <= tol


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_is_detected(mutant: Any) -> None:
    _, error, tol = CHECKS[DETECTED_BY[mutant.name]]
    assert not error(mutant.factory) <= tol, f"{mutant.name} passes {DETECTED_BY[mutant.name]}"
