"""The reference layers (``gradekit_reference.layers``), pinned to the spec: ``y = x @ W + b``
with its three gradients and the lecture's Xavier N(0, 1/Din) default; batchnorm's biased
batch variance, eps 1e-5, momentum 0.1 in torch's direction, eval on the running statistics,
and its backward against central differences; dropout's keep probability p with
``mask = (u < p) / p`` (inverted) or ``u < p`` and ``p x`` at test time (vanilla);
dropconnect's mask on the weights and ``p W`` at test time. The uniform draws come from a
stub generator, so every mask is known."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit_reference.layers import BatchNorm, DropConnect, Dropout, Linear, VanillaDropout

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [-2.0, 1.0, 0.75], [0.0, 3.0, -1.25]])
DY = np.array([[0.3, -0.7], [1.1, 0.2], [-0.4, 0.9], [0.6, -1.3]])
U = np.array([[0.1, 0.5, 0.9], [0.49, 0.51, 0.0], [0.7, 0.2, 0.5], [0.5, 0.3, 0.99]])
"""Uniform draws holding p = 0.5 itself: kept only if u < p."""


class Stub:
    """A generator whose uniform and normal draws are given arrays (shape-checked)."""

    def __init__(self, u=None, normal=None):
        self.u, self.normal, self.shapes = u, normal, []

    def random(self, shape):
        self.shapes.append(shape)
        assert tuple(shape) == self.u.shape
        return self.u

    def standard_normal(self, shape):
        self.shapes.append(shape)
        assert tuple(shape) == self.normal.shape
        return self.normal


def f64(a: np.ndarray) -> np.ndarray:
    assert isinstance(a, np.ndarray) and a.dtype == np.float64
    return a


def test_linear_is_x_at_w_plus_b_with_summed_gradients():
    w = np.array([[1.0, -2.0], [0.5, 0.25], [-1.5, 3.0]])
    layer = Linear(3, 2, rng=np.random.default_rng(0))
    assert (layer.din, layer.dout, layer.weight_init) == (3, 2, None)
    assert list(layer.params) == ["W", "b"] and f64(layer.params["b"]).tolist() == [0.0, 0.0]
    assert {k: v.tolist() for k, v in layer.grads.items()} == {"W": [[0.0] * 2] * 3, "b": [0.0] * 2}
    layer.params = {"W": w, "b": np.array([0.1, -0.2])}
    y = layer.forward(X.astype(np.float32))
    want = [
        [sum(X[n, i] * w[i, j] for i in range(3)) + (0.1, -0.2)[j] for j in range(2)]
        for n in range(4)
    ]
    np.testing.assert_allclose(f64(y), want, rtol=1e-12)
    dx = layer.backward(DY.astype(np.float32))
    assert list(layer.grads) == ["W", "b"]
    dw = [[sum(X[n, i] * DY[n, j] for n in range(4)) for j in range(2)] for i in range(3)]
    np.testing.assert_allclose(f64(layer.grads["W"]), dw, rtol=1e-6)
    np.testing.assert_allclose(f64(layer.grads["b"]), DY.sum(axis=0), rtol=1e-6)
    np.testing.assert_allclose(f64(dx), DY @ w.T, rtol=1e-6)


def test_linear_outputs_are_float64_for_any_float_input():
    layer = Linear(3, 2, rng=np.random.default_rng(0))
    x = X.astype(np.longdouble)
    assert layer.forward(x, training=False).dtype == np.float64
    assert layer.backward(DY.astype(np.longdouble)).dtype == np.float64
    assert layer.grads["W"].dtype == np.float64 and layer.grads["b"].dtype == np.float64


def test_linear_default_init_is_xavier_n_0_1_over_din_from_its_rng():
    normal = np.arange(15.0).reshape(5, 3) - 7
    rng = Stub(normal=normal)
    layer = Linear(5, 3, rng=rng)
    assert layer.rng is rng and rng.shapes == [(5, 3)]
    np.testing.assert_allclose(f64(layer.params["W"]), normal / np.sqrt(5), rtol=1e-15)
    assert isinstance(Linear(2, 2).rng, np.random.Generator)


def test_linear_draws_w_with_the_given_init_and_rng():
    calls = []

    def init(shape, rng):
        calls.append((shape, rng))
        return np.full(shape, 0.5, dtype=np.float32)

    rng = np.random.default_rng(1)
    layer = Linear(4, 2, weight_init=init, rng=rng)
    assert calls == [((4, 2), rng)] and layer.weight_init is init
    assert f64(layer.params["W"]).tolist() == [[0.5, 0.5]] * 4


def bn_numeric(x, dy, gamma, beta, h=1e-6):
    """Central differences of sum(dy * batchnorm(x)) in x, from a fresh layer each time."""

    def loss(v):
        layer = BatchNorm(v.shape[1])
        layer.params = {"gamma": gamma, "beta": beta}
        return float(np.sum(dy * layer.forward(v)))

    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        grad[idx] = (loss(x + e) - loss(x - e)) / (2 * h)
    return grad


def test_batchnorm_normalizes_with_the_biased_batch_variance_and_eps_1e_5():
    x = np.array([[1.0, 0.01, 5.0], [2.0, -0.01, 5.0], [4.0, 0.0, 5.0], [5.0, 0.02, 5.0]])
    layer = BatchNorm(3)
    assert (layer.dim, layer.eps, layer.momentum) == (3, 1e-5, 0.1)
    assert list(layer.params) == ["gamma", "beta"]
    assert (
        f64(layer.params["gamma"]).tolist() == [1.0] * 3
        and layer.params["beta"].tolist() == [0.0] * 3
    )
    assert {k: v.tolist() for k, v in layer.grads.items()} == {
        "gamma": [0.0] * 3,
        "beta": [0.0] * 3,
    }
    assert (
        f64(layer.running_mean).tolist() == [0.0] * 3
        and f64(layer.running_var).tolist() == [1.0] * 3
    )
    y = layer.forward(x)
    for j in range(3):
        col = x[:, j]
        mu = sum(col) / 4
        var = sum((c - mu) ** 2 for c in col) / 4  # divide by N, not N - 1
        np.testing.assert_allclose(y[:, j], (col - mu) / np.sqrt(var + 1e-5), rtol=1e-9, atol=1e-12)
    assert np.all(y[:, 2] == 0.0)


def test_batchnorm_applies_gamma_and_beta_and_its_own_eps():
    layer = BatchNorm(3, eps=0.5)
    gamma, beta = np.array([2.0, -1.0, 0.5]), np.array([0.1, 0.2, -0.3])
    layer.params = {"gamma": gamma, "beta": beta}
    y = f64(layer.forward(X.astype(np.float32)))
    mu, var = X.mean(axis=0), X.var(axis=0)
    np.testing.assert_allclose(y, gamma * (X - mu) / np.sqrt(var + 0.5) + beta, rtol=1e-12)


def test_batchnorm_running_statistics_move_by_momentum_towards_the_batch():
    layer = BatchNorm(3)
    layer.forward(X)
    mu, var = X.mean(axis=0), X.var(axis=0)
    np.testing.assert_allclose(layer.running_mean, 0.1 * mu, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * var, rtol=1e-12)
    x2 = X[::-1] * 2 + 1
    layer.forward(x2, training=True)
    np.testing.assert_allclose(
        layer.running_mean, 0.9 * 0.1 * mu + 0.1 * x2.mean(axis=0), rtol=1e-12
    )
    np.testing.assert_allclose(
        layer.running_var, 0.9 * (0.9 + 0.1 * var) + 0.1 * x2.var(axis=0), rtol=1e-12
    )
    layer = BatchNorm(3, momentum=0.25)
    layer.forward(X)
    np.testing.assert_allclose(layer.running_mean, 0.25 * mu, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, 0.75 + 0.25 * var, rtol=1e-12)


def test_batchnorm_eval_uses_the_running_statistics_and_leaves_them():
    layer = BatchNorm(3)
    rm, rv = np.array([0.5, -1.0, 2.0]), np.array([4.0, 0.25, 1.0])
    layer.running_mean, layer.running_var = rm.copy(), rv.copy()
    gamma = np.array([2.0, -1.0, 0.5])
    layer.params = {"gamma": gamma, "beta": np.array([0.1, 0.2, -0.3])}
    y = layer.forward(X, training=False)
    np.testing.assert_allclose(
        y, gamma * (X - rm) / np.sqrt(rv + 1e-5) + layer.params["beta"], rtol=1e-12
    )
    assert layer.running_mean.tolist() == rm.tolist() and layer.running_var.tolist() == rv.tolist()
    dy = DY[:, :1] * np.array([1.0, -2.0, 0.5])
    dx = layer.backward(dy)
    np.testing.assert_allclose(dx, dy * gamma / np.sqrt(rv + 1e-5), rtol=1e-12)
    xhat = (X - rm) / np.sqrt(rv + 1e-5)
    np.testing.assert_allclose(layer.grads["gamma"], (dy * xhat).sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(layer.grads["beta"], dy.sum(axis=0), rtol=1e-12)


def test_batchnorm_training_backward_matches_central_differences():
    gamma, beta = np.array([2.0, -1.0, 0.5]), np.array([0.1, 0.2, -0.3])
    dy = np.array([[0.3, -0.7, 1.0], [1.1, 0.2, -0.5], [-0.4, 0.9, 0.25], [0.6, -1.3, 2.0]])
    layer = BatchNorm(3)
    layer.params = {"gamma": gamma, "beta": beta}
    layer.forward(X)
    dx = f64(layer.backward(dy.astype(np.float32)))
    np.testing.assert_allclose(dx, bn_numeric(X, dy, gamma, beta), rtol=1e-6, atol=1e-8)
    xhat = (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + 1e-5)
    assert list(layer.grads) == ["gamma", "beta"]
    np.testing.assert_allclose(f64(layer.grads["gamma"]), (dy * xhat).sum(axis=0), rtol=1e-6)
    np.testing.assert_allclose(f64(layer.grads["beta"]), dy.sum(axis=0), rtol=1e-6)


def test_batchnorm_batch_variance_is_the_mean_squared_deviation():
    x = 1e8 + np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 1.0]])
    var = BatchNorm(2).batch_variance(x, x.mean(axis=0))
    np.testing.assert_allclose(var, [8 / 3, 14 / 3], rtol=1e-6)


def test_batchnorm_float32_inputs_give_float64_outputs():
    layer = BatchNorm(3)
    assert layer.forward(X.astype(np.float32)).dtype == np.float64


def test_inverted_dropout_keeps_u_below_p_and_scales_by_1_over_p():
    layer = Dropout(rng=Stub(u=U))
    assert layer.p == 0.5 and layer.params == {} and layer.grads == {}
    y = f64(layer.forward(X[:, :3].astype(np.float32)))
    mask = np.where(U < 0.5, 2.0, 0.0)
    assert y.tolist() == (X * mask).tolist()
    assert f64(layer.backward(DY[:, :1] * np.ones(3))).tolist() == (DY[:, :1] * mask).tolist()
    assert layer.backward(np.ones((4, 3), dtype=np.longdouble)).dtype == np.float64
    layer = Dropout(p=0.8, rng=Stub(u=U))
    assert layer.forward(X).tolist() == (X * np.where(U < 0.8, 1 / 0.8, 0.0)).tolist()


def test_inverted_dropout_is_the_identity_at_test_time():
    layer = Dropout(p=0.3, rng=Stub(u=U))
    y = layer.forward(X.astype(np.float32), training=False)
    assert f64(y).tolist() == X.tolist()
    assert layer.backward(DY[:, :1] * np.ones(3)).tolist() == (DY[:, :1] * np.ones(3)).tolist()
    assert isinstance(Dropout().rng, np.random.Generator)
    rng = np.random.default_rng(0)
    assert Dropout(rng=rng).rng is rng


def test_vanilla_dropout_keeps_u_below_p_and_scales_by_p_at_test_time():
    layer = VanillaDropout(rng=Stub(u=U))
    assert layer.p == 0.5 and layer.params == {} and layer.grads == {}
    y = f64(layer.forward(X))
    mask = (U < 0.5).astype(float)
    assert y.tolist() == (X * mask).tolist()
    assert f64(layer.backward(DY[:, :1] * np.ones(3))).tolist() == (DY[:, :1] * mask).tolist()
    assert layer.backward(np.ones((4, 3), dtype=np.longdouble)).dtype == np.float64
    layer = VanillaDropout(p=0.3, rng=Stub(u=U))
    y = f64(layer.forward(X.astype(np.float32), training=False))
    np.testing.assert_allclose(y, 0.3 * X, rtol=1e-15)
    np.testing.assert_allclose(layer.backward(np.ones((4, 3))), np.full((4, 3), 0.3), rtol=1e-15)
    assert isinstance(VanillaDropout().rng, np.random.Generator)
    rng = np.random.default_rng(0)
    assert VanillaDropout(rng=rng).rng is rng


def test_dropconnect_masks_the_weights_in_training():
    w = np.array([[1.0, -2.0, 0.5], [0.5, 0.25, 1.0], [-1.5, 3.0, 2.0], [2.0, 1.0, -1.0]])
    rng = Stub(u=U)
    layer = DropConnect(4, 3, rng=np.random.default_rng(0))
    assert (layer.din, layer.dout, layer.p) == (4, 3, 0.5) and layer.params["W"].shape == (4, 3)
    layer.rng = rng
    b = np.array([0.1, -0.2, 0.3])
    layer.params = {"W": w, "b": b}
    xs = X.T[:, :4]  # (3, 4)
    m = (U < 0.5).astype(float)
    y = f64(layer.forward(xs.astype(np.float32)))
    np.testing.assert_allclose(y, xs @ (w * m) + b, rtol=1e-12)
    dy = np.array([[0.3, -0.7, 1.0], [1.1, 0.2, -0.5], [-0.4, 0.9, 0.25]])
    dx = f64(layer.backward(dy.astype(np.float32)))
    assert list(layer.grads) == ["W", "b"]
    np.testing.assert_allclose(f64(layer.grads["W"]), (xs.T @ dy) * m, rtol=1e-6)
    np.testing.assert_allclose(f64(layer.grads["b"]), dy.sum(axis=0), rtol=1e-6)
    np.testing.assert_allclose(dx, dy @ (w * m).T, rtol=1e-6)


def test_dropconnect_scales_the_weights_by_p_at_test_time():
    w = np.arange(12.0).reshape(4, 3) - 5
    layer = DropConnect(4, 3, p=0.3, rng=np.random.default_rng(0))
    layer.params = {"W": w, "b": np.array([0.1, -0.2, 0.3])}
    xs = X.T[:, :4]
    y = f64(layer.forward(xs.astype(np.float32), training=False))
    np.testing.assert_allclose(y, xs @ (0.3 * w) + layer.params["b"], rtol=1e-12)
    assert layer.forward(xs.astype(np.longdouble), training=False).dtype == np.float64
    dy = np.ones((3, 3))
    np.testing.assert_allclose(layer.backward(dy), dy @ (0.3 * w).T, rtol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], 0.3 * (xs.T @ dy), rtol=1e-12)


def test_dropconnect_initializes_w_as_linear_does():
    normal = np.arange(6.0).reshape(2, 3)
    rng = Stub(normal=normal)
    layer = DropConnect(2, 3, rng=rng)
    assert layer.rng is rng and layer.weight_init is None
    np.testing.assert_allclose(layer.params["W"], normal / np.sqrt(2), rtol=1e-15)
    assert layer.params["b"].tolist() == [0.0] * 3

    def init(shape, g):
        return np.full(shape, 0.25)

    layer = DropConnect(2, 3, weight_init=init, rng=rng)
    assert layer.weight_init is init and layer.params["W"].tolist() == [[0.25] * 3] * 2


@pytest.mark.parametrize("factory", [Dropout, VanillaDropout])
def test_dropout_draws_a_mask_of_the_input_shape_from_its_rng(factory):
    layer = factory()
    layer.rng = np.random.default_rng(3)
    y = layer.forward(np.ones((50, 40)))
    assert y.shape == (50, 40)
    kept = y != 0
    assert 0.4 < kept.mean() < 0.6
