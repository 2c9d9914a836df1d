"""The rotation pretext task's model (``checks.stochastic_rotation``), pinned: each output
classified as a rotation by k over H and W, a transpose or a turn over the channel axis;
labels that are the one-hot of k, told apart when they are the input labels, one rotation
off, turning the other way or otherwise wrong; a k per image; the refusal of non-square
images; and the share of each k."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks import stochastic_rotation as rotation
from gradekit.checks.base import Target
from gradekit.checks.features import Category, FeatureSet, Missing, Unusable
from gradekit.checks.stochastic import MODELS, StochasticOptions
from gradekit.checks.stochastic_rotation import CHANNELS, OTHER, ROTATED, TRANSPOSED
from gradekit.checks.stochastic_transforms import TIGHT
from gradekit.sandbox.plan import Outcome
from gradekit.sandbox.runner import LocalSession
from gradekit_reference.mutants import all_mutants
from gradekit_reference.transforms import RotationPretext

MODEL = MODELS["rotation_pretext"]
MUTANTS = {m.name: m.factory for m in all_mutants()}
EYE = np.eye(4)


def features(factory=RotationPretext, draws=12):
    t = Target("transforms", "rotation_pretext", {}, 3, RotationPretext)
    options = StochasticOptions(draws=draws)
    plan = MODEL.plan(t, options)
    outcome = LocalSession({("transforms", "rotation_pretext"): factory}).run(plan)
    return MODEL.features(t, options, plan, outcome), plan


def soft(n):
    y = np.random.default_rng(0).uniform(0.1, 1.0, (n, 4))
    return y / y.sum(axis=1, keepdims=True)


# ----------------------------------------------------------------------- images
def test_the_kinds_of_image_are_numbered_after_the_four_rotations():
    assert (ROTATED, TRANSPOSED, CHANNELS, OTHER) == (3, 4, 5, 6)


def test_rotations_over_h_and_w_pass_and_each_wrong_turn_is_named():
    assert rotation._rotations(np.array([[0, 1, 2, 3]])) == Category("ok")
    assert rotation._rotations(np.array([[0, 4], [4, 1]])) == Category(
        "transposed",
        "batch 1, image 1: received an image transposed (H and W swapped), expected it rotated "
        "by k * 90 degrees: np.rot90(x[i], k, axes=(-2, -1))",
    )
    assert rotation._rotations(np.array([[0, 2], [5, 5]])) == Category(
        "channel axis",
        "batch 2, image 0: received an image turned over its channel and row axes (C, H), "
        "expected it turned in the image plane: np.rot90(x[i], k, axes=(-2, -1))",
    )
    assert rotation._rotations(np.array([[0, 4], [5, 1]])) == Category(
        "other",
        "batch 1, image 1: received an image that is none of the four rotations of the input "
        "by k * 90 degrees (over H and W, the last two axes)",
    )
    assert rotation._rotations(np.array([[6, 0]])).value == "other"


def test_images_rotated_by_three_quarters_do_not_hide_a_single_wrong_turn():
    assert rotation._rotations(np.array([[3, 4], [4, 3]])).value == "transposed"
    assert rotation._rotations(np.array([[ROTATED, CHANNELS]])).value == "channel axis"


def test_the_images_are_classified_against_the_input():
    x = np.random.default_rng(1).standard_normal((5, 3, 3, 3))
    xs = np.stack(
        [
            np.rot90(x, 1, axes=(-2, -1)),
            np.swapaxes(x, -1, -2),
            np.swapaxes(x, -1, -2)[..., ::-1, ::-1],
            np.rot90(x, 2, axes=(1, 2)),
            x + 1.0,
        ]
    )
    xs[0, 2] = np.rot90(x[2], 3, axes=(-2, -1))
    xs[0, 3] = x[3]
    xs[0, 4] = np.rot90(x[4], 2, axes=(-2, -1)) + 0.5e-9
    plan = type("P", (), {"meta": {"x": x, "y": soft(5)}})()
    out = FeatureSet()
    ys = np.zeros((5, 5, 4))
    MODEL.judged(out, lambda: {"x": xs, "y": ys}, "", {}, plan)
    assert out["images rotated by k * 90 degrees"][1].message.startswith("batch 2, image 0:")
    for k, share in enumerate([1 / 25, 2 / 25, 1 / 25, 1 / 25]):
        assert out[f"share of rotation k={k}"][1].value == pytest.approx(share)
    xs[0, 4] += 2e-9
    out = FeatureSet()
    MODEL.judged(out, lambda: {"x": xs, "y": ys}, "", {}, plan)
    assert out["share of rotation k=2"][1].value == 0.0


def test_a_correct_transform_passes_with_its_weights_and_shares():
    got, _ = features(draws=25)
    assert got["images rotated by k * 90 degrees"] == (1.0, Category("ok"))
    assert got["labels one-hot of the rotation"] == (2.0, Category("ok"))
    assert got["a k per image"] == (0.5, Category("ok"))
    assert got["non-square images refused"] == (0.5, Category("refused"))
    for k in range(4):
        weight, share = got[f"share of rotation k={k}"]
        assert weight == 0.25 and abs(share.value - 0.25) < 6 * share.se
        assert share.label == f"fraction of images rotated by {90 * k} degrees (1/4)"
    rule = got.severity["labels one-hot of the rotation"]
    assert rule(Category("input labels")) and not rule(Category("off by one"))
    assert not rule(Missing("x"))


@pytest.mark.parametrize(
    ("mutant", "case", "value"),
    [
        ("rotation_transposed", "images rotated by k * 90 degrees", "transposed"),
        ("rotation_channel_axis", "images rotated by k * 90 degrees", "channel axis"),
        ("rotation_input_labels", "labels one-hot of the rotation", "input labels"),
        ("rotation_label_off_by_one", "labels one-hot of the rotation", "off by one"),
        ("rotation_clockwise", "labels one-hot of the rotation", "opposite direction"),
        ("rotation_one_per_batch", "a k per image", "one per batch"),
    ],
)
def test_each_catalogued_mistake_is_named(mutant, case, value):
    got, _ = features(MUTANTS[mutant], draws=6)
    assert got[case][1].value == value


# ----------------------------------------------------------------------- labels
def test_labels_that_are_the_one_hot_of_k_pass_and_other_kinds_are_left_out():
    kind = np.array([[0, 3, OTHER, TRANSPOSED]])
    ys = np.stack([[EYE[0], EYE[3], EYE[1] * 0.3, EYE[2]]])
    assert rotation._labels(kind, ys, soft(4)) == Category("ok")
    with pytest.raises(Unusable, match=r"^no image is a rotation of the input: its label cannot"):
        rotation._labels(np.array([[OTHER, CHANNELS]]), np.zeros((1, 2, 4)), soft(2))


def test_the_input_labels_are_named_with_the_one_hot_wanted():
    y = soft(3)
    kind = np.array([[2, 1, 0], [1, 1, 3]])
    got = rotation._labels(kind, np.stack([y, y]), y)
    assert got == Category(
        "input labels",
        "batch 1, image 0: received the input labels, expected the one-hot of the rotation "
        "([0.0, 0.0, 1.0, 0.0] for k = 2): the pretext task ignores y",
    )
    near = np.stack([y, y + 0.5e-9])
    assert rotation._labels(kind, near, y).value == "input labels"
    far = np.stack([y, y + 1e-6])
    assert rotation._labels(kind, far, y).value == "other"
    for off in (5e-9, 1e-7):
        assert rotation._labels(kind, np.stack([y, y + off]), y).value == "other"


def test_labels_that_are_not_one_hot_are_named():
    kind = np.array([[1, 2]])
    ys = np.stack([[EYE[1], np.array([0.0, 0.5, 0.5, 0.0])]])
    assert rotation._labels(kind, ys, soft(2)) == Category(
        "other",
        "batch 1, image 1: received the label [0.0, 0.5, 0.5, 0.0], expected the one-hot of "
        "the rotation, [0.0, 0.0, 1.0, 0.0] for k = 2",
    )
    rounded = np.stack([[EYE[1], np.array([0.0, 0.123456, 0.876544, 0.0])]])
    assert rotation._labels(kind, rounded, soft(2)).message == (
        "batch 1, image 1: received the label [0.0, 0.1235, 0.8765, 0.0], expected the one-hot "
        "of the rotation, [0.0, 0.0, 1.0, 0.0] for k = 2"
    )
    twice = np.stack([[EYE[1], EYE[2] + EYE[3]]])
    assert rotation._labels(kind, twice, soft(2)).value == "other"
    halves = np.stack([[EYE[1], 0.5 * EYE[2]]])
    assert rotation._labels(kind, halves, soft(2)).value == "other"


def test_labels_one_rotation_off_either_way():
    kind = np.array([[0, 1, 2, 3]])
    ahead = np.stack([[EYE[1], EYE[2], EYE[3], EYE[0]]])
    got = rotation._labels(kind, ahead, soft(4))
    assert got == Category(
        "off by one",
        "batch 1, image 0: received the label k = 1 for an image rotated by k = 0: every label "
        "is one rotation off; the label is the one-hot of the k of np.rot90(x[i], k, "
        "axes=(-2, -1)), k in {0, 1, 2, 3}",
    )
    behind = np.stack([[EYE[3], EYE[0], EYE[1], EYE[2]]])
    assert rotation._labels(kind, behind, soft(4)).value == "off by one"


def test_labels_of_the_opposite_turn_and_other_mismatches():
    kind = np.array([[0, 1, 2, 3, 1]])
    opposite = np.stack([[EYE[0], EYE[3], EYE[2], EYE[1], EYE[3]]])
    got = rotation._labels(kind, opposite, soft(5))
    assert got == Category(
        "opposite direction",
        "batch 1, image 1: received the label k = 3 for an image rotated by k = 1 (k * 90 "
        "degrees counter-clockwise, as np.rot90 turns): the images turn the other way than "
        "their labels say",
    )
    mixed = np.stack([[EYE[0], EYE[2], EYE[2], EYE[3], EYE[1]]])
    assert rotation._labels(kind, mixed, soft(5)) == Category(
        "mismatched",
        "batch 1, image 1: received the label k = 2 for an image rotated by k = 1, expected "
        "the one-hot of its own k",
    )
    partly = np.stack([[EYE[1], EYE[2], EYE[2], EYE[3], EYE[1]]])
    assert rotation._labels(kind, partly, soft(5)).value == "mismatched"


def test_a_label_is_wrong_only_beyond_the_tight_tolerance():
    kind = np.array([[1, 3]])
    ys = np.stack([[EYE[1] + 0.5e-9, EYE[3]]])
    assert rotation._labels(kind, ys, soft(2)) == Category("ok")
    ys = np.stack([[EYE[1], EYE[3] - 2e-9 * EYE[3]]])
    assert rotation._labels(kind, ys, soft(2)).message.startswith("batch 1, image 1: ")
    at = np.stack([[EYE[1] + TIGHT * EYE[0], EYE[3]]])
    assert np.abs(at - EYE[[1, 3]]).max() == TIGHT
    assert rotation._labels(kind, at, soft(2)) == Category("ok")


def test_labels_of_images_that_are_not_rotations_are_not_judged():
    kind = np.array([[OTHER, 2, TRANSPOSED]])
    ys = np.stack([[EYE[1], EYE[2], EYE[0]]])
    assert rotation._labels(kind, ys, soft(3)) == Category("ok")
    ys = np.stack([[0.5 * EYE[1], EYE[1], EYE[0]]])
    assert rotation._labels(kind, ys, soft(3)).value in {"off by one", "mismatched"}
    off = rotation._labels(
        np.array([[OTHER, 2, 2]]), np.stack([[0.5 * EYE[1], EYE[3], EYE[3]]]), soft(3)
    )
    assert off.value == "off by one"


# -------------------------------------------------------------------- k per image
def test_a_k_shared_by_every_batch_is_named():
    got = rotation._per_image(np.array([[1, 1, 1], [3, 3, OTHER]]))
    assert got == Category(
        "one per batch",
        "received every image of a batch turned by the same k, in all 2 batches: draw a k per "
        "image, rng.integers(4, size=N)",
    )
    assert (
        rotation._per_image(np.array([[2, 2], [TRANSPOSED, TRANSPOSED]])).value == "one per batch"
    )


def test_one_batch_with_two_ks_or_too_few_known_images_is_ok():
    assert rotation._per_image(np.array([[1, 1], [0, 2]])) == Category("ok")
    assert rotation._per_image(np.array([[1, OTHER], [2, OTHER]])) == Category("ok")
    assert rotation._per_image(np.array([[1, OTHER], [2, 2]])).value == "one per batch"
    assert rotation._per_image(np.array([[OTHER, OTHER], [2, 2]])).message.endswith(
        "in all 1 batches: draw a k per image, rng.integers(4, size=N)"
    )
    with pytest.raises(
        Unusable, match=r"^no image is a turn of the input: its k cannot be judged$"
    ):
        rotation._per_image(np.array([[OTHER, OTHER]]))


# ----------------------------------------------------------------------- refusal
def test_non_square_images_must_be_refused_with_value_error():
    assert rotation._refusal(Outcome({"non-square": {"code": 1}})) == Category("refused")
    assert rotation._refusal(Outcome({"non-square": {"code": 0}})) == Category(
        "accepted",
        "on 2 x 3 images (H != W) the transform returned a batch, expected ValueError: a quarter "
        "turn of a non-square image cannot keep the batch's shape",
    )
    assert rotation._refusal(Outcome({"non-square": {"code": 2}})) == Category(
        "another exception",
        "on 2 x 3 images (H != W) the transform raised an exception other than ValueError, "
        "expected ValueError: a quarter turn of a non-square image cannot keep the batch's "
        "shape",
    )


@pytest.mark.parametrize("got", [{"code": 3}, {"code": -1}, {"code": True}, {"code": 1.0}, {}, [1]])
def test_an_unreadable_refusal_is_unusable(got):
    with pytest.raises(Unusable, match=r"^the call on non-square images: unreadable result$"):
        rotation._refusal(Outcome({"non-square": got}))


def test_a_missing_refusal_names_the_call():
    with pytest.raises(Unusable, match=r"^the call on non-square images: not computed"):
        rotation._refusal(Outcome({}))


def test_the_refusal_is_a_case_of_the_transform():
    got, plan = features(draws=4)
    refusal = [op for op in plan.ops if op["op"] == "routine" and op["name"] == "transform_refusal"]
    assert len(refusal) == 1 and refusal[0]["save"] == "non-square"
    x = plan.arrays[refusal[0]["kwargs"]["x"]["array"]]
    assert x.shape == (64, 1, 2, 3)
    assert list(got)[-1] == "non-square images refused"
