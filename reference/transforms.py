"""Batch transforms for training: mixup, CutMix, label-preserving augmentations, and the
rotation pretext task.

Each is ``__call__(x, y, rng) -> (x, y)`` on images ``(N, C, H, W)`` and float labels
``(N, K)``; all randomness comes from ``rng`` and the inputs are never modified.
"""

from __future__ import annotations

import math

import numpy as np


def _box(centre: int, side: int, size: int) -> tuple[int, int]:
    """The interval of length ``side`` around ``centre``, clipped to ``[0, size)``."""
    start = centre - side // 2
    return max(start, 0), min(start + side, size)


class Mixup:
    """Mixup: ``x = lam x + (1 - lam) x[perm]``, ``y = lam y + (1 - lam) y[perm]``.

    ``lam ~ Beta(alpha, alpha)`` is drawn ONCE per batch (as in the paper's reference code)
    and ``perm`` is a random permutation of the batch; labels mix with the same lam as the
    inputs. ``last_lam`` keeps the last lam for diagnostics only.
    """

    def __init__(self, alpha: float = 0.2) -> None:
        self.alpha = alpha
        self.last_lam: float | None = None

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the batch mixed with a shuffled copy of itself."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        lam = float(rng.beta(self.alpha, self.alpha))
        perm = rng.permutation(x.shape[0])
        self.last_lam = lam
        return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm]


class CutMix:
    """CutMix: paste a box of ``x[perm]`` into ``x``; labels mix by the kept area.

    ``lam ~ Beta(beta, beta)``; the box has sides ``round(sqrt(1 - lam) H)`` and
    ``round(sqrt(1 - lam) W)``, a centre drawn uniformly over the pixels, and is clipped
    to the image. One box and one ``perm`` per batch, as in the paper's code. After
    clipping, ``lam = 1 - box_area / (H W)`` is RECOMPUTED, and the labels are
    ``lam y + (1 - lam) y[perm]``: the weight of each label is its share of the pixels.
    ``last_lam`` keeps that recomputed lam for diagnostics only.
    """

    def __init__(self, beta: float = 1.0) -> None:
        self.beta = beta
        self.last_lam: float | None = None

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the batch with a box pasted from a shuffled copy and area-mixed labels."""
        out = np.array(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        n, h, w = out.shape[0], out.shape[-2], out.shape[-1]
        ratio = math.sqrt(1.0 - float(rng.beta(self.beta, self.beta)))
        perm = rng.permutation(n)
        y1, y2 = _box(int(rng.integers(h)), round(ratio * h), h)
        x1, x2 = _box(int(rng.integers(w)), round(ratio * w), w)
        out[..., y1:y2, x1:x2] = out[perm][..., y1:y2, x1:x2]
        lam = 1.0 - (y2 - y1) * (x2 - x1) / (h * w)
        self.last_lam = lam
        return out, lam * y + (1 - lam) * y[perm]


class HorizontalFlip:
    """Flip each image along W (the last axis) with probability ``p``; labels unchanged."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the batch with a random subset of images mirrored left-right."""
        x = np.asarray(x, dtype=np.float64)
        flip = (rng.random(x.shape[0]) < self.p).reshape((-1,) + (1,) * (x.ndim - 1))
        return np.where(flip, x[..., ::-1], x), np.array(y, dtype=np.float64)


class RandomCrop:
    """Zero-pad H and W by ``padding`` and crop a random H x W window per image.

    The window's top-left corner is uniform over the ``(2 padding + 1)^2`` positions, so
    each image shifts by up to ``padding`` pixels, with zeros coming in; labels unchanged.
    """

    def __init__(self, padding: int = 4) -> None:
        self.padding = padding

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the batch with every image shifted by a random crop of its padded copy."""
        x = np.asarray(x, dtype=np.float64)
        n, h, w, p = x.shape[0], x.shape[-2], x.shape[-1], self.padding
        pad = [(0, 0)] * (x.ndim - 2) + [(p, p), (p, p)]
        padded = np.pad(x, pad)
        tops = rng.integers(0, 2 * p + 1, size=n)
        lefts = rng.integers(0, 2 * p + 1, size=n)
        out = np.empty_like(x)
        for i in range(n):
            out[i] = padded[i, ..., tops[i] : tops[i] + h, lefts[i] : lefts[i] + w]
        return out, np.array(y, dtype=np.float64)


class GaussianNoise:
    """Additive Gaussian noise: ``x + N(0, std^2)`` entry-wise; labels unchanged.

    ``std`` is the standard deviation (numpy's ``scale``), not the variance.
    """

    def __init__(self, std: float = 0.1) -> None:
        self.std = std

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the batch plus independent noise of standard deviation ``std``."""
        x = np.asarray(x, dtype=np.float64)
        return x + self.std * rng.standard_normal(x.shape), np.array(y, dtype=np.float64)


class Cutout:
    """Zero a ``size x size`` square at a random centre, per image, in all channels.

    The centre is uniform over the pixels and the square is clipped to the image, so at
    most ``size^2`` pixels per channel become 0 (fewer at the border); labels unchanged.
    """

    def __init__(self, size: int = 8) -> None:
        self.size = size

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the batch with one zeroed square per image."""
        out = np.array(x, dtype=np.float64)
        n, h, w = out.shape[0], out.shape[-2], out.shape[-1]
        rows = rng.integers(h, size=n)
        cols = rng.integers(w, size=n)
        for i in range(n):
            y1, y2 = _box(int(rows[i]), self.size, h)
            x1, x2 = _box(int(cols[i]), self.size, w)
            out[i, ..., y1:y2, x1:x2] = 0.0
        return out, np.array(y, dtype=np.float64)


def square_images(x: np.ndarray) -> np.ndarray:
    """``x`` as float64 images ``(N, C, H, W)``; ``ValueError`` unless ``H == W``: a quarter
    turn of a non-square image would not keep the batch's shape."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[-2] != x.shape[-1]:
        raise ValueError(f"rotation needs square images (H == W), got H x W = {x.shape[-2:]}")
    return x


class RotationPretext:
    """The rotation pretext task of self-supervised learning: rotate, and label the rotation.

    Lecture: "Regularization: self-supervised learning" (rotate each image by 0, 90, 180
    or 270 degrees and train a model to predict the rotation). Per image ``i``, ``k_i`` is
    uniform over ``{0, 1, 2, 3}`` (one ``rng.integers(4, size=N)`` draw per call) and

        x_rot[i] = np.rot90(x[i], k_i, axes=(-2, -1))   # k_i * 90 degrees counter-clockwise
        y_rot[i] = one_hot(k_i)                          # (N, 4), float64

    The input labels ``y`` are ignored: the pretext task makes its labels from the data.
    Images must be square (``H == W``), so that every rotation keeps the batch's shape;
    others raise ``ValueError``.
    """

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return every image rotated by a random multiple of 90 degrees, and its k one-hot."""
        x = square_images(x)
        k = rng.integers(4, size=x.shape[0])
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = np.rot90(x[i], int(k[i]), axes=(-2, -1))
        return out, np.eye(4)[k]
