"""The initializer distribution check's statistics (``checks.distribution``), pinned: the
mean within k standard errors of the difference, the std within k standard errors of a
std (from the reference's kurtosis), the family by the kurtosis within k of its standard
error, the uniform limit within 25 / n, the family each kurtosis names, and every message
with its shape, draws and tolerance."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradekit.checks import distribution
from gradekit.checks.distribution import Distribution, DistributionOptions, Moments

CHECK = Distribution()
OPTIONS = DistributionOptions()
SHAPE = (40, 25)
WHERE = "(Din, Dout) = (40, 25), 2000 draws"


def standard(n=2000, seed=0, uniform=False):
    """``n`` draws with mean exactly 0 and std exactly 1."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(-1, 1, n) if uniform else rng.standard_normal(n)
    w = w - w.mean()
    return w / w.std()


def expected(std=1.0, kurtosis=3.0, kvar=24.0, n=8000, max_abs=4.0, mean=0.0):
    return Moments(n, mean, std, kurtosis, kvar, max_abs)


def cases(w, moments, options=OPTIONS, shape=SHAPE):
    """The mean, std and family cases of one shape's draws (two calls) against ``moments``."""
    draws = [w[: w.size // 2].reshape(-1), w[w.size // 2 :].reshape(-1)]
    valid = [(0, shape, draws, None)]
    measured = distribution.Measured([moments])
    return {c.name: c for c in CHECK._statistics(valid, measured, options)}


def mean_tol(n=2000, e_n=8000, k=6.0):
    return k * math.sqrt(1.0 / n + 1.0 / e_n)


def std_tol(kurtosis=3.0, n=2000, e_n=8000, k=6.0):
    return k * math.sqrt((kurtosis - 1.0) / 4.0 * (1.0 / n + 1.0 / e_n))


# ------------------------------------------------------------------------- mean
def test_the_three_cases_have_their_weights_and_pass_a_match():
    got = cases(standard(), expected())
    assert [(c.name, c.passed, c.message, c.weight) for c in got.values()] == [
        ("mean", True, "", 1.0),
        ("std", True, "", 2.0),
        ("family", True, "", 1.0),
    ]


@pytest.mark.parametrize(("factor", "ok"), [(0.98, True), (1.02, False)])
def test_the_mean_is_judged_within_k_standard_errors_of_the_difference(factor, ok):
    tol = mean_tol()
    got = cases(standard() + factor * tol, expected())["mean"]
    assert got.passed == ok
    if not ok:
        assert got.message == (
            f"mean: {WHERE}: received {factor * tol:.4g}, expected 0 ± {tol:.2g} (6 standard "
            "errors); the weights must be centred on 0"
        )


def test_the_mean_tolerance_uses_both_stds_and_both_counts():
    e = expected(std=2.0, n=500)
    tol = 6 * math.sqrt(9.0 / 2000 + 4.0 / 500)
    assert cases(3 * standard() - 0.98 * tol, e)["mean"].passed
    assert not cases(3 * standard() - 1.02 * tol, e)["mean"].passed
    options = DistributionOptions(k=3.0)
    tol = 3 * math.sqrt(0.25 / 2000 + 4.0 / 500)
    assert cases(0.5 * standard() + 0.98 * tol, e, options)["mean"].passed
    failed = cases(0.5 * standard() + 1.02 * tol, e, options)["mean"]
    assert "(3 standard errors)" in failed.message


def exact(w, moments, shape=(4, 4)):
    """The cases of 16 draws (two calls of eight) whose statistics are exact in floats."""
    draws = [w[:8], w[8:]]
    measured = distribution.Measured([moments])
    return {c.name: c for c in CHECK._statistics([(0, shape, draws, None)], measured, OPTIONS)}


def test_a_mean_exactly_k_standard_errors_off_passes():
    # ours: 16 draws of 3 +- 1 (std 1); the reference's: 48 of std 3, so the tolerance is
    # 6 sqrt(1 / 16 + 9 / 48) = 6 sqrt(1 / 4) = 3, exactly the difference of the means
    e = Moments(48, 0.0, 3.0, 3.0, 24.0, 4.0)
    w = np.array([1.0, -1.0] * 8)
    assert exact(w + 3.0, e)["mean"].passed
    beyond = exact(w + np.nextafter(3.0, 4.0), e)["mean"]
    assert not beyond.passed
    assert beyond.message.startswith("mean: (Din, Dout) = (4, 4), 16 draws: received 3, ")


def test_equal_constants_pass_the_mean_and_std():
    e = expected(std=0.0, kurtosis=0.0, kvar=0.0, mean=0.25)
    got = cases(np.full(2000, 0.25), e)
    assert got["mean"].passed and got["std"].passed
    assert not got["family"].passed  # a constant is no random draw


def test_the_expected_mean_is_the_references():
    e = expected(mean=0.5)
    assert cases(standard() + 0.5, e)["mean"].passed
    message = cases(standard(), e)["mean"].message
    assert f"mean: {WHERE}: received " in message and ", expected 0.5 ± " in message


# -------------------------------------------------------------------------- std
@pytest.mark.parametrize(("factor", "ok"), [(0.98, True), (1.02, False)])
def test_the_std_is_judged_within_k_standard_errors_from_the_kurtosis(factor, ok):
    tol = std_tol()
    for sign in (1, -1):
        got = cases(standard() * (1 + sign * factor * tol), expected())["std"]
        assert got.passed == ok
    if not ok:
        std = 1 - factor * tol
        assert got.message == (
            f"std: {WHERE}: received {std:.4g}, expected 1 ± {tol:.2g} from the reference (6 "
            f"standard errors; ratio {std:.3f})"
        )


def test_a_std_exactly_k_standard_errors_off_passes_and_the_ratio_is_ours_over_theirs():
    # kurtosis 3 and 16 draws on each side: 6 * 2 * sqrt(2 / 4 * (1 / 16 + 1 / 16)) = 3
    e = Moments(16, 0.0, 2.0, 3.0, 24.0, 4.0)
    w = np.array([5.0, -5.0] * 8)
    assert exact(w, e)["std"].passed
    beyond = exact(np.nextafter(w, 2 * w), e)["std"]
    assert not beyond.passed
    assert beyond.message == (
        "std: (Din, Dout) = (4, 4), 16 draws: received 5, expected 2 ± 3 from the reference "
        "(6 standard errors; ratio 2.500)"
    )


def test_the_std_tolerance_grows_with_the_references_kurtosis_and_std():
    tol = std_tol(kurtosis=5.0) * 3.0
    e = expected(std=3.0, kurtosis=5.0, kvar=1e9)
    assert cases(standard() * (3.0 + 0.98 * tol), e)["std"].passed
    assert not cases(standard() * (3.0 + 1.02 * tol), e)["std"].passed


def test_a_kurtosis_below_one_gives_no_std_tolerance():
    w = standard()
    d = w - w.mean()
    e = expected(std=math.sqrt(float(np.mean(d * d))), kurtosis=0.5, kvar=1e9)
    assert cases(w, e)["std"].passed  # the very same std
    assert not cases(w * (1 + 1e-9), e)["std"].passed


def test_a_zero_reference_std_gives_an_infinite_ratio():
    e = expected(std=0.0, kurtosis=0.0, kvar=0.0)
    got = cases(standard(), e)["std"]
    assert not got.passed and got.message.endswith("(6 standard errors; ratio inf)")


# ------------------------------------------------------------------------ family
def test_the_family_is_named_by_the_kurtosis():
    assert distribution._family(3.0) == "normal"
    assert distribution._family(2.8001) == distribution._family(3.1999) == "normal"
    assert distribution._family(2.7999) == distribution._family(3.2001) == "reference's"
    assert distribution._family(1.8) == "uniform"
    assert distribution._family(1.7001) == distribution._family(1.8999) == "uniform"
    assert distribution._family(1.6999) == distribution._family(1.9001) == "reference's"
    assert distribution._family(4.2) == "reference's"


def test_a_uniform_where_a_normal_is_expected_fails_the_family_with_the_hint():
    w = standard(uniform=True)
    got = cases(w, expected())["family"]
    kurtosis = float(np.mean(w**4))
    tol = 6 * math.sqrt(24.0 * (1 / 2000 + 1 / 8000))
    assert not got.passed
    assert got.message == (
        f"family: {WHERE}: kurtosis {kurtosis:.3f}, expected 3.000 ± {tol:.2g} (a normal "
        "distribution; a normal has kurtosis 3, a uniform 1.8)"
    )
    back = cases(standard(), expected(kurtosis=1.8, kvar=1.3))["family"]
    assert back.message.endswith("(a uniform distribution; a uniform has kurtosis 1.8, a normal 3)")
    other = cases(standard(), expected(kurtosis=6.0, kvar=100.0))["family"]
    assert other.message.endswith(", expected 6.000 ± 1.5 (a reference's distribution)")


@pytest.mark.parametrize(("factor", "ok"), [(0.98, True), (1.02, False)])
def test_the_kurtosis_is_judged_within_k_standard_errors(factor, ok):
    w = standard()
    kurtosis = float(np.mean(w**4))
    kvar = 50.0
    tol = 6 * math.sqrt(kvar * (1 / 2000 + 1 / 8000))
    for sign in (1, -1):
        e = expected(kurtosis=kurtosis + sign * factor * tol, kvar=kvar)
        assert cases(w, e)["family"].passed == ok


def test_weights_that_never_vary_are_not_random():
    w = np.full(2000, 0.25)
    got = cases(w, expected())["family"]
    assert got.message == f"family: {WHERE}: every weight is 0.25, expected random draws"


def uniform_limit(w, e_max, e_n=8000):
    kurtosis = float(np.mean(w**4) / np.mean(w**2) ** 2)
    e = expected(std=float(w.std()), kurtosis=kurtosis, kvar=1.3, n=e_n, max_abs=e_max)
    return cases(w, e)["family"]


def test_the_uniform_limit_is_reached_within_25_over_n():
    w = standard(uniform=True)
    top = float(np.max(np.abs(w)))
    assert uniform_limit(w, top).passed
    beyond = top * (1 - 25 / 8000)  # no draw beyond the reference's limit, widened by 25/n
    assert uniform_limit(w, beyond * 1.0001).passed
    assert not uniform_limit(w, beyond * 0.9999).passed
    short = top / (1 - 25 / 2000)  # ours reaches within 25 / n of the reference's limit
    assert uniform_limit(w, short * 0.9999).passed
    got = uniform_limit(w, short * 1.0001)
    assert got.message == (
        f"family: {WHERE}: received max |w| = {top:.4g}, expected the uniform limit "
        f"{short * 1.0001:.4g} (U(-a, a) has std a / sqrt(3))"
    )


def test_few_draws_cap_the_limits_allowance():
    w = standard(uniform=True)
    top = float(np.max(np.abs(w)))
    assert uniform_limit(w, top * 0.51, e_n=10).passed  # high: max / (1 - 1/2)
    assert not uniform_limit(w, top * 0.49, e_n=10).passed
    few = w[:20]
    few_top = float(np.max(np.abs(few)))
    kurtosis = float(np.mean(few**4) / np.mean(few**2) ** 2)
    e = expected(std=float(few.std()), kurtosis=kurtosis, kvar=1e6, n=8000, max_abs=50 * few_top)
    got = {
        c.name: c
        for c in CHECK._statistics(
            [(0, (4, 5), [few[:10], few[10:]], None)], distribution.Measured([e]), OPTIONS
        )
    }
    assert got["family"].passed  # low: max (1 - min(25 / 20, 1)) = 0


def test_the_uniform_limits_bounds_are_inclusive():
    w = np.linspace(-1.0, 1.0, 50)  # kurtosis near 1.8: a uniform family
    d = w - w.mean()
    kurtosis = float(np.mean((d * d / np.mean(d * d)) ** 2))
    assert abs(kurtosis - 1.8) < 0.1

    def family(max_abs):
        e = Moments(50, 0.0, float(w.std()), kurtosis, 1e6, max_abs)
        draws = [w[:25], w[25:]]
        valid = [(0, (5, 5), draws, None)]
        return {c.name: c for c in CHECK._statistics(valid, distribution.Measured([e]), OPTIONS)}

    assert family(2.0)["family"].passed  # low = 2 (1 - 25 / 50) = 1 = max |w|
    assert family(0.5)["family"].passed  # high = 0.5 / (1 - 1/2) = 1 = max |w|
    assert not family(2.0 * (1 + 1e-15))["family"].passed
    assert not family(0.5 * (1 - 1e-15))["family"].passed


def test_a_kurtosis_known_exactly_is_matched_exactly():
    w = np.array([1.0, -1.0] * 1000)  # kurtosis 1, and no spread of it
    assert cases(w, expected(kurtosis=1.0, kvar=0.0))["family"].passed
    assert not cases(w, expected(kurtosis=1.0 + 1e-12, kvar=0.0))["family"].passed


def test_a_normal_reference_has_no_limit():
    w = standard()
    e = expected(max_abs=0.1)
    assert cases(w, e)["family"].passed


# ------------------------------------------------------------------- many shapes
def test_the_first_failing_shape_is_named_with_how_many_more():
    shapes = [(40, 25), (50, 40), (20, 100)]
    valid = [
        (i, shape, [standard(s[0] * s[1], seed=i).reshape(s) + 1.0] * 2, None)
        for i, (shape, s) in enumerate(zip(shapes, shapes, strict=True))
    ]
    measured = distribution.Measured([expected() for _ in shapes])
    got = {c.name: c for c in CHECK._statistics(valid, measured, OPTIONS)}
    assert got["mean"].message.startswith("mean: (Din, Dout) = (40, 25), 2000 draws: received 1,")
    assert got["mean"].message.endswith(" (and 2 more of the 3 shapes)")
    valid[1] = (1, shapes[1], [standard(2000, seed=5).reshape(shapes[1])] * 2, None)
    got = {c.name: c for c in CHECK._statistics(valid, measured, OPTIONS)}
    assert got["mean"].message.endswith(" (and 1 more of the 3 shapes)")
    assert got["std"].passed
    one = {c.name: c for c in CHECK._statistics(valid[:1], measured, OPTIONS)}
    assert "more of the" not in one["mean"].message


def test_a_family_failing_on_an_earlier_shape_is_kept_when_later_ones_pass():
    shapes = [(40, 25), (50, 40)]
    valid = [
        (0, shapes[0], [standard(1000, seed=1, uniform=True)] * 2, None),
        (1, shapes[1], [standard(1000, seed=2)] * 2, None),
    ]
    measured = distribution.Measured([expected(), expected()])
    got = {c.name: c for c in CHECK._statistics(valid, measured, OPTIONS)}
    assert got["mean"].passed and got["std"].passed
    assert not got["family"].passed
    assert got["family"].message.startswith(f"family: {WHERE}: kurtosis ")
    assert "more of the" not in got["family"].message


def test_each_shape_is_compared_with_its_own_moments():
    shapes = [(40, 25), (20, 50)]
    valid = [
        (0, shapes[0], [standard(1000, seed=1)] * 2, None),
        (1, shapes[1], [standard(1000, seed=2) * 3.0] * 2, None),
    ]
    measured = distribution.Measured([expected(), expected(std=3.0)])
    got = {c.name: c for c in CHECK._statistics(valid, measured, OPTIONS)}
    assert all(c.passed for c in got.values())
    swapped = distribution.Measured([expected(std=3.0), expected()])
    got = {c.name: c for c in CHECK._statistics(valid, swapped, OPTIONS)}
    assert got["std"].message.startswith("std: (Din, Dout) = (40, 25), 2000 draws: received 1,")
