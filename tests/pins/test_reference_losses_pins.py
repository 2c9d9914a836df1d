"""The reference losses (``gradekit_reference.losses``), pinned to the spec: every loss is the
batch mean, so its gradient carries 1/N; squared error ``||y - t||^2`` with ``dL/dy = 2 (y - t)``;
softmax cross-entropy through a stable log-sum-exp with ``dL/dz = softmax - onehot`` (and
``softmax * sum T - T`` for soft targets); the hinge ``max(0, 1 - t z)`` with subgradient 0 at
the kink ``t z = 1``. Expected values are computed with ``math``, entry by entry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradekit_reference.losses import Hinge, SoftmaxCrossEntropy, SquaredError

Y = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], dtype=np.float32)
T = np.array([[1.0, 0.0, 1.5], [-0.5, 0.75, 0.0]])
Z = np.array([[1.0, 2.0, 0.5, -1.0], [0.0, -0.5, 3.0, 1.0], [2.0, 2.0, 2.0, 0.25]])
LABELS = np.array([1, 3, 0])


def softmax_row(row) -> list[float]:
    e = [math.exp(v) for v in row]
    return [v / sum(e) for v in e]


def test_squared_error_is_the_batch_mean_of_squared_distances():
    loss = SquaredError()
    value = loss.forward(Y, T)
    want = sum((float(Y[n, k]) - T[n, k]) ** 2 for n in range(2) for k in range(3)) / 2
    assert isinstance(value, float) and value == pytest.approx(want, rel=1e-12)
    grad = loss.backward()
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, 2 * (Y.astype(np.float64) - T) / 2, rtol=1e-12)
    np.testing.assert_allclose(loss.backward(3.0), 3.0 * (Y.astype(np.float64) - T), rtol=1e-12)


def test_squared_error_of_one_example_is_the_lectures_sum_of_squares():
    loss = SquaredError()
    assert loss.forward(np.array([[3.0, 1.0]]), np.array([[1.0, 2.0]])) == 5.0
    assert loss.backward().tolist() == [[4.0, -2.0]]
    with pytest.raises(ValueError, match="non-empty batch along axis 0"):
        loss.forward(np.zeros((0, 2)), np.zeros((0, 2)))
    with pytest.raises(ValueError, match="non-empty batch along axis 0"):
        loss.forward(np.array(1.0), np.array(2.0))


def test_squared_error_reads_scores_and_targets_as_float64():
    loss = SquaredError()
    loss.forward(Y, T.astype(np.float32))
    assert loss.backward().dtype == np.float64
    loss.forward(Y.astype(np.float64), T.astype(np.longdouble))
    assert loss.backward().dtype == np.float64
    loss.forward(Y.astype(np.longdouble), T)
    assert loss.backward().dtype == np.float64


def test_cross_entropy_of_labels_is_mean_minus_log_softmax_of_the_label():
    loss = SoftmaxCrossEntropy()
    value = loss.forward(Z.astype(np.float32), LABELS)
    want = -sum(math.log(softmax_row(Z[n])[LABELS[n]]) for n in range(3)) / 3
    assert isinstance(value, float) and value == pytest.approx(want, rel=1e-12)
    grad = loss.backward()
    assert grad.dtype == np.float64
    onehot = np.eye(4)[LABELS]
    want_grad = (np.array([softmax_row(r) for r in Z]) - onehot) / 3
    np.testing.assert_allclose(grad, want_grad, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(loss.backward(2.0), 2.0 * want_grad, rtol=1e-12, atol=1e-15)


def test_cross_entropy_accepts_float_labels_and_one_hot_targets_alike():
    a, b = SoftmaxCrossEntropy(), SoftmaxCrossEntropy()
    assert a.forward(Z, LABELS.astype(float)) == pytest.approx(
        b.forward(Z, np.eye(4)[LABELS]), rel=1e-14
    )
    np.testing.assert_allclose(a.backward(), b.backward(), rtol=1e-14)


def test_cross_entropy_of_soft_targets_weighs_each_log_probability():
    t = np.array([[0.25, 0.25, 0.5, 0.0], [0.0, 1.0, 0.0, 0.0], [2.0, 0.0, 0.0, 1.0]])
    loss = SoftmaxCrossEntropy()
    value = loss.forward(Z, t.astype(np.float32))
    logp = np.array([[math.log(p) for p in softmax_row(r)] for r in Z])
    assert value == pytest.approx(-float(np.sum(t * logp)) / 3, rel=1e-12)
    probs = np.exp(logp)
    want = (probs * t.sum(axis=1, keepdims=True) - t) / 3
    np.testing.assert_allclose(loss.backward(), want, rtol=1e-12, atol=1e-15)


def test_cross_entropy_is_stable_for_huge_scores():
    loss = SoftmaxCrossEntropy()
    with np.errstate(over="raise", invalid="raise"):
        z = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4], [-1e4, 1 - 1e4, -1e4]])
        value = loss.forward(z, np.array([1, 2, 1]))
    # each row is shifted by its own maximum: the last row is softmax(0, 1, 0)
    row3 = math.log(2 + math.e) - 1
    assert value == pytest.approx((1e4 + math.log(2) + row3) / 3, rel=1e-12)
    p = math.e / (2 + math.e)
    want = [[1.0, -1.0, 0.0], [0.0, 0.5, -0.5], [(1 - p) / 2, p - 1, (1 - p) / 2]]
    np.testing.assert_allclose(loss.backward(), np.array(want) / 3, atol=1e-15)


def test_cross_entropy_rejects_bad_labels_and_shapes():
    loss = SoftmaxCrossEntropy()
    for bad in (np.array([0, 4, 1]), np.array([0, -1, 1]), np.array([0.5, 1, 2])):
        with pytest.raises(ValueError, match=r"labels must be integers in \[0, 4\)"):
            loss.forward(Z, bad)
    loss.forward(Z, np.array([0, 3, 3]))
    with pytest.raises(ValueError, match="do not fit scores"):
        loss.forward(Z, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"expected scores of shape \(N, K\)"):
        loss.forward(Z[0], LABELS[:1])
    with pytest.raises(ValueError, match="non-empty batch"):
        loss.forward(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_hinge_is_the_batch_mean_of_max_0_1_minus_t_z():
    z = np.array([2.0, 0.5, -0.25, 1.0, -1.0, 0.0], dtype=np.float32)
    t = np.array([1.0, 1.0, 1.0, 1.0, -1.0, -1.0])
    loss = Hinge()
    value = loss.forward(z, t)
    want = sum(max(0.0, 1 - ti * float(zi)) for zi, ti in zip(z, t, strict=True)) / 6
    assert isinstance(value, float) and value == pytest.approx(want, rel=1e-12)
    grad = loss.backward()
    assert grad.dtype == np.float64
    # violated where 1 - t z > 0: entries 1, 2 and 5; t z = 1 exactly at entries 3 and 4
    assert grad.tolist() == pytest.approx([0.0, -1 / 6, -1 / 6, 0.0, 0.0, 1 / 6], abs=1e-15)
    assert loss.backward(3.0).tolist() == pytest.approx([0.0, -0.5, -0.5, 0.0, 0.0, 0.5], abs=1e-15)


def test_hinge_reads_scores_and_targets_as_float64():
    loss = Hinge()
    loss.forward(np.array([0.5, 2.0], dtype=np.float32), np.array([1.0, -1.0], dtype=np.float32))
    assert loss.backward().dtype == np.float64
    # 1 - 2^-60 is 1.0 in float64: exactly at the kink, where the subgradient is 0
    z = np.array([1.0, 1.0], dtype=np.longdouble) - np.longdouble(2.0) ** -60
    assert loss.forward(z, np.array([1.0, 1.0])) == 0.0
    assert loss.backward().tolist() == [0.0, 0.0]


def test_hinge_takes_column_scores_and_rejects_mismatched_targets():
    loss = Hinge()
    z, t = np.array([[0.5], [3.0]]), np.array([[1.0], [-1.0]])
    assert loss.forward(z, t) == pytest.approx((0.5 + 4.0) / 2)
    assert loss.backward().tolist() == [[-0.5], [0.5]]
    with pytest.raises(ValueError, match="do not match scores"):
        loss.forward(np.array([0.5, 3.0]), t)
    with pytest.raises(ValueError, match="non-empty batch"):
        loss.forward(np.zeros(0), np.zeros(0))
