"""The reference activations (``gradekit_reference.activations``), pinned to the spec's table:
each f and f' against ``math`` closed forms entry by entry, the convention at the kink
(ReLU f'(0) = 0, leaky ReLU and PReLU f'(0) = a, ELU f'(0) = alpha), each default
(leaky 0.1, PReLU 0.25, ELU 1, SELU's constants, exact GELU, Swish beta 1), float64 outputs
for float32 inputs, and no overflow at +-1000."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradekit_reference.activations import (
    ELU,
    GELU,
    SELU,
    LeakyReLU,
    PReLU,
    ReLU,
    Sigmoid,
    Softplus,
    Swish,
    Tanh,
    sigmoid,
    std_normal_cdf,
)

X = np.array([-3.0, -1.5, -0.25, 0.0, 0.25, 0.5, 2.0, 3.5], dtype=np.float32)
"""Exact in float32: a float32 computation rounds where the float64 formula does not."""
DOUT = np.array([0.3, -1.2, 0.7, 1.1, -0.4, 0.9, 1.3, -0.6])
ALPHA = 1.6732632423543772
LAMBDA = 1.0507009873554805


def logistic(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def phi_cdf(v: float) -> float:
    return 0.5 * (1.0 + math.erf(v / math.sqrt(2.0)))


def gelu_tanh(v: float) -> float:
    return 0.5 * v * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v**3)))


def elementwise(f) -> np.ndarray:
    return np.array([f(float(v)) for v in X])


def numeric(f, v: float, h: float = 1e-5) -> float:
    """Central difference (error O(h^2) away from kinks)."""
    return (f(v + h) - f(v - h)) / (2 * h)


def same(got: np.ndarray, want: np.ndarray, rtol: float = 1e-12) -> None:
    assert got.dtype == np.float64
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-15)


def run(layer, x=X, dout=DOUT) -> tuple[np.ndarray, np.ndarray]:
    return layer.forward(x), layer.backward(dout)


def test_sigmoid_is_1_over_1_plus_exp_minus_x_without_overflow():
    same(sigmoid(X), elementwise(logistic))
    same(sigmoid(np.array([-1000.0, 1000.0])), np.array([0.0, 1.0]))
    assert sigmoid(np.array([-40.0]))[0] == pytest.approx(math.exp(-40.0), rel=1e-12)
    assert sigmoid(np.array([True, False])).tolist() == [logistic(1.0), 0.5]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        sigmoid(np.array([-1000.0, 1000.0]))


def test_std_normal_cdf_is_phi_in_both_tails():
    same(std_normal_cdf(X), elementwise(phi_cdf))
    assert std_normal_cdf(np.array([-10.0]))[0] == pytest.approx(
        0.5 * math.erfc(10 / math.sqrt(2)), rel=1e-12
    )


def test_sigmoid_layer_backward_is_s_times_1_minus_s():
    y, dx = run(Sigmoid())
    same(y, elementwise(logistic))
    same(dx, DOUT * elementwise(lambda v: logistic(v) * (1 - logistic(v))))


def test_tanh_backward_is_1_minus_tanh_squared():
    y, dx = run(Tanh())
    same(y, elementwise(math.tanh))
    same(dx, DOUT * elementwise(lambda v: 1 - math.tanh(v) ** 2))


def test_relu_passes_positive_inputs_and_has_zero_slope_at_zero():
    y, dx = run(ReLU())
    same(y, np.maximum(X.astype(np.float64), 0.0))
    same(dx, np.where(X > 0, DOUT, 0.0))
    assert dx[X == 0] == 0.0 and dx[X == 0.25] == DOUT[X == 0.25]


def test_leaky_relu_default_slope_is_the_lectures_0_1_also_at_zero():
    y, dx = run(LeakyReLU())
    xs = X.astype(np.float64)
    same(y, np.where(xs > 0, xs, 0.1 * xs))
    same(dx, np.where(xs > 0, DOUT, 0.1 * DOUT))
    assert dx[3] == pytest.approx(0.1 * DOUT[3])
    y, dx = run(LeakyReLU(alpha=0.3))
    same(y, np.where(xs > 0, xs, 0.3 * xs))
    same(dx, np.where(xs > 0, DOUT, 0.3 * DOUT))


def test_prelu_starts_at_a_0_25_and_learns_sum_of_dy_times_min_0_x():
    layer = PReLU()
    assert layer.params["a"].dtype == np.float64 and layer.params["a"].tolist() == [0.25]
    assert layer.grads["a"].dtype == np.float64 and layer.grads["a"].tolist() == [0.0]
    xs = X.astype(np.float64)
    y, dx = run(layer)
    same(y, np.where(xs > 0, xs, 0.25 * xs))
    same(dx, np.where(xs > 0, DOUT, 0.25 * DOUT))
    assert dx[3] == pytest.approx(0.25 * DOUT[3])
    assert list(layer.grads) == ["a"] and layer.grads["a"].shape == (1,)
    assert layer.grads["a"][0] == pytest.approx(float(np.sum(DOUT * np.minimum(xs, 0))), rel=1e-12)


def test_prelu_reads_its_current_slope_and_init():
    layer = PReLU(init=0.5)
    assert layer.params["a"].tolist() == [0.5]
    layer.params["a"] = np.array([2.0])
    assert layer.forward(np.array([-1.5, 3.0])).tolist() == [-3.0, 3.0]


def test_prelu_has_one_slope_per_feature_on_the_last_axis():
    layer = PReLU(num_parameters=4, init=0.2)
    assert layer.params["a"].tolist() == [0.2] * 4 and layer.grads["a"].tolist() == [0.0] * 4
    a = np.array([0.1, 0.2, 0.3, 0.4])
    layer.params["a"] = a
    x = np.linspace(-2.0, 1.5, 24).reshape(2, 3, 4)
    dy = np.linspace(0.5, -0.9, 24).reshape(2, 3, 4)
    y, dx = layer.forward(x.astype(np.float32)), layer.backward(dy)
    same(y, np.where(x > 0, x, a * x), rtol=1e-6)
    same(dx, np.where(x > 0, dy, a * dy), rtol=1e-6)
    want = np.array(
        [
            sum(dy[i, j, k] * min(x[i, j, k], 0.0) for i in range(2) for j in range(3))
            for k in range(4)
        ]
    )
    assert layer.grads["a"].shape == (4,)
    np.testing.assert_allclose(layer.grads["a"], want, rtol=1e-6)
    layer = PReLU(num_parameters=3)
    layer.forward(np.ones((5, 3)))
    for bad in (np.ones((4, 1)), np.ones((3, 2)), np.array(1.0)):
        with pytest.raises(ValueError, match=r"PReLU: num_parameters = 3 slopes"):
            layer.forward(bad)


def test_prelu_of_float32_inputs_is_float64():
    y = PReLU().forward(X)
    same(y, np.where(X > 0, X, 0.25 * X.astype(np.float64)))


def test_elu_is_alpha_expm1_below_zero_with_slope_alpha_at_zero():
    xs = X.astype(np.float64)
    y, dx = run(ELU())
    same(y, elementwise(lambda v: v if v > 0 else math.expm1(v)))
    same(dx, DOUT * elementwise(lambda v: 1.0 if v > 0 else math.exp(v)))
    y, dx = run(ELU(alpha=2.0))
    same(y, elementwise(lambda v: v if v > 0 else 2.0 * math.expm1(v)))
    same(dx, DOUT * elementwise(lambda v: 1.0 if v > 0 else 2.0 * math.exp(v)))
    assert dx[xs == 0] == pytest.approx(2.0 * DOUT[xs == 0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y, dx = run(ELU(), np.array([1000.0, -1000.0]), np.array([1.0, 1.0]))
    same(y, np.array([1000.0, -1.0]))
    same(dx, np.array([1.0, 0.0]))


def test_selu_is_lambda_times_elu_alpha_with_klambauers_constants():
    layer = SELU()
    assert (layer.alpha, layer.scale) == (ALPHA, LAMBDA)
    y, dx = run(layer)
    same(y, elementwise(lambda v: LAMBDA * (v if v > 0 else ALPHA * math.expm1(v))))
    same(dx, DOUT * elementwise(lambda v: LAMBDA * (1.0 if v > 0 else ALPHA * math.exp(v))))


def test_gelu_is_exact_x_phi_by_default():
    y, dx = run(GELU())
    same(y, elementwise(lambda v: v * phi_cdf(v)))
    pdf = elementwise(lambda v: math.exp(-v * v / 2) / math.sqrt(2 * math.pi))
    same(dx, DOUT * (elementwise(phi_cdf) + X * pdf))


def test_gelu_tanh_approximation_and_its_exact_derivative():
    y, dx = run(GELU(approximate=True))
    same(y, elementwise(gelu_tanh))
    want = elementwise(lambda v: numeric(gelu_tanh, v))
    np.testing.assert_allclose(dx, DOUT * want, rtol=1e-8, atol=1e-10)
    assert dx.dtype == np.float64


def test_softplus_is_log_1_plus_exp_x_with_slope_sigmoid():
    y, dx = run(Softplus())
    same(y, elementwise(lambda v: math.log1p(math.exp(v))))
    same(dx, DOUT * elementwise(logistic))
    y, _ = run(Softplus(), np.array([1000.0, -1000.0]), np.array([1.0, 1.0]))
    same(y, np.array([1000.0, 0.0]))


def test_swish_is_x_sigmoid_beta_x_and_silu_at_beta_1():
    y, dx = run(Swish())
    same(y, elementwise(lambda v: v * logistic(v)))
    same(dx, DOUT * elementwise(lambda v: logistic(v) + v * logistic(v) * (1 - logistic(v))))
    y, dx = run(Swish(beta=2.0))
    same(y, elementwise(lambda v: v * logistic(2 * v)))
    want = elementwise(lambda v: numeric(lambda u: u * logistic(2 * u), v))
    np.testing.assert_allclose(dx, DOUT * want, rtol=1e-8)


FACTORIES = [Sigmoid, Tanh, ReLU, LeakyReLU, PReLU, ELU, SELU, GELU, Softplus, Swish]


@pytest.mark.parametrize("factory", FACTORIES)
def test_every_activation_computes_in_float64_whatever_the_float_type(factory):
    layer = factory()
    assert layer.params == ({"a": pytest.approx([0.25])} if factory is PReLU else {})
    assert layer.grads == ({"a": pytest.approx([0.0])} if factory is PReLU else {})
    for dtype in (np.float32, np.longdouble):
        assert layer.forward(X.astype(dtype)).dtype == np.float64
        assert layer.backward(DOUT.astype(dtype)).dtype == np.float64
        assert all(g.dtype == np.float64 for g in layer.grads.values())


@pytest.mark.parametrize("factory", FACTORIES)
def test_backward_needs_a_forward_of_the_same_shape(factory):
    layer = factory()
    name = factory.__name__
    with pytest.raises(RuntimeError, match=rf"^{name}.backward called before forward$"):
        layer.backward(DOUT)
    layer.forward(X)
    with pytest.raises(
        ValueError,
        match=rf"^{name}.backward: dout has shape \(2,\), expected \(8,\) \(the shape of the last",
    ):
        layer.backward(DOUT[:2])


def test_prelu_keeps_its_arguments_and_a_float64_slope_of_any_init():
    layer = PReLU(num_parameters=2, init=1)
    assert (layer.num_parameters, layer.init) == (2, 1)
    assert layer.params["a"].dtype == np.float64 and layer.params["a"].tolist() == [1.0, 1.0]
    layer.params["a"] = np.array([0.5, 2.0], dtype=np.longdouble)
    y = layer.forward(np.array([[-1.0, -1.0], [3.0, 1.0]]))
    assert y.dtype == np.float64 and y.tolist() == [[-0.5, -2.0], [3.0, 1.0]]
    assert layer.backward(np.ones((2, 2))).dtype == np.float64


def test_prelu_grad_has_the_shape_of_its_slope():
    layer = PReLU()
    layer.params["a"] = np.array(0.5)
    layer.forward(np.array([-2.0, 3.0]))
    layer.backward(np.array([1.0, 1.0]))
    assert layer.grads["a"].shape == () and float(layer.grads["a"]) == -2.0
