"""Statistical models of the batch transforms: mixup, CutMix and the augmentations.

Inputs are built so that the answer can be read back from the outputs alone:

- mixup: labels ``y = I`` (each example its own class), so ``y_out[i]`` lists the weights
  of the examples mixed into example i, and ``x_out`` must be ``y_out @ x``; lam is the
  weight an example keeps on itself (Beta(alpha, alpha) is symmetric, so mixing
  ``lam x[perm] + (1 - lam) x`` is as correct as the reference's order);
- CutMix: image i is ``i + 1`` plus a code of the pixel position below 1/2, so every output
  pixel says which image it came from and whether it moved; a label's weight must be its
  image's share of the pixels, whatever the box rounding;
- flip, crop, cutout: random images, each output image classified as the input, its mirror,
  a shift with zeros coming in, or the input with a zeroed rectangle;
- noise: the difference ``x_out - x`` is the noise itself.

Every transform gets one generator for all its calls (``repeat_transform``); running again
with a generator of the same seed must give the same outputs (randomness only from rng).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..sandbox.plan import Outcome, Plan
from .base import Target
from .features import (
    Category,
    FeatureSet,
    Statistic,
    Unusable,
    correlation_stat,
    mean_stat,
    ok_or,
    valid,
    value,
)

TIGHT = 1e-9


def _where(t: int, i: int) -> str:
    return f"batch {t + 1}, image {i}"


class TransformModel:
    """Shared plan and features: one long run, two short reproducibility runs."""

    kinds = ("transforms",)
    draws = 100
    uses_p = False

    def inputs(self, target: Target, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def settings(self, target: Target, options: Any) -> list[tuple[str, dict[str, Any]]]:
        """``(label, kwargs)`` per component built: one per p for p-models."""
        if self.uses_p:
            return [(f"p={p:g}", {**target.kwargs, "p": p}) for p in options.p_values]
        return [("", dict(target.kwargs))]

    def plan(self, target: Target, options: Any) -> Plan:
        rng = target.rng()
        x, y = self.inputs(target, rng)
        plan = Plan()
        xr, yr = plan.array(x), plan.array(y)
        for i, (_, kwargs) in enumerate(self.settings(target, options)):
            obj = f"c{i}"
            plan.make(obj, target.kind, target.name, **kwargs)
            common = {"transform": {"component": obj}, "x": xr, "y": yr}
            draws = options.draws or self.draws
            plan.routine(
                "repeat_transform", f"run{i}", seed=int(rng.integers(2**31)), times=draws, **common
            )
            seed = int(rng.integers(2**31))
            for copy in "ab":
                plan.routine("repeat_transform", f"rep{i}{copy}", seed=seed, times=2, **common)
        plan.meta = {"x": x, "y": y, "extra": self.extra(target, options, x)}
        return plan

    def extra(self, target: Target, options: Any, x: np.ndarray) -> Any:
        return None

    @staticmethod
    def run(outcome: Outcome, key: str, x: np.ndarray, y: np.ndarray, times: int) -> dict:
        got = value(outcome, key, "the transform's outputs")
        if not isinstance(got, dict):
            raise Unusable("the transform's outputs: not returned")
        return {
            "x": valid(got.get("x"), (times, *x.shape), "x returned by the transform"),
            "y": valid(got.get("y"), (times, *y.shape), "y returned by the transform"),
        }

    def features(self, target: Target, options: Any, plan: Plan, outcome: Outcome) -> FeatureSet:
        x, y = plan.meta["x"], plan.meta["y"]
        out = FeatureSet()
        draws = options.draws or self.draws
        for i, (label, kwargs) in enumerate(self.settings(target, options)):
            at = f" ({label})" if label else ""

            @cache
            def outputs(i: int = i) -> dict:
                return self.run(outcome, f"run{i}", x, y, draws)

            self.judged(out, outputs, at, kwargs, plan)
            out.add(
                f"randomness from rng{at}", lambda i=i: self._reproducible(outcome, i, x, y), 0.5
            )
        return out

    def judged(self, out: FeatureSet, outputs: Any, at: str, kwargs: dict, plan: Plan) -> None:
        raise NotImplementedError

    def _reproducible(self, outcome: Outcome, i: int, x: np.ndarray, y: np.ndarray) -> Category:
        a = self.run(outcome, f"rep{i}a", x, y, 2)
        b = self.run(outcome, f"rep{i}b", x, y, 2)
        same = all(np.array_equal(a[k], b[k]) for k in ("x", "y"))
        return ok_or(
            None
            if same
            else "received different outputs from two runs with generators of the same seed, "
            "expected the same: take every random number from the rng argument"
        )

    @staticmethod
    def labels_unchanged(out: FeatureSet, outputs: Any, y: np.ndarray, at: str) -> None:
        def check() -> Category:
            ys = outputs()["y"]
            bad = np.argwhere(np.abs(ys - y) > TIGHT * (1 + np.abs(y)))
            if not bad.size:
                return Category("ok")
            t, i = int(bad[0][0]), int(bad[0][1])
            return Category(
                "violated", f"{_where(t, i)}: received a changed label, expected y unchanged"
            )

        out.add(f"labels unchanged{at}", check, 0.5)

    def changed(self, plan: Plan, outcome: Outcome) -> list[str]:
        flags = [v.get("mutated") for k, v in outcome.values.items() if isinstance(v, dict)]
        return ["the transform"] if any(f is True for f in flags) else []


def _soft_labels(rng: np.random.Generator, n: int, k: int = 3) -> np.ndarray:
    y = rng.uniform(0.1, 1.0, (n, k))
    return y / y.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------------------- mixup
class MixupModel(TransformModel):
    draws = 1500
    n = 16

    def inputs(self, target: Target, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return rng.standard_normal((self.n, 2, 3, 3)), np.eye(self.n)

    def judged(self, out: FeatureSet, outputs: Any, at: str, kwargs: dict, plan: Plan) -> None:
        x = plan.meta["x"].reshape(self.n, -1)
        alpha = float(kwargs.get("alpha", 0.2))

        def weights() -> Category:
            ys = outputs()["y"]
            nonzero = (np.abs(ys) > 1e-12).sum(axis=2)
            bad = (ys < -1e-12).any(axis=2) | (np.abs(ys.sum(axis=2) - 1) > TIGHT) | (nonzero > 2)
            if not bad.any():
                return Category("ok")
            t, i = (int(a) for a in np.argwhere(bad)[0])
            row = np.array2string(ys[t, i], precision=3)
            return Category(
                "violated",
                f"{_where(t, i)}: received the mixed label {row} for one-hot labels y = I, "
                "expected the weights lam and 1 - lam of two examples (non-negative, sum 1)",
            )

        def images() -> Category:
            o = outputs()
            xs = o["x"].reshape(o["x"].shape[0], self.n, -1)
            mixed = o["y"] @ x
            err = np.abs(xs - mixed).max(axis=2)
            bad = err > TIGHT * (1 + np.abs(x).max())
            if not bad.any():
                return Category("ok")
            t, i = (int(a) for a in np.argwhere(bad)[0])
            return Category(
                "violated",
                f"{_where(t, i)}: received an image {err[t, i]:.3g} away from y_out @ x, expected "
                "the mix its label describes: mix the labels with the same lam and perm as the "
                "images",
            )

        @cache
        def lams() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            """Per batch with a mixed example: lam (the first one's own weight), and the
            smallest and largest max(lam, 1 - lam) over its mixed examples, and its index."""
            ys = outputs()["y"]
            mixed = (np.abs(ys) > 1e-12).sum(axis=2) == 2
            batches = np.nonzero(mixed.any(axis=1))[0]
            if not batches.size:
                raise Unusable(
                    "received no mixed example (every label one-hot), expected examples mixed "
                    "in pairs"
                )
            first = mixed[batches].argmax(axis=1)
            top = np.where(mixed, ys.max(axis=2), np.nan)[batches]
            low, high = np.nanmin(top, axis=1), np.nanmax(top, axis=1)
            return ys[batches, first, first], low, high, batches

        def one_lam() -> Category:
            _, low, high, batches = lams()
            bad = np.nonzero(high - low > TIGHT)[0]
            if not bad.size:
                return Category("ok")
            b = int(bad[0])
            return Category(
                "violated",
                f"batch {int(batches[b]) + 1}: received examples mixed with different lam "
                f"(max(lam, 1 - lam) from {low[b]:.4f} to {high[b]:.4f}), expected one lam for "
                "the whole batch",
            )

        var = 1 / (4 * (2 * alpha + 1))
        out.add(f"labels are mixing weights{at}", weights, 0.5)
        out.add(f"images mixed with the label weights{at}", images)
        out.add(f"one lam per batch{at}", one_lam)
        out.add(
            f"mean of lam{at}",
            lambda: mean_stat(
                lams()[0], f"mean of lam over batches (Beta({alpha:g}, {alpha:g}): 0.5)"
            ),
        )
        out.add(
            f"variance of lam{at}",
            lambda: mean_stat(
                (lams()[0] - lams()[0].mean()) ** 2,
                f"variance of lam over batches (Beta({alpha:g}, {alpha:g}): {var:.4g})",
            ),
        )


# ------------------------------------------------------------------------------ cutmix
class CutMixModel(TransformModel):
    draws = 1000
    n, size = 4, 16

    def inputs(self, target: Target, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        h = w = self.size
        code = np.arange(h * w).reshape(1, 1, h, w) / (2.0 * h * w)
        x = np.arange(1, self.n + 1, dtype=float).reshape(-1, 1, 1, 1) + code
        return x, np.eye(self.n)

    def extra(self, target: Target, options: Any, x: np.ndarray) -> Any:
        beta = float(target.kwargs.get("beta", 1.0))
        return rounding_allowance(beta, self.size, self.size)

    def judged(self, out: FeatureSet, outputs: Any, at: str, kwargs: dict, plan: Plan) -> None:
        x0 = plan.meta["x"]
        code = x0[0] - 1.0
        n, hw = self.n, self.size * self.size

        @cache
        def sources() -> np.ndarray:
            xs = outputs()["x"]
            src = np.round(xs - code) - 1
            off = np.abs(xs - code - (src + 1)) > TIGHT
            bad = off | (src < 0) | (src >= n)
            if bad.any():
                t, i, *pix = (int(a) for a in np.argwhere(bad)[0])
                raise Unusable(
                    f"{_where(t, i)}, pixel {tuple(pix)}: received {xs[(t, i, *pix)]:.6g}, "
                    "expected the pixel of an image of the batch at the same position (CutMix "
                    "pastes a box of another image at the same place)"
                )
            return src.astype(int)[:, :, 0]  # one channel

        def boxes() -> Category:
            try:
                src = sources()
            except Unusable as exc:
                return Category("violated", str(exc))
            for t in range(src.shape[0]):
                for i in range(n):
                    pasted = src[t, i] != i
                    if not pasted.any():
                        continue
                    rows, cols = np.nonzero(pasted)
                    box = pasted[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
                    if not box.all() or len(set(src[t, i][pasted])) != 1:
                        return Category(
                            "violated",
                            f"{_where(t, i)}: received pasted pixels that are not one "
                            "rectangle from one image, expected one box",
                        )
            return Category("ok")

        def label_weights() -> Category:
            src = sources()
            ys = outputs()["y"]
            shares = np.zeros(ys.shape)
            for j in range(n):
                shares[:, :, j] = (src == j).reshape(src.shape[0], n, -1).sum(axis=2) / hw
            own = np.eye(n, dtype=bool)[None]
            partner = ~own & (shares > 0)
            swapped = np.where(own, 1.0 - shares, 0.0) + np.where(partner, 1.0 - shares, 0.0)
            alone = ~partner.any(axis=2)
            # No visible paste (an empty box, or perm(i) = i): swapped weights put all of
            # the label on the partner, a one-hot row that the pixels cannot name.
            one_hot = (np.abs(ys - 1) <= TIGHT).sum(axis=2) == 1
            swapped[alone] = np.where(one_hot[alone][:, None], ys[alone], -1.0)
            wrong = np.abs(ys - shares).max(axis=2) > TIGHT
            if not wrong.any():
                return Category("ok")
            if not (np.abs(ys - swapped).max(axis=2)[wrong] > TIGHT).any():
                t, i = (int(a) for a in np.argwhere(wrong)[0])
                return Category(
                    "swapped",
                    f"{_where(t, i)}: received weight {ys[t, i, i]:.4f} on the image's own "
                    f"label, expected {shares[t, i, i]:.4f}, the share of its pixels it keeps: "
                    "the weights are swapped (lam, the kept share, weights y)",
                )
            t, i = (int(a) for a in np.argwhere(wrong)[0])
            return Category(
                "other",
                f"{_where(t, i)}: received label {np.array2string(ys[t, i], precision=4)}, "
                f"expected the pixel shares {np.array2string(shares[t, i], precision=4)}: "
                "recompute lam = 1 - box area / image area from the clipped box",
            )

        def area() -> Statistic:
            src = sources()
            share = (src != np.arange(n)[None, :, None, None]).reshape(src.shape[0], n, -1)
            share = share.mean(axis=2)
            per_batch = [s[s > 0].mean() for s in share if (s > 0).any()]
            stat = mean_stat(
                np.array(per_batch),
                "mean share of pasted pixels (the clipped box area / image area)",
                allowance=plan.meta["extra"],
            )
            return stat

        out.add(f"pixels from the batch, in place{at}", lambda: ok_or(_problem(sources)), 0.5)
        out.add(f"one pasted box{at}", boxes, 0.5)
        out.add(f"label weights = pixel shares{at}", label_weights)
        out.add(f"box area{at}", area)


def _problem(fn: Any) -> str | None:
    try:
        fn()
    except Unusable as exc:
        return str(exc)
    return None


def rounding_allowance(beta: float, h: int, w: int, draws: int = 200_000) -> float:
    """How far the mean clipped box area moves between correct box conventions.

    Simulates (trusted, here) the reference's box (side ``round(sqrt(1 - lam) H)`` from
    ``c - side // 2``) and the CutMix paper's (``int(...)``, from ``c - side // 2`` to
    ``c + side // 2``); the largest gap between them is allowed on top of the standard
    errors, so any of these roundings passes.
    """
    rng = np.random.default_rng(0)
    ratio = np.sqrt(1.0 - rng.beta(beta, beta, draws))
    cy, cx = rng.integers(h, size=draws), rng.integers(w, size=draws)

    def area(side_h: np.ndarray, side_w: np.ndarray, paper: bool) -> float:
        def span(c: np.ndarray, side: np.ndarray, size: int) -> np.ndarray:
            start = c - side // 2
            stop = c + side // 2 if paper else start + side
            return np.clip(stop, 0, size) - np.clip(start, 0, size)

        return float(np.mean(span(cy, side_h, h) * span(cx, side_w, w)) / (h * w))

    means = [
        area(np.round(ratio * h).astype(int), np.round(ratio * w).astype(int), False),
        area(np.floor(ratio * h).astype(int), np.floor(ratio * w).astype(int), False),
        area(np.floor(ratio * h).astype(int), np.floor(ratio * w).astype(int), True),
        area(np.round(ratio * h).astype(int), np.round(ratio * w).astype(int), True),
    ]
    return max(means) - min(means)


# -------------------------------------------------------------------------------- flip
class FlipModel(TransformModel):
    uses_p = True
    n = 32

    def inputs(self, target: Target, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return rng.standard_normal((self.n, 2, 4, 5)), _soft_labels(rng, self.n)

    def judged(self, out: FeatureSet, outputs: Any, at: str, kwargs: dict, plan: Plan) -> None:
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
                    f"{_where(t, i)}: received an image flipped upside down (along H, axis 2), "
                    "expected a left-right mirror, along W (the last axis)",
                )
            return Category(
                "other",
                f"{_where(t, i)}: received an image that is neither the input nor its "
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
        x = rng.choice([-1.0, 1.0], (self.n, 2, side, side)) * rng.uniform(
            0.5, 1.5, (self.n, 2, side, side)
        )
        return x, _soft_labels(rng, self.n)

    def judged(self, out: FeatureSet, outputs: Any, at: str, kwargs: dict, plan: Plan) -> None:
        x = plan.meta["x"]
        pad = int(kwargs.get("padding", 4))

        @cache
        def shifts() -> np.ndarray:
            """Per image (dy, dx) with out[h, w] = x[h + dy, w + dx] (0 outside), or Unusable."""
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
                    f"{_where(t, i)}: received an image that is not a shift of the input, "
                    f"expected the input shifted by at most {pad} pixels with zeros coming in "
                    "(zero-pad by padding, then crop H x W)"
                )
            return found.reshape(-1, 2).astype(float)

        uniform = pad * (pad + 1) / 3
        out.add(f"shifted copies with zero padding{at}", lambda: ok_or(_problem(shifts)))
        out.add(
            f"mean vertical shift{at}",
            lambda: mean_stat(
                shifts()[:, 0], "mean vertical shift (0: the crop is centred on average)"
            ),
            0.5,
        )
        out.add(
            f"mean horizontal shift{at}",
            lambda: mean_stat(
                shifts()[:, 1], "mean horizontal shift (0: the crop is centred on average)"
            ),
            0.5,
        )
        out.add(
            f"mean squared shift{at}",
            lambda: mean_stat(
                (shifts() ** 2).sum(axis=1),
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

    def judged(self, out: FeatureSet, outputs: Any, at: str, kwargs: dict, plan: Plan) -> None:
        x = plan.meta["x"]
        std = float(kwargs.get("std", 0.1))

        @cache
        def noise() -> np.ndarray:
            return outputs()["x"] - x[None]

        def spread() -> Statistic:
            sq = noise().ravel() ** 2
            var = sq.mean()
            if var <= 0:
                raise Unusable("received x unchanged, expected noise added")
            se = sq.std() / np.sqrt(sq.size) / (2 * np.sqrt(var))  # delta method
            label = f"standard deviation of the noise (std = {std:g}, not std^2 = {std**2:g})"
            return Statistic(float(np.sqrt(var)), float(se), sq.size, label)

        out.add(f"noise mean{at}", lambda: mean_stat(noise(), "mean of the noise (0)"), 0.5)
        out.add(f"noise std{at}", spread)
        out.add(
            f"independent across examples{at}",
            lambda: correlation_stat(
                noise()[:, 0::2], noise()[:, 1::2], "correlation of two examples' noise"
            ),
            0.5,
        )
        out.add(
            f"fresh noise each call{at}",
            lambda: correlation_stat(
                noise()[0::2], noise()[1::2], "correlation of two calls' noise"
            ),
            0.5,
        )
        self.labels_unchanged(out, outputs, plan.meta["y"], at)


# ------------------------------------------------------------------------------ cutout
class CutoutModel(TransformModel):
    draws = 50
    n, side = 32, 8

    def inputs(self, target: Target, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        shape = (self.n, 2, self.side, self.side)
        x = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)
        return x, _soft_labels(rng, self.n)

    def judged(self, out: FeatureSet, outputs: Any, at: str, kwargs: dict, plan: Plan) -> None:
        x = plan.meta["x"]
        size = int(kwargs.get("size", 8))
        h, w = x.shape[-2:]

        @cache
        def squares() -> np.ndarray:
            """Per image (rows, cols) of the zeroed rectangle, after checking its shape."""
            xs = outputs()["x"]
            zero = xs == 0
            dims = np.zeros((*xs.shape[:2], 2))
            for t, i in np.ndindex(*xs.shape[:2]):
                where = _where(t, i)
                z = zero[t, i]
                if not np.array_equal(xs[t, i][~z], x[i][~z]):
                    raise Unusable(
                        f"{where}: received changed pixels outside the zeroed square, expected "
                        "them unchanged"
                    )
                if not (z == z[0]).all():
                    raise Unusable(
                        f"{where}: received other zeroed pixels in each channel, expected one "
                        "square in all channels"
                    )
                rows, cols = np.nonzero(z[0])
                if not rows.size:
                    raise Unusable(f"{where}: received no zeroed pixel, expected a square")
                r, c = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
                top, bottom = rows.min() == 0, rows.max() == h - 1
                left, right = cols.min() == 0, cols.max() == w - 1
                if r * c != rows.size or r > size or c > size:
                    raise Unusable(
                        f"{where}: received zeroed pixels that are not one rectangle of sides "
                        f"at most {size}, expected a {size} x {size} square"
                    )
                if (r < size and not (top or bottom)) or (c < size and not (left or right)):
                    raise Unusable(
                        f"{where}: received a {r} x {c} zeroed rectangle away from the border, "
                        f"expected a {size} x {size} square (smaller only where clipped)"
                    )
                dims[t, i] = r, c
            return dims.reshape(-1, 2)

        out.add(f"one zeroed square per image{at}", lambda: ok_or(_problem(squares)))
        out.add(
            f"zeroed area{at}",
            lambda: mean_stat(
                squares().prod(axis=1) / (h * w),
                f"mean share of zeroed pixels ({size} x {size} squares clipped to {h} x {w})",
            ),
        )
        out.add(
            f"squares clipped at the border{at}",
            lambda: mean_stat(
                (squares() < size).any(axis=1),
                "fraction of squares clipped at the border (centres uniform over the pixels)",
            ),
            0.5,
        )
        self.labels_unchanged(out, outputs, plan.meta["y"], at)


TRANSFORM_MODELS: dict[str, Any] = {
    "mixup": MixupModel(),
    "cutmix": CutMixModel(),
    "flip": FlipModel(),
    "crop": CropModel(),
    "noise": NoiseModel(),
    "cutout": CutoutModel(),
}
