"""Statistical models of the random layers: dropout and DropConnect (batchnorm's state is
in ``stochastic_batchnorm``).

- Dropout (inverted and vanilla): the fraction of units kept, the scale of a kept unit,
  the preserved expectation, masks independent across examples and forward passes, the
  test-time output (identity, or ``p x``), a backward through the forward's own mask, and
  masks drawn from ``self.rng``.
- DropConnect: with ``W = 1``, ``b = 0``, ``x = 1`` every output counts the kept weights of
  its column, so its mean is ``din p`` and its variance ``din p (1 - p)`` for a mask on the
  weights, but ``din^2 p (1 - p)`` for a mask on the output units; test time uses ``p W``.

Severe cases (the layer fails its purpose; ``gradekit.credit`` caps it at half): a keep
fraction of 1 (nothing dropped: no regularization), a mask that is not fresh at each
forward (frozen), a wrong test-time output for dropout and DropConnect (still dropping,
or a scale that does not match training). Parameter mistakes (p read as the drop
probability, no 1/p rescale in training, a mask on the units) are ordinary failures.

False alarms of the statistical cases, for a correct layer (the reference draws with other
seeds, so the two estimates are independent; ``features``, ``estimates``), per p:

| case | statistic, its units (default draws) | false alarm |
|---|---|---|
| keep fraction (dropout) | share of units kept, one per entry (4 x 100 x 50) | 5.7e-7 |
| expectation | mean of output / input, one per entry (20000) | 5.7e-7 |
| independent across examples | correlation of two examples' masks, per pair (10000) | 5.7e-7 |
| fresh mask each forward | correlation of two forwards' masks, per pair (10000) | 5.7e-7 |
| keep fraction (DropConnect) | mean output / din, one per output and forward (200 x 32) | 5.7e-7 |
| mask on the weights | mean of (y - mean)^2 / din, one per output and forward | 5.7e-7 |
| fresh mask each forward | correlation of two forwards' outputs, per pair (100 x 32) | 5.7e-7 |

Both sides' estimates have one distribution, so their difference is symmetric and the
skew of a Bernoulli share or of squared Binomial deviations cancels. The excess kurtosis
left (products of masks that keep 5% or 95%: 0.016) is corrected by Cornish and Fisher's
term in the tolerance, and the estimated standard errors by Student's t
(``estimates.tolerance_factor``), so the rate is the normal ``2 Phi(-z)`` to that order.
Without the correction it would be up to 1.4 times that (7.9e-7) at p = 0.05 or 0.95.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..sandbox.plan import Outcome, Plan
from .base import Target
from .compare import close
from .features import (
    Category,
    Exact,
    Feature,
    FeatureSet,
    Statistic,
    Unusable,
    always,
    array,
    correlation_stat,
    first_violation,
    mean_stat,
    ok_or,
    watched,
)

EXACT = 1e-9
"""Relative tolerance of deterministic values (test-time outputs, running statistics)."""


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31))


def nothing_dropped(feature: Feature) -> bool:
    """A keep fraction of 1: no unit (or weight) dropped in training, so no regularization."""
    return isinstance(feature, Statistic) and feature.value >= 1.0


def _same(name: str, a: np.ndarray, b: np.ndarray, what: str) -> Category:
    if a.shape == b.shape and np.array_equal(a, b):
        return Category("ok")
    return Category("violated", f"{name}: {what}")


# ------------------------------------------------------------------------------- dropout
class DropoutModel:
    """Inverted (``x mask / p``, identity at test) or vanilla (``x mask``, ``p x`` at test)."""

    kinds = ("layers",)
    shape = (100, 50)
    draws = 4

    def __init__(self, inverted: bool) -> None:
        self.inverted = inverted

    def plan(self, target: Target, options: Any) -> Plan:
        rng = target.rng()
        plan = Plan()
        x = rng.choice([-1.0, 1.0], self.shape) * rng.uniform(0.5, 1.5, self.shape)
        dout = rng.standard_normal(self.shape)
        xr, dr = plan.array(x), plan.array(dout)
        for i, p in enumerate(options.p_values):
            obj = f"c{i}"
            plan.make(obj, target.kind, target.name, **{**target.kwargs, "p": p})
            plan.set_rng(obj, _seed(rng))
            for t in range(options.draws or self.draws):
                plan.call(obj, "forward", xr, save=f"train{i}:{t}", watch=t == 0, training=True)
                if t == 0:
                    plan.call(obj, "backward", dr, save=f"dx{i}", watch=True)
            plan.call(obj, "forward", xr, save=f"eval{i}", training=False)
            seed = _seed(rng)
            for copy in "ab":
                plan.set_rng(obj, seed)
                plan.call(obj, "forward", xr, save=f"rep{i}{copy}", training=True)
        plan.meta = {"x": x, "dout": dout}
        return plan

    def features(self, target: Target, options: Any, plan: Plan, outcome: Outcome) -> FeatureSet:
        out = FeatureSet()
        for i, p in enumerate(options.p_values):
            self._at(out, outcome, plan, i, f"p={p:g}", options.draws or self.draws)
        return out

    def _at(
        self, out: FeatureSet, outcome: Outcome, plan: Plan, i: int, at: str, draws: int
    ) -> None:
        x, dout = plan.meta["x"], plan.meta["dout"]

        @cache
        def train() -> np.ndarray:
            label = f"training forward at {at}"
            return np.stack([array(outcome, f"train{i}:{t}", x.shape, label) for t in range(draws)])

        def kept() -> np.ndarray:
            return train() != 0

        def scale() -> Exact:
            y = train()
            r = (y / x)[y != 0]
            if not r.size:
                raise Unusable(f"no unit was kept at {at}")
            should = "1/p" if self.inverted else "1: vanilla dropout does not rescale in training"
            return Exact(
                float(np.median(r)), EXACT, f"output / input of a kept unit at {at} ({should})"
            )

        expectation = "x for inverted dropout" if self.inverted else "p x for vanilla dropout"
        out.add(
            f"keep fraction ({at})",
            lambda: mean_stat(kept(), f"fraction of units kept at {at} (p keeps, 1 - p drops)"),
            severe=nothing_dropped,
        )
        out.add(f"kept units' scale ({at})", scale)
        out.add(
            f"expectation ({at})",
            lambda: mean_stat(
                train() / x, f"mean of output / input at {at} (E[y] = {expectation})"
            ),
        )
        out.add(
            f"independent across examples ({at})",
            lambda: correlation_stat(kept(), 1, f"correlation of two examples' masks at {at}"),
            weight=0.5,
        )
        out.add(
            f"fresh mask each forward ({at})",
            lambda: correlation_stat(
                kept(), 0, f"correlation of two forward passes' masks at {at}"
            ),
            weight=0.5,
            severe=always,
        )
        out.add(
            f"test time ({at})",
            lambda: Exact(
                array(outcome, f"eval{i}", x.shape, f"test-time forward at {at}"),
                EXACT,
                f"test-time output at {at}",
            ),
            severe=always,
        )

        def backward() -> Category:
            y = array(outcome, f"train{i}:0", x.shape, f"training forward at {at}")
            dx = array(outcome, f"dx{i}", x.shape, f"backward at {at}")
            mask = "dout times your forward's mask"
            case = close(f"dx at {at}", dx, dout * (y / x), rtol=EXACT, source=mask)
            return ok_or(None if case.passed else case.message)

        out.add(f"backward through the mask ({at})", backward)
        out.add(
            f"mask from self.rng ({at})",
            lambda: _same(
                f"mask from self.rng ({at})",
                array(outcome, f"rep{i}a", x.shape),
                array(outcome, f"rep{i}b", x.shape),
                "received different outputs from two training forwards with self.rng reset to "
                "the same seed, expected the same mask: draw it from self.rng (the grader may "
                "replace it)",
            ),
            weight=0.5,
        )

    def changed(self, plan: Plan, outcome: Outcome) -> list[str]:
        return watched(outcome, {"train": "forward", "dx": "backward"})


# --------------------------------------------------------------------------- dropconnect
class DropConnectModel:
    """A Bernoulli(p) mask on the weights, one per forward pass; ``p W`` at test time."""

    kinds = ("layers",)
    draws = 200

    def plan(self, target: Target, options: Any) -> Plan:
        rng = target.rng()
        if not {"din", "dout"} <= set(target.kwargs):
            raise ValueError("the dropconnect model needs the kwargs din and dout")
        din, dout = int(target.kwargs["din"]), int(target.kwargs["dout"])
        plan = Plan()
        ones_w, zeros_b = plan.array(np.ones((din, dout))), plan.array(np.zeros(dout))
        ones_x = plan.array(np.ones((1, din)))
        w, b = rng.standard_normal((din, dout)), rng.standard_normal(dout)
        x = rng.standard_normal((8, din))
        wr, br, xr = plan.array(w), plan.array(b), plan.array(x)
        for i, p in enumerate(options.p_values):
            obj = f"c{i}"
            plan.make(obj, target.kind, target.name, **{**target.kwargs, "p": p})
            plan.set_param(obj, "W", ones_w)
            plan.set_param(obj, "b", zeros_b)
            plan.set_rng(obj, _seed(rng))
            plan.routine(
                "repeat_forward",
                f"counts{i}",
                layer={"component": obj},
                x=ones_x,
                times=options.draws or self.draws,
            )
            seed = _seed(rng)
            for copy in "ab":
                plan.set_rng(obj, seed)
                plan.call(obj, "forward", ones_x, save=f"rep{i}{copy}", training=True)
            plan.set_param(obj, "W", wr)
            plan.set_param(obj, "b", br)
            plan.call(obj, "forward", xr, save=f"eval{i}", watch=True, training=False)
        plan.meta = {"din": din, "dout": dout, "x": x}
        return plan

    def features(self, target: Target, options: Any, plan: Plan, outcome: Outcome) -> FeatureSet:
        out = FeatureSet()
        for i, p in enumerate(options.p_values):
            self._at(out, outcome, plan, i, f"p={p:g}", options.draws or self.draws)
        return out

    def _at(
        self, out: FeatureSet, outcome: Outcome, plan: Plan, i: int, at: str, draws: int
    ) -> None:
        din, dout = plan.meta["din"], plan.meta["dout"]
        setting = "with W = 1, b = 0, x = 1"

        @cache
        def counts() -> np.ndarray:
            label = f"training forward at {at} {setting}"
            return array(outcome, f"counts{i}", (draws, 1, dout), label).reshape(draws, dout)

        def variance() -> Any:
            y = counts()
            return mean_stat(
                (y - y.mean()) ** 2 / din,
                f"variance of the output / din {setting} at {at} (p (1 - p) for a mask on "
                "the weights; din p (1 - p) if whole output units are dropped)",
            )

        def integers() -> Category:
            y = counts()
            bad = np.abs(y - np.round(y)) > 1e-9
            return first_violation(
                bad,
                lambda t, j: (
                    f"forward {t + 1} {setting} at {at}: received output {j} = "
                    f"{y[t, j]:.6g}, expected an integer (the count of kept weights): the mask "
                    "is 0 or 1 in training, and test time scales by p"
                ),
            )

        out.add(
            f"keep fraction ({at})",
            lambda: mean_stat(
                counts() / din, f"output / din {setting} at {at} (the keep fraction p)"
            ),
            severe=nothing_dropped,
        )
        out.add(f"mask on the weights ({at})", variance)
        out.add(f"mask is 0 or 1 ({at})", integers, weight=0.5)
        out.add(
            f"fresh mask each forward ({at})",
            lambda: correlation_stat(counts(), 0, f"correlation of two forward passes at {at}"),
            weight=0.5,
            severe=always,
        )
        out.add(
            f"test time ({at})",
            lambda: Exact(
                array(outcome, f"eval{i}", (8, dout), f"test-time forward at {at}"),
                EXACT,
                f"test-time output at {at} (x @ (p W) + b)",
            ),
            severe=always,
        )
        out.add(
            f"mask from self.rng ({at})",
            lambda: _same(
                f"mask from self.rng ({at})",
                array(outcome, f"rep{i}a", (1, dout)),
                array(outcome, f"rep{i}b", (1, dout)),
                "received different outputs from two training forwards with self.rng reset to "
                "the same seed, expected the same mask: draw it from self.rng (the grader may "
                "replace it)",
            ),
            weight=0.5,
        )

    def changed(self, plan: Plan, outcome: Outcome) -> list[str]:
        return watched(outcome, {"eval": "forward"})


LAYER_MODELS: dict[str, Any] = {
    "dropout": DropoutModel(inverted=True),
    "vanilla_dropout": DropoutModel(inverted=False),
    "dropconnect": DropConnectModel(),
}
