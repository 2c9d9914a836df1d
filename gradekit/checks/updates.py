"""Update-rule checks: an optimizer's trajectory over several steps, and schedules' values.

Only the weights are compared, never the state: momentum in torch's form
(``v = mu v + g; w -= lr v``) gives the lecture's weights with a constant rate, so it passes.
Each step starts from the student's own previous output, as in training; a step that
returns the weights it was given, or nan, where the reference moves, fails the optimizer's
purpose (a severe case, see ``credit``). The ``pure`` case compares which arguments were
modified in place with the expected outcome: none for the reference, so that an in-place
mutant (``param -= lr * grad``) can still be named.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..hookspecs import hookimpl
from ..sandbox.plan import Outcome, Plan, mutated_positions, saved
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
        plan.meta = {"w0": w0}
        return plan

    def judge(
        self, target: Target, options: UpdateOptions, plan: Plan, outcome: Outcome, expected: Any
    ) -> list[Case]:
        cases = []
        before, want_before = plan.meta.get("w0"), plan.meta.get("w0")
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
            if k == 1 and not case.passed:
                case.message += _first_step(plan.meta.get("w0"), got[0], want)
            if not case.passed and _still(before, got[0]) and not _still(want_before, want):
                case.message += "; the update returned the weights it was given: no step"
                case.severe = True
            cases.append(Case(name, case.passed, case.message, severe=case.severe))
            before, want_before = got[0], want
        if len(cases) < options.steps or f"step{options.steps}" not in outcome.values:
            cases.append(Case("pure", False, "pure: not checked, the updates did not all run", 0.5))
        else:
            cases.append(self._purity(outcome, expected, options))
        return cases

    @staticmethod
    def _purity(outcome: Outcome, expected: Any, options: UpdateOptions) -> Case:
        """No argument modified in place, or the same ones as the expected (a mutant's)."""
        keys = ["state0"] + [f"step{k}" for k in range(1, options.steps + 1)]

        def changed(values: dict[str, Any]) -> list[tuple[str, int]] | None:
            """The arguments each call modified; None if a record is forged or missing (each
            watched call that ran left one)."""
            found = []
            for key in keys:
                arity = 1 if key == "state0" else 3  # init(param); update(param, grad, state)
                positions = mutated_positions(values.get(f"{key}.mutated"), arity)
                if positions is None:
                    return None
                found += [(key, i) for i in positions]
            return found

        mutated = changed(outcome.values)
        if mutated is None:
            message = "pure: the record of arguments modified in place is not the executor's"
            return Case("pure", False, message, 0.5)
        if mutated == changed(expected.values):
            return Case("pure", True, weight=0.5)
        described = [
            f"{'init' if key == 'state0' else 'update ' + key[4:]} modified its "
            f"{['param', 'grad', 'state'][i]} argument in place"
            for key, i in mutated
        ]
        message = (
            "; ".join(described[:3]) + " (optimizers are pure: return new arrays)"
            if mutated
            else "no argument modified in place, unlike the expected outcome"
        )
        return Case("pure", False, message, 0.5)


def _still(before: Any, after: Any) -> bool:
    """Whether an update left the weights exactly where they were (the optimizer's purpose
    is to move them: an update that does not fails it)."""
    return (
        isinstance(before, np.ndarray)
        and isinstance(after, np.ndarray)
        and before.shape == after.shape
        and bool(np.array_equal(before, after))
    )


def _first_step(w0: Any, got: Any, want: np.ndarray) -> str:
    """How the first step's size compares with the reference's (e.g. about 3x: no bias
    correction in Adam), or "" when it cannot be said."""
    if not (isinstance(w0, np.ndarray) and isinstance(got, np.ndarray)):
        return ""
    if got.shape != w0.shape or not np.all(np.isfinite(got)):
        return ""
    size = float(np.linalg.norm(got - w0))
    ref = float(np.linalg.norm(want - w0))
    if ref == 0.0 or abs(size / ref - 1.0) < 0.01:
        return ""
    return f"; the first step's size |w1 - w0| is {size:.3g}, {size / ref:.3g} x the reference's"


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
            g, w = np.array(got, dtype=float), np.array(want)
            with np.errstate(invalid="ignore"):
                wrong = ~(np.abs(g - w) <= options.rtol * (np.abs(w) + np.max(np.abs(w))))
            i = int(np.argmax(wrong))
            received = f"{got[i]:.6g}" if np.isfinite(got[i]) else "a value that is not a number"
            case.message = (
                f"lr at step {options.steps[i]}: received {received}, expected "
                f"{want[i]:.6g} from the reference (relative tolerance {options.rtol:.0e}; "
                f"wrong at {int(wrong.sum())} of {len(wrong)} steps)"
            )
        return [Case("rates", case.passed, case.message)]


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The optimizer-trajectory and schedule checks."""
    return [Update(), ScheduleValues()]
