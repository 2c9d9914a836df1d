"""The reference batch transforms, checked by statistics, and that the checks catch every mutant.

Each ``check_*`` drives a transform through ``__call__(x, y, rng)`` only, with inputs built
so that the answer can be read back (unique constant images for CutMix, linearly
independent images for mixup). Statistical checks allow 4 standard errors, computed from
the distribution the course specifies, over several seeds. They return None when the
transform behaves as specified, or a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from gradekit.components import BatchTransform
from gradekit_reference.mutants.transforms import MUTANTS
from gradekit_reference.transforms import (
    CutMix,
    Cutout,
    GaussianNoise,
    HorizontalFlip,
    Mixup,
    RandomCrop,
    RotationPretext,
)

REFERENCE: dict[str, Callable[..., Any]] = {
    "mixup": Mixup,
    "cutmix": CutMix,
    "flip": HorizontalFlip,
    "crop": RandomCrop,
    "noise": GaussianNoise,
    "cutout": Cutout,
    "rotation_pretext": RotationPretext,
}
SEEDS = (0, 1, 2)
Z = 4.0
"""Statistical checks allow Z standard errors: a false alarm about once in 16000 runs."""


def _run(transform: Any, x: np.ndarray, y: np.ndarray, seed: int) -> tuple[Any, Any, str | None]:
    """Call the transform on copies; report changed inputs or wrong shapes."""
    xc, yc = x.copy(), y.copy()
    out_x, out_y = transform(xc, yc, np.random.default_rng(seed))
    if not (np.array_equal(xc, x) and np.array_equal(yc, y)):
        return out_x, out_y, "the transform modified its input arrays"
    if np.shape(out_x) != x.shape or np.shape(out_y) != y.shape:
        return out_x, out_y, f"shapes {np.shape(out_x)}, {np.shape(out_y)}; expected the inputs'"
    return np.asarray(out_x), np.asarray(out_y), None


def _labels(n: int, k: int, seed: int) -> np.ndarray:
    """Soft labels: rows of a random stochastic matrix."""
    y = np.random.default_rng(1000 + seed).uniform(0.1, 1.0, size=(n, k))
    return y / y.sum(axis=1, keepdims=True)


# --- mixup --------------------------------------------------------------------------------


def check_mixup_mixing(factory: Callable[..., Any], alpha: float, seed: int) -> str | None:
    """The mixing weights of the images, recovered by least squares, are the labels.

    With ``y = I`` (each example its own class), ``y_out[i, j]`` is the weight of example j
    in mixed example i; the images are linearly independent, so least squares recovers the
    weights actually used on ``x`` exactly. One lam per batch: every example that was
    mixed with another keeps the same weight lam on itself.
    """
    n = 8
    x = np.random.default_rng(seed).normal(size=(n, 2, 3, 3))
    y = np.eye(n)
    out_x, out_y, problem = _run(factory(alpha=alpha), x, y, seed)
    if problem:
        return problem
    weights = np.linalg.lstsq(x.reshape(n, -1).T, out_x.reshape(n, -1).T, rcond=None)[0].T
    err = np.abs(weights - out_y).max(axis=1)
    if err.max() > 1e-9:
        i = int(err.argmax())
        return (
            f"example {i}: labels mixed with weights {out_y[i].round(3)}, "
            f"the images with {weights[i].round(3)}"
        )
    if np.abs(out_y.sum(axis=1) - 1).max() > 1e-12 or out_y.min() < -1e-12:
        return "the mixed labels are not convex combinations of the labels"
    own = np.diag(out_y)[np.diag(out_y) < 1 - 1e-12]
    if own.size and np.ptp(own) > 1e-12:
        return f"the examples are mixed with different lams {own.round(3)}; one per batch"
    return None


def check_mixup_lam_distribution(
    factory: Callable[..., Any], alpha: float, seed: int
) -> str | None:
    """lam read from the labels has the mean 1/2 and variance 1/(4(2 alpha + 1)) of Beta.

    Over B batches the sample mean has standard error sigma / sqrt(B); the sample variance
    has sigma^2 sqrt((2 + kappa) / B), with the excess kurtosis kappa = -6 / (2 alpha + 3)
    of Beta(alpha, alpha).
    """
    batches, n = 2000, 8
    transform, rng = factory(alpha=alpha), np.random.default_rng(seed)
    x, y = np.zeros((n, 1, 1, 1)), np.eye(n)
    lams = []
    for _ in range(batches):
        _, out_y = transform(x, y, rng)
        own = np.diag(out_y)[np.diag(out_y) < 1 - 1e-12]
        if own.size:
            lams.append(own[0])
    if len(lams) < batches // 2:
        return f"the labels were mixed in only {len(lams)} of {batches} batches"
    lams = np.array(lams)
    var = 1 / (4 * (2 * alpha + 1))
    se_mean = np.sqrt(var / lams.size)
    se_var = var * np.sqrt((2 - 6 / (2 * alpha + 3)) / lams.size)
    if abs(lams.mean() - 0.5) > Z * se_mean:
        return f"mean lam {lams.mean():.4f}, expected 0.5 +- {Z * se_mean:.4f}"
    if abs(lams.var() - var) > Z * se_var:
        return f"var lam {lams.var():.4f}, expected {var:.4f} +- {Z * se_var:.4f}"
    return None


# --- cutmix -------------------------------------------------------------------------------


def _bounding_box_filled(mask: np.ndarray) -> bool:
    """Whether the True entries of a 2-d mask form one filled axis-aligned rectangle."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return True
    return bool(mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].all()) and (
        mask.sum() == (rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1)
    )


def _touches_border(mask: np.ndarray) -> bool:
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def _cutmix_batch(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Image i is the constant i + 1 in every channel, and its label is class i."""
    n = 6
    x = np.broadcast_to(np.arange(1.0, n + 1).reshape(n, 1, 1, 1), (n, 2, h, w)).copy()
    return x, np.eye(n)


def check_cutmix_area(factory: Callable[..., Any], beta: float, seed: int) -> str | None:
    """Each label weight is the fraction of pixels that came from that image.

    Image j's pixels are recognisable by their value j + 1, so this is the pasted-area
    fraction of the clipped box, 1 - lam, compared with the label weights exactly. The
    pasted region is one box, the same in every channel.
    """
    x, y = _cutmix_batch(7, 9)
    out_x, out_y, problem = _run(factory(beta=beta), x, y, seed)
    if problem:
        return problem
    for i in range(x.shape[0]):
        fractions = np.array([np.mean(out_x[i] == j + 1) for j in range(x.shape[0])])
        if np.abs(fractions - out_y[i]).max() > 1e-12:
            return (
                f"example {i}: pixel fractions per source image {fractions.round(4)}, "
                f"label weights {out_y[i].round(4)}"
            )
        pasted = out_x[i] != i + 1
        if not (pasted == pasted[0]).all() or not _bounding_box_filled(pasted[0]):
            return f"example {i}: the pasted pixels are not one box in all channels"
    return None


def test_cutmix_checks_cover_clipped_boxes() -> None:
    """The seeds of the CutMix checks include boxes cut by the border, where lam changes."""
    border = 0
    for seed in SEEDS:
        for beta in (1.0, 0.5):
            x, y = _cutmix_batch(7, 9)
            out_x, _ = CutMix(beta=beta)(x, y, np.random.default_rng(seed))
            border += any(_touches_border(out_x[i, 0] != i + 1) for i in range(x.shape[0]))
    assert border > 0


@pytest.mark.parametrize("beta", [1.0, 0.5])
def test_cutmix_lam_is_recomputed_from_the_clipped_box(beta: float) -> None:
    transform = CutMix(beta=beta)
    for seed in range(20):
        x, y = _cutmix_batch(7, 9)
        out_x, _ = transform(x, y, np.random.default_rng(seed))
        pasted = (out_x[:, 0] != np.arange(1, 7).reshape(6, 1, 1)).any(axis=0)
        assert transform.last_lam == pytest.approx(1 - pasted.mean(), abs=1e-12)


# --- label-preserving augmentations -------------------------------------------------------


def check_flip(factory: Callable[..., Any], p: float, seed: int) -> str | None:
    """Each image is itself or mirrored along W; the mirrored fraction is p +- Z se."""
    n = 4000
    x = np.random.default_rng(seed).normal(size=(n, 2, 2, 3))
    y = _labels(n, 3, seed)
    out_x, out_y, problem = _run(factory(p=p), x, y, seed)
    if problem:
        return problem
    if not np.array_equal(out_y, y):
        return "the labels changed"
    flipped = (out_x == x[..., ::-1]).all(axis=(1, 2, 3))
    kept = (out_x == x).all(axis=(1, 2, 3))
    if not (flipped | kept).all():
        return "some images are neither the original nor its left-right mirror (axis W)"
    se = np.sqrt(p * (1 - p) / n)
    if abs(flipped.mean() - p) > Z * se:
        return f"flipped fraction {flipped.mean():.4f}, expected {p} +- {Z * se:.4f}"
    return None


def check_crop(factory: Callable[..., Any], padding: int, seed: int) -> str | None:
    """Each image is an H x W window of its zero-padded copy, at offsets uniform in [0, 2p].

    The offset of a uniform window has mean ``padding`` and variance ((2p+1)^2 - 1) / 12.
    """
    n, h, w = 400, 5, 6
    x = np.random.default_rng(seed).uniform(1, 2, size=(n, 2, h, w))
    y = _labels(n, 3, seed)
    out_x, out_y, problem = _run(factory(padding=padding), x, y, seed)
    if problem:
        return problem
    if not np.array_equal(out_y, y):
        return "the labels changed"
    padded = np.pad(x, [(0, 0), (0, 0), (padding, padding), (padding, padding)])
    offsets = []
    for i in range(n):
        found = [
            (t, l)
            for t in range(2 * padding + 1)
            for l in range(2 * padding + 1)
            if np.array_equal(out_x[i], padded[i, :, t : t + h, l : l + w])
        ]
        if not found:
            return f"image {i} is not a window of the image padded with {padding} zeros"
        offsets.append(found[0])
    offsets = np.array(offsets)
    se = np.sqrt(((2 * padding + 1) ** 2 - 1) / 12 / n)
    if np.abs(offsets.mean(axis=0) - padding).max() > Z * se + 1e-12:
        return f"mean offsets {offsets.mean(axis=0)}, expected {padding} +- {Z * se:.3f}"
    return None


def check_noise(factory: Callable[..., Any], std: float, seed: int) -> str | None:
    """The added noise has mean 0 +- Z std/sqrt(n) and std ``std`` +- Z std/sqrt(2n)."""
    x = np.random.default_rng(seed).uniform(-1, 1, size=(40, 3, 8, 8))
    y = _labels(40, 3, seed)
    out_x, out_y, problem = _run(factory(std=std), x, y, seed)
    if problem:
        return problem
    if not np.array_equal(out_y, y):
        return "the labels changed"
    noise = out_x - x
    if abs(noise.mean()) > Z * std / np.sqrt(noise.size):
        return f"noise mean {noise.mean():.4g}, expected 0"
    if abs(noise.std() - std) > Z * std / np.sqrt(2 * noise.size):
        return f"noise std {noise.std():.4g}, expected {std}"
    return None


def check_cutout(factory: Callable[..., Any], size: int, seed: int) -> str | None:
    """One zeroed box per image, the same in all channels, size x size unless clipped."""
    n, h, w = 300, 10, 9
    x = np.random.default_rng(seed).uniform(1, 2, size=(n, 3, h, w))
    y = _labels(n, 3, seed)
    out_x, out_y, problem = _run(factory(size=size), x, y, seed)
    if problem:
        return problem
    if not np.array_equal(out_y, y):
        return "the labels changed"
    zero = out_x == 0
    if not np.array_equal(out_x[~zero], x[~zero]):
        return "pixels outside the cut-out square changed"
    for i in range(n):
        mask = zero[i, 0]
        if not (zero[i] == mask).all():
            return f"image {i}: the zeroed pixels differ between channels"
        if not mask.any() or not _bounding_box_filled(mask):
            return f"image {i}: the zeroed pixels are not one non-empty box"
        rows, cols = mask.any(axis=1).sum(), mask.any(axis=0).sum()
        if rows > size or cols > size:
            return f"image {i}: a {rows} x {cols} box, larger than {size} x {size}"
        if not _touches_border(mask) and (rows, cols) != (size, size):
            return f"image {i}: an unclipped {rows} x {cols} box, expected {size} x {size}"
    return None


# --- the rotation pretext task -----------------------------------------------------------


def check_rotation(factory: Callable[..., Any], side: float, seed: int) -> str | None:
    """Each image is ``np.rot90(x[i], k, axes=(-2, -1))`` and its label the one-hot of that
    ``k``, whatever the input labels; each k's share is 1/4 +- Z se."""
    n, side = 2000, int(side)
    x = np.random.default_rng(seed).normal(size=(n, side, side, side))  # C = H = W
    y = _labels(n, 3, seed)
    xc, yc = x.copy(), y.copy()
    out_x, out_y = factory()(xc, yc, np.random.default_rng(seed))
    if not (np.array_equal(xc, x) and np.array_equal(yc, y)):
        return "the transform modified its input arrays"
    if np.shape(out_x) != x.shape or np.shape(out_y) != (n, 4):
        return f"shapes {np.shape(out_x)}, {np.shape(out_y)}; expected {x.shape}, {(n, 4)}"
    out_x, out_y = np.asarray(out_x), np.asarray(out_y)
    k = np.full(n, -1)
    for r in range(4):
        k[(out_x == np.rot90(x, r, axes=(-2, -1))).all(axis=(1, 2, 3))] = r
    if (k < 0).any():
        return "some images are none of the four rotations by k * 90 degrees over (H, W)"
    if not np.array_equal(out_y, np.eye(4)[k]):
        return "the labels are not the one-hot of each image's rotation k (counter-clockwise)"
    share, se = np.bincount(k, minlength=4) / n, np.sqrt(3 / 16 / n)
    if np.abs(share - 0.25).max() > Z * se:
        return f"shares of k {share.round(4).tolist()}, expected 1/4 +- {Z * se:.4f}"
    return None


def test_rotation_refuses_non_square_images() -> None:
    with pytest.raises(ValueError, match="square"):
        RotationPretext()(np.zeros((2, 1, 3, 4)), np.eye(2), np.random.default_rng(0))


# --- the tables ---------------------------------------------------------------------------

CHECKS: dict[str, list[tuple[Callable[..., str | None], float]]] = {
    "mixup": [(check_mixup_mixing, a) for a in (0.2, 1.0)]
    + [(check_mixup_lam_distribution, a) for a in (0.2, 1.0)],
    "cutmix": [(check_cutmix_area, b) for b in (1.0, 0.5)],
    "flip": [(check_flip, p) for p in (0.5, 0.2, 0.0, 1.0)],
    "crop": [(check_crop, pad) for pad in (1, 2)],
    "noise": [(check_noise, s) for s in (0.1, 0.5)],
    "cutout": [(check_cutout, s) for s in (3, 4)],
    "rotation_pretext": [(check_rotation, side) for side in (2, 5)],
}
CASES = [
    (target, check, arg, seed)
    for target, checks in CHECKS.items()
    for check, arg in checks
    for seed in SEEDS
]


@pytest.mark.parametrize(
    ("target", "check", "arg", "seed"),
    CASES,
    ids=[f"{t}-{c.__name__}-{a}-seed{s}" for t, c, a, s in CASES],
)
def test_reference(target: str, check: Callable[..., str | None], arg: float, seed: int) -> None:
    assert check(REFERENCE[target], arg, seed) is None


@pytest.mark.parametrize("target", sorted(REFERENCE))
def test_defaults_and_protocol(target: str) -> None:
    defaults = {
        "mixup": {"alpha": 0.2},
        "cutmix": {"beta": 1.0},
        "flip": {"p": 0.5},
        "crop": {"padding": 4},
        "noise": {"std": 0.1},
        "cutout": {"size": 8},
        "rotation_pretext": {},
    }[target]
    transform = REFERENCE[target]()
    assert {k: getattr(transform, k) for k in defaults} == defaults
    assert isinstance(transform, BatchTransform)


@pytest.mark.parametrize("target", sorted(REFERENCE))
def test_outputs_are_new_float64_arrays(target: str) -> None:
    x = np.random.default_rng(0).uniform(1, 2, size=(4, 3, 16, 16))
    y = np.eye(4)
    out_x, out_y = REFERENCE[target]()(x, y, np.random.default_rng(0))
    assert out_x.dtype == out_y.dtype == np.float64
    assert not np.shares_memory(out_x, x) and not np.shares_memory(out_y, y)


def test_cutout_keeps_some_squares_whole() -> None:
    """The cutout seeds include unclipped squares, so the size x size rule is exercised."""
    x = np.random.default_rng(0).uniform(1, 2, size=(50, 1, 10, 9))
    out_x, _ = Cutout(size=3)(x, np.eye(50), np.random.default_rng(0))
    assert ((out_x[:, 0] == 0).sum(axis=(1, 2)) == 9).any()


# --- mutants ------------------------------------------------------------------------------


def failures(factory: Callable[..., Any], target: str) -> list[str]:
    """Every check of ``target`` applied to ``factory``: the messages of those that fail."""
    results = [check(factory, arg, seed) for check, arg in CHECKS[target] for seed in SEEDS]
    return [r for r in results if r is not None]


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_checks_detect_mutant(mutant: Any) -> None:
    assert mutant.kind == "transforms"
    assert failures(mutant.factory, mutant.target), f"{mutant.name} passed every check"


# --- the rotation pretext task against index arithmetic -----------------------------------


def _quarter_turns(img: np.ndarray, k: int) -> np.ndarray:
    """``k`` counter-clockwise quarter turns of the last two axes by index arithmetic:
    a turn of an ``n x n`` image sends row ``r``, column ``c`` to row ``n - 1 - c``,
    column ``r``."""
    n = img.shape[-1]
    for _ in range(k):
        turned = np.empty_like(img)
        for r in range(n):
            for c in range(n):
                turned[..., n - 1 - c, r] = img[..., r, c]
        img = turned
    return img


@pytest.mark.parametrize("seed", SEEDS)
def test_rotation_turns_each_image_by_its_own_k(seed: int) -> None:
    """Every image is its label's number of quarter turns of the input, over H and W and
    never the channels, and a batch holds several k."""
    x = np.random.default_rng(seed).normal(size=(64, 3, 3, 3))
    out_x, out_y = RotationPretext()(x, np.eye(64)[:, :4], np.random.default_rng(seed))
    k = out_y.argmax(axis=1)
    assert np.array_equal(out_y, np.eye(4)[k])
    for i in range(64):
        assert np.array_equal(out_x[i], _quarter_turns(x[i], int(k[i]))), i
        assert np.array_equal(out_x[i], np.rot90(x[i], k[i], axes=(-2, -1))), i
    assert len(set(k.tolist())) == 4


def test_the_index_arithmetic_is_a_counter_clockwise_turn() -> None:
    """The oracle itself: the top-right corner of a turned image comes to the top left."""
    img = np.arange(9.0).reshape(1, 3, 3)
    assert _quarter_turns(img, 1)[0, 0].tolist() == [2.0, 5.0, 8.0]
    assert np.array_equal(_quarter_turns(img, 4), img)


@pytest.mark.parametrize(
    "name",
    ["rotation_transposed", "rotation_channel_axis", "rotation_label_off_by_one"],
)
def test_rotation_mutants_break_the_oracle(name: str) -> None:
    mutant = next(m for m in MUTANTS if m.name == name)
    x = np.random.default_rng(5).normal(size=(64, 3, 3, 3))
    out_x, out_y = mutant.factory()(x, np.eye(64)[:, :4], np.random.default_rng(5))
    k = out_y.argmax(axis=1)
    assert any(not np.array_equal(out_x[i], _quarter_turns(x[i], int(k[i]))) for i in range(64))


def test_one_rotation_per_batch_is_no_draw_per_image() -> None:
    mutant = next(m for m in MUTANTS if m.name == "rotation_one_per_batch")
    x = np.random.default_rng(6).normal(size=(64, 1, 3, 3))
    _, out_y = mutant.factory()(x, np.eye(64)[:, :4], np.random.default_rng(6))
    assert len(set(out_y.argmax(axis=1).tolist())) == 1


@pytest.mark.parametrize("mutant", [m for m in MUTANTS if m.target == "rotation_pretext"])
def test_rotation_mutants_refuse_non_square_images_like_the_reference(mutant: Any) -> None:
    """Each rotation mutant differs from the reference by its bug alone."""
    with pytest.raises(ValueError):
        mutant.factory()(np.zeros((64, 1, 2, 3)), np.eye(64)[:, :4], np.random.default_rng(0))
