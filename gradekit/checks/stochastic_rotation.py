"""The statistical model of the rotation pretext task (self-supervised learning).

Every output image is classified against the input: one of its four rotations by
``k * 90`` degrees over H and W, a transpose of H and W, a turn over the channel and row
axes (``np.rot90`` without ``axes``), or something else. The label of a rotated image
must be the one-hot of its ``k``; labels that are all one rotation off, or that follow
the opposite direction of turning, are told apart from other mismatches. Each image
draws its own ``k`` (a batch that shares one is named), each ``k`` a quarter of the
draws, and a batch of non-square images is refused with ``ValueError``.

False alarms of the statistical cases, for a correct transform (the reference draws with
other seeds, so the two estimates are independent; ``features``, ``estimates``):

| case | statistic, its units (default draws) | false alarm |
|---|---|---|
| share of rotation k, each k | share turned by k, per image and call (100 x 32) | 5.7e-7 |

The exact cases never fail a correct transform, except "a k per image" when every call
draws one k for all its 32 images (4^-31 per call) and the refusal when all 64 images of
the non-square batch draw an even k in a transform that refuses only by failing to stack
quarter-turned images (2^-64).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..routines import REFUSAL_CODES
from ..sandbox.plan import Outcome, Plan
from .base import Target
from .features import Category, FeatureSet, Unusable, mean_stat, value
from .stochastic_transforms import TIGHT, Outputs, TransformModel, place

ROTATED, TRANSPOSED, CHANNELS, OTHER = 3, 4, 5, 6
"""Kinds of output image: ``0..ROTATED`` is the k of a rotation over H and W; then a
transpose of H and W, a turn over C and H, anything else."""


class RotationModel(TransformModel):
    """The rotation pretext task: each image is ``np.rot90(x[i], k, axes=(-2, -1))`` for a
    ``k`` uniform over {0, 1, 2, 3} drawn per image, and its label the one-hot ``(4,)`` of
    that ``k``; the input labels (soft, never one-hot) must not come back. Images have as
    many channels as rows, so that a turn over the wrong axes keeps their shape."""

    n = 32
    refused = 64
    """Images in the non-square batch the transform must refuse."""

    def inputs(self, target: Target, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        y = rng.uniform(0.1, 1.0, (self.n, 4))
        return rng.standard_normal((self.n, 3, 3, 3)), y / y.sum(axis=1, keepdims=True)

    def plan(self, target: Target, options: Any) -> Plan:
        plan = super().plan(target, options)
        rng = target.rng(2)
        plan.routine(
            "transform_refusal",
            "non-square",
            transform={"component": "c0"},
            x=plan.array(rng.standard_normal((self.refused, 1, 2, 3))),
            y=plan.array(np.full((self.refused, 4), 0.25)),
            seed=int(rng.integers(2**31)),
        )
        return plan

    def judged(self, out: FeatureSet, outputs: Outputs, at: str, kwargs: dict, plan: Plan) -> None:
        x, y = plan.meta["x"], plan.meta["y"]

        @cache
        def kinds() -> np.ndarray:
            """Per call and image: its kind (``ROTATED`` and the codes after it)."""
            xs = outputs()["x"]
            kind = np.full(xs.shape[:2], OTHER)
            refs = [
                (TRANSPOSED, np.swapaxes(x, -1, -2)),
                (TRANSPOSED, np.swapaxes(x, -1, -2)[..., ::-1, ::-1]),
                *((CHANNELS, np.rot90(x, k, axes=(1, 2))) for k in range(1, 4)),
                *((k, np.rot90(x, k, axes=(-2, -1))) for k in range(4)),
            ]
            for code, ref in refs:
                same = np.abs(xs - ref[None]).reshape(*xs.shape[:2], -1).max(axis=2) <= TIGHT
                kind[same] = code
            return kind

        out.add(f"images rotated by k * 90 degrees{at}", lambda: _rotations(kinds()))
        out.add(
            f"labels one-hot of the rotation{at}",
            lambda: _labels(kinds(), outputs()["y"], y),
            2.0,
            severe=lambda got: isinstance(got, Category) and got.value == "input labels",
        )
        out.add(f"a k per image{at}", lambda: _per_image(kinds()), 0.5)
        for k in range(4):
            out.add(
                f"share of rotation k={k}{at}",
                lambda k=k: mean_stat(
                    kinds() == k, f"fraction of images rotated by {90 * k} degrees (1/4)"
                ),
                0.25,
            )

    def run(self, outcome: Any, key: str, x: np.ndarray, y: np.ndarray, times: int) -> dict:
        """The outputs, with labels of shape ``(N, 4)`` whatever the input labels'."""
        return super().run(outcome, key, x, np.zeros((len(x), 4)), times)

    def features(self, target: Target, options: Any, plan: Plan, outcome: Outcome) -> FeatureSet:
        out = super().features(target, options, plan, outcome)
        out.add("non-square images refused", lambda: _refusal(outcome), 0.5)
        return out


def _rotations(kind: np.ndarray) -> Category:
    """Whether every output is a rotation over H and W, and if not what turned instead."""
    if (kind <= ROTATED).all():
        return Category("ok")
    t, i = (int(a) for a in np.argwhere(kind > ROTATED)[0])
    wrong = kind[kind > ROTATED]
    if (wrong == TRANSPOSED).all():
        return Category(
            "transposed",
            f"{place(t, i)}: received an image transposed (H and W swapped), expected it "
            "rotated by k * 90 degrees: np.rot90(x[i], k, axes=(-2, -1))",
        )
    if (wrong == CHANNELS).all():
        return Category(
            "channel axis",
            f"{place(t, i)}: received an image turned over its channel and row axes (C, H), "
            "expected it turned in the image plane: np.rot90(x[i], k, axes=(-2, -1))",
        )
    return Category(
        "other",
        f"{place(t, i)}: received an image that is none of the four rotations of the input "
        "by k * 90 degrees (over H and W, the last two axes)",
    )


def _labels(kind: np.ndarray, ys: np.ndarray, y: np.ndarray) -> Category:
    """Whether each rotated image's label is the one-hot of its k, and if not, how not."""
    rotated = kind <= ROTATED
    if not rotated.any():
        raise Unusable("no image is a rotation of the input: its label cannot be judged")
    want = np.eye(4)[np.where(rotated, kind, 0)]
    wrong = rotated & (np.abs(ys - want) > TIGHT).any(axis=2)
    if not wrong.any():
        return Category("ok")
    t, i = (int(a) for a in np.argwhere(wrong)[0])
    k = int(kind[t, i])
    if np.allclose(ys, y[None], rtol=TIGHT, atol=TIGHT):
        return Category(
            "input labels",
            f"{place(t, i)}: received the input labels, expected the one-hot of the rotation "
            f"({np.eye(4)[k].tolist()} for k = {k}): the pretext task ignores y",
        )
    onehot = (np.isclose(ys, 0) | np.isclose(ys, 1)).all(axis=2) & np.isclose(ys.sum(axis=2), 1)
    if not onehot[rotated].all():
        return Category(
            "other",
            f"{place(t, i)}: received the label {np.round(ys[t, i], 4).tolist()}, expected the "
            f"one-hot of the rotation, {np.eye(4)[k].tolist()} for k = {k}",
        )
    said = int(ys[t, i].argmax())
    shift = (ys.argmax(axis=2) - kind)[rotated] % 4
    seen = f"{place(t, i)}: received the label k = {said} for an image rotated by k = {k}"
    if (shift == 1).all() or (shift == 3).all():
        return Category(
            "off by one",
            f"{seen}: every label is one rotation off; the label is the one-hot of the k "
            "of np.rot90(x[i], k, axes=(-2, -1)), k in {0, 1, 2, 3}",
        )
    if (shift == (-2 * kind[rotated]) % 4).all():
        return Category(
            "opposite direction",
            f"{seen} (k * 90 degrees counter-clockwise, as np.rot90 turns): the images turn "
            "the other way than their labels say",
        )
    return Category("mismatched", f"{seen}, expected the one-hot of its own k")


def _per_image(kind: np.ndarray) -> Category:
    """``"one per batch"`` when every call turned all its images alike (the same rotation,
    or the same wrong turn): images that are no turn of the input are left out."""
    known = kind != OTHER
    counts = [len(np.unique(row[ok])) for row, ok in zip(kind, known, strict=True) if ok.any()]
    if not counts:
        raise Unusable("no image is a turn of the input: its k cannot be judged")
    if max(counts) > 1 or known.sum(axis=1).max() < 2:
        return Category("ok")
    return Category(
        "one per batch",
        f"received every image of a batch turned by the same k, in all {len(counts)} "
        "batches: draw a k per image, rng.integers(4, size=N)",
    )


def _refusal(outcome: Outcome) -> Category:
    """What the transform did with a batch of 2 x 3 images: refuse it with ValueError."""
    got = value(outcome, "non-square", "the call on non-square images")
    code = got.get("code") if isinstance(got, dict) else None
    if type(code) is not int or not 0 <= code < len(REFUSAL_CODES):
        raise Unusable("the call on non-square images: unreadable result")
    if code == 1:
        return Category("refused")
    seen = "returned a batch" if code == 0 else "raised an exception other than ValueError"
    return Category(
        REFUSAL_CODES[code],
        f"on 2 x 3 images (H != W) the transform {seen}, expected ValueError: a quarter turn "
        "of a non-square image cannot keep the batch's shape",
    )
