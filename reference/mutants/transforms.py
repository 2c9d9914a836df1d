"""Known-buggy mixup, CutMix and augmentations, each naming the student's misconception."""

from __future__ import annotations

import math

import numpy as np

from gradekit_reference.transforms import (
    CutMix,
    GaussianNoise,
    HorizontalFlip,
    Mixup,
    RotationPretext,
    _box,
    square_images,
)

from . import Mutant


class MixupLamPerExample(Mixup):
    """Mixup drawing a separate ``lam ~ Beta(alpha, alpha)`` for every example."""

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mix each example with its own lam (the course draws one per batch)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        lam = rng.beta(self.alpha, self.alpha, size=x.shape[0])
        perm = rng.permutation(x.shape[0])
        self.last_lam = float(lam.mean())
        lx = lam.reshape((-1,) + (1,) * (x.ndim - 1))
        ly = lam.reshape((-1,) + (1,) * (y.ndim - 1))
        return lx * x + (1 - lx) * x[perm], ly * y + (1 - ly) * y[perm]


class MixupLabelsNotMixed(Mixup):
    """Mixup that mixes the inputs but returns the original labels."""

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mix the inputs only (wrong)."""
        mixed, _ = super().__call__(x, y, rng)
        return mixed, np.array(y, dtype=np.float64)


class _CutMixLabels(CutMix):
    """CutMix with the label mixing left to ``_labels(y, perm, sampled, recomputed)``."""

    def _labels(self, y: np.ndarray, perm: np.ndarray, sampled: float, lam: float) -> np.ndarray:
        raise NotImplementedError

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Paste a box as the reference does, then mix the labels the buggy way."""
        out = np.array(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        n, h, w = out.shape[0], out.shape[-2], out.shape[-1]
        sampled = float(rng.beta(self.beta, self.beta))
        ratio = math.sqrt(1.0 - sampled)
        perm = rng.permutation(n)
        y1, y2 = _box(int(rng.integers(h)), round(ratio * h), h)
        x1, x2 = _box(int(rng.integers(w)), round(ratio * w), w)
        out[..., y1:y2, x1:x2] = out[perm][..., y1:y2, x1:x2]
        lam = 1.0 - (y2 - y1) * (x2 - x1) / (h * w)
        self.last_lam = lam
        return out, self._labels(y, perm, sampled, lam)


class CutMixSampledLam(_CutMixLabels):
    """CutMix that mixes the labels with the sampled lam, not the clipped box's."""

    def _labels(self, y: np.ndarray, perm: np.ndarray, sampled: float, lam: float) -> np.ndarray:
        return sampled * y + (1 - sampled) * y[perm]


class CutMixLabelsSwapped(_CutMixLabels):
    """CutMix that gives weight lam to the pasted image's label."""

    def _labels(self, y: np.ndarray, perm: np.ndarray, sampled: float, lam: float) -> np.ndarray:
        return (1 - lam) * y + lam * y[perm]


class FlipVertical(HorizontalFlip):
    """A "horizontal" flip that reverses axis H (axis 2 of NCHW) instead of W."""

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Flip upside down with probability p (wrong axis)."""
        x = np.asarray(x, dtype=np.float64)
        flip = (rng.random(x.shape[0]) < self.p).reshape((-1,) + (1,) * (x.ndim - 1))
        return np.where(flip, x[..., ::-1, :], x), np.array(y, dtype=np.float64)


class NoiseVarianceAsStd(GaussianNoise):
    """Gaussian noise whose standard deviation is ``std ** 2``."""

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Add noise of scale std^2 (wrong)."""
        x = np.asarray(x, dtype=np.float64)
        return x + rng.normal(0.0, self.std**2, x.shape), np.array(y, dtype=np.float64)


class RotationClockwise(RotationPretext):
    """A rotation pretext task rotating clockwise while labelling counter-clockwise."""

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rotate by -k * 90 degrees, label k (wrong: 90 and 270 swap their labels)."""
        x = np.asarray(x, dtype=np.float64)
        k = rng.integers(4, size=x.shape[0])
        out = np.stack([np.rot90(x[i], -int(k[i]), axes=(-2, -1)) for i in range(len(x))])
        return out, np.eye(4)[k]


class RotationInputLabels(RotationPretext):
    """A rotation pretext task that rotates the images but returns the input labels."""

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rotate as the reference does, keep y (wrong)."""
        out, _ = super().__call__(x, y, rng)
        return out, np.array(y, dtype=np.float64)


class RotationTransposed(RotationPretext):
    """A rotation pretext task that turns an image a quarter by transposing H and W."""

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """``k`` transposes for k quarter turns (wrong: a transpose mirrors the image)."""
        x = square_images(x)
        k = rng.integers(4, size=x.shape[0])
        out = x.copy()
        for i in range(len(x)):
            for _ in range(int(k[i])):
                out[i] = np.swapaxes(out[i], -1, -2)
        return out, np.eye(4)[k]


class RotationChannelAxis(RotationPretext):
    """A rotation pretext task calling ``np.rot90(x[i], k)`` on a ``(C, H, W)`` image."""

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rotate over np.rot90's default axes (0, 1), C and H (wrong: H and W)."""
        x = square_images(x)
        k = rng.integers(4, size=x.shape[0])
        out = np.stack([np.rot90(x[i], int(k[i])) for i in range(len(x))])
        return out, np.eye(4)[k]


class RotationLabelOffByOne(RotationPretext):
    """A rotation pretext task drawing the angle from 90, 180, 270, 360 degrees."""

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Turn by q quarter turns, q in 1..4, and label q - 1 (wrong: the label is q mod 4)."""
        x = square_images(x)
        q = rng.integers(1, 5, size=x.shape[0])
        out = np.stack([np.rot90(x[i], int(q[i]), axes=(-2, -1)) for i in range(len(x))])
        return out, np.eye(4)[q - 1]


class RotationOnePerBatch(RotationPretext):
    """A rotation pretext task drawing one ``k`` for the whole batch."""

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Turn every image by the same k (wrong: one k per image)."""
        x = square_images(x)
        k = int(rng.integers(4))
        out = np.rot90(x, k, axes=(-2, -1)).copy()
        return out, np.tile(np.eye(4)[k], (len(x), 1))


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "mixup_lam_per_example",
        "transforms",
        "mixup",
        MixupLamPerExample,
        "Mixup with a separate lam per example: the course draws one lam ~ Beta(alpha, alpha) "
        "per batch and mixes the whole batch with it.",
    ),
    Mutant(
        "mixup_labels_not_mixed",
        "transforms",
        "mixup",
        MixupLabelsNotMixed,
        "Mixup that mixes only the inputs: the labels must be mixed with the same lam, "
        "y = lam y + (1 - lam) y[perm], or the network learns to ignore the second image.",
    ),
    Mutant(
        "cutmix_sampled_lam",
        "transforms",
        "cutmix",
        CutMixSampledLam,
        "CutMix labels mixed with the sampled lam: once the box is clipped at the border the "
        "pasted area is smaller, so lam must be recomputed as 1 - box_area / image_area.",
    ),
    Mutant(
        "cutmix_labels_swapped",
        "transforms",
        "cutmix",
        CutMixLabelsSwapped,
        "CutMix labels mixed the wrong way round: lam is the share of the ORIGINAL image's "
        "pixels, so it weights y, and 1 - lam weights the pasted image's label y[perm].",
    ),
    Mutant(
        "flip_vertical",
        "transforms",
        "flip",
        FlipVertical,
        "Horizontal flip along the wrong axis: images are (N, C, H, W), a left-right mirror "
        "reverses W, the last axis, not H.",
    ),
    Mutant(
        "noise_variance_as_std",
        "transforms",
        "noise",
        NoiseVarianceAsStd,
        "Gaussian noise N(0, std^2) drawn with scale std^2: numpy's scale is the standard "
        "deviation, so the noise is std, not its square.",
    ),
    Mutant(
        "rotation_clockwise",
        "transforms",
        "rotation_pretext",
        RotationClockwise,
        "Rotation pretext labels that do not match the rotation: np.rot90(x, k) over (H, W) "
        "turns k * 90 degrees counter-clockwise, and the label is that k; rotating clockwise "
        "by k swaps the labels of 90 and 270 degrees.",
    ),
    Mutant(
        "rotation_input_labels",
        "transforms",
        "rotation_pretext",
        RotationInputLabels,
        "Rotation pretext task keeping the input labels: self-supervised learning makes its "
        "labels from the data, the one-hot (N, 4) of the rotation k, and ignores y.",
        breaks_purpose=True,
    ),
    Mutant(
        "rotation_transposed",
        "transforms",
        "rotation_pretext",
        RotationTransposed,
        "A quarter turn taken for a transpose: swapping H and W mirrors the image along its "
        "diagonal, and two transposes give the input back, so 180 degrees looks like 0. A "
        "quarter turn is np.rot90(x[i], 1, axes=(-2, -1)), the transpose of the mirrored image.",
    ),
    Mutant(
        "rotation_channel_axis",
        "transforms",
        "rotation_pretext",
        RotationChannelAxis,
        "np.rot90(x[i], k) without axes turns the first two axes of a (C, H, W) image, the "
        "channels and the rows: the image plane is the last two axes, axes=(-2, -1).",
    ),
    Mutant(
        "rotation_label_off_by_one",
        "transforms",
        "rotation_pretext",
        RotationLabelOffByOne,
        "Rotation pretext labels one rotation off: the label of an image turned by k * 90 "
        "degrees is the one-hot of k mod 4 (0 for 0 and 360 degrees), not of k - 1.",
    ),
    Mutant(
        "rotation_one_per_batch",
        "transforms",
        "rotation_pretext",
        RotationOnePerBatch,
        "One rotation drawn for the whole batch: every image draws its own k, so that each "
        "batch holds all four rotations of the pretext task.",
    ),
)
