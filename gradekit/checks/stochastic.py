"""Stochastic-behaviour checks: random layers and batch transforms judged by what they do.

A random component cannot be compared with the reference value by value: its draws depend
on the order of its random calls. Each *model* below reduces an outcome to features that do
not (see ``features``): the fraction of units a dropout mask keeps and their scale, the
variance a DropConnect mask gives, batchnorm's running statistics after many batches, the
lam that mixup's labels reveal, the pixel shares behind CutMix's label weights, the shift
of every random crop. Statistics are compared with the reference's estimate over the same
number of draws, within ``z`` standard errors of the difference (widened for few
independent draws and heavy tails: ``estimates.tolerance_factor``).

The reference (or a mutant) runs the plan with other seeds than the student
(``independent_seeds``): its draws are independent of the student's whatever the student
does with the seed it is given, so a correct component fails a statistical case with
probability ``false_alarm_rate(z)``, 5.7e-7 at ``z = 5`` (the tables in
``stochastic_layers``, ``stochastic_mixing``, ``stochastic_augmentations`` and
``stochastic_rotation`` state it case by case).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..hookspecs import hookimpl
from ..sandbox.plan import Outcome, Plan
from .base import Case, CheckKind, Options, Run, Target
from .features import Expected, compare_all, purity_case
from .stochastic_augmentations import AUGMENTATION_MODELS
from .stochastic_batchnorm import BatchNormModel
from .stochastic_layers import LAYER_MODELS
from .stochastic_mixing import MIXING_MODELS
from .stochastic_rotation import RotationModel

MODELS = {
    **LAYER_MODELS,
    "batchnorm": BatchNormModel(),
    **MIXING_MODELS,
    **AUGMENTATION_MODELS,
    "rotation_pretext": RotationModel(),
}
"""Every statistical model by name; a component is checked by the model of its name."""

ModelName = Literal[
    "dropout",
    "vanilla_dropout",
    "dropconnect",
    "batchnorm",
    "mixup",
    "cutmix",
    "flip",
    "crop",
    "noise",
    "cutout",
    "rotation_pretext",
]


class StochasticOptions(Options):
    model: ModelName | None = None
    """The behaviour to check; by default the component's registry name."""
    p_values: tuple[float, ...] = (0.2, 0.8)
    """Keep (or flip) probabilities tried by dropout, DropConnect and flip; each overrides
    the component's ``p``. Use two values: at p = 0.5 keeping and dropping look alike."""
    draws: int | None = None
    """Forward passes or batches per setting; each model has a default that keeps every
    mutant many standard errors away."""
    z: float = 5.0
    """Standard errors of a difference allowed for a statistic: a correct component fails a
    statistical case with probability ``2 Phi(-z)`` (5.7e-7 at 5); the tolerance widens for
    estimates over few independent draws or with heavy tails (``estimates``)."""


class Stochastic(CheckKind):
    """A random layer or batch transform behaves as specified, judged by statistics."""

    name = "stochastic"
    kinds = ("layers", "transforms")
    options = StochasticOptions
    summary = "random behaviour judged by statistics and exact invariants, not by draws"

    def _model(self, target: Target, options: StochasticOptions) -> Any:
        name = options.model or target.name
        model = MODELS.get(name)
        if model is None:
            raise ValueError(
                f"no statistical model for {target.kind}/{target.name}: set options.model "
                f"to one of {', '.join(sorted(MODELS))}"
            )
        if target.kind not in model.kinds:
            raise ValueError(f"model {name!r} checks {', '.join(model.kinds)}, not {target.kind}")
        return model

    def plan(self, target: Target, options: StochasticOptions) -> Plan:
        return self._model(target, options).plan(target, options)

    def expect(self, target: Target, options: StochasticOptions, plan: Plan, run: Run) -> Expected:
        outcome = run(independent_seeds(plan))
        features = self._model(target, options).features(target, options, plan, outcome)
        return Expected(features, outcome.failure)

    def judge(
        self,
        target: Target,
        options: StochasticOptions,
        plan: Plan,
        outcome: Outcome,
        expected: Expected,
    ) -> list[Case]:
        model = self._model(target, options)
        got = model.features(target, options, plan, outcome)
        cases = compare_all(got, expected.features, z=options.z)
        cases.append(purity_case(model.changed(plan, outcome), outcome))
        return cases


def independent_seeds(plan: Plan) -> Plan:
    """``plan`` with every seed replaced by another, a fixed function of it (equal seeds stay
    equal): the trusted side then draws independently of the student. With the student's
    seeds, a correct student who keeps ``u >= 1 - p`` where the reference keeps ``u < p``
    would draw masks anything but independent of the reference's, and the difference of
    the two estimates would vary more than ``sqrt(se_1^2 + se_2^2)``."""
    ops = []
    for op in plan.ops:
        if op["op"] == "set_rng":
            op = {**op, "seed": _other(op["seed"])}
        elif op["op"] == "routine" and "seed" in op["kwargs"]:
            op = {**op, "kwargs": {**op["kwargs"], "seed": _other(op["kwargs"]["seed"])}}
        ops.append(op)
    return Plan(ops, plan.arrays, plan.meta)


def _other(seed: int) -> int:
    return int(np.random.SeedSequence([seed, 1]).generate_state(1)[0] >> 1)


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The stochastic-behaviour check."""
    return [Stochastic()]
