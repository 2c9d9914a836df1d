"""The symmetry problem: a constant initialization keeps every hidden unit identical.

``symmetry`` trains a tiny tanh net from the initializer's weights with gradekit's own
loop: with a constant initialization every hidden unit stays identical (the lecture's
symmetry problem), while the reference's He and Xavier break the symmetry (the control).
What it proves about the student's code is only what the "initial weights" case compares:
their initializer returns float arrays of the right shapes, equal entry by entry to the
reference's (every weight is ``value``). The identical units after training follow from
that by the lecture's argument; the check demonstrates it with gradekit's loop, which the
parent reruns from the returned initial weights (the worker's trained weights are only
compared with that recomputation), and the control, run in the parent on the reference,
shows the same loop separates the units when the weights are random, so the equality comes
from the initialization and not from the loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..hookspecs import hookimpl
from ..routines import symmetry_data, two_layer_gd
from ..sandbox.plan import Outcome, Plan
from .base import Case, CheckKind, Options, Run, Target
from .compare import close, describe, failed_call
from .distribution import float_problem


class SymmetryOptions(Options):
    din: int = 4
    hidden: int = 6
    dout: int = 3
    batch: int = 8
    steps: int = 25
    lr: float = 0.1
    controls: tuple[str, ...] = ("he", "xavier")
    """Reference initializers that must break the symmetry in the same loop (the control)."""


def _symmetry_plan(name: str, kwargs: dict[str, Any], options: SymmetryOptions, seed: int):
    plan = Plan()
    plan.make("init", "initializers", name, **kwargs)
    plan.routine(
        "symmetry_training",
        save="run",
        initializer={"component": "init"},
        din=options.din,
        hidden=options.hidden,
        dout=options.dout,
        batch=options.batch,
        steps=options.steps,
        lr=options.lr,
        seed=seed,
    )
    return plan


def unit_spread(params: dict[str, np.ndarray]) -> tuple[float, int]:
    """How far the hidden units are from identical, relative to the weights' scale.

    Unit j is column j of W1, entry j of b1 and row j of W2; returns the largest difference
    from unit 0 over ``max(1, max |weight|)``, and the unit where it occurs.
    """
    w1, b1, w2 = params["W1"], params["b1"], params["W2"]
    diff = np.stack(
        [
            np.max(np.abs(w1 - w1[:, :1]), axis=0),
            np.abs(b1 - b1[0]),
            np.max(np.abs(w2 - w2[:1, :]), axis=1),
        ]
    ).max(axis=0)
    scale = max(1.0, float(max(np.max(np.abs(w1)), np.max(np.abs(w2)))))
    j = int(np.argmax(diff))
    return float(diff[j]) / scale, j


SYMMETRIC = 1e-9
"""Hidden units closer than this (relative) are identical; BLAS may differ by rounding."""
BROKEN = 1e-3
"""A control's hidden units must differ by at least this much."""
UNITS_WEIGHT = 2.0
"""The hidden-units case's weight, passed or failed: the experiment's verdict counts most."""


@dataclass
class SymmetryExpected:
    initial: dict[str, np.ndarray]
    symmetric: bool
    spread: float
    controls: dict[str, float]
    failure: None = None


class Symmetry(CheckKind):
    """A constant initialization keeps every hidden unit identical through training."""

    name = "symmetry"
    kinds = ("initializers",)
    options = SymmetryOptions
    summary = "the symmetry problem: hidden units trained from these weights stay identical"

    def plan(self, target: Target, options: SymmetryOptions) -> Plan:
        return _symmetry_plan(target.name, target.kwargs, options, target.seed % 2**31)

    def expect(self, target: Target, options: SymmetryOptions, plan: Plan, run: Run) -> Any:
        from gradekit_reference import COMPONENTS

        from ..sandbox.runner import LocalSession

        out = run(plan)
        if out.failure is not None:
            raise RuntimeError(f"the trusted {target.name} fails: {out.failure.message}")
        values = out.values["run"]
        spread, _ = unit_spread(values["trained"])
        controls = {}
        for name in options.controls:
            session = LocalSession({("initializers", name): COMPONENTS["initializers"][name]})
            control = session.run(_symmetry_plan(name, {}, options, target.seed % 2**31))
            controls[name] = unit_spread(control.values["run"]["trained"])[0]
        return SymmetryExpected(
            {"W1": values["W1_0"], "W2": values["W2_0"]}, spread <= SYMMETRIC, spread, controls
        )

    def judge(
        self,
        target: Target,
        options: SymmetryOptions,
        plan: Plan,
        outcome: Outcome,
        expected: SymmetryExpected,
    ) -> list[Case]:
        missing = failed_call(outcome, "run")
        if missing:
            message = missing.message.replace("run", "initial weights", 1)
            return [Case("initial weights", False, message)]
        got = outcome.values["run"]
        got = got if isinstance(got, dict) else {}
        o = options
        shapes = {"W1": (o.din, o.hidden), "W2": (o.hidden, o.dout)}
        initial = {k: got.get(f"{k}_0") for k in shapes}
        problems = [
            f"{k} = init({shapes[k]}, rng) returned {float_problem(v, shapes[k])}"
            for k, v in initial.items()
            if float_problem(v, shapes[k])
        ]
        if problems:
            return [Case("initial weights", False, "initial weights: " + "; ".join(problems))]
        cases = [self._initial(initial, expected)]
        x, t = symmetry_data(o.din, o.dout, o.batch, target.seed % 2**31)
        trained = two_layer_gd(initial["W1"], initial["W2"], x, t, o.steps, o.lr)
        cases.append(self._reproduced(got.get("trained"), trained))
        cases.append(self._units(trained, expected, options))
        cases.append(self._control(expected))
        return cases

    def _initial(self, initial: dict[str, np.ndarray], expected: SymmetryExpected) -> Case:
        name = "initial weights"
        if expected.symmetric:
            for key, want in expected.initial.items():
                case = close(key, initial[key], want, rtol=1e-12)
                if not case.passed:
                    message = f"{name}: {case.message}; a constant initializer sets every weight"
                    return Case(name, False, f"{message} to its value")
            return Case(name, True)
        if (
            unit_spread(
                {"W1": initial["W1"], "b1": np.zeros(initial["W1"].shape[1]), "W2": initial["W2"]}
            )[0]
            <= SYMMETRIC
        ):
            return Case(
                name, False, f"{name}: every hidden unit starts equal; random weights must differ"
            )
        return Case(name, True)

    def _reproduced(self, returned: Any, trained: dict[str, np.ndarray]) -> Case:
        name = "training reproduced"
        if not isinstance(returned, dict):
            message = f"{name}: received {describe(returned)}"
            return Case(name, False, message, 0.25, compared=False)
        for key, want in trained.items():
            case = close(key, returned.get(key), want, rtol=1e-9, source="grader's recomputation")
            if not case.passed:
                return Case(name, False, f"{name}: {case.message}", 0.25, compared=False)
        return Case(name, True, "", 0.25, compared=False)

    def _units(
        self, trained: dict[str, np.ndarray], expected: SymmetryExpected, options: SymmetryOptions
    ) -> Case:
        name = "hidden units"
        spread, j = unit_spread(trained)
        symmetric = spread <= SYMMETRIC
        if symmetric == expected.symmetric:
            return Case(name, True, "", UNITS_WEIGHT)
        steps = f"after {options.steps} full-batch gradient-descent steps"
        if expected.symmetric:
            message = (
                f"{name}: {steps}, hidden unit {j} differs from unit 0 by {spread:.3g} "
                f"(relative; tolerance {SYMMETRIC:.0e}), expected identical units; "
                f"{_CONSTANT_READING}"
            )
        else:
            message = (
                f"{name}: {steps}, every hidden unit is identical (spread {spread:.1e}), "
                f"expected {expected.spread:.3g} as the reference: the initialization must "
                "break the symmetry"
            )
        return Case(name, False, message, UNITS_WEIGHT)

    def _control(self, expected: SymmetryExpected) -> Case:
        weak = {k: v for k, v in expected.controls.items() if v < BROKEN}
        if not weak:
            return Case("control", True, "", 0.25, compared=False)
        listed = ", ".join(f"{k} {v:.1e}" for k, v in weak.items())
        return Case(
            "control",
            False,
            f"control: the grader's loop kept the hidden units identical from the reference's "
            f"random weights ({listed} < {BROKEN:.0e}): report this to your instructor",
            0.25,
            compared=False,
        )


_CONSTANT_READING = (
    "with a constant initialization every hidden unit computes the same function and "
    "receives the same gradient, so the units stay identical: the symmetry problem"
)


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The symmetry check."""
    return [Symmetry()]
