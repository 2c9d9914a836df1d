"""The search check's verdicts (``checks.search``), pinned: the two-sample
Kolmogorov-Smirnov distance and its critical value, draws from the rng argument, the
draws' bounds and distribution on the axis's scale, with their messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradekit.checks.compare import describe
from gradekit.checks.search import (
    SearchOptions,
    _draw_cases,
    _draws,
    _rng_case,
    ks_distance,
    ks_limit,
)
from gradekit.sandbox.plan import Outcome


def test_the_ks_distance_is_the_largest_gap_between_the_two_ecdfs():
    assert ks_distance(np.array([1.0, 2, 3]), np.array([4.0, 5, 6])) == 1.0
    assert ks_distance(np.array([4.0, 1, 3, 2]), np.array([6.0, 3, 5, 4])) == 0.5
    assert ks_distance(np.array([1.0, 2, 3]), np.array([3.0, 1, 2])) == 0.0
    assert ks_distance(np.array([1.0, 1, 2]), np.array([1.0, 2, 2])) == pytest.approx(1 / 3)
    assert ks_distance(np.array([5.0]), np.array([1.0, 2, 3, 4])) == 1.0
    assert ks_distance(np.array([2.0, 0]), np.array([1.0, 3, 3, 3])) == 0.75
    assert ks_distance(np.array([3.0, 3.0, 3.0, 0.0]), np.array([1.0, 2.0])) == 0.75


def test_the_critical_distance_is_the_asymptotic_one():
    # c(alpha) = sqrt(-ln(alpha / 2) / 2): 1.358 at 5%, the textbook value
    assert ks_limit(100, 100, 0.05) == pytest.approx(1.3581 * math.sqrt(2 / 100), rel=1e-4)
    assert ks_limit(300, 100, 1e-6) == pytest.approx(
        math.sqrt(-0.5 * math.log(0.5e-6)) * math.sqrt(400 / 30000)
    )
    assert ks_limit(100, 300, 0.01) == ks_limit(300, 100, 0.01)


def options(expect="log_uniform", n=3, **changes):
    return SearchOptions(expect=expect, n=n, **changes)


def propose(draws, repeat=None):
    draws = [np.array(d, dtype=float) for d in draws]
    return {"propose": {"draws": draws, "repeat": draws[0] if repeat is None else repeat}}


A = [[0.1, 1e-3], [0.2, 1e-3], [0.3, 1e-3]]
B = [[0.4, 1e-3], [0.5, 1e-3], [0.6, 1e-3]]


def test_draws_without_the_repeated_call_are_unreadable_not_a_crash():
    """The routine always sends propose's repeated call; an answer without it is
    unreadable, said so, never a KeyError in the judge."""
    value = propose([A, B])
    assert _draws(Outcome(value), options()) == value
    refined = value | {"refine": {"draws": [np.array(B)]}}  # refine is called once a seed
    assert _draws(Outcome(refined), options("coarse_to_fine")) == refined
    del value["propose"]["repeat"]
    assert _draws(Outcome(value), options()) == (
        f"propose: unreadable result {describe(value['propose'])}"
    )


def test_a_call_with_no_settings_leaves_nothing_to_judge_but_a_grid():
    """An empty list from propose (or refine) fails the check with what it returned, never
    a statistic of no draws; a grid's size is judged by its own cases."""
    empty = np.zeros((0, 2))
    assert _draws(Outcome(propose([A, empty])), options()) == (
        "propose: a call returned no settings, expected 3"
    )
    value = propose([A, B], repeat=empty)
    assert _draws(Outcome(value), options()) == "propose: a call returned no settings, expected 3"
    assert _draws(Outcome(value), options("grid")) == value
    refined = propose([A, B]) | {"refine": {"draws": [np.array(B), empty]}}
    assert _draws(Outcome(refined), options("coarse_to_fine", n=4)) == (
        "refine: a call returned no settings, expected 4"
    )


def test_draws_from_the_rng_argument_pass():
    case = _rng_case(propose([A, B]), options())
    assert (case.name, case.passed, case.message, case.compared) == (
        "draws from rng",
        True,
        "",
        False,
    )
    assert _rng_case(propose([A, A]), options("grid")).passed


def test_the_same_seed_must_give_the_same_settings():
    for repeat in (np.array(B), np.array(A[:2]), np.array(A) + 1e-15):
        case = _rng_case(propose([A, B], repeat), options())
        assert (case.passed, case.compared) == (False, False)
        assert case.message == (
            "draws from rng: two calls with generators of the same seed gave different "
            "settings; draw every random number from the rng argument"
        )
    assert not _rng_case(propose([A, A], np.array(B)), options("grid")).passed


def test_other_seeds_must_give_other_settings():
    case = _rng_case(propose([A, A, A]), options())
    assert (case.passed, case.compared) == (False, False)
    assert case.message == (
        "draws from rng: generators of different seeds gave the same settings; draw from the "
        "rng argument, not a generator of your own"
    )
    assert _rng_case(propose([A, A, B]), options()).passed
    assert _rng_case(propose([A, B, A]), options()).passed


def test_every_call_gives_n_settings():
    case = _rng_case(propose([A, B[:2]]), options())
    assert (case.passed, case.compared) == (False, False)
    assert case.message == "draws from rng: expected 3 settings per call, received [2, 3]"
    assert not _rng_case(propose([A, B]), options(n=4)).passed
    assert _rng_case(propose([A, B[:2]]), options("grid")).passed


SPACE = {"reg": (1e-5, 1e-1), "lr": (1e-4, 1.0)}


def draws(lr, reg):
    return {"propose": {"draws": [np.column_stack([lr, reg])]}}


def log_uniform(n, seed, space=SPACE):
    rng = np.random.default_rng(seed)
    (llo, lhi), (rlo, rhi) = space["lr"], space["reg"]
    return 10 ** rng.uniform(np.log10(llo), np.log10(lhi), n), 10 ** rng.uniform(
        np.log10(rlo), np.log10(rhi), n
    )


def test_draws_like_the_references_pass_per_axis_in_sorted_order():
    want = draws(*log_uniform(400, 1))
    cases = _draw_cases(draws(*log_uniform(400, 2)), want, options(space=SPACE))
    assert [(c.name, c.passed, c.message) for c in cases] == [
        ("lr in bounds", True, ""),
        ("lr distribution", True, ""),
        ("reg in bounds", True, ""),
        ("reg distribution", True, ""),
    ]


def test_draws_outside_the_space_are_counted_with_an_example():
    lr, reg = log_uniform(400, 2)
    lr[[3, 7]] = [1.5, 2.0]
    cases = _draw_cases(draws(lr, reg), draws(*log_uniform(400, 1)), options(space=SPACE))
    assert [c.passed for c in cases] == [False, False, True, True]
    assert cases[0].message == "lr: 2 of 400 draws outside [0.0001, 1], e.g. 1.5"
    assert cases[1].message == "lr: draws outside the space"
    lr[[3, 7]] = [1.0 + 1e-13, 1e-4 * (1 - 1e-13)]
    cases = _draw_cases(draws(lr, reg), draws(*log_uniform(400, 1)), options(space=SPACE))
    assert cases[0].passed


def test_a_uniform_draw_on_a_log_axis_is_named_by_its_lowest_decade():
    rng = np.random.default_rng(3)
    lr = rng.uniform(1e-4, 1.0, 400)
    want = draws(*log_uniform(400, 1))
    cases = _draw_cases(draws(lr, log_uniform(400, 2)[1]), want, options(space=SPACE))
    assert [c.passed for c in cases] == [True, False, True, True]
    wl = want["propose"]["draws"][0][:, 0]
    g, w = 100 * np.mean(lr < 1e-3), 100 * np.mean(wl < 1e-3)
    d = ks_distance(np.log10(lr), np.log10(wl))
    assert cases[1].message == (
        f"lr: {g:.1f}% of the draws fall in the lowest decade [0.0001, 0.001), expected "
        f"{w:.1f}% from the reference (10 ** uniform(log10 low, log10 high)); "
        f"Kolmogorov-Smirnov distance {d:.3f} > {ks_limit(400, 400, 1e-6):.3f}"
    )


def test_a_log_draw_on_a_uniform_axis_is_named_by_its_lowest_quarter():
    space = {"x": (0.0, 8.0)}
    rng = np.random.default_rng(4)
    want = {"propose": {"draws": [rng.uniform(0, 8, (300, 1))]}}
    got = {"propose": {"draws": [10 ** rng.uniform(-3, np.log10(8), (300, 1))]}}
    cases = _draw_cases(got, want, options("uniform", space=space))
    assert [c.name for c in cases] == ["x in bounds", "x distribution"]
    assert not cases[1].passed
    g, w = got["propose"]["draws"][0][:, 0], want["propose"]["draws"][0][:, 0]
    assert cases[1].message.startswith(
        f"x: {100 * np.mean(g < 2):.1f}% of the draws fall in the lowest quarter [0, 2), "
        f"expected {100 * np.mean(w < 2):.1f}% from the reference (uniform(low, high)); "
        f"Kolmogorov-Smirnov distance {ks_distance(g, w):.3f} > "
    )
    same = {"propose": {"draws": [rng.uniform(0, 8, (300, 1))]}}
    assert _draw_cases(same, want, options("uniform", space=space))[1].passed


def test_the_ks_test_runs_at_alpha():
    space = {"x": (1.0, 100.0)}
    want = {"propose": {"draws": [np.geomspace(1, 100, 200)[:, None]]}}
    shifted = {"propose": {"draws": [np.geomspace(2.5, 100, 200)[:, None]]}}
    d = ks_distance(
        np.log10(shifted["propose"]["draws"][0][:, 0]), np.log10(np.geomspace(1, 100, 200))
    )
    loose = [a for a in (1e-6, 1e-3, 0.05, 0.09) if d <= ks_limit(200, 200, a)]
    strict = [a for a in (1e-6, 1e-3, 0.05, 0.09) if d > ks_limit(200, 200, a)]
    assert loose and strict
    for alpha in loose + strict:
        case = _draw_cases(shifted, want, options(space=space, alpha=alpha))[1]
        assert case.passed == (alpha in loose)


def test_a_non_positive_draw_on_a_log_axis_is_outside_the_space():
    space = {"x": (0.0, 1.0)}
    got = {"propose": {"draws": [np.array([[0.0], [0.5], [1.0]])]}}
    cases = _draw_cases(got, got, options(space=space))
    assert [c.passed for c in cases] == [True, False]
    assert cases[1].message == "x: draws outside the space"
    assert _draw_cases(got, got, options("uniform", space=space))[1].passed


@pytest.mark.parametrize("space", [{"x": (-1.0, 1.0)}, {"x": (-3.0, -1.0)}])
def test_draws_at_a_negative_bound_are_inside_and_beyond_it_are_named(space):
    lo, hi = space["x"]
    at_bounds = propose([[[lo], [(lo + hi) / 2], [hi]]])
    assert _draw_cases(at_bounds, at_bounds, options("uniform", space=space))[0].passed
    beyond = propose([[[lo - 0.5], [(lo + hi) / 2], [hi]]])
    case = _draw_cases(beyond, at_bounds, options("uniform", space=space))[0]
    assert not case.passed
    assert case.message == f"x: 1 of 3 draws outside [{lo:g}, {hi:g}], e.g. {lo - 0.5:.4g}"
