"""Statistical models of the mixing transforms, mixup and CutMix, read back from their labels.

Inputs are built so that the answer can be read back from the outputs alone:

- mixup: labels ``y = I`` (each example its own class), so ``y_out[i]`` lists the weights
  of the examples mixed into example i, and ``x_out`` must be ``y_out @ x``; lam is the
  weight an example keeps on itself (Beta(alpha, alpha) is symmetric, so mixing
  ``lam x[perm] + (1 - lam) x`` is as correct as the reference's order);
- CutMix: image i is ``i + 1`` plus a code of the pixel position below 1/2, so every output
  pixel says which image it came from and whether it moved; a label's weight must be its
  image's share of the pixels, whatever the box rounding.

False alarms of the statistical cases, for a correct transform (the reference draws with
other seeds, so the two estimates are independent; ``features``, ``estimates``):

| case | statistic, its units (default draws) | false alarm |
|---|---|---|
| mean of lam | mean of lam, one per call with a mix (1500) | 5.7e-7 |
| variance of lam | mean of (lam - mean)^2, one per call with a mix (1500) | 5.7e-7 |
| box area | mean clipped box area / image area, one per call with a paste (~950) | <= 5.7e-7 |

Both sides' estimates have one distribution, so their difference is symmetric: the skew
of a squared deviation or of a U-shaped Beta(0.2, 0.2) lam cancels, and their excess
kurtosis is negative (bounded values), so the normal tail at ``z`` is an upper bound.
Student's t covers the estimated standard errors (``estimates.tolerance_factor``). The
box area's allowance absorbs the largest gap between the mean areas of four correct box
roundings (``rounding_allowance``), so a student with any of them is within ``z``
standard errors of the reference's mean plus the allowance: at most as likely to fail.
"""

from __future__ import annotations

import math
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
    first_violation,
    mean_stat,
    ok_or,
)
from .stochastic_transforms import TIGHT, Outputs, TransformModel, place, problem


# ------------------------------------------------------------------------------- mixup
class MixupModel(TransformModel):
    draws = 1500
    n = 16

    def inputs(self, target: Target, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return rng.standard_normal((self.n, 2, 3, 3)), np.eye(self.n)

    def judged(self, out: FeatureSet, outputs: Outputs, at: str, kwargs: dict, plan: Plan) -> None:
        x = plan.meta["x"].reshape(self.n, -1)
        alpha = float(kwargs.get("alpha", 0.2))

        def weights() -> Category:
            ys = outputs()["y"]
            nonzero = (np.abs(ys) > 1e-12).sum(axis=2)
            bad = (ys < -1e-12).any(axis=2) | (np.abs(ys.sum(axis=2) - 1) > TIGHT) | (nonzero > 2)
            return first_violation(
                bad,
                lambda t, i: (
                    f"{place(t, i)}: received the mixed label "
                    f"{np.array2string(ys[t, i], precision=3)} for one-hot labels y = I, expected "
                    "the weights lam and 1 - lam of two examples (non-negative, sum 1)"
                ),
            )

        def images() -> Category:
            o = outputs()
            xs = o["x"].reshape(o["x"].shape[0], self.n, -1)
            mixed = o["y"] @ x
            err = np.abs(xs - mixed).max(axis=2)
            bad = err > TIGHT * (1 + np.abs(x).max())
            return first_violation(
                bad,
                lambda t, i: (
                    f"{place(t, i)}: received an image {err[t, i]:.3g} away from "
                    "y_out @ x, expected the mix its label describes: mix the labels with the same "
                    "lam and perm as the images"
                ),
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

    def judged(self, out: FeatureSet, outputs: Outputs, at: str, kwargs: dict, plan: Plan) -> None:
        code = plan.meta["x"][0] - 1.0
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
                    f"{place(t, i)}, pixel {tuple(pix)}: received {xs[(t, i, *pix)]:.6g}, "
                    "expected the pixel of an image of the batch at the same position (CutMix "
                    "pastes a box of another image at the same place)"
                )
            return src.astype(int)[:, :, 0]  # one channel

        def boxes() -> Category:
            try:
                src = sources()
            except Unusable as exc:
                return Category("violated", str(exc))
            pasted = src != np.arange(n)[None, :, None, None]
            rows, cols = pasted.any(axis=3), pasted.any(axis=2)
            height = rows.shape[-1] - rows.argmax(-1) - rows[..., ::-1].argmax(-1)
            width = cols.shape[-1] - cols.argmax(-1) - cols[..., ::-1].argmax(-1)
            count = pasted.sum(axis=(2, 3))
            one_image = np.where(pasted, src, -1).max(axis=(2, 3)) == np.where(pasted, src, n).min(
                axis=(2, 3)
            )
            bad = (count > 0) & ((count != height * width) | ~one_image)
            return first_violation(
                bad,
                lambda t, i: (
                    f"{place(t, i)}: received pasted pixels that are not one rectangle "
                    "from one image, expected one box"
                ),
            )

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
                    f"{place(t, i)}: received weight {ys[t, i, i]:.4f} on the image's own "
                    f"label, expected {shares[t, i, i]:.4f}, the share of its pixels it keeps: "
                    "the weights are swapped (lam, the kept share, weights y)",
                )
            t, i = (int(a) for a in np.argwhere(wrong)[0])
            return Category(
                "other",
                f"{place(t, i)}: received label {np.array2string(ys[t, i], precision=4)}, "
                f"expected the pixel shares {np.array2string(shares[t, i], precision=4)}: "
                "recompute lam = 1 - box area / image area from the clipped box",
            )

        def area() -> Statistic:
            src = sources()
            share = (src != np.arange(n)[None, :, None, None]).mean(axis=(2, 3))
            pasted = (share > 0).sum(axis=1)
            per_batch = share.sum(axis=1)[pasted > 0] / pasted[pasted > 0]
            return mean_stat(
                per_batch,
                "mean share of pasted pixels over batches with a paste (the clipped box area / "
                "image area)",
                allowance=plan.meta["extra"],
            )

        out.add(f"pixels from the batch, in place{at}", lambda: ok_or(problem(sources)), 0.5)
        out.add(f"one pasted box{at}", boxes, 0.5)
        out.add(f"label weights = pixel shares{at}", label_weights)
        out.add(f"box area{at}", area)


@cache
def rounding_allowance(beta: float, h: int, w: int, draws: int = 200_000) -> float:
    """How far the mean clipped box area (of boxes that paste something, as ``box area``
    measures it) moves between correct box conventions.

    Simulates (trusted, here) the reference's box (side ``round(sqrt(1 - lam) H)`` from
    ``c - side // 2``), the CutMix paper's (``int(...)``, from ``c - side // 2`` to
    ``c + side // 2``) and the two other mixes of them. The largest gap between their
    means, plus 4 Monte Carlo standard errors of that gap, is allowed on top of the
    standard errors, so any of these roundings passes.
    """
    rng = np.random.default_rng(0)
    ratio = np.sqrt(1.0 - rng.beta(beta, beta, draws))
    cy, cx = rng.integers(h, size=draws), rng.integers(w, size=draws)

    def areas(rounding: Any, paper: bool) -> np.ndarray:
        def span(c: np.ndarray, size: int) -> np.ndarray:
            side = rounding(ratio * size).astype(int)
            start = c - side // 2
            stop = c + side // 2 if paper else start + side
            return np.clip(stop, 0, size) - np.clip(start, 0, size)

        a = span(cy, h) * span(cx, w) / (h * w)
        return a[a > 0]

    found = [areas(r, paper) for r in (np.round, np.floor) for paper in (False, True)]
    means = [a.mean() for a in found]
    high, low = found[int(np.argmax(means))], found[int(np.argmin(means))]
    error = math.sqrt(high.var() / high.size + low.var() / low.size)
    return float(max(means) - min(means) + 4 * error)


MIXING_MODELS: dict[str, Any] = {"mixup": MixupModel(), "cutmix": CutMixModel()}
