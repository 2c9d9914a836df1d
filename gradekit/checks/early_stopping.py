"""Early-stopping checks on constructed validation curves, driven as a training loop does.

Each curve runs twice through the ``early_stopping_run`` routine: once with a fresh dict
of fresh arrays every epoch, once with the same arrays overwritten in place every epoch
(as ``w -= lr * dw`` does). The first run checks *when* ``step`` first says stop, the best
loss and the weights kept; the second that those weights are copies, which later in-place
updates cannot change. Curves are built from the component's ``patience`` and
``min_delta``, so that each rule of the lecture decides a different epoch:

- ``valley``: down, then up (the classic overfitting curve);
- ``plateau``: down, then decreases smaller than min_delta (or exact ties when it is 0),
  which are not improvements;
- ``slow``: a long creep of steps of 0.6 min_delta, which add up to improvements measured
  from the best loss (not from the previous epoch);
- ``noisy``: a noisy U-shaped curve;
- ``nan``: the loss diverges to NaN, which never counts as an improvement.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..hookspecs import hookimpl
from ..sandbox.plan import Outcome, Plan
from .base import Case, CheckKind, Options, Target
from .compare import describe

Curve = Literal["valley", "plateau", "slow", "noisy", "nan"]


class EarlyStoppingOptions(Options):
    curves: tuple[Curve, ...] = ("valley", "plateau", "slow", "noisy")


def make_curve(name: str, patience: int, min_delta: float, rng: np.random.Generator) -> np.ndarray:
    """A validation-loss curve long enough for the reference to stop on it."""
    drop = 0.05 + 2 * min_delta
    top = 0.5 + 8 * drop  # the curves stay positive
    if name == "valley":
        down = top - drop * np.arange(1, 8)
        return np.concatenate([down, down[-1] + 0.02 * np.arange(1, patience + 5)])
    if name == "plateau":
        down = top - drop * np.arange(1, 5)
        small = 0.3 * min_delta * np.arange(1, 3) if min_delta > 0 else np.zeros(2)
        flat = np.full(patience + 4, down[-1] - small[-1])
        return np.concatenate([down, down[-1] - small, flat])
    if name == "slow":
        step = 0.6 * min_delta if min_delta > 0 else 1e-3
        down = 0.8 - step * np.arange(1, 2 * patience + 6)
        return np.concatenate([[1.0], down, down[-1] + 0.02 * np.arange(1, patience + 4)])
    if name == "noisy":
        e = np.arange(6 * patience + 30)
        return (
            0.3 + 0.7 * np.exp(-e / 5) + 0.01 * e + (0.02 + min_delta) * rng.standard_normal(e.size)
        )
    down = top - drop * np.arange(1, 5)
    return np.concatenate([down, np.full(patience + 4, np.nan)])


class EarlyStoppingCheck(CheckKind):
    """``step`` stops at the right epoch and keeps copies of the best epoch's weights."""

    name = "early_stopping"
    kinds = ("early_stopping",)
    options = EarlyStoppingOptions
    summary = "the stopping epoch, best_loss, and best_params (copies) on constructed curves"

    def plan(self, target: Target, options: EarlyStoppingOptions) -> Plan:
        rng = target.rng()
        ref = target.build()
        patience, min_delta = int(ref.patience), float(ref.min_delta)
        plan = Plan()
        curves = {}
        for curve in options.curves:
            losses = make_curve(curve, patience, min_delta, rng)
            n = losses.size
            trajectory = {"W": rng.standard_normal((n, 3, 2)), "b": rng.standard_normal((n, 2))}
            refs = {
                "losses": plan.array(losses),
                "trajectory": {k: plan.array(v) for k, v in trajectory.items()},
            }
            for mode in ("fresh", "inplace"):
                obj = f"{curve}:{mode}"
                plan.make(obj, target.kind, target.name, **target.kwargs)
                plan.routine(
                    "early_stopping_run",
                    obj,
                    stopper={"component": obj},
                    inplace=mode == "inplace",
                    **refs,
                )
            curves[curve] = (losses, trajectory)
        plan.meta = {"curves": curves, "patience": patience, "min_delta": min_delta}
        return plan

    def judge(
        self,
        target: Target,
        options: EarlyStoppingOptions,
        plan: Plan,
        outcome: Outcome,
        expected: Outcome,
    ) -> list[Case]:
        cases = []
        for curve, (losses, trajectory) in plan.meta["curves"].items():
            want = expected.values.get(f"{curve}:fresh")
            want_inplace = expected.values.get(f"{curve}:inplace")
            got = self._result(outcome, f"{curve}:fresh")
            got_inplace = self._result(outcome, f"{curve}:inplace")
            names = [
                f"stop epoch ({curve})",
                f"best_loss ({curve})",
                f"best_params ({curve})",
                f"best_params are copies ({curve})",
            ]
            if isinstance(got, str):
                cases += [Case(n, False, f"{n}: {got}") for n in names]
                continue
            context = f"{curve} curve {_show(losses, want['stop'])}"
            cases.append(self._stop(names[0], got.get("stop"), want["stop"], context, plan.meta))
            cases.append(self._loss(names[1], got.get("best_loss"), want["best_loss"], context))
            cases.append(
                _params(
                    names[2], got.get("best_params"), want["best_params"], trajectory, context, ""
                )
            )
            if isinstance(got_inplace, str):
                cases.append(Case(names[3], False, f"{names[3]}: {got_inplace}"))
            else:
                cases.append(
                    _params(
                        names[3],
                        got_inplace.get("best_params"),
                        want_inplace["best_params"],
                        trajectory,
                        f"{context}, with the weights updated in place every epoch",
                        ": later in-place updates (w -= lr * dw) changed them; store copies",
                    )
                )
        return cases

    @staticmethod
    def _result(outcome: Outcome, key: str) -> dict | str:
        if key not in outcome.values:
            f = outcome.failure
            if f is not None:
                return f"not computed, your code raised {f.type}: {f.message}"
            return f"not computed ({outcome.detail or outcome.status})"
        got = outcome.values[key]
        if not isinstance(got, dict):
            return f"unreadable result {describe(got)}"
        return got

    @staticmethod
    def _stop(name: str, got: Any, want: int, context: str, meta: dict) -> Case:
        if type(got) is int and got == want:
            return Case(name, True)

        def epoch(e: Any) -> str:
            if type(e) is not int:
                return f"as {describe(e)}"
            return "never" if e == -1 else f"at epoch {e + 1}"

        rule = (
            f"stop after patience = {meta['patience']} epochs without an improvement larger "
            f"than min_delta = {meta['min_delta']:g} over the best loss"
        )
        return Case(
            name,
            False,
            f"{context}: received the first True from step() {epoch(got)}, expected "
            f"{epoch(want)} ({rule})",
        )

    @staticmethod
    def _loss(name: str, got: Any, want: float, context: str) -> Case:
        if isinstance(got, np.ndarray) and got.size == 1 and got.dtype.kind in "fiu":
            got = float(got.reshape(()))
        if type(got) not in (int, float):
            return Case(name, False, f"{name}: expected a number, received {describe(got)}")
        if got == want or abs(got - want) <= 1e-12 * max(abs(want), 1.0):
            return Case(name, True)
        return Case(name, False, f"{context}: received best_loss {got:.6g}, expected {want:.6g}")


def _show(losses: np.ndarray, stop: int) -> str:
    end = losses.size if stop < 0 else min(losses.size, stop + 2)
    shown = ", ".join(f"{v:.4g}" for v in losses[:end])
    return f"(losses {shown}{', ...' if end < losses.size else ''})"


def _epoch_of(value: np.ndarray, rows: np.ndarray) -> int | None:
    for e, row in enumerate(rows):
        if row.shape == value.shape and np.array_equal(row, value):
            return e
    return None


def _params(name: str, got: Any, want: Any, trajectory: dict, context: str, hint: str) -> Case:
    if not isinstance(want, dict):  # a trusted side without best params (never improved)
        return Case(name, got is None, f"{name}: received {describe(got)}, expected None")
    if not isinstance(got, dict):
        return Case(name, False, f"{name}: best_params is {describe(got)}, expected a dict")
    for key, expected in want.items():
        value = got.get(key)
        if not (isinstance(value, np.ndarray) and value.shape == expected.shape):
            return Case(
                name,
                False,
                f"{name}: best_params[{key!r}] is {describe(value)}, expected "
                f"an array of shape {expected.shape}",
            )
        if not np.allclose(value, expected, rtol=1e-12, atol=0):
            rows = trajectory[key]
            held, best = _epoch_of(value, rows), _epoch_of(expected, rows)
            if held is not None:
                which = f"the weights of epoch {held + 1}"
            elif not value.any():
                which = "zeros, written into the arrays after the loop"
            else:
                which = "other weights"
            return Case(
                name,
                False,
                f"{context}: received best_params[{key!r}] = {which}, expected those of "
                f"epoch {(best or 0) + 1}, the best epoch{hint}",
            )
    return Case(name, True)


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The early-stopping check."""
    return [EarlyStoppingCheck()]
