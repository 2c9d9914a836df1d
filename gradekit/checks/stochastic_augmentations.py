"""Statistical models of the label-preserving augmentations: flip, crop, noise and cutout
(the rotation pretext task, which makes its own labels, is in ``stochastic_rotation``).

Each output image is classified against the input: kept or mirrored (flip), shifted with
zeros coming in (crop), the input with one zeroed square (cutout); for noise, the
difference ``x_out - x`` is the noise itself. Labels must come back unchanged.

False alarms of the statistical cases, for a correct transform (the reference draws with
other seeds, so the two estimates are independent; ``features``, ``estimates``):

| case | statistic, its units (default draws) | false alarm |
|---|---|---|
| flip fraction | share of images mirrored, per image and call (100 x 32) | 5.7e-7 |
| mean vertical, horizontal shift | mean shift, per image and call (50 x 32) | 5.7e-7 |
| mean squared shift | mean of dy^2 + dx^2, per image and call (50 x 32) | 5.7e-7 |
| noise mean | mean of the noise, per entry (10 x 16 x 192) | 5.7e-7 |
| noise std | root of the mean squared noise (delta method), per entry | 5.7e-7 |
| independent across examples | correlation of two examples' noise, per pair (15360) | 5.7e-7 |
| fresh noise each call | correlation of two calls' noise, per pair (15360) | 5.7e-7 |
| zeroed area | mean zeroed share, per image and call (50 x 32) | 5.7e-7 |
| squares clipped at the border | share of clipped squares, per image and call (50 x 32) | 5.7e-7 |

Both sides' estimates have one distribution, so their difference is symmetric (the skew
of a Bernoulli share or of squared noise cancels); the excess kurtosis left (at most
0.0002 here) is corrected by Cornish and Fisher's term and the estimated standard errors
by Student's t (``estimates.tolerance_factor``). The standard errors count dependence
(``estimates``): one shift for the whole batch, or one noise reused at every call, is
judged by its distinct draws.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..sandbox.plan import Plan
from .base import Target
from .features import (
    Category,
    FeatureSet,
    Statistic,
    Unusable,
    correlation_stat,
    mean_stat,
    ok_or,
)
from .stochastic_transforms import TIGHT, Outputs, TransformModel, place, problem


def _soft_labels(rng: np.random.Generator, n: int, k: int = 3) -> np.ndarray:
    y = rng.uniform(0.1, 1.0, (n, k))
    return y / y.sum(axis=1, keepdims=True)


def _signs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Entries of magnitude 0.5 to 1.5 with random signs: never 0, so zeros are the transform's."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)


# -------------------------------------------------------------------------------- flip
class FlipModel(TransformModel):
    uses_p = True
    n = 32

    def inputs(self, target: Target, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return rng.standard_normal((self.n, 2, 4, 5)), _soft_labels(rng, self.n)

    def judged(self, out: FeatureSet, outputs: Outputs, at: str, kwargs: dict, plan: Plan) -> None:
        x = plan.meta["x"]

        @cache
        def kinds() -> np.ndarray:
            """Per image: 0 unchanged, 1 mirrored along W, 2 along H, 3 anything else."""
            xs = outputs()["x"]
            kind = np.full(xs.shape[:2], 3)
            for code, ref in ((2, x[..., ::-1, :]), (1, x[..., ::-1]), (0, x)):
                same = np.abs(xs - ref[None]).reshape(*xs.shape[:2], -1).max(axis=2) <= TIGHT
                kind[same] = code
            return kind

        def mirrors() -> Category:
            kind = kinds()
            if (kind <= 1).all():
                return Category("ok")
            t, i = (int(a) for a in np.argwhere(kind > 1)[0])
            if (kind[kind > 1] == 2).all():
                return Category(
                    "vertical",
                    f"{place(t, i)}: received an image flipped upside down (along H, axis 2), "
                    "expected a left-right mirror, along W (the last axis)",
                )
            return Category(
                "other",
                f"{place(t, i)}: received an image that is neither the input nor its "
                "left-right mirror, expected one of them",
            )

        out.add(f"images kept or mirrored left-right{at}", mirrors)
        out.add(
            f"flip fraction{at}",
            lambda: mean_stat(kinds() == 1, f"fraction of images mirrored{at} (p flips)"),
        )
        self.labels_unchanged(out, outputs, plan.meta["y"], at)


# -------------------------------------------------------------------------------- crop
class CropModel(TransformModel):
    draws = 50
    n = 32

    def inputs(self, target: Target, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        pad = int(target.kwargs.get("padding", 4))
        side = max(6, pad + 3)
        return _signs(rng, (self.n, 2, side, side)), _soft_labels(rng, self.n)

    def judged(self, out: FeatureSet, outputs: Outputs, at: str, kwargs: dict, plan: Plan) -> None:
        x = plan.meta["x"]
        pad = int(kwargs.get("padding", 4))

        @cache
        def shifts() -> np.ndarray:
            """Per call and image (dy, dx) with out[h, w] = x[h + dy, w + dx] (0 outside),
            or Unusable."""
            xs = outputs()["x"]
            found = np.full((*xs.shape[:2], 2), 10**6)
            h, w = x.shape[-2:]
            padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            for dy in range(-pad, pad + 1):
                for dx in range(-pad, pad + 1):
                    ref = padded[..., pad + dy : pad + dy + h, pad + dx : pad + dx + w]
                    same = np.abs(xs - ref[None]).reshape(*xs.shape[:2], -1).max(axis=2) <= TIGHT
                    found[same] = (dy, dx)
            bad = found[..., 0] == 10**6
            if bad.any():
                t, i = (int(a) for a in np.argwhere(bad)[0])
                raise Unusable(
                    f"{place(t, i)}: received an image that is not a shift of the input, "
                    f"expected the input shifted by at most {pad} pixels with zeros coming in "
                    "(zero-pad by padding, then crop H x W)"
                )
            return found.astype(float)

        uniform = pad * (pad + 1) / 3
        out.add(f"shifted copies with zero padding{at}", lambda: ok_or(problem(shifts)))
        out.add(
            f"mean vertical shift{at}",
            lambda: mean_stat(
                shifts()[..., 0], "mean vertical shift (0: the crop is centred on average)"
            ),
            0.5,
        )
        out.add(
            f"mean horizontal shift{at}",
            lambda: mean_stat(
                shifts()[..., 1], "mean horizontal shift (0: the crop is centred on average)"
            ),
            0.5,
        )
        out.add(
            f"mean squared shift{at}",
            lambda: mean_stat(
                (shifts() ** 2).sum(axis=-1),
                f"mean squared shift dy^2 + dx^2 ({2 * uniform:.4g} for positions uniform over "
                f"the {2 * pad + 1} x {2 * pad + 1} crops)",
            ),
        )
        self.labels_unchanged(out, outputs, plan.meta["y"], at)


# ------------------------------------------------------------------------------- noise
class NoiseModel(TransformModel):
    draws = 10
    n = 16

    def inputs(self, target: Target, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return rng.standard_normal((self.n, 3, 8, 8)), _soft_labels(rng, self.n)

    def judged(self, out: FeatureSet, outputs: Outputs, at: str, kwargs: dict, plan: Plan) -> None:
        x = plan.meta["x"]
        std = float(kwargs.get("std", 0.1))

        @cache
        def noise() -> np.ndarray:
            return outputs()["x"] - x[None]

        def spread() -> Statistic:
            label = f"standard deviation of the noise (std = {std:g}, not std^2 = {std**2:g})"
            var = mean_stat(noise() ** 2, label)
            if var.value <= 0:
                raise Unusable("received x unchanged, expected noise added")
            root = float(np.sqrt(var.value))
            se = var.se / (2 * root)  # the delta method
            return Statistic(root, se, var.n, label, 0.0, var.df, var.kurtosis)

        out.add(f"noise mean{at}", lambda: mean_stat(noise(), "mean of the noise (0)"), 0.5)
        out.add(f"noise std{at}", spread)
        out.add(
            f"independent across examples{at}",
            lambda: correlation_stat(noise(), 1, "correlation of two examples' noise"),
            0.5,
        )
        out.add(
            f"fresh noise each call{at}",
            lambda: correlation_stat(noise(), 0, "correlation of two calls' noise"),
            0.5,
        )
        self.labels_unchanged(out, outputs, plan.meta["y"], at)


# ------------------------------------------------------------------------------ cutout
class CutoutModel(TransformModel):
    draws = 50
    n, side = 32, 8

    def inputs(self, target: Target, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return _signs(rng, (self.n, 2, self.side, self.side)), _soft_labels(rng, self.n)

    def judged(self, out: FeatureSet, outputs: Outputs, at: str, kwargs: dict, plan: Plan) -> None:
        x = plan.meta["x"]
        size = int(kwargs.get("size", 8))
        h, w = x.shape[-2:]

        @cache
        def squares() -> np.ndarray:
            """Per call and image (rows, cols) of the zeroed rectangle, after checking its
            shape; ``Unusable`` names the first image that is not one square."""
            xs = outputs()["x"]
            zero = xs == 0
            first = zero[:, :, 0]
            rows, cols = first.any(axis=3), first.any(axis=2)
            top, left = rows.argmax(-1), cols.argmax(-1)
            r = h - top - rows[..., ::-1].argmax(-1)
            c = w - left - cols[..., ::-1].argmax(-1)
            count = first.sum(axis=(2, 3))
            clipped_rows = (top == 0) | (top + r == h)
            clipped_cols = (left == 0) | (left + c == w)
            problems = (
                (
                    ~((xs == x[None]) | zero).all(axis=(2, 3, 4)),
                    "received changed pixels outside the zeroed square, expected them unchanged",
                ),
                (
                    ~(zero == zero[:, :, :1]).all(axis=(2, 3, 4)),
                    "received other zeroed pixels in each channel, expected one square in all "
                    "channels",
                ),
                (count == 0, "received no zeroed pixel, expected a square"),
                (
                    (r * c != count) | (r > size) | (c > size),
                    f"received zeroed pixels that are not one rectangle of sides at most {size}, "
                    f"expected a {size} x {size} square",
                ),
                (
                    ((r < size) & ~clipped_rows) | ((c < size) & ~clipped_cols),
                    "received a {} x {} zeroed rectangle away from the border, expected a "
                    f"{size} x {size} square (smaller only where clipped)",
                ),
            )
            bad = np.logical_or.reduce([wrong for wrong, _ in problems])
            if bad.any():
                t, i = (int(a) for a in np.argwhere(bad)[0])
                message = next(m for wrong, m in problems if wrong[t, i])
                raise Unusable(f"{place(t, i)}: {message.format(r[t, i], c[t, i])}")
            return np.stack([r, c], axis=-1)

        out.add(f"one zeroed square per image{at}", lambda: ok_or(problem(squares)))
        out.add(
            f"zeroed area{at}",
            lambda: mean_stat(
                squares().prod(axis=-1) / (h * w),
                f"mean share of zeroed pixels ({size} x {size} squares clipped to {h} x {w})",
            ),
        )
        out.add(
            f"squares clipped at the border{at}",
            lambda: mean_stat(
                (squares() < size).any(axis=-1),
                "fraction of squares clipped at the border (centres uniform over the pixels)",
            ),
            0.5,
        )
        self.labels_unchanged(out, outputs, plan.meta["y"], at)


AUGMENTATION_MODELS: dict[str, Any] = {
    "flip": FlipModel(),
    "crop": CropModel(),
    "noise": NoiseModel(),
    "cutout": CutoutModel(),
}
