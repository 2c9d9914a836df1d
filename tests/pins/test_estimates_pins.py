"""Estimates from random draws (``checks.estimates``), pinned: the normal tail, standard
errors that count copies along an axis as one draw, the significance bound on dependence,
Welch's difference, Student's t quantiles (the textbook tables, A&S 26.7.5 above 30 degrees
of freedom) and Cornish and Fisher's widening for heavy tails, capped."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradekit.checks import estimates
from gradekit.checks.estimates import (
    difference,
    false_alarm_rate,
    kurtosis_of_mean,
    null_variance,
    t_factor,
    tolerance_factor,
    variance,
)

Z95, Z99 = 1.959963984540054, 2.5758293035489004
"""The normal quantiles of the two-sided 5% and 1% tails."""


def t_tail(t: float, nu: int) -> float:
    """P(|T_nu| > t) by integrating Student's density (x = t / u over u in (0, 1])."""
    log_c = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)
    u = np.linspace(0.0, 1.0, 200_001)[1:]
    x = t / u
    f = np.exp(log_c - (nu + 1) / 2 * np.log1p(x * x / nu)) * t / u**2
    at_0 = math.exp(log_c) / t if nu == 1 else 0.0  # the integrand's limit at u = 0
    f = np.concatenate([[at_0], f])
    h = 1.0 / 200_000
    simpson = h / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum())
    return 2 * simpson


def cornish_fisher(z: float, df: float) -> float:
    """Student's t quantile for a normal quantile z (Abramowitz and Stegun 26.7.5)."""
    g = (
        (z**3 + z) / 4,
        (5 * z**5 + 16 * z**3 + 3 * z) / 96,
        (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
        (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
    )
    return z + sum(gi / df ** (i + 1) for i, gi in enumerate(g))


# ------------------------------------------------------------------- the normal tail
def test_the_false_alarm_rate_is_the_two_sided_normal_tail():
    assert false_alarm_rate(5.0) == pytest.approx(5.733031e-7, rel=1e-6)
    assert false_alarm_rate(Z95) == pytest.approx(0.05, rel=1e-12)
    assert false_alarm_rate(Z99) == pytest.approx(0.01, rel=1e-12)


# ---------------------------------------------------------------- Student's t
@pytest.mark.parametrize(
    ("z", "nu", "table"),
    [
        (Z95, 1, 12.7062),
        (Z95, 2, 4.3027),
        (Z95, 3, 3.1824),
        (Z95, 4, 2.7764),
        (Z95, 5, 2.5706),
        (Z95, 10, 2.2281),
        (Z95, 29, 2.0452),
        (Z99, 1, 63.6567),
        (Z99, 4, 4.6041),
        (Z99, 10, 3.1693),
    ],
)
def test_few_degrees_of_freedom_give_the_tables_t_quantile(z, nu, table):
    assert t_factor(z, nu) == pytest.approx(table, abs=6e-5)


@pytest.mark.parametrize(("df", "table"), [(30, 2.0423), (40, 2.0211), (60, 2.0003), (120, 1.9799)])
def test_many_degrees_of_freedom_give_the_tables_t_quantile(df, table):
    assert t_factor(Z95, df) == pytest.approx(table, abs=6e-5)


@pytest.mark.parametrize("df", [30, 37, 45, 100, 10_000])
@pytest.mark.parametrize("z", [3.0, 5.0])
def test_from_30_degrees_of_freedom_the_quantile_is_cornish_and_fishers(z, df):
    assert t_factor(z, df) == pytest.approx(cornish_fisher(z, df), rel=1e-13)
    assert t_tail(t_factor(z, df), df) == pytest.approx(false_alarm_rate(z), rel=2e-3)


@pytest.mark.parametrize("nu", [1, 2, 3, 4, 7, 12, 29])
def test_below_30_degrees_of_freedom_the_quantile_keeps_the_rate(nu):
    t = t_factor(5.0, nu)
    assert t_tail(t, nu) == pytest.approx(false_alarm_rate(5.0), rel=1e-6)
    assert t_factor(5.0, nu + 0.75) == t  # a fraction of a degree of freedom is not counted


def test_infinite_degrees_of_freedom_give_z_and_under_one_counts_as_one():
    assert t_factor(5.0, math.inf) == 5.0
    assert t_factor(5.0, 0.3) == t_factor(5.0, 1) == t_factor(5.0, 1.9)
    assert t_factor(5.0, 1) > t_factor(5.0, 2) > t_factor(5.0, 29) > t_factor(5.0, 30) > 5.0


@pytest.mark.parametrize("nu", [1, 2, 3, 4, 5, 6, 9, 10, 29])
@pytest.mark.parametrize("t", [0.5, 2.0, 7.0])
def test_the_closed_form_tail_is_students(t, nu):
    assert estimates._t_tail(t, nu) == pytest.approx(t_tail(t, nu), rel=1e-7, abs=1e-13)


def test_the_tail_of_small_degrees_of_freedom_in_closed_form():
    t = 3.0
    assert estimates._t_tail(t, 1) == pytest.approx(1 - 2 / math.pi * math.atan(t), rel=1e-12)
    assert estimates._t_tail(t, 2) == pytest.approx(1 - t / math.sqrt(t * t + 2), rel=1e-12)


# ------------------------------------------------------------- heavy tails, capped
def test_excess_kurtosis_widens_by_cornish_and_fishers_term_up_to_the_cap():
    z, df = 5.0, math.inf
    term = (z**3 - 3 * z) / 24
    assert tolerance_factor(z, df, 0.0) == 5.0
    assert tolerance_factor(z, df, -0.7) == 5.0  # light tails do not narrow it
    assert tolerance_factor(z, df, 0.4) == pytest.approx(5.0 + 0.4 * term, rel=1e-14)
    assert tolerance_factor(z, df, 1.0) == pytest.approx(5.0 + term, rel=1e-14)
    assert tolerance_factor(z, df, 4.0) == pytest.approx(5.0 + term, rel=1e-14)
    assert tolerance_factor(3.0, 12.0, 0.5) == pytest.approx(
        t_factor(3.0, 12) + 0.5 * (27 - 9) / 24, rel=1e-14
    )


# --------------------------------------------------------------------- difference
def test_a_difference_adds_variances_with_welchs_degrees_of_freedom():
    se, df, k = difference(0.3, 10.0, 0.2, 0.4, 20.0, -0.1)
    v1, v2 = 0.09, 0.16
    assert se == pytest.approx(0.5, rel=1e-14)
    assert df == pytest.approx((v1 + v2) ** 2 / (v1**2 / 10 + v2**2 / 20), rel=1e-14)
    assert k == pytest.approx((0.2 * v1**2 - 0.1 * v2**2) / (v1 + v2) ** 2, rel=1e-14)


def test_a_difference_of_exact_values_or_of_infinite_degrees_of_freedom():
    assert difference(0.0, 1.0, 0.5, 0.0, 1.0, 0.5) == (0.0, math.inf, 0.0)
    se, df, k = difference(0.0, 0.0, 3.0, 2.0, 7.0, 0.6)  # an exact side counts for nothing
    assert (se, df, k) == (pytest.approx(2.0), pytest.approx(7.0), pytest.approx(0.6))
    se, df, k = difference(1.0, math.inf, 0.0, 1.0, math.inf, 0.0)
    assert (se, df, k) == (pytest.approx(math.sqrt(2)), math.inf, 0.0)


# ----------------------------------------------------------------- kurtosis of a mean
def test_the_kurtosis_of_a_mean_is_the_values_over_the_units():
    signs = np.array([1.0, -1.0] * 8)  # a fair coin: excess kurtosis -2
    assert kurtosis_of_mean(signs, 4.0) == pytest.approx(-0.5, rel=1e-14)
    spike = np.array([3.0, -1.0, -1.0, -1.0])  # m2 = 3, m4 = 21: 21 / 9 - 3 = -2 / 3
    assert kurtosis_of_mean(spike, 2.0) == pytest.approx(-1 / 3, rel=1e-14)
    assert kurtosis_of_mean(np.zeros(5), 5.0) == 0.0
    assert kurtosis_of_mean(np.array([]), 1.0) == 0.0


# --------------------------------------------------------------------- variance
def test_independent_entries_keep_the_iid_variance():
    psi = np.random.default_rng(3).standard_normal((20, 30, 4))
    psi -= psi.mean()
    var, units = variance(psi)
    assert var == pytest.approx(np.sum(psi**2) / psi.size**2, rel=1e-12)
    assert units == pytest.approx(psi.size, rel=1e-12)


@pytest.mark.parametrize("axis", [0, 1])
def test_copies_along_an_axis_count_as_one_draw(axis):
    shape = [12, 10]
    distinct = np.random.default_rng(axis).standard_normal((1, 10) if axis == 0 else (12, 1))
    psi = np.broadcast_to(distinct, shape)
    centred = psi - psi.mean()
    var, units = variance(centred)
    d = distinct - psi.mean()
    assert units == pytest.approx(d.size, rel=1e-9)
    assert var == pytest.approx(np.sum(d**2) / d.size**2, rel=1e-9)


def test_a_batch_shared_mask_is_one_draw_per_call():
    rng = np.random.default_rng(5)
    psi = np.repeat(rng.standard_normal((40, 1)), 25, axis=1) + 0.01 * rng.standard_normal((40, 25))
    psi -= psi.mean()
    var, units = variance(psi)
    assert 35 < units < 45
    assert var == pytest.approx(np.var(psi.mean(axis=1)) / 40, rel=0.1)


def test_nothing_to_measure_has_no_variance():
    assert variance(np.zeros((3, 4))) == (0.0, 12.0)
    assert variance(np.zeros((0, 4))) == (0.0, 0.0)
    var, units = variance(np.array([1.0, -1.0, 2.0, -2.0]))  # one axis: only the iid part
    assert (var, units) == (pytest.approx(10 / 16), pytest.approx(4.0))


def test_a_single_value_is_its_own_variance():
    assert variance(np.array([2.0])) == (4.0, 1.0)


def test_integer_values_are_measured_as_the_real_numbers_they_are():
    big = 2**32  # its square overflows a 64-bit integer
    psi = np.array([big, -big, big, -big])
    var, units = variance(psi)
    assert var == pytest.approx(4 * 2.0**64 / 16) and units == pytest.approx(4.0)
    assert kurtosis_of_mean(psi, 2.0) == pytest.approx(-1.0)


def test_a_weak_dependence_is_counted_only_beyond_the_bound():
    rng = np.random.default_rng(11)
    noise = rng.standard_normal((50, 40))
    shared = rng.standard_normal((50, 1))
    shape = [(50, True), (40, False)]
    bound = estimates._independent_bound(shape)
    for strength, counted in ((0.02, False), (0.2, True), (0.6, True)):
        psi = noise + strength * shared
        psi -= psi.mean()
        square = float(np.sum(psi**2))
        exactly = next(s for k, s, _ in estimates._pair_sums(psi) if k == frozenset({0}))
        assert (exactly > bound * square / psi.size) == counted
        var, units = variance(psi)
        assert (units < psi.size * 0.99) == counted
        if not counted:
            assert var == pytest.approx(square / psi.size**2, rel=1e-12)


def test_a_dependence_exactly_at_the_bound_is_not_counted():
    # the shared part's strength (found by bisection, then float by float) puts the sum over
    # the pairs of one row exactly on the bound: only sums beyond it count
    rng = np.random.default_rng(1)
    noise = rng.standard_normal((10, 8))
    shared = rng.standard_normal((10, 1))
    psi = noise + float.fromhex("0x1.db30af6fefe53p-1") * shared
    square = float(np.sum(psi**2))
    bound = estimates._independent_bound([(10, True), (8, False)])
    exactly = next(s for k, s, _ in estimates._pair_sums(psi) if k == frozenset({0}))
    assert exactly == bound * square / psi.size
    assert variance(psi) == (square / psi.size**2, psi.size)


@pytest.mark.parametrize(
    "shape",
    [[(50, True), (40, False)], [(12, False), (10, True), (6, False)], [(7, False), (9, False)]],
)
def test_the_bound_is_wilson_hilfertys_quantile_plus_a_normal_rest(shape):
    lam = math.prod(g - 1 for g, agree in shape if not agree)
    m = math.prod(g for g, agree in shape if agree)
    n = math.prod(g for g, _ in shape)
    quantile = m * (1 - 2 / (9 * m) + 4 * math.sqrt(2 / (9 * m))) ** 3
    want = lam * (quantile - m) + 4 * math.sqrt(2 * lam * (n - lam * m))
    assert estimates._independent_bound(shape) == pytest.approx(want, rel=1e-13)


def test_an_axis_of_length_one_has_no_such_pairs():
    assert estimates._independent_bound([(1, False), (5, True)]) == math.inf


def test_pair_sums_split_the_pairs_by_the_axes_they_agree_on():
    x = np.random.default_rng(2).standard_normal((3, 4, 5))
    found = {k: (s, pairs) for k, s, pairs in estimates._pair_sums(x)}
    assert set(found) == {frozenset(k) for k in ({0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2})}
    idx = np.array(list(np.ndindex(x.shape)))
    flat = x.reshape(-1)
    agree = idx[:, None, :] == idx[None, :, :]
    products = flat[:, None] * flat[None, :]
    for k, (s, pairs) in found.items():
        mask = np.all(agree == np.array([a in k for a in range(3)]), axis=2)
        assert pairs == mask.sum()
        assert s == pytest.approx(products[mask].sum(), rel=1e-9, abs=1e-9)


# ---------------------------------------------------------------- null variance
def standardized(a: np.ndarray) -> np.ndarray:
    return (a - a.mean()) / a.std()


def test_independent_standardized_arrays_have_the_iid_null_variance():
    rng = np.random.default_rng(7)
    a, b = standardized(rng.standard_normal((30, 20))), standardized(rng.standard_normal((30, 20)))
    var, units = null_variance(a, b)
    assert units == pytest.approx(600, rel=0.05)
    assert var == pytest.approx(1 / 600, rel=0.05)
    total = float(np.sum(a**2) * np.sum(b**2)) / a.size
    for (_, sa, pairs), (_, sb, _) in zip(
        estimates._pair_sums(a), estimates._pair_sums(b), strict=True
    ):
        total += sa * sb / pairs
    assert var == pytest.approx(max(total, a.size) / a.size**2, rel=1e-12)


def test_masks_shared_along_an_axis_have_the_null_variance_of_their_distinct_draws():
    rng = np.random.default_rng(8)
    k, m = 40, 25
    a = standardized(np.repeat(rng.standard_normal((k, 1)), m, axis=1))
    b = standardized(np.repeat(rng.standard_normal((k, 1)), m, axis=1))
    var, units = null_variance(a, b)
    n = k * m
    want = n + k * m * (m - 1) + m * k / (k - 1)  # the iid part, the copies, the rest
    assert var == pytest.approx(want / n**2, rel=1e-9)
    assert units == pytest.approx(n**2 / want, rel=1e-9)


def test_the_null_variance_never_falls_below_the_iid_one():
    a = standardized(np.repeat([[1.0], [-1.0]] * 3, 6, axis=1))  # alike along the rows
    b = standardized(np.tile([1.0, -1.0], (6, 3)))  # opposite along the rows
    var, units = null_variance(a, b)  # the estimated covariances sum to -72 of 36
    assert (var, units) == (pytest.approx(1 / 36), pytest.approx(36))
