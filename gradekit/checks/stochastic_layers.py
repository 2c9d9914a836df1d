"""Statistical models of the random layers (dropout, DropConnect) and of batchnorm's state.

- Dropout (inverted and vanilla): the fraction of units kept, the scale of a kept unit,
  the preserved expectation, masks independent across examples and forward passes, the
  test-time output (identity, or ``p x``), a backward through the forward's own mask, and
  masks drawn from ``self.rng``.
- DropConnect: with ``W = 1``, ``b = 0``, ``x = 1`` every output counts the kept weights of
  its column, so its mean is ``din p`` and its variance ``din p (1 - p)`` for a mask on the
  weights, but ``din^2 p (1 - p)`` for a mask on the output units; test time uses ``p W``.
- Batchnorm (deterministic): training outputs, the running statistics after many batches
  (read back from test-time outputs at ``x = 0`` and ``x = 1`` with gamma = 1 and beta = 0,
  so no attribute name is assumed and a wrong affine part is told only by "test time"),
  and test-time outputs and gradients that use them.

Severe cases (the layer fails its purpose; ``gradekit.credit`` caps it at half): a keep
fraction of 1 (nothing dropped: no regularization), a mask that is not fresh at each
forward (frozen), a wrong test-time output for dropout and DropConnect (still dropping,
or a scale that does not match training); for batchnorm, a test time that depends on the
batch or changes the running statistics. Parameter mistakes (p read as the drop
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
    mean_stat,
    ok_or,
    valid,
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
            if not bad.any():
                return Category("ok")
            t, j = (int(a) for a in np.argwhere(bad)[0])
            return Category(
                "violated",
                f"forward {t + 1} {setting} at {at}: received output {j} = {y[t, j]:.6g}, "
                "expected an integer (the count of kept weights): the mask is 0 or 1 in "
                "training, and test time scales by p",
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


# ----------------------------------------------------------------------------- batchnorm
class BatchNormModel:
    """Batch statistics in training, running averages after many batches, used at test."""

    kinds = ("layers",)
    draws = 250
    """Training batches: the initial running values weigh 0.9^250 (about 4e-12), so either
    convention for them (torch's zeros and ones, or CS231n's zeros) gives the same result."""
    batch = 8

    def plan(self, target: Target, options: Any) -> Plan:
        rng = target.rng()
        if "dim" not in target.kwargs:
            raise ValueError("the batchnorm model needs the kwarg dim")
        dim = int(target.kwargs["dim"])
        draws = options.draws or self.draws
        plan = Plan()
        plan.make("c", target.kind, target.name, **target.kwargs)
        gamma, beta = rng.uniform(0.5, 2.0, dim), rng.standard_normal(dim)
        affine = {"gamma": plan.array(gamma), "beta": plan.array(beta)}
        for key, ref in affine.items():
            plan.set_param("c", key, ref)
        mu, sigma = rng.uniform(-3, 3, dim), rng.uniform(0.5, 3.0, dim)
        for t in range(draws):
            x = mu + sigma * rng.standard_normal((self.batch, dim))
            save = "train_first" if t == 0 else "train_last" if t == draws - 1 else None
            plan.call("c", "forward", plan.array(x), save=save, watch=t == 0, training=True)
        x_eval = mu + sigma * rng.standard_normal((6, dim))
        dout = rng.standard_normal((6, dim))
        xr = plan.array(x_eval)
        plan.call("c", "forward", xr, save="eval", watch=True, training=False)
        # The running statistics, read with gamma = 1 and beta = 0: the affine part is judged
        # by "test time" alone, so a test time without it is not told they are wrong too.
        plan.set_param("c", "gamma", plan.array(np.ones(dim)))
        plan.set_param("c", "beta", plan.array(np.zeros(dim)))
        plan.call("c", "forward", plan.array(np.zeros((1, dim))), save="at0", training=False)
        plan.call("c", "forward", plan.array(np.ones((1, dim))), save="at1", training=False)
        for key, ref in affine.items():
            plan.set_param("c", key, ref)
        plan.call("c", "forward", plan.array(x_eval[:1]), save="single", training=False)
        plan.call("c", "forward", xr, save="eval_again", training=False)
        plan.call("c", "backward", plan.array(dout), save="dx_eval", watch=True)
        plan.get("c", "grads", save="grads_eval")
        eps = float(target.kwargs.get("eps", getattr(target.build(), "eps", 1e-5)))
        plan.meta = {"dim": dim, "eps": eps, "draws": draws}
        return plan

    def features(self, target: Target, options: Any, plan: Plan, outcome: Outcome) -> FeatureSet:
        m = plan.meta
        dim, n = m["dim"], m["draws"]
        out = FeatureSet()

        def exact(key: str, shape: tuple[int, ...], label: str) -> Exact:
            return Exact(array(outcome, key, shape, label), EXACT, label)

        @cache
        def running() -> tuple[np.ndarray, np.ndarray]:
            y0 = array(outcome, "at0", (1, dim), "test-time forward at x = 0")[0]
            y1 = array(outcome, "at1", (1, dim), "test-time forward at x = 1")[0]
            inv = y1 - y0  # 1 / sqrt(running_var + eps), with gamma = 1 and beta = 0
            if not (inv > 0).all():
                j = int(np.argmin(inv))
                raise Unusable(
                    f"received y(x = 1) - y(x = 0) = {inv[j]:.4g} for feature {j} at test time "
                    "with gamma = 1 and beta = 0, expected 1 / sqrt(running_var + eps) > 0: "
                    "test time normalizes with the running statistics"
                )
            return -y0 / inv, 1.0 / inv**2 - m["eps"]

        read = "read from your test-time outputs at x = 0 and x = 1 with gamma = 1, beta = 0"
        out.add(
            "training output, first batch",
            lambda: exact(
                "train_first",
                (self.batch, dim),
                "training output of batch 1 "
                "(normalized with the batch mean and biased batch variance)",
            ),
        )
        out.add(
            f"training output, batch {n}",
            lambda: exact("train_last", (self.batch, dim), f"training output of batch {n}"),
        )
        out.add(
            "running mean",
            lambda: Exact(running()[0], EXACT, f"running_mean after {n} batches ({read})"),
        )
        out.add(
            "running variance",
            lambda: Exact(
                running()[1],
                EXACT,
                f"running_var after {n} batches ({read}; the biased batch variance, "
                "running = (1 - momentum) running + momentum batch)",
            ),
        )
        out.add(
            "test time",
            lambda: exact(
                "eval",
                (6, dim),
                "test-time output (gamma xhat + beta, xhat from the running statistics)",
            ),
        )
        out.add(
            "test time leaves the running statistics alone",
            lambda: ok_or(
                None
                if close(
                    "",
                    array(outcome, "eval_again", (6, dim)),
                    array(outcome, "eval", (6, dim)),
                    rtol=1e-12,
                ).passed
                else "received another output from the same test-time forward after other "
                "test-time forwards, expected the same: test time must not update the running "
                "statistics"
            ),
            weight=0.5,
            severe=always,
        )
        out.add(
            "test time is per example",
            lambda: ok_or(
                None
                if close(
                    "",
                    array(outcome, "single", (1, dim))[0],
                    array(outcome, "eval", (6, dim))[0],
                    rtol=1e-12,
                ).passed
                else "received another test-time output for an example alone than in a batch, "
                "expected the same: test time normalizes with the running statistics only"
            ),
            weight=0.5,
            severe=always,
        )
        out.add("test-time dx", lambda: exact("dx_eval", (6, dim), "dx of a test-time backward"))

        def grad(key: str) -> Exact:
            grads = outcome.values.get("grads_eval")
            if not isinstance(grads, dict) or key not in grads:
                raise Unusable(f"grads has no key {key!r} after a test-time backward")
            label = f"d{key} of a test-time backward"
            return Exact(valid(grads[key], (dim,), label), EXACT, label)

        out.add("test-time dgamma", lambda: grad("gamma"), weight=0.5)
        out.add("test-time dbeta", lambda: grad("beta"), weight=0.5)
        return out

    def changed(self, plan: Plan, outcome: Outcome) -> list[str]:
        return watched(outcome, {"train": "forward", "eval": "forward", "dx": "backward"})


LAYER_MODELS: dict[str, Any] = {
    "dropout": DropoutModel(inverted=True),
    "vanilla_dropout": DropoutModel(inverted=False),
    "dropconnect": DropConnectModel(),
    "batchnorm": BatchNormModel(),
}
