"""What every statistical model of a batch transform shares: its plan, its runs, and the
cases every transform gets.

Every transform gets one generator for all its calls (``repeat_transform``), and two short
runs with generators of one seed. Beside the model's own cases (``stochastic_mixing``,
``stochastic_augmentations``), every transform is judged on:

- a fresh draw each call (severe): not the same output from every call, as a draw made
  once and reused gives (the inputs returned unchanged draw nothing and are left to the
  other cases); the reference's own category is the expectation, so a transform that is
  deterministic by its settings (a flip with p = 1) passes;
- randomness from rng (severe): two runs with generators of the same seed give the same
  outputs, so every random number comes from the generator the grader gives;
- labels unchanged, for the augmentations (``labels_unchanged``).

None of these is a statistic: a correct transform never fails them, except the fresh draw
when every call happens to draw alike, which needs ``draws`` equal draws in a row (below
1e-100 for every bundled setting).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

from ..sandbox.plan import Outcome, Plan
from .base import Target
from .features import Category, FeatureSet, Unusable, always, ok_or, valid, value

TIGHT = 1e-9
"""Relative tolerance of values a transform copies or mixes exactly."""

Outputs = Callable[[], dict[str, np.ndarray]]
"""The long run's stacked outputs, ``x`` and ``y``, computed once (or ``Unusable``)."""


def place(t: int, i: int) -> str:
    """Where in the long run: call ``t`` and image ``i``, counted as students do."""
    return f"batch {t + 1}, image {i}"


def problem(fn: Callable[[], Any]) -> str | None:
    """Why ``fn()`` found the outputs unusable, or None when it did not."""
    try:
        fn()
    except Unusable as exc:
        return str(exc)
    return None


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
                f"a fresh draw each call{at}",
                lambda o=outputs: _fresh(o, x, y),
                0.5,
                severe=always,
            )
            out.add(
                f"randomness from rng{at}",
                lambda i=i: self._reproducible(outcome, i, x, y),
                0.5,
                severe=always,
            )
        return out

    def judged(self, out: FeatureSet, outputs: Outputs, at: str, kwargs: dict, plan: Plan) -> None:
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
    def labels_unchanged(out: FeatureSet, outputs: Outputs, y: np.ndarray, at: str) -> None:
        def check() -> Category:
            ys = outputs()["y"]
            bad = np.argwhere(np.abs(ys - y) > TIGHT * (1 + np.abs(y)))
            if not bad.size:
                return Category("ok")
            t, i = int(bad[0][0]), int(bad[0][1])
            return Category(
                "violated", f"{place(t, i)}: received a changed label, expected y unchanged"
            )

        out.add(f"labels unchanged{at}", check, 0.5)

    def changed(self, plan: Plan, outcome: Outcome) -> list[str]:
        flags = [v.get("mutated") for k, v in outcome.values.items() if isinstance(v, dict)]
        return ["the transform"] if any(f is True for f in flags) else []


def _fresh(outputs: Outputs, x: np.ndarray, y: np.ndarray) -> Category:
    """``"frozen"`` when every call of the long run returned the same x and y, other than
    the inputs (a transform that returns its inputs draws nothing: other cases say so, and
    it earns what doing nothing earns)."""
    o = outputs()
    calls = len(o["x"])
    same = all((o[k] == o[k][:1]).all() for k in ("x", "y"))
    if calls < 2 or not same or (np.array_equal(o["x"][0], x) and np.array_equal(o["y"][0], y)):
        return Category("ok")
    return Category(
        "frozen",
        f"received the same x and y from all {calls} calls with one generator, expected a new "
        "random draw at every call: draw inside __call__ from rng, not once to reuse",
    )
