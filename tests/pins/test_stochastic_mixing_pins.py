"""Mixup's model (``checks.stochastic_mixing``), pinned: labels that are mixing weights,
images mixed with their labels' weights, one lam per batch (read from the first mixed
example's own weight), and the mean and variance of lam against Beta(alpha, alpha)'s,
each with its label, weight and the first place it fails."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.base import Target
from gradekit.checks.features import Category, FeatureSet, Missing, Statistic
from gradekit.checks.stochastic import MODELS, StochasticOptions
from gradekit.checks.stochastic_transforms import TIGHT
from gradekit.sandbox.runner import LocalSession
from gradekit_reference.mutants import all_mutants
from gradekit_reference.transforms import Mixup

MODEL = MODELS["mixup"]
MUTANTS = {m.name: m.factory for m in all_mutants()}
N = 16
NAMES = [
    "labels are mixing weights",
    "images mixed with the label weights",
    "one lam per batch",
    "mean of lam",
    "variance of lam",
]


def plan_of(kwargs=None, draws=60):
    t = Target("transforms", "mixup", kwargs or {}, 9, Mixup)
    options = StochasticOptions(draws=draws)
    return t, options, MODEL.plan(t, options)


def features(factory=Mixup, kwargs=None, draws=60):
    t, options, plan = plan_of(kwargs, draws)
    outcome = LocalSession({("transforms", "mixup"): factory}).run(plan)
    return MODEL.features(t, options, plan, outcome)


def judged(ys, plan, kwargs=None, xs=None):
    """The mixup cases on hand-made labels (images mixed as the labels say, by default)."""
    x = plan.meta["x"].reshape(N, -1)
    ys = np.asarray(ys, dtype=float)
    xs = (ys @ x).reshape(len(ys), *plan.meta["x"].shape) if xs is None else xs
    out = FeatureSet()
    MODEL.judged(out, lambda: {"x": xs, "y": ys}, "", kwargs or {}, plan)
    return out


def mixed(lam, perm):
    eye = np.eye(N)
    return lam * eye + (1 - lam) * eye[perm]


def swaps(k=0):
    perm = np.arange(N)
    perm[[k, k + 1]] = perm[[k + 1, k]]
    return perm


def test_a_correct_mixup_passes_with_its_labels_and_weights():
    got = features(kwargs={"alpha": 0.4})
    assert list(got)[:5] == NAMES
    assert [w for w, _ in list(got.values())[:5]] == [0.5, 1.0, 1.0, 1.0, 1.0]
    for name in NAMES[:3]:
        assert got[name][1] == Category("ok")
    mean, var = got["mean of lam"][1], got["variance of lam"][1]
    assert isinstance(mean, Statistic) and abs(mean.value - 0.5) < 6 * mean.se
    assert abs(var.value - 1 / (4 * 1.8)) < 6 * var.se
    assert mean.label == "mean of lam over batches (Beta(0.4, 0.4): 0.5)"
    assert var.label == "variance of lam over batches (Beta(0.4, 0.4): 0.1389)"
    default = features(draws=20)
    assert default["variance of lam"][1].label == (
        "variance of lam over batches (Beta(0.2, 0.2): 0.1786)"
    )


def test_lam_is_the_first_mixed_examples_own_weight_per_batch():
    _, _, plan = plan_of()
    lams = [0.3, 0.9, 0.6]
    ys = np.stack(
        [mixed(lams[0], swaps(4)), mixed(lams[1], swaps(0)), np.eye(N), mixed(lams[2], swaps(7))]
    )
    got = judged(ys, plan)
    mean = got["mean of lam"][1]
    assert mean.value == pytest.approx(0.6) and mean.n == 3
    var = got["variance of lam"][1]
    assert var.value == pytest.approx(np.mean((np.array(lams) - 0.6) ** 2))
    assert got["one lam per batch"][1] == Category("ok")


def test_a_lam_per_example_is_named_with_its_batch_and_range():
    got = features(MUTANTS["mixup_lam_per_example"], draws=20)
    one = got["one lam per batch"][1]
    assert one.value == "violated" and one.message.startswith("batch 1: received examples mixed")
    _, _, plan = plan_of()
    first = mixed(0.7, swaps(2))
    second = mixed(0.8, swaps(0))
    second[5:7] = mixed(0.6, swaps(5))[5:7]
    got = judged(np.stack([first, second]), plan)
    assert got["one lam per batch"][1] == Category(
        "violated",
        "batch 2: received examples mixed with different lam (max(lam, 1 - lam) from 0.6000 "
        "to 0.8000), expected one lam for the whole batch",
    )


@pytest.mark.parametrize(("by", "ok"), [(0.5 * TIGHT, True), (2 * TIGHT, False)])
def test_one_lam_is_judged_within_the_tight_tolerance(by, ok):
    _, _, plan = plan_of()
    ys = mixed(0.7, swaps(0))
    ys[2:4] = mixed(0.7 + by, swaps(2))[2:4]
    got = judged(ys[None], plan)
    assert (got["one lam per batch"][1] == Category("ok")) == ok


def test_labels_that_are_not_two_weights_summing_to_one_are_named():
    _, _, plan = plan_of()
    good = mixed(0.75, swaps(0))
    three = good.copy()
    three[9] = 0.0
    three[9, [9, 10, 11]] = [0.5, 0.25, 0.25]
    got = judged(np.stack([good, three]), plan)
    assert got["labels are mixing weights"][1] == Category(
        "violated",
        "batch 2, image 9: received the mixed label "
        + np.array2string(three[9], precision=3)
        + " for one-hot labels y = I, expected the weights lam and 1 - lam of two examples "
        "(non-negative, sum 1)",
    )
    negative = good.copy()
    negative[3, [3, 4]] = [1.25, -0.25]
    assert judged(negative[None], plan)["labels are mixing weights"][1].message.startswith(
        "batch 1, image 3: "
    )
    heavy = good.copy()
    heavy[6, 6] = 1.0 + 3 * TIGHT
    assert judged(heavy[None], plan)["labels are mixing weights"][1].message.startswith(
        "batch 1, image 6: "
    )
    close = good.copy()
    close[6, 6] = 1.0 + 0.5 * TIGHT
    close[1, 2] = -0.5e-12
    assert judged(close[None], plan)["labels are mixing weights"][1] == Category("ok")


def test_images_must_be_the_mix_their_labels_describe():
    got = features(MUTANTS["mixup_labels_not_mixed"], draws=10)
    images = got["images mixed with the label weights"][1]
    assert images.value == "violated"
    assert images.message.endswith(
        " away from y_out @ x, expected the mix its label describes: mix the labels with the "
        "same lam and perm as the images"
    )
    assert images.message.startswith("batch 1, image ")
    assert got["mean of lam"][1] == Missing(
        "received no mixed example (every label one-hot), expected examples mixed in pairs"
    )
    assert got["labels are mixing weights"][1] == Category("ok")


@pytest.mark.parametrize(("by", "ok"), [(0.5, True), (2.0, False)])
def test_images_are_judged_within_the_tight_tolerance_of_their_scale(by, ok):
    _, _, plan = plan_of()
    x = plan.meta["x"]
    ys = np.stack([mixed(0.6, swaps(0)), mixed(0.2, swaps(3))])
    xs = (ys @ x.reshape(N, -1)).reshape(2, *x.shape)
    xs[1, 4, 1, 2, 0] += by * TIGHT * (1 + np.abs(x).max())
    got = judged(ys, plan, xs=xs)["images mixed with the label weights"][1]
    if ok:
        assert got == Category("ok")
    else:
        assert got.message.startswith("batch 2, image 4: received an image ")


def test_only_mixed_examples_give_lam():
    _, _, plan = plan_of()
    ys = np.stack([np.eye(N), mixed(0.35, swaps(9)), mixed(0.65, swaps(1))])
    got = judged(ys, plan)
    assert got["mean of lam"][1].value == pytest.approx(0.5)
    assert got["mean of lam"][1].n == 2
    assert got["one lam per batch"][1] == Category("ok")
    got = judged(np.stack([np.eye(N)] * 2), plan)
    assert isinstance(got["one lam per batch"][1], Missing)
    assert isinstance(got["variance of lam"][1], Missing)


def test_a_bad_label_is_shown_to_three_decimals():
    _, _, plan = plan_of()
    ys = mixed(0.75, swaps(0))
    ys[9] = 0.0
    ys[9, [9, 10, 11]] = [2 / 3, 1 / 6, 1 / 6]
    assert judged(ys[None], plan)["labels are mixing weights"][1] == Category(
        "violated",
        "batch 1, image 9: received the mixed label [0.    0.    0.    0.    0.    0.    0.    "
        "0.    0.    0.667 0.167 0.167\n 0.    0.    0.    0.   ] for one-hot labels y = I, "
        "expected the weights lam and 1 - lam of two examples (non-negative, sum 1)",
    )


def test_label_residues_up_to_1e_12_count_as_zero():
    _, _, plan = plan_of()
    good = mixed(0.75, swaps(0))
    third = good.copy()
    third[0, 5] = 1e-12  # not a third example in the mix
    assert judged(third[None], plan)["labels are mixing weights"][1] == Category("ok")
    assert judged(third[None], plan)["one lam per batch"][1] == Category("ok")
    negative = good.copy()
    negative[1, 5] = -1e-12  # not a negative weight
    assert judged(negative[None], plan)["labels are mixing weights"][1] == Category("ok")
    over = good.copy()
    over[0, 5] = 2e-12
    assert judged(over[None], plan)["labels are mixing weights"][1].message.startswith(
        "batch 1, image 0: "
    )
    below = good.copy()
    below[1, 5] = -2e-12
    assert judged(below[None], plan)["labels are mixing weights"][1].message.startswith(
        "batch 1, image 1: "
    )


@pytest.mark.parametrize(("above", "ok"), [(False, True), (True, False)])
def test_one_lam_allows_a_spread_of_exactly_the_tight_tolerance(above, ok):
    # Weights summing to 1 put max(lam, 1 - lam) in [1/2, 1], where float differences are
    # multiples of 2^-53 and never exactly TIGHT: labels at TIGHT's scale reach the boundary.
    _, _, plan = plan_of()
    ys = np.eye(N)
    ys[0, :2] = [TIGHT, TIGHT / 2]
    high = 2 * TIGHT
    ys[2, 2:4] = [np.nextafter(high, 1.0) if above else high, TIGHT / 2]
    assert (ys[2].max() - ys[0].max() == TIGHT) == (not above)
    got = judged(ys[None], plan)["one lam per batch"][1]
    if ok:
        assert got == Category("ok")
    else:
        assert got.value == "violated" and got.message.startswith("batch 1: received examples")


@pytest.mark.parametrize(("above", "ok"), [(False, True), (True, False)])
def test_images_are_allowed_exactly_the_tight_tolerance_of_their_scale(above, ok):
    # A pixel that is 0 in every input is 0 in every mix, whatever lam, so an error there
    # can be exactly the tolerance.
    _, _, plan = plan_of()
    x = plan.meta["x"].copy()
    x[:, 1, 0, 2] = 0.0
    plan.meta = {**plan.meta, "x": x}
    ys = np.stack([mixed(0.6, swaps(0)), mixed(0.2, swaps(3))])
    xs = (ys @ x.reshape(N, -1)).reshape(2, *x.shape)
    assert (xs[:, :, 1, 0, 2] == 0.0).all()
    bound = TIGHT * (1 + np.abs(x).max())
    xs[1, 4, 1, 0, 2] = np.nextafter(bound, 1.0) if above else bound
    got = judged(ys, plan, xs=xs)["images mixed with the label weights"][1]
    if ok:
        assert got == Category("ok")
    else:
        assert got.message.startswith("batch 2, image 4: received an image ")
