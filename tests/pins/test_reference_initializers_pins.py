"""The reference initializers (``gradekit_reference.initializers``), pinned to the spec's
standard deviations for ``W`` of shape (fan_in, fan_out): the lecture's Xavier
``1/sqrt(fan_in)``, Glorot ``sqrt(2 / (fan_in + fan_out))`` (uniform limit
``sqrt(6 / (fan_in + fan_out))``), He ``sqrt(2 / fan_in)`` (limit ``sqrt(6 / fan_in)``), the
small Gaussian's 0.01, the uniform's 0.05; and each draw, read from a stub generator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradekit_reference.initializers import (
    Constant,
    Glorot,
    GlorotUniform,
    He,
    HeUniform,
    Normal,
    Uniform,
    Xavier,
    XavierUniform,
)

SHAPE = (8, 2)


class Stub:
    """A generator that records its calls and returns fixed draws of the asked size."""

    def __init__(self):
        self.calls = []

    def standard_normal(self, size, dtype=None):
        self.calls.append(("standard_normal", size, dtype))
        return np.linspace(-1.0, 1.0, math.prod(size)).reshape(size)

    def uniform(self, low, high, size):
        self.calls.append(("uniform", low, high, size))
        return np.linspace(low, high, math.prod(size), dtype=np.float32).reshape(size)


GAUSSIAN = [
    (Normal, {}, 0.01),
    (Normal, {"std": 0.05}, 0.05),
    (Xavier, {}, 1 / math.sqrt(8)),
    (Glorot, {}, math.sqrt(2 / 10)),
    (He, {}, math.sqrt(2 / 8)),
]
UNIFORM = [
    (Uniform, {}, 0.05),
    (Uniform, {"limit": 0.3}, 0.3),
    (XavierUniform, {}, math.sqrt(3 / 8)),
    (GlorotUniform, {}, math.sqrt(6 / 10)),
    (HeUniform, {}, math.sqrt(6 / 8)),
]
"""Classes and keyword arguments: each test builds its initializer while it runs."""


@pytest.mark.parametrize(("factory", "kwargs", "std"), GAUSSIAN)
def test_gaussians_draw_std_times_a_standard_normal(factory, kwargs, std):
    init = factory(**kwargs)
    assert init.std(SHAPE) == pytest.approx(std, rel=1e-15)
    assert isinstance(init.std(SHAPE), float)
    rng = Stub()
    w = init(SHAPE, rng)
    assert rng.calls == [("standard_normal", SHAPE, np.float64)]
    assert w.dtype == np.float64 and w.shape == SHAPE
    np.testing.assert_allclose(w, std * np.linspace(-1.0, 1.0, 16).reshape(SHAPE), rtol=1e-15)


@pytest.mark.parametrize(("factory", "kwargs", "bound"), UNIFORM)
def test_uniforms_draw_between_minus_and_plus_the_bound(factory, kwargs, bound):
    init = factory(**kwargs)
    assert init.bound(SHAPE) == pytest.approx(bound, rel=1e-15)
    assert init.std(SHAPE) == pytest.approx(bound / math.sqrt(3), rel=1e-15)
    rng = Stub()
    w = init(SHAPE, rng)
    assert len(rng.calls) == 1
    _, low, high, size = rng.calls[0]
    assert (low, high, size) == (
        pytest.approx(-bound, rel=1e-15),
        pytest.approx(bound, rel=1e-15),
        SHAPE,
    )
    assert w.dtype == np.float64 and w.shape == SHAPE


def test_the_uniforms_variance_matches_their_gaussians():
    for shape in [(8, 2), (3, 7)]:
        assert XavierUniform().std(shape) == pytest.approx(Xavier().std(shape), rel=1e-15)
        assert GlorotUniform().std(shape) == pytest.approx(Glorot().std(shape), rel=1e-15)
        assert HeUniform().std(shape) == pytest.approx(He().std(shape), rel=1e-15)


def test_fan_in_is_the_first_axis_and_sizes_may_be_numpy_integers():
    shape = (np.int64(3), np.int64(12))
    assert Xavier().std(shape) == pytest.approx(1 / math.sqrt(3), rel=1e-15)
    assert He().std(shape) == pytest.approx(math.sqrt(2 / 3), rel=1e-15)
    assert Glorot().std(shape) == pytest.approx(math.sqrt(2 / 15), rel=1e-15)
    w = He()(shape, np.random.default_rng(0))
    assert w.shape == (3, 12) and w.dtype == np.float64


def test_constant_fills_every_entry_with_its_value():
    assert Constant().value == 0.0 and Constant().std(SHAPE) == 0.0
    rng = Stub()
    w = Constant(0.5)((2, 3), rng)
    assert w.dtype == np.float64 and w.tolist() == [[0.5] * 3] * 2 and rng.calls == []
    assert Constant()((1, 2), rng).tolist() == [[0.0, 0.0]]
    assert Constant(2)((1, 2), rng).dtype == np.float64


def test_real_draws_have_the_target_spread():
    rng = np.random.default_rng(0)
    w = He()((400, 300), rng)
    assert np.std(w) == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    w = GlorotUniform()((400, 300), rng)
    limit = math.sqrt(6 / 700)
    assert -limit <= w.min() < -0.99 * limit and 0.99 * limit < w.max() <= limit
