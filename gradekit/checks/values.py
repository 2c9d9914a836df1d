"""Forward (value) checks on fixed and random inputs, with the lecture's edge cases.

Large magnitudes (a sigmoid must not overflow, softmax needs its max subtracted), a large
common offset (softmax is shift-invariant: only a missing max shift overflows there, while
an underflowed probability does not), zeros, and a batch of one, for layers, activations
and losses, in training or test mode.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..hookspecs import hookimpl
from ..sandbox.plan import Outcome, Plan
from .base import Case, CheckKind, Options, Target
from .compare import close, failed_call, scalar_close
from .inputs import input_shape, loss_inputs, reference_params

InputCase = Literal["random", "large", "offset", "zeros", "batch1"]
SCALES = {"random": 1.0, "large": 1000.0, "offset": 1.0, "zeros": 0.0, "batch1": 1.0}
OFFSETS = {"losses": 1e3, "activations": 1e3, "layers": 1e5}
"""Added to every entry of the ``offset`` case's input (the scores, for a loss). A layer's
is larger: a batch variance computed as E[x^2] - E[x]^2 cancels to a relative error of
about 1e-6 there, where the two-pass (x - mean)^2 keeps 1e-11."""
LABELS = {"batch1": "batch of one", "offset": "large offset input"}


class ValuesOptions(Options):
    cases: tuple[InputCase, ...] = ("random", "large", "offset", "zeros", "batch1")
    batch: int = 4
    features: int = 6
    rtol: float = 1e-9
    training: bool = False
    fixed_seed: int | None = None
    margin: float = 0.05
    targets: Literal["real", "labels", "signs"] | None = None


class Values(CheckKind):
    """``forward`` gives the reference's values, including at the edges."""

    name = "values"
    kinds = ("layers", "activations", "losses")
    options = ValuesOptions
    summary = "forward values against the reference, with large, zero and batch-1 inputs"

    def plan(self, target: Target, options: ValuesOptions) -> Plan:
        rng = target.rng()
        plan = Plan()
        params = {} if target.kind == "losses" else reference_params(target, rng)
        for case in options.cases:
            obj = f"c_{case}"
            plan.make(obj, target.kind, target.name, **target.kwargs)
            for k, value in params.items():
                plan.set_param(obj, k, plan.array(value))
            if options.fixed_seed is not None:
                plan.set_rng(obj, options.fixed_seed)
            batch = 1 if case == "batch1" else options.batch
            sized = options.model_copy(update={"batch": batch})
            if target.kind == "losses":
                y, t = loss_inputs(target, sized, rng, scale=SCALES[case])
                y = y + (OFFSETS[target.kind] if case == "offset" else 0.0)
                plan.call(obj, "forward", plan.array(y), plan.array(t), save=case)
            else:
                x = SCALES[case] * rng.standard_normal(input_shape(target, sized))
                x = x + (OFFSETS[target.kind] if case == "offset" else 0.0)
                plan.call(obj, "forward", plan.array(x), save=case, training=options.training)
        return plan

    def judge(
        self, target: Target, options: ValuesOptions, plan: Plan, outcome: Outcome, expected: Any
    ) -> list[Case]:
        cases = []
        for case in options.cases:
            name = LABELS.get(case, f"{case} input")
            missing = failed_call(outcome, case)
            if missing:
                cases.append(Case(name, False, missing.message.replace(case, name, 1)))
                continue
            want = expected.values[case]
            got = outcome.values[case]
            if target.kind == "losses":
                cases.append(scalar_close(name, got, want, rtol=options.rtol))
            else:
                cases.append(close(name, got, np.asarray(want), rtol=options.rtol))
        return cases


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The forward-value check."""
    return [Values()]
