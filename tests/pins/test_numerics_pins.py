"""The finite differences of ``gradekit.numerics``, pinned: each step, each error measure,
and each method to its accuracy (central O(h^2), Richardson cancelling the h^2 term)."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.numerics import (
    STEP,
    directional_derivative,
    numeric_gradient,
    numeric_gradient_array,
    relative_error,
    step_for,
)

A = 30.0
"""exp(A x) has a large third derivative, so the h^2 term of a central difference shows."""


def test_the_step_is_cbrt_eps_times_the_magnitude_of_at_least_one():
    assert pytest.approx(6.055454e-06, rel=1e-6) == STEP
    assert step_for(0.5) == STEP
    assert step_for(-0.0) == STEP
    assert step_for(-4.0) == 4 * STEP
    assert np.array_equal(step_for(np.array([0.1, 2.0, -3.0])), STEP * np.array([1.0, 2.0, 3.0]))


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        (1.0, 1.0, 0.0),
        (1.0, -1.0, 1.0),
        (3.0, 1.0, 0.5),
        (-3.0, -1.0, 0.5),
        (0.0, 0.0, 0.0),
        (1e-13, 0.0, 0.1),  # below the floor of 1e-12, the floor divides
        (4e-12, 2e-12, 2e-12 / 6e-12),
    ],
)
def test_relative_error(a, b, want):
    assert relative_error(np.array([a]), np.array([b]))[0] == pytest.approx(want, rel=1e-12)


def test_relative_error_floor_can_be_chosen():
    assert relative_error(np.array([1e-3]), np.array([0.0]), floor=1e-2)[0] == pytest.approx(0.1)
    assert relative_error(np.array([1.0]), np.array([0.0]), floor=1e-2)[0] == 1.0


def test_numeric_gradient_nudges_each_entry_by_its_step_and_restores_it():
    x = np.array([0.5, -4.0])
    original = x.copy()
    seen = []

    def f() -> float:
        seen.append(x.copy())
        return float(np.sum(x**2))

    grad = numeric_gradient(f, x)
    assert np.array_equal(x, original)
    h0, h1 = STEP, 4 * STEP
    assert [tuple(s) for s in seen] == [
        (0.5 + h0, -4.0),
        (0.5 - h0, -4.0),
        (0.5, -4.0 + h1),
        (0.5, -4.0 - h1),
    ]
    assert grad == pytest.approx([1.0, -8.0], rel=1e-9)
    assert grad.dtype == np.float64


def test_numeric_gradient_is_float64_whatever_the_input():
    x = np.array([0.5, -2.0], dtype=np.float32)
    grad = numeric_gradient(lambda: float(np.sum(x.astype(np.float64) ** 2)), x)
    assert grad.dtype == np.float64
    assert grad == pytest.approx([1.0, -4.0], rel=1e-2)


def test_numeric_gradient_estimates_only_the_indices_asked_for():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    calls = []

    def f() -> float:
        calls.append(1)
        return float(np.sum(x**3))

    grad = numeric_gradient(f, x, indices=[(1, 0)])
    assert len(calls) == 2
    assert grad[1, 0] == pytest.approx(27.0, rel=1e-9)
    assert np.count_nonzero(grad) == 1
    assert np.array_equal(x, [[1.0, 2.0], [3.0, 4.0]])
    assert np.all(numeric_gradient(f, x, indices=[]) == 0)


def test_central_differences_err_by_the_h2_term():
    """For exp(A x) at 0, a central difference is off by f''' h^2 / 6 = A^3 h^2 / 6."""
    x = np.zeros(1)
    got = numeric_gradient(lambda: float(np.exp(A * x[0])), x)[0]
    assert got - A == pytest.approx(A**3 * STEP**2 / 6, rel=0.01)


def test_richardson_extrapolation_cancels_the_h2_term():
    """Richardson's (4 D(h/2) - D(h)) / 3 leaves the h^4 term and round-off: 1e-10 here,
    where the central difference is off by 1.6e-7."""
    x = np.zeros(1)
    got = numeric_gradient(lambda: float(np.exp(A * x[0])), x, richardson=True)[0]
    assert abs(got - A) < 1e-9
    assert np.array_equal(x, [0.0])


def test_numeric_gradient_array_is_the_vector_jacobian_product():
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    got = numeric_gradient_array(lambda z: z**2, x, dout)
    assert got == pytest.approx(2 * x * dout, rel=1e-7, abs=1e-9)


def test_directional_derivative_steps_along_v_scaled_to_x_and_v():
    """The step in e is STEP max(1, max|x|) / max|v|: a nudge of x of about STEP its scale."""
    x, v = np.array([4.0, -1.0]), np.array([0.5, 0.25])
    steps = []

    def f(z: np.ndarray) -> float:
        steps.append((z - x)[0] / v[0])
        return float(np.sum(z**2))

    got = directional_derivative(f, x, v, richardson=False)
    h = STEP * 4.0 / 0.5
    assert steps == pytest.approx([h, -h], rel=1e-6)
    assert got == pytest.approx(2 * (4.0 * 0.5 - 1.0 * 0.25), rel=1e-9)


def test_directional_derivative_step_has_a_scale_of_at_least_one():
    x, v = np.array([0.5, -0.25]), np.array([2.0, 0.0])
    nudges = []
    directional_derivative(lambda z: nudges.append(z - x) or 0.0, x, v, richardson=False)
    assert nudges[0] == pytest.approx([STEP, 0.0], rel=1e-6)  # e = STEP / 2 along v


def test_directional_derivative_is_accurate_with_richardson_by_default():
    x, v = np.zeros(1), np.ones(1)

    def f(z: np.ndarray) -> float:
        return float(np.exp(A * z[0]))

    plain = directional_derivative(f, x, v, richardson=False)
    assert plain - A == pytest.approx(A**3 * STEP**2 / 6, rel=0.01)
    assert abs(directional_derivative(f, x, v) - A) < 1e-9
    assert abs(directional_derivative(f, x, v, richardson=True) - A) < 1e-9
