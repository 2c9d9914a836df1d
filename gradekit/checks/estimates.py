"""Estimates from random draws: standard errors when entries may depend on each other, and
the tolerance that keeps a stated false-alarm rate.

A statistical case reduces an outcome to the mean of an array whose axes are the draw's
dimensions (calls, examples, features, pixels). For a correct component the entries are
independent and the iid standard error holds. A component with another mistake makes
entries that share indices alike (one dropout mask for the whole batch: equal along the
examples; a mask frozen across calls: equal along the calls), and its iid standard error
is too small by the square root of the number of copies. ``variance`` finds dependence
along the axes and counts it, so a case that judges one property (a keep fraction, fresh
masks between calls) is not failed by chance because of another mistake.

Two independent estimates are compared within ``tolerance_factor(z, df, kurtosis)``
standard errors of their difference (``difference``): the normal ``z`` (``z = 5``: a
two-sided false alarm with probability ``false_alarm_rate(5)``, about 5.7e-7), widened to
Student's t for estimates over few independent units and by Cornish and Fisher's term for
heavy tails, so the rate holds for those too.
"""

from __future__ import annotations

import math
from functools import cache
from itertools import combinations

import numpy as np

SIGNIFICANT = 4.0
"""How many of its standard deviations under independence a sum of products of entries
that share indices must exceed to count as dependence (one chance in 30000 per pattern)."""

KURTOSIS_CAP = 1.0
"""The largest excess kurtosis Cornish and Fisher's term is given. Beyond it the expansion
overshoots the tail it corrects (a Poisson count of rare coincidences, of kurtosis 4, has
its 5.7e-7 quantile at 11.5 standard deviations, the expansion says 23): such an estimate
has a handful of rare events, and comes from a component with another mistake (one dropout
mask for the whole batch), whose other cases must still be judged."""

T_EXACT_BELOW = 30
"""Student's t quantiles are computed exactly below these degrees of freedom; above, the
Cornish-Fisher expansion is within 0.1% of the tail probability at z = 5."""


def false_alarm_rate(z: float) -> float:
    """The two-sided normal tail ``2 Phi(-z)``: a correct component's chance to fail a case."""
    return math.erfc(z / math.sqrt(2.0))


def variance(psi: np.ndarray) -> tuple[float, float]:
    """The variance of ``psi.mean()`` for centred values ``psi``, and the effective number of
    independent entries, allowing dependence between entries that share indices.

    ``Var = (sum_i psi_i^2 + sum_K S_K) / n^2``, where ``S_K`` sums ``psi_i psi_j`` over the
    pairs of entries that agree on exactly the axes ``K`` (a multiway cluster-robust
    variance: Cameron, Gelbach and Miller 2011). A pattern counts only when ``S_K`` is
    beyond what independent entries give with probability about ``2 Phi(-SIGNIFICANT)``
    (``_independent_bound``): independent entries keep the iid variance, its floor, without
    the noise of a few large clusters, and entries equal along an axis get the variance of
    their distinct values.
    """
    psi = np.asarray(psi, dtype=np.float64)
    square = float(np.sum(psi**2))
    if psi.size == 0 or square == 0.0:
        return 0.0, float(psi.size)
    total = square
    for agree, exactly, pairs in _pair_sums(psi):
        shape = [(g, a in agree) for a, g in enumerate(psi.shape)]
        if pairs and exactly > _independent_bound(shape) * square / psi.size:
            total += exactly
    return total / psi.size**2, psi.size * square / total


def null_variance(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The variance of ``mean(a * b)`` for standardized arrays ``a`` and ``b`` of one shape
    that are independent of each other (the null hypothesis of a correlation test), and the
    effective number of independent pairs.

    Under that hypothesis ``Var(sum a_i b_i) = sum_ij Cov(a_i, a_j) Cov(b_i, b_j)``, so the
    dependence inside each array counts (one mask shared by the batch: its copies are one
    draw), and each covariance is estimated from its own array by pattern of agreeing axes
    (``_pair_sums``). The products of two such estimates are tiny when the entries are
    independent, so no threshold is needed; the iid variance ``1/n`` is the floor.
    """
    n = a.size
    total = float(np.sum(a**2) * np.sum(b**2)) / n
    for (_, sa, pairs), (_, sb, _) in zip(_pair_sums(a), _pair_sums(b), strict=True):
        if pairs:
            total += sa * sb / pairs
    total = max(total, float(n))
    return total / n**2, n**2 / total


def _pair_sums(x: np.ndarray) -> list[tuple[frozenset[int], float, int]]:
    """For each proper non-empty set ``K`` of ``x``'s axes: the sum of ``x_i x_j`` over the
    ordered pairs of entries that agree on exactly the axes ``K``, and the number of them.

    Sums over pairs that agree on at least ``L`` are the squared sums over the cells of
    ``L``; inclusion-exclusion over the supersets of ``K`` leaves those that agree exactly.
    Pairs that agree on no axis are left out, as in CGM: they are taken as independent.
    """
    axes = range(x.ndim)
    patterns = [frozenset(k) for size in range(x.ndim + 1) for k in combinations(axes, size)]
    at_least = {
        k: float(np.sum(x.sum(axis=tuple(a for a in axes if a not in k)) ** 2)) for k in patterns
    }
    found = []
    for k in patterns[1:-1]:
        exactly = sum((-1) ** len(high - k) * at_least[high] for high in patterns if k <= high)
        pairs = x.size * math.prod(x.shape[a] - 1 for a in axes if a not in k)
        found.append((k, exactly, pairs))
    return found


def _independent_bound(shape: list[tuple[int, bool]]) -> float:
    """An upper quantile of ``S_K / sigma^2`` for independent entries of variance sigma^2.

    ``shape`` lists each axis's length and whether the pairs agree on it. ``S_K`` is the
    quadratic form of a Kronecker product: the identity on the agreeing axes, ``J - I`` on
    the others. Its top eigenvalue ``lam = prod(G - 1)`` has multiplicity
    ``m = prod(G agreeing)`` and gives ``lam (chi2_m - m)`` (Wilson-Hilferty's quantile);
    the other eigenvalues give a nearly normal rest of variance ``2 lam (n - lam m)``.
    """
    lam = math.prod(g - 1 for g, agree in shape if not agree)
    m = math.prod(g for g, agree in shape if agree)
    n = math.prod(g for g, _ in shape)
    if lam == 0:
        return math.inf  # an axis of length 1: no such pairs
    quantile = m * (1 - 2 / (9 * m) + SIGNIFICANT * math.sqrt(2 / (9 * m))) ** 3
    return lam * (quantile - m) + SIGNIFICANT * math.sqrt(2 * lam * (n - lam * m))


def kurtosis_of_mean(psi: np.ndarray, units: float) -> float:
    """The excess kurtosis of the mean of centred values ``psi`` over ``units`` independent
    units: the values' own excess kurtosis over the number of units."""
    psi = np.asarray(psi, dtype=np.float64)
    m2 = float(np.mean(psi**2)) if psi.size else 0.0
    if m2 == 0.0:
        return 0.0
    return (float(np.mean(psi**4)) / m2**2 - 3.0) / units


def difference(
    se_1: float, df_1: float, kurtosis_1: float, se_2: float, df_2: float, kurtosis_2: float
) -> tuple[float, float, float]:
    """The standard error, degrees of freedom (Welch-Satterthwaite) and excess kurtosis of
    the difference of two independent estimates."""
    parts = [(se**2, df, k) for se, df, k in ((se_1, df_1, kurtosis_1), (se_2, df_2, kurtosis_2))]
    total = sum(v for v, _, _ in parts)
    if total == 0.0:
        return 0.0, math.inf, 0.0
    spread = sum(v**2 / df for v, df, _ in parts if v > 0)
    kurtosis = sum(k * v**2 for v, _, k in parts) / total**2
    return math.sqrt(total), total**2 / spread if spread > 0 else math.inf, kurtosis


def tolerance_factor(z: float, df: float, kurtosis: float) -> float:
    """How many standard errors of a difference keep its two-sided false-alarm rate at
    ``false_alarm_rate(z)``: Student's t quantile for ``df`` degrees of freedom (the
    estimated standard errors), widened by Cornish and Fisher's term for a positive
    excess kurtosis, ``kurtosis (z^3 - 3 z) / 24`` (the heavy tails of a mean of rare
    events, such as products of dropout masks that keep 95%), up to ``KURTOSIS_CAP``. A
    difference of two estimates of one distribution is symmetric, so no skewness term is
    needed."""
    return t_factor(z, df) + min(max(kurtosis, 0.0), KURTOSIS_CAP) * (z**3 - 3 * z) / 24


def t_factor(z: float, df: float) -> float:
    """How many standard errors keep the two-sided rate ``false_alarm_rate(z)`` for an
    estimate with ``df`` degrees of freedom: Student's t quantile (``z`` when ``df`` is
    infinite). Fewer than one degree of freedom is judged as one."""
    if df >= T_EXACT_BELOW:
        if math.isinf(df):
            return z
        terms = (
            (z**3 + z) / 4,
            (5 * z**5 + 16 * z**3 + 3 * z) / 96,
            (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
            (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160,
        )
        return z + sum(g / df ** (i + 1) for i, g in enumerate(terms))
    return _t_quantile(z, max(1, math.floor(df)))


@cache
def _t_quantile(z: float, nu: int) -> float:
    """The ``t`` with ``P(|T_nu| > t) = false_alarm_rate(z)``, by bisection."""
    rate = false_alarm_rate(z)
    low, high = z, 2.0 * z
    while _t_tail(high, nu) > rate:
        low, high = high, 2.0 * high
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if _t_tail(middle, nu) > rate else (low, middle)
    return high


def _t_tail(t: float, nu: int) -> float:
    """``P(|T| > t)`` for Student's t with ``nu`` degrees of freedom, in closed form
    (Abramowitz and Stegun 26.7.3 and 26.7.4)."""
    theta = math.atan(t / math.sqrt(nu))
    c = math.cos(theta) ** 2
    if nu % 2 == 0:
        k = np.arange(1, nu // 2)
        inside = math.sin(theta) * (1 + float(np.cumprod(c * (2 * k - 1) / (2 * k)).sum()))
    else:
        k = np.arange(1, (nu - 1) // 2)
        series = 0.0 if nu == 1 else 1 + float(np.cumprod(c * 2 * k / (2 * k + 1)).sum())
        inside = 2 / math.pi * (theta + math.sin(theta) * math.cos(theta) * series)
    return 1.0 - inside
