"""The reference initializers' statistics against their formulas, and their mutants.

Draws are checked by their moments over 10^6 entries, never by exact values: the sample std
within 1% of the formula, the mean within 3 standard errors of 0, uniform draws within their
bounds. The same checks, applied to every initializer mutant, must catch it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from gradekit_reference import COMPONENTS
from gradekit_reference.mutants.initializers import MUTANTS

INITIALIZERS = COMPONENTS["initializers"]
SHAPES = [(1000, 1000), (2000, 500), (500, 2000)]
"""(fan_in, fan_out) pairs of 10^6 entries each; unequal fans tell fan_in from fan_out."""

# name -> (constructor kwargs, std formula, uniform half-width formula or None)
FORMULAS: dict[str, tuple[dict, Callable[[int, int], float], Callable | None]] = {
    "normal": ({}, lambda fi, fo: 0.01, None),
    "uniform": ({}, lambda fi, fo: 0.05 / math.sqrt(3), lambda fi, fo: 0.05),
    "xavier": ({}, lambda fi, fo: 1 / math.sqrt(fi), None),
    "xavier_uniform": ({}, lambda fi, fo: 1 / math.sqrt(fi), lambda fi, fo: math.sqrt(3 / fi)),
    "glorot": ({}, lambda fi, fo: math.sqrt(2 / (fi + fo)), None),
    "glorot_uniform": (
        {},
        lambda fi, fo: math.sqrt(2 / (fi + fo)),
        lambda fi, fo: math.sqrt(6 / (fi + fo)),
    ),
    "he": ({}, lambda fi, fo: math.sqrt(2 / fi), None),
    "he_uniform": ({}, lambda fi, fo: math.sqrt(2 / fi), lambda fi, fo: math.sqrt(6 / fi)),
}
CASES = [
    *((name, *spec) for name, spec in FORMULAS.items()),
    ("normal", {"std": 0.05}, lambda fi, fo: 0.05, None),
    ("uniform", {"limit": 0.2}, lambda fi, fo: 0.2 / math.sqrt(3), lambda fi, fo: 0.2),
]
"""(name, kwargs, std formula, bound formula): the defaults and a few non-default scales."""


def check_moments(factory, kwargs, std_of, bound_of, shape, seed) -> str | None:
    """Sample std within 1% of the formula, mean within 3 standard errors, within bounds."""
    init = factory(**kwargs)
    x = init(shape, np.random.default_rng(seed))
    if type(x) is not np.ndarray or x.dtype != np.float64 or x.shape != shape:
        return f"expected a float64 array of shape {shape}, received {type(x)} {x.shape}"
    target = std_of(*shape)
    if not math.isclose(init.std(shape), target, rel_tol=1e-12):
        return f"std({shape}) = {init.std(shape):.6g}, expected {target:.6g}"
    std, mean = float(x.std()), float(x.mean())
    if abs(std / target - 1) > 0.01:
        return f"sample std {std:.6g} is not within 1% of {target:.6g} for {shape}"
    if abs(mean) > 3 * target / math.sqrt(x.size):
        return f"sample mean {mean:.3g} is more than 3 standard errors from 0 for {shape}"
    if bound_of is not None and np.max(np.abs(x)) > bound_of(*shape):
        return f"draws leave [-{bound_of(*shape):.6g}, {bound_of(*shape):.6g}] for {shape}"
    return None


def run_checks(name: str, factory: Callable) -> list[str]:
    """Every moment check for ``name`` over every case and shape: the failures found."""
    found = [
        check_moments(factory, kwargs, std_of, bound_of, shape, seed)
        for case, kwargs, std_of, bound_of in CASES
        if case == name
        for seed, shape in enumerate(SHAPES)
    ]
    return [f for f in found if f]


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_reference_moments_match_formulas(name):
    assert run_checks(name, INITIALIZERS[name]) == []


@pytest.mark.parametrize("name", ["uniform", "xavier_uniform", "glorot_uniform", "he_uniform"])
def test_uniform_draws_fill_their_interval(name):
    _, _, bound_of = FORMULAS[name]
    x = INITIALIZERS[name]()((2000, 500), np.random.default_rng(7))
    limit = bound_of(2000, 500)
    # 10^6 draws come within 0.1% of both ends; the variance is limit^2 / 3.
    assert -limit <= x.min() < -0.999 * limit and 0.999 * limit < x.max() <= limit
    assert abs(x.var() / (limit**2 / 3) - 1) < 0.02


@pytest.mark.parametrize("value", [0.0, 0.5, -2.0])
def test_constant_gives_equal_values(value):
    init = INITIALIZERS["constant"](value=value)
    x = init((30, 20), np.random.default_rng(0))
    assert x.dtype == np.float64 and x.shape == (30, 20)
    assert np.all(x == value)
    assert init.std((30, 20)) == 0.0


def test_constant_default_is_zero():
    assert np.all(INITIALIZERS["constant"]()((3, 4), np.random.default_rng(0)) == 0.0)


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_randomness_comes_only_from_the_generator(name):
    global_state = np.random.get_state()[1].copy()
    a = INITIALIZERS[name]()((40, 30), np.random.default_rng(3))
    b = INITIALIZERS[name]()((40, 30), np.random.default_rng(3))
    assert np.array_equal(a, b)
    assert np.array_equal(np.random.get_state()[1], global_state)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_checks_detect_mutant(mutant):
    assert mutant.kind == "initializers" and mutant.target in INITIALIZERS
    assert run_checks(mutant.target, mutant.factory), f"{mutant.name} passes every check"
