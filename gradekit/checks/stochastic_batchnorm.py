"""Batchnorm's state, judged deterministically: training outputs, the running statistics
after many batches (read back from test-time outputs at ``x = 0`` and ``x = 1`` with
gamma = 1 and beta = 0, so no attribute name is assumed and a wrong affine part is told
only by "test time"), and test-time outputs and gradients that use them.

Severe cases (``gradekit.credit`` caps the layer at half): a test time that depends on the
batch (batch statistics at test time) or changes the running statistics.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from ..sandbox.plan import Outcome, Plan
from .base import Target
from .compare import close
from .features import Exact, FeatureSet, Unusable, always, array, ok_or, valid, watched
from .stochastic_layers import EXACT


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
