"""The reference batch transforms (``gradekit_reference.transforms``), pinned to the spec with
a stub generator whose draws are given, so every output is known: mixup's
``lam x + (1 - lam) x[perm]`` with lam ~ Beta(alpha, alpha) once per batch; CutMix's box of
side ``sqrt(1 - lam)`` around a centre, clipped, with lam recomputed from the pasted area;
flips with probability p; crops of the zero-padded image; additive noise of std ``std``;
cutout's zeroed square; the rotation pretext ``rot90(img, k)`` with label ``one_hot(k)``.
Labels are float64 copies, and the inputs are never modified."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit_reference.transforms import (
    CutMix,
    Cutout,
    GaussianNoise,
    HorizontalFlip,
    Mixup,
    RandomCrop,
    RotationPretext,
)

N = 3
X = (np.arange(N * 2 * 4 * 4, dtype=np.float32).reshape(N, 2, 4, 4) + 1) / 8
"""Three images of two channels, 4 x 4, every pixel distinct and exact in float32."""
Y = np.eye(N, dtype=np.float32)


class Stub:
    """Returns the given draws in order and records every call as (method, args, kwargs)."""

    def __init__(self, *draws):
        self.draws, self.calls = list(draws), []

    def _next(self, name, *args, **kwargs):
        self.calls.append((name, args, kwargs))
        return self.draws.pop(0)

    def beta(self, *args, **kwargs):
        return self._next("beta", *args, **kwargs)

    def permutation(self, *args, **kwargs):
        return self._next("permutation", *args, **kwargs)

    def integers(self, *args, **kwargs):
        return self._next("integers", *args, **kwargs)

    def random(self, *args, **kwargs):
        return self._next("random", *args, **kwargs)

    def standard_normal(self, *args, **kwargs):
        return self._next("standard_normal", *args, **kwargs)


def untouched(call):
    x, y = X.copy(), Y.copy()
    out = call(x, y)
    assert np.array_equal(x, X) and np.array_equal(y, Y)
    xo, yo = out
    assert xo.dtype == np.float64 and yo.dtype == np.float64
    return out


def test_mixup_mixes_inputs_and_labels_with_one_lam_and_one_permutation():
    mix = Mixup()
    assert mix.alpha == 0.2 and mix.last_lam is None
    rng = Stub(0.3, np.array([2, 0, 1]))
    x, y = untouched(lambda x, y: mix(x, y, rng))
    assert [c[0] for c in rng.calls] == ["beta", "permutation"]
    assert rng.calls[0][1] == (0.2, 0.2) and rng.calls[1][1] == (N,)
    xs = X.astype(np.float64)
    np.testing.assert_allclose(x, 0.3 * xs + 0.7 * xs[[2, 0, 1]], rtol=1e-15)
    np.testing.assert_allclose(y, 0.3 * np.eye(3) + 0.7 * np.eye(3)[[2, 0, 1]], rtol=1e-15)
    assert mix.last_lam == 0.3 and isinstance(mix.last_lam, float)
    Mixup(alpha=0.7)(X, Y, rng := Stub(np.float64(0.5), np.arange(N)))
    assert rng.calls[0][1] == (0.7, 0.7)


def test_cutmix_pastes_a_clipped_box_and_mixes_labels_by_its_area():
    mix = CutMix()
    assert mix.beta == 1.0 and mix.last_lam is None
    # lam 0.75: side sqrt(0.25) * 4 = 2; centre row 0 clips the box to rows 0-1 (1 row),
    # centre column 2 gives columns 1-2: one row by two columns of 16 pixels
    rng = Stub(0.75, np.array([1, 2, 0]), 0, 2)
    x, y = untouched(lambda x, y: mix(x, y, rng))
    assert [c[0] for c in rng.calls] == ["beta", "permutation", "integers", "integers"]
    assert rng.calls[0][1] == (1.0, 1.0) and rng.calls[1][1] == (N,)
    assert rng.calls[2][1] == (4,) and rng.calls[3][1] == (4,)
    want = X.astype(np.float64).copy()
    want[:, :, 0:1, 1:3] = X[[1, 2, 0]][:, :, 0:1, 1:3]
    assert x.tolist() == want.tolist()
    lam = 1 - 2 / 16
    assert mix.last_lam == pytest.approx(lam, rel=1e-15)
    np.testing.assert_allclose(y, lam * np.eye(3) + (1 - lam) * np.eye(3)[[1, 2, 0]], rtol=1e-15)


def test_cutmix_box_sides_follow_h_and_w_and_clip_at_the_far_edge():
    img = np.arange(2 * 1 * 4 * 8, dtype=float).reshape(2, 1, 4, 8)
    # lam 0: sides 4 and 8; centre (3, 7): rows 1-3, columns 3-7
    rng = Stub(0.0, np.array([1, 0]), 3, 7)
    x, y = CutMix(beta=0.5)(img, np.eye(2), rng)
    assert rng.calls[0][1] == (0.5, 0.5) and rng.calls[2][1] == (4,) and rng.calls[3][1] == (8,)
    want = img.copy()
    want[:, :, 1:4, 3:8] = img[[1, 0]][:, :, 1:4, 3:8]
    assert x.tolist() == want.tolist()
    lam = 1 - 3 * 5 / 32
    np.testing.assert_allclose(y, [[lam, 1 - lam], [1 - lam, lam]], rtol=1e-15)


def test_cutmix_box_side_rounds_sqrt_1_minus_lam():
    img = np.zeros((2, 1, 8, 8))
    img[1] = 1.0
    # lam 0.5: sqrt(0.5) * 8 = 5.66, side 6; centre (4, 4): rows and columns 1-6
    x, _ = CutMix()(img, np.eye(2), Stub(0.5, np.array([1, 0]), 4, 4))
    assert x[0, 0].sum() == 36 and x[0, 0, 1:7, 1:7].min() == 1.0


def test_flip_mirrors_the_images_whose_draw_is_below_p():
    flip = HorizontalFlip()
    assert flip.p == 0.5
    rng = Stub(np.array([0.2, 0.5, 0.7]))
    x, y = untouched(lambda x, y: flip(x, y, rng))
    assert rng.calls == [("random", (N,), {})]
    assert x[0].tolist() == X[0, :, :, ::-1].tolist()
    assert x[1].tolist() == X[1].tolist() and x[2].tolist() == X[2].tolist()
    assert y.tolist() == Y.tolist()
    x, _ = HorizontalFlip(p=0.9)(X, Y, Stub(np.array([0.2, 0.5, 0.95])))
    assert x[1].tolist() == X[1, :, :, ::-1].tolist() and x[2].tolist() == X[2].tolist()
    flat = np.arange(6.0).reshape(2, 3)
    assert HorizontalFlip()(flat, Y[:2], Stub(np.array([0.1, 0.9])))[0].tolist() == [
        [2.0, 1.0, 0.0],
        [3.0, 4.0, 5.0],
    ]


def test_crop_takes_a_window_of_the_zero_padded_image():
    crop = RandomCrop()
    assert crop.padding == 4
    rng = Stub(np.array([0, 2, 1]), np.array([2, 0, 1]))
    x, y = untouched(lambda x, y: RandomCrop(padding=1)(x, y, rng))
    assert rng.calls == [("integers", (0, 3), {"size": N}), ("integers", (0, 3), {"size": N})]
    padded = np.zeros((N, 2, 6, 6))
    padded[:, :, 1:5, 1:5] = X
    for i, (top, left) in enumerate([(0, 2), (2, 0), (1, 1)]):
        assert x[i].tolist() == padded[i, :, top : top + 4, left : left + 4].tolist()
    assert y.tolist() == Y.tolist()
    rng = Stub(np.array([8, 0, 4]), np.array([0, 8, 4]))
    x, _ = crop(X, Y, rng)
    assert rng.calls[0] == rng.calls[1] == ("integers", (0, 9), {"size": N})
    assert x[2].tolist() == X[2].tolist() and not x[0].any() and not x[1].any()


def test_crop_cutout_and_cutmix_read_h_and_w_from_the_last_two_axes():
    img = np.arange(2 * 3 * 5, dtype=float).reshape(2, 3, 5)  # (N, H, W) without channels
    x, _ = RandomCrop(padding=1)(img, Y[:2], Stub(np.array([1, 0]), np.array([1, 2])))
    assert x[0].tolist() == img[0].tolist()
    assert x[1].tolist() == [[0.0] * 5] + [[*img[1, r, 1:], 0.0] for r in range(2)]
    rng = Stub(np.array([2, 0]), np.array([4, 3]))
    x, _ = Cutout(size=1)(img, Y[:2], rng)
    assert rng.calls == [("integers", (3,), {"size": 2}), ("integers", (5,), {"size": 2})]
    assert np.argwhere(x == 0).tolist() == [[0, 0, 0], [0, 2, 4], [1, 0, 3]]
    rng = Stub(0.0, np.array([1, 0]), 1, 2)
    x, _ = CutMix()(img, np.eye(2), rng)
    assert rng.calls[2][1] == (3,) and rng.calls[3][1] == (5,)
    assert x.tolist() == img[[1, 0]].tolist()


def test_noise_adds_std_times_a_standard_normal():
    noise = GaussianNoise()
    assert noise.std == 0.1
    z = np.linspace(-1, 1, X.size).reshape(X.shape)
    rng = Stub(z)
    x, y = untouched(lambda x, y: GaussianNoise(std=0.5)(x, y, rng))
    assert rng.calls == [("standard_normal", (X.shape,), {})]
    np.testing.assert_allclose(x, X + 0.5 * z, rtol=1e-15)
    assert y.tolist() == Y.tolist()
    x, _ = noise(X.astype(np.longdouble), Y, Stub(z))
    assert x.dtype == np.float64


def test_cutout_zeroes_a_clipped_square_per_image_in_every_channel():
    cut = Cutout()
    assert cut.size == 8
    rng = Stub(np.array([0, 2, 3]), np.array([1, 3, 0]))
    x, y = untouched(lambda x, y: Cutout(size=2)(x, y, rng))
    assert rng.calls == [("integers", (4,), {"size": N}), ("integers", (4,), {"size": N})]
    want = X.astype(np.float64).copy()
    want[0, :, 0:1, 0:2] = 0  # rows -1..0 clipped to 0, columns 0-1
    want[1, :, 1:3, 2:4] = 0
    want[2, :, 2:4, 0:1] = 0
    assert x.tolist() == want.tolist()
    assert y.tolist() == Y.tolist()
    x, _ = Cutout(size=3)(X, Y, Stub(np.array([3, 1, 0]), np.array([3, 1, 2])))
    assert (x[0] == 0).sum() == 2 * 4 and (x[1] == 0).sum() == 2 * 9 and (x[2] == 0).sum() == 2 * 6
    wide = np.ones((1, 1, 4, 6))
    x, _ = Cutout(size=2)(wide, Y[:1], Stub(np.array([3]), np.array([5])))
    assert np.argwhere(x[0, 0] == 0).tolist() == [[2, 4], [2, 5], [3, 4], [3, 5]]


def test_rotation_turns_each_image_by_k_quarter_turns_and_labels_k():
    rng = Stub(np.array([1, 0, 3]))
    x, y = untouched(lambda x, y: RotationPretext()(x, y, rng))
    assert rng.calls == [("integers", (4,), {"size": N})]
    assert x[0, 0].tolist() == [[X[0, 0, r, 3 - c] for r in range(4)] for c in range(4)]
    assert x[1].tolist() == X[1].tolist()
    assert x[2, 1].tolist() == [[X[2, 1, 3 - r, c] for r in range(4)] for c in range(4)]
    assert y.tolist() == [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]
    x, _ = RotationPretext()(X, Y, Stub(np.array([2, 2, 2])))
    assert x.tolist() == X[:, :, ::-1, ::-1].tolist()


def test_rotation_needs_square_images():
    with pytest.raises(ValueError) as error:
        RotationPretext()(np.zeros((1, 1, 3, 4)), np.zeros((1, 1)), Stub(np.array([1])))
    assert str(error.value) == "rotation needs square images (H == W), got H x W = (3, 4)"
    with pytest.raises(ValueError, match=r"got H x W = \(3, 4\)$"):
        RotationPretext()(np.zeros((1, 3, 4)), np.zeros((1, 1)), Stub(np.array([1])))
    x, _ = RotationPretext()(np.ones((1, 1, 2, 2), dtype=np.float32), Y[:1], Stub(np.array([1])))
    assert x.dtype == np.float64


def test_mixup_of_real_draws_is_its_labels_times_the_inputs():
    x, y = Mixup(alpha=1.0)(X, Y, np.random.default_rng(0))
    np.testing.assert_allclose(y.sum(axis=1), 1.0)
    np.testing.assert_allclose(x, np.einsum("ij,jchw->ichw", y, X.astype(np.float64)), rtol=1e-12)
