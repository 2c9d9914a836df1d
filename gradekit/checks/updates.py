"""Update-rule checks: an optimizer's trajectory over several steps, and schedules' values.

Only the weights are compared, never the state: momentum in torch's form
(``v = mu v + g; w -= lr v``) gives the lecture's weights with a constant rate, so it passes.
Each step starts from the student's own previous output, as in training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..hookspecs import hookimpl
from ..sandbox.plan import Outcome, Plan, saved
from .base import Case, CheckKind, Options, Target
from .compare import close, describe, failed_call


class UpdateOptions(Options):
    steps: int = 5
    shape: tuple[int, ...] = (4, 5)
    rtol: float = 1e-9


class Update(CheckKind):
    """``init`` then ``update`` for several steps gives the reference's weights, purely."""

    name = "update"
    kinds = ("optimizers",)
    options = UpdateOptions
    summary = "the weights after each of several update steps, and no input modified"

    def plan(self, target: Target, options: UpdateOptions) -> Plan:
        rng = target.rng()
        size = int(np.prod(options.shape))
        w0 = np.linspace(-0.4, 0.6, size).reshape(options.shape)
        plan = Plan()
        plan.make("opt", target.kind, target.name, **target.kwargs)
        plan.call("opt", "init", plan.array(w0), save="state0", watch=True)
        param, state = plan.array(w0), saved("state0")
        for k in range(1, options.steps + 1):
            g = np.linspace(-0.6, 0.4, size).reshape(options.shape) + 0.3 * rng.standard_normal(
                options.shape
            )
            plan.call("opt", "update", param, plan.array(g), state, save=f"step{k}", watch=True)
            param, state = saved(f"step{k}", 0), saved(f"step{k}", 1)
        return plan

    def judge(
        self, target: Target, options: UpdateOptions, plan: Plan, outcome: Outcome, expected: Any
    ) -> list[Case]:
        cases = []
        for k in range(1, options.steps + 1):
            name = f"step {k}"
            key = f"step{k}"
            missing = failed_call(outcome, key)
            if missing:
                cases.append(Case(name, False, missing.message.replace(key, name, 1)))
                break
            got = outcome.values[key]
            if not (isinstance(got, list) and len(got) == 2):
                cases.append(
                    Case(
                        name,
                        False,
                        f"{name}: update must return (new_param, new_state), "
                        f"received {describe(got)}",
                    )
                )
                break
            want = expected.values[key][0]
            case = close(f"w after {name}", got[0], want, rtol=options.rtol)
            cases.append(Case(name, case.passed, case.message))
        mutated = [
            f"{'init' if key == 'state0' else 'update ' + key[4:]} modified its "
            f"{['param', 'grad', 'state'][i]} argument in place"
            for key in ["state0"] + [f"step{k}" for k in range(1, options.steps + 1)]
            for i in outcome.values.get(f"{key}.mutated", [])
        ]
        cases.append(
            Case(
                "pure",
                not mutated,
                "; ".join(mutated[:3])
                + (" (optimizers are pure: return new arrays)" if mutated else ""),
                0.5,
                compared=False,
            )
        )
        return cases


class ScheduleOptions(Options):
    steps: tuple[int, ...] = (0, 1, 2, 10, 29, 30, 31, 59, 60, 61, 90, 100)
    rtol: float = 1e-12


class ScheduleValues(CheckKind):
    """A schedule's learning rate at a list of steps equals the reference's."""

    name = "schedule"
    kinds = ("schedules",)
    options = ScheduleOptions
    summary = "the learning rate at a list of steps"

    def plan(self, target: Target, options: ScheduleOptions) -> Plan:
        plan = Plan()
        plan.make("s", target.kind, target.name, **target.kwargs)
        for step in options.steps:
            plan.call("s", "__call__", step, save=f"lr{step}")
        return plan

    def judge(
        self, target: Target, options: ScheduleOptions, plan: Plan, outcome: Outcome, expected: Any
    ) -> list[Case]:
        got, want = [], []
        for step in options.steps:
            missing = failed_call(outcome, f"lr{step}")
            if missing:
                return [Case("rates", False, missing.message)]
            value = outcome.values[f"lr{step}"]
            got.append(value if type(value) in (int, float) else np.nan)
            want.append(expected.values[f"lr{step}"])
        case = close("lr", np.array(got, dtype=float), np.array(want), rtol=options.rtol)
        if not case.passed:
            i = int(np.argmax(np.abs(np.array(got, dtype=float) - np.array(want))))
            case.message = (
                f"lr at step {options.steps[i]}: received {got[i]:.6g}, expected "
                f"{want[i]:.6g} from the reference"
            )
        return [Case("rates", case.passed, case.message)]


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The optimizer-trajectory and schedule checks."""
    return [Update(), ScheduleValues()]
