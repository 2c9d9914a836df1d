"""The flip and cutout models (``checks.stochastic_augmentations``), pinned: each output
image classified against the input (kept, mirrored left-right, upside down, other; one
zeroed square, clipped only at the border), the statistics read from them, and the
message that names the first image that breaks the rule."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.base import Target
from gradekit.checks.features import Category, FeatureSet, Missing, Statistic
from gradekit.checks.stochastic import MODELS, StochasticOptions
from gradekit.checks.stochastic_transforms import TIGHT
from gradekit.sandbox.runner import LocalSession
from gradekit_reference.mutants import all_mutants
from gradekit_reference.transforms import Cutout, HorizontalFlip

FLIP, CUTOUT = MODELS["flip"], MODELS["cutout"]
MUTANTS = {m.name: m.factory for m in all_mutants()}


def plan_of(name, factory, kwargs=None, options=None):
    t = Target("transforms", name, kwargs or {}, 12, factory)
    options = options or StochasticOptions(draws=8)
    return t, options, MODELS[name].plan(t, options)


def features(name, factory, kwargs=None, options=None):
    t, options, plan = plan_of(name, factory, kwargs, options)
    outcome = LocalSession({("transforms", name): factory}).run(plan)
    return MODELS[name].features(t, options, plan, outcome)


def judged(model, plan, xs, kwargs=None, at=""):
    out = FeatureSet()
    ys = np.broadcast_to(plan.meta["y"], (len(xs), *plan.meta["y"].shape))
    model.judged(out, lambda: {"x": xs, "y": ys}, at, kwargs or {}, plan)
    return out


# -------------------------------------------------------------------------- flip
def test_a_correct_flip_passes_with_its_fraction_per_p():
    options = StochasticOptions(p_values=(0.2, 0.8), draws=40)
    got = features("flip", HorizontalFlip, options=options)
    for p in (0.2, 0.8):
        at = f" (p={p:g})"
        assert got[f"images kept or mirrored left-right{at}"] == (1.0, Category("ok"))
        weight, fraction = got[f"flip fraction{at}"]
        assert weight == 1.0 and isinstance(fraction, Statistic)
        assert abs(fraction.value - p) < 6 * fraction.se and fraction.n == 40 * 32
        assert fraction.label == f"fraction of images mirrored{at} (p flips)"
        assert got[f"labels unchanged{at}"] == (0.5, Category("ok"))


def test_the_fraction_counts_left_right_mirrors_only():
    _, _, plan = plan_of("flip", HorizontalFlip)
    x = plan.meta["x"]
    xs = np.stack([x, x[..., ::-1], x[..., ::-1, :]])
    xs[0, :5] = x[:5, ..., ::-1]
    got = judged(FLIP, plan, xs, at=" (p=0.5)")
    assert got["flip fraction (p=0.5)"][1].value == pytest.approx((5 + 32) / 96)


def test_an_upside_down_flip_is_named_apart_from_other_changes():
    got = features("flip", MUTANTS["flip_vertical"], options=StochasticOptions(draws=6))
    case = got["images kept or mirrored left-right (p=0.2)"][1]
    assert case.value == "vertical"
    assert case.message.endswith(
        ": received an image flipped upside down (along H, axis 2), expected a left-right "
        "mirror, along W (the last axis)"
    )
    _, _, plan = plan_of("flip", HorizontalFlip)
    x = plan.meta["x"]
    xs = np.stack([x, x])
    xs[0, 5] = x[5, ..., ::-1]  # a left-right mirror first: fine
    xs[1, 3] = x[3, ..., ::-1, :]
    assert judged(FLIP, plan, xs)["images kept or mirrored left-right"][1] == Category(
        "vertical",
        "batch 2, image 3: received an image flipped upside down (along H, axis 2), expected "
        "a left-right mirror, along W (the last axis)",
    )
    xs[1, 5] = -x[5]
    assert judged(FLIP, plan, xs)["images kept or mirrored left-right"][1] == Category(
        "other",
        "batch 2, image 3: received an image that is neither the input nor its left-right "
        "mirror, expected one of them",
    )
    xs[1, 3] = x[3]
    assert judged(FLIP, plan, xs)["images kept or mirrored left-right"][1].message.startswith(
        "batch 2, image 5: "
    )


@pytest.mark.parametrize(("by", "ok"), [(0.5 * TIGHT, True), (2 * TIGHT, False)])
def test_a_mirror_is_recognised_within_the_tight_tolerance(by, ok):
    _, _, plan = plan_of("flip", HorizontalFlip)
    x = plan.meta["x"]
    xs = np.stack([x[..., ::-1].copy()])
    xs[0, 7, 1, 2, 3] += by
    got = judged(FLIP, plan, xs)
    assert (got["images kept or mirrored left-right"][1] == Category("ok")) == ok
    assert got["flip fraction"][1].value == pytest.approx(1.0 if ok else 31 / 32)


def test_an_image_symmetric_both_ways_counts_as_kept():
    _, _, plan = plan_of("flip", HorizontalFlip)
    plan.meta["x"] = np.ones_like(plan.meta["x"])
    xs = np.ones((2, *plan.meta["x"].shape))
    got = judged(FLIP, plan, xs)
    assert got["flip fraction"][1].value == 0.0
    assert got["images kept or mirrored left-right"][1] == Category("ok")


# ------------------------------------------------------------------------ cutout
def cut(x, boxes):
    """``x`` with the rectangle (top, bottom, left, right) of each image zeroed."""
    out = x.copy()
    for i, (a, b, c, d) in boxes.items():
        out[i, ..., a:b, c:d] = 0.0
    return out


def test_a_correct_cutout_passes_with_its_area_and_clipping():
    got = features("cutout", Cutout, {"size": 4}, StochasticOptions(draws=30))
    assert list(got)[:4] == [
        "one zeroed square per image",
        "zeroed area",
        "squares clipped at the border",
        "labels unchanged",
    ]
    assert got["one zeroed square per image"] == (1.0, Category("ok"))
    weight, area = got["zeroed area"]
    assert (
        weight == 1.0
        and area.label == "mean share of zeroed pixels (4 x 4 squares clipped to 8 x 8)"
    )
    # centres uniform over 8 pixels, sides clipped: E[side] = (2+3+4*5+3)/8 = 3.5 per axis
    assert abs(area.value - (3.5 / 8) ** 2) < 6 * area.se
    weight, clipped = got["squares clipped at the border"]
    assert weight == 0.5
    assert clipped.label == (
        "fraction of squares clipped at the border (centres uniform over the pixels)"
    )
    assert abs(clipped.value - (1 - (5 / 8) ** 2)) < 6 * clipped.se


def test_the_area_and_clipping_read_each_square():
    _, _, plan = plan_of("cutout", Cutout, {"size": 3})
    x = plan.meta["x"]
    boxes = {i: (2, 5, 1, 4) for i in range(32)}
    boxes[0] = (0, 2, 0, 3)  # clipped at the top
    boxes[1] = (6, 8, 5, 8)  # clipped at the bottom
    boxes[2] = (3, 6, 7, 8)  # clipped at the right
    xs = np.stack([cut(x, boxes)])
    got = judged(CUTOUT, plan, xs, {"size": 3})
    assert got["one zeroed square per image"][1] == Category("ok")
    assert got["zeroed area"][1].value == pytest.approx((29 * 9 + 6 + 6 + 3) / (32 * 64))
    assert got["squares clipped at the border"][1].value == pytest.approx(3 / 32)
    assert got["zeroed area"][1].label == (
        "mean share of zeroed pixels (3 x 3 squares clipped to 8 x 8)"
    )


def test_the_default_size_is_eight():
    _, _, plan = plan_of("cutout", Cutout)
    x = plan.meta["x"]
    xs = np.stack([cut(x, {i: (0, 8, 0, 8) for i in range(32)})])
    got = judged(CUTOUT, plan, xs)
    assert got["one zeroed square per image"][1] == Category("ok")
    assert got["zeroed area"][1].value == 1.0
    assert got["zeroed area"][1].label == (
        "mean share of zeroed pixels (8 x 8 squares clipped to 8 x 8)"
    )
    xs = np.stack([cut(x, {i: (2, 5, 2, 5) for i in range(32)})])
    assert judged(CUTOUT, plan, xs)["one zeroed square per image"][1].message == (
        "batch 1, image 0: received a 3 x 3 zeroed rectangle away from the border, expected a "
        "8 x 8 square (smaller only where clipped)"
    )


def test_cutout_keeps_the_labels():
    _, _, plan = plan_of("cutout", Cutout, {"size": 3})
    x, y = plan.meta["x"], plan.meta["y"]
    xs = np.stack([cut(x, {i: (2, 5, 2, 5) for i in range(32)})] * 2)
    ys = np.stack([y, y])
    out = FeatureSet()
    CUTOUT.judged(out, lambda: {"x": xs, "y": ys}, "", {"size": 3}, plan)
    assert out["labels unchanged"] == (0.5, Category("ok"))
    ys[1, 4, 0] += 0.5
    out = FeatureSet()
    CUTOUT.judged(out, lambda: {"x": xs, "y": ys}, "", {"size": 3}, plan)
    assert out["labels unchanged"][1] == Category(
        "violated", "batch 2, image 4: received a changed label, expected y unchanged"
    )


def square_problem(boxes, size=3, change=None):
    _, _, plan = plan_of("cutout", Cutout, {"size": size})
    x = plan.meta["x"]
    full = {i: (2, 5, 2, 5) for i in range(32)}
    full.update(boxes)
    xs = np.stack([cut(x, {i: (1, 4, 1, 4) for i in range(32)}), cut(x, full)])
    if change:
        change(xs, x)
    got = judged(CUTOUT, plan, xs, {"size": size})
    case = got["one zeroed square per image"][1]
    assert isinstance(got["zeroed area"][1], Missing)
    assert got["zeroed area"][1].message == case.message
    return case.message


def test_each_way_of_not_being_one_square_is_named_at_the_first_image():
    assert square_problem({}, change=lambda xs, x: xs.__setitem__((1, 6, 0, 7, 7), 9.0)) == (
        "batch 2, image 6: received changed pixels outside the zeroed square, expected them "
        "unchanged"
    )
    assert square_problem(
        {}, change=lambda xs, x: xs.__setitem__((1, 4, 1, 2, 2), x[4, 1, 2, 2])
    ) == (
        "batch 2, image 4: received other zeroed pixels in each channel, expected one square "
        "in all channels"
    )
    assert square_problem({9: (0, 0, 0, 0)}) == (
        "batch 2, image 9: received no zeroed pixel, expected a square"
    )
    assert square_problem({3: (2, 6, 2, 5)}) == (
        "batch 2, image 3: received zeroed pixels that are not one rectangle of sides at most "
        "3, expected a 3 x 3 square"
    )
    assert square_problem({3: (2, 5, 2, 6)}).startswith("batch 2, image 3: received zeroed pixels")
    two = {5: (2, 3, 2, 3)}

    def second(xs, x):
        xs[1, 5, :, 4, 4] = 0.0

    assert square_problem(two, change=second).startswith(
        "batch 2, image 5: received zeroed pixels that are not one rectangle"
    )
    assert square_problem({7: (2, 4, 3, 6)}) == (
        "batch 2, image 7: received a 2 x 3 zeroed rectangle away from the border, expected a "
        "3 x 3 square (smaller only where clipped)"
    )
    assert square_problem({7: (3, 6, 2, 4)}) == (
        "batch 2, image 7: received a 3 x 2 zeroed rectangle away from the border, expected a "
        "3 x 3 square (smaller only where clipped)"
    )


@pytest.mark.parametrize(
    "box", [(0, 2, 2, 5), (6, 8, 2, 5), (2, 5, 0, 1), (2, 5, 7, 8), (0, 1, 7, 8)]
)
def test_a_square_is_smaller_only_where_the_border_clips_it(box):
    _, _, plan = plan_of("cutout", Cutout, {"size": 3})
    x = plan.meta["x"]
    xs = np.stack([cut(x, {i: box for i in range(32)})])
    got = judged(CUTOUT, plan, xs, {"size": 3})
    assert got["one zeroed square per image"][1] == Category("ok")
    assert got["squares clipped at the border"][1].value == 1.0


def test_a_channel_that_is_zeroed_alone_is_not_one_square():
    _, _, plan = plan_of("cutout", Cutout, {"size": 3})
    x = plan.meta["x"]
    xs = np.stack([cut(x, {i: (2, 5, 2, 5) for i in range(32)})])
    xs[0, 11, 1, 6, 6] = 0.0
    got = judged(CUTOUT, plan, xs, {"size": 3})["one zeroed square per image"][1]
    assert got.message.startswith("batch 1, image 11: received other zeroed pixels")
