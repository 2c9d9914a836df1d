"""The update-rule and schedule checks (``checks.updates``), pinned: the trajectory each
step starts from, each case's verdict and message, a step that does not move, purity."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.base import Target
from gradekit.checks.updates import ScheduleOptions, ScheduleValues, Update, UpdateOptions
from gradekit.sandbox.runner import LocalSession
from gradekit_reference import COMPONENTS

UPDATE, SCHEDULE = Update(), ScheduleValues()
MOMENTUM = COMPONENTS["optimizers"]["momentum"]
STEP_DECAY = COMPONENTS["schedules"]["step"]


def judged(factory, options=None, reference=MOMENTUM):
    options = options or UpdateOptions()
    t = Target("optimizers", "momentum", {"lr": 0.1}, 3, reference)
    plan = UPDATE.plan(t, options)
    expected = LocalSession({("optimizers", "momentum"): reference}).run(plan)
    outcome = LocalSession({("optimizers", "momentum"): factory}).run(plan)
    return UPDATE.judge(t, options, plan, outcome, expected), plan, expected


def test_each_step_starts_from_the_previous_ones_output():
    cases, plan, _ = judged(MOMENTUM, UpdateOptions(steps=3, shape=(2, 3)))
    w0 = plan.meta["w0"]
    assert np.array_equal(w0, np.linspace(-0.4, 0.6, 6).reshape(2, 3))
    init, *steps = [op for op in plan.ops if op["op"] == "call"]
    assert (init["method"], init["save"], init["watch"]) == ("init", "state0", True)
    assert np.array_equal(plan.arrays[init["args"][0]["array"]], w0)
    assert [op["save"] for op in steps] == ["step1", "step2", "step3"]
    assert all(op["watch"] for op in steps)
    assert np.array_equal(plan.arrays[steps[0]["args"][0]["array"]], w0)
    assert steps[0]["args"][2] == {"saved": "state0", "path": []}
    for k in (2, 3):
        param, grad, state = steps[k - 1]["args"]
        assert param == {"saved": f"step{k - 1}", "path": [0]}
        assert state == {"saved": f"step{k - 1}", "path": [1]}
        g = plan.arrays[grad["array"]]
        assert g.shape == (2, 3) and np.std(g - np.linspace(-0.6, 0.4, 6).reshape(2, 3)) < 1
    grads = [plan.arrays[op["args"][1]["array"]] for op in steps]
    assert not np.array_equal(grads[0], grads[1])
    assert [c.name for c in cases] == ["step 1", "step 2", "step 3", "pure"]
    assert all(c.passed for c in cases)
    assert cases[-1].weight == 0.5


class Sgd:
    """Plain SGD where momentum is expected: right at step 1, off from step 2."""

    def __init__(self, lr):
        self.lr = lr

    def init(self, param):
        return {}

    def update(self, param, grad, state):
        return param - self.lr * grad, {}


def test_a_wrong_trajectory_fails_from_the_step_it_goes_wrong():
    cases, _, _ = judged(Sgd)
    assert [c.passed for c in cases] == [True, False, False, False, False, True]
    assert cases[1].message.startswith("w after step 2[")
    assert "the first step" not in cases[1].message
    assert not any(c.severe for c in cases)


class Triple(Sgd):
    def update(self, param, grad, state):
        return param - 3 * self.lr * grad, {}


def test_a_first_step_of_the_wrong_size_says_how_much():
    cases, plan, expected = judged(Triple, reference=COMPONENTS["optimizers"]["sgd"])
    assert cases[0].message.startswith("w after step 1[")
    w0, want = plan.meta["w0"], expected.values["step1"][0]
    assert cases[0].message.endswith(
        f"; the first step's size |w1 - w0| is {3 * np.linalg.norm(want - w0):.3g}, 3 x the "
        "reference's"
    )


class Still(Sgd):
    def update(self, param, grad, state):
        return np.array(param, copy=True), {}


def test_an_update_that_does_not_move_fails_its_purpose():
    cases, _, _ = judged(Still)
    assert [c.passed for c in cases[:5]] == [False] * 5
    assert all(c.severe for c in cases[:5])
    assert cases[0].message.endswith("; the update returned the weights it was given: no step")
    assert "; the first step's size |w1 - w0| is 0, 0 x the reference's;" in cases[0].message


def test_the_reference_is_not_told_to_move_where_it_stays():
    still_reference = Still
    cases, _, _ = judged(Sgd, UpdateOptions(steps=2), reference=still_reference)
    assert not any(c.severe for c in cases)
    assert "no step" not in cases[0].message


class Single(Sgd):
    def update(self, param, grad, state):
        return param - self.lr * grad


class Raises(Sgd):
    def update(self, param, grad, state):
        if np.abs(param).sum() < 100 and state.get("k", 0) == 1:
            raise ValueError("second step")
        return param - self.lr * grad, {"k": state.get("k", 0) + 1}


def test_an_update_that_returns_no_pair_or_raises_stops_the_check():
    cases, _, _ = judged(Single)
    assert [c.name for c in cases] == ["step 1", "pure"]
    assert cases[0].message.startswith(
        "step 1: update must return (new_param, new_state), received ndarray of shape (4, 5)"
    )
    assert (cases[1].passed, cases[1].weight) == (False, 0.5)
    assert cases[1].message == "pure: not checked, the updates did not all run"
    cases, _, _ = judged(Raises)
    assert [c.name for c in cases] == ["step 1", "step 2", "pure"]
    assert cases[1].message == "step 2: not computed, your code raised ValueError: second step"
    assert not cases[1].passed


class InPlace(Sgd):
    def update(self, param, grad, state):
        param -= self.lr * grad
        return param, {}


def test_an_update_in_place_is_impure_and_says_which_argument():
    cases, _, _ = judged(InPlace, reference=COMPONENTS["optimizers"]["sgd"])
    pure = cases[-1]
    assert (pure.name, pure.passed, pure.weight) == ("pure", False, 0.5)
    assert pure.message == (
        "update 1 modified its param argument in place; update 2 modified its param argument "
        "in place; update 3 modified its param argument in place (optimizers are pure: return "
        "new arrays)"
    )
    same, _, _ = judged(InPlace, reference=InPlace)
    assert same[-1].passed
    unlike, _, _ = judged(Sgd, reference=InPlace)
    assert unlike[-1].message == "no argument modified in place, unlike the expected outcome"


@pytest.mark.parametrize(
    ("key", "record"),
    [("step2.mutated", [3]), ("state0.mutated", [1]), ("step1.mutated", [0, 0]),
     ("step3.mutated", "0"), ("step1.mutated", np.array([0])), ("step2.mutated", [True]),
     ("step1.mutated", [0, 1, 2, 0]), ("step4.mutated", None), ("state0.mutated", None)],
)  # fmt: skip
def test_a_record_of_changes_that_is_not_the_executors_fails_purity(key, record):
    """A forged record (positions out of range, repeated, not a list of ints) or a missing
    one (None here: every watched call that ran leaves one) is a failed purity case that
    says so, never an exception."""
    t, options = Target("optimizers", "momentum", {"lr": 0.1}, 3, MOMENTUM), UpdateOptions()
    plan = UPDATE.plan(t, options)
    expected = LocalSession({("optimizers", "momentum"): MOMENTUM}).run(plan)
    outcome = LocalSession({("optimizers", "momentum"): MOMENTUM}).run(plan)
    if record is None:
        del outcome.values[key]
    else:
        outcome.values[key] = record
    cases = UPDATE.judge(t, options, plan, outcome, expected)
    assert [c.passed for c in cases] == [True] * options.steps + [False]
    assert (cases[-1].name, cases[-1].weight) == ("pure", 0.5)
    assert cases[-1].message == (
        "pure: the record of arguments modified in place is not the executor's"
    )


def schedule(factory, options=None):
    options = options or ScheduleOptions()
    t = Target("schedules", "step", {}, 1, STEP_DECAY)
    plan = SCHEDULE.plan(t, options)
    expected = LocalSession({("schedules", "step"): STEP_DECAY}).run(plan)
    outcome = LocalSession({("schedules", "step"): factory}).run(plan)
    return SCHEDULE.judge(t, options, plan, outcome, expected), plan


def test_a_schedule_is_asked_at_every_step():
    (case,), plan = schedule(STEP_DECAY)
    assert (case.name, case.passed) == ("rates", True)
    calls = [(op["method"], op["args"], op["save"]) for op in plan.ops if op["op"] == "call"]
    assert calls == [("__call__", [s], f"lr{s}") for s in ScheduleOptions().steps]


class LateDecay(STEP_DECAY):
    def __call__(self, step):
        return super().__call__(step - 1 if step > 0 else 0)


class Text(STEP_DECAY):
    def __call__(self, step):
        return "0.1" if step == 60 else super().__call__(step)


def test_a_wrong_schedule_names_the_first_wrong_step():
    (case,), _ = schedule(LateDecay)
    assert case.message == (
        "lr at step 30: received 0.1, expected 0.01 from the reference (relative tolerance "
        "1e-12; wrong at 3 of 12 steps)"
    )
    (case,), _ = schedule(Text)
    assert case.message.startswith("lr at step 60: received a value that is not a number,")
    assert case.passed is False


@pytest.mark.parametrize(("factor", "passes"), [(1 + 5e-13, True), (1 + 1e-11, False)])
def test_schedule_tolerance_is_1e_12_relative(factor, passes):
    class Off(STEP_DECAY):
        def __call__(self, step):
            return super().__call__(step) * (factor if step == 0 else 1.0)

    (case,), _ = schedule(Off)
    assert case.passed is passes
    if not passes:  # 1e-12 off at step 0, beyond 1e-12 (0.1 + 0.1)
        assert case.message.endswith("wrong at 1 of 12 steps)")


def test_a_schedule_that_raises_is_said_once():
    class Broken(STEP_DECAY):
        def __call__(self, step):
            raise RuntimeError("no rate")

    (case,), _ = schedule(Broken)
    assert (case.name, case.passed) == ("rates", False)
    assert case.message == "lr0: not computed, your code raised RuntimeError: no rate"


def test_the_gradients_are_a_ramp_with_noise_of_0_3():
    plan = UPDATE.plan(Target("optimizers", "sgd", {}, 3, Sgd), UpdateOptions(steps=5))
    ramp = np.linspace(-0.6, 0.4, 20).reshape(4, 5)
    for op in [op for op in plan.ops if op.get("method") == "update"]:
        noise = plan.arrays[op["args"][1]["array"]] - ramp
        assert 0.12 < np.std(noise) < 0.6 and abs(np.mean(noise)) < 0.25


class Once(Sgd):
    """Moves on its first update only."""

    def update(self, param, grad, state):
        if state.get("moved"):
            return np.array(param, copy=True), state
        return param - self.lr * grad, {"moved": True}


def test_standing_still_where_the_reference_stands_still_is_not_severe():
    cases, _, _ = judged(Still, UpdateOptions(steps=3), reference=Once)
    assert [(c.passed, c.severe) for c in cases[:3]] == [
        (False, True),
        (False, False),
        (False, False),
    ]
    assert "no step" not in cases[1].message


class Stacked(Sgd):
    def update(self, param, grad, state):
        new = param - self.lr * grad
        return np.array([new, new])


class Listed(Sgd):
    def update(self, param, grad, state):
        return (param - self.lr * grad).tolist(), {}


class Narrow(Sgd):
    def update(self, param, grad, state):
        return (param - self.lr * grad)[:2], {}


def test_answers_of_the_wrong_kind_are_said_without_a_step_size():
    cases, _, _ = judged(Stacked)
    assert (cases[0].passed, cases[0].message) == (
        False,
        "step 1: update must return (new_param, new_state), received ndarray of shape (2, 4, 5) "
        "and dtype float64",
    )
    cases, _, _ = judged(Listed)
    assert cases[0].message == "w after step 1: expected an ndarray, received list"
    cases, _, _ = judged(Narrow)
    assert cases[0].message == "w after step 1: expected shape (4, 5), received shape (2, 5)"


@pytest.mark.parametrize(("factor", "said"), [(1.005, False), (1.02, True)])
def test_the_first_steps_size_is_said_beyond_one_percent(factor, said):
    class Scaled(Sgd):
        def update(self, param, grad, state):
            return param - factor * self.lr * grad, {}

    cases, _, _ = judged(Scaled, reference=COMPONENTS["optimizers"]["sgd"])
    assert cases[0].message.startswith("w after step 1[")
    assert ("the first step's size" in cases[0].message) is said
    if said:
        assert cases[0].message.endswith(", 1.02 x the reference's")


def test_a_reference_that_does_not_move_gives_no_step_size():
    class Moves(Sgd):
        pass

    cases, _, _ = judged(Moves, UpdateOptions(steps=1), reference=Still)
    assert cases[0].message.startswith("w after step 1[")
    assert cases[0].message.endswith("entries wrong)")


class Raises2(Sgd):
    def update(self, param, grad, state):
        if state.get("k") == 1:
            raise ValueError("no step2 here")
        return param - self.lr * grad, {"k": state.get("k", 0) + 1}


def test_a_missing_step_keeps_the_rest_of_the_message():
    cases, _, _ = judged(Raises2)
    assert (cases[1].name, cases[1].passed) == ("step 2", False)
    assert cases[1].message == "step 2: not computed, your code raised ValueError: no step2 here"


class InitInPlace(Sgd):
    def init(self, param):
        param *= 2.0
        return {}


class MomentumInPlace(MOMENTUM):
    def update(self, param, grad, state):
        new, after = super().update(param, grad, state)
        grad *= 0.5
        state["v"] += 1.0
        return new, after


class LastInPlace(Sgd):
    def update(self, param, grad, state):
        k = state.get("k", 0) + 1
        if k == 5:
            param -= self.lr * grad
            return param, {"k": k}
        return param - self.lr * grad, {"k": k}


def test_purity_names_the_call_and_the_argument_changed():
    sgd = COMPONENTS["optimizers"]["sgd"]
    cases, _, _ = judged(InitInPlace, reference=sgd)
    assert cases[-1].message.startswith("init modified its param argument in place")
    cases, _, _ = judged(MomentumInPlace)
    assert cases[-1].message.startswith(
        "update 1 modified its grad argument in place; update 1 modified its state argument "
        "in place; update 2 modified its grad argument in place"
    )
    cases, _, _ = judged(LastInPlace, reference=sgd)
    assert cases[-1].message == (
        "update 5 modified its param argument in place (optimizers are pure: return new arrays)"
    )


def test_a_schedule_is_built_with_its_hyperparameters():
    t = Target("schedules", "step", {"lr0": 0.5, "step_size": 10}, 1, STEP_DECAY)
    plan = SCHEDULE.plan(t, ScheduleOptions())
    (made,) = [op for op in plan.ops if op["op"] == "make"]
    assert made["kwargs"] == {"lr0": 0.5, "step_size": 10}


def test_with_no_tolerance_only_the_unequal_steps_count_as_wrong():
    """At rtol = 0 a step is right when exactly equal: LateDecay's 9 equal steps are not
    counted, and its first wrong step is named."""
    (case,), _ = schedule(LateDecay, ScheduleOptions(rtol=0.0))
    assert case.message == (
        "lr at step 30: received 0.1, expected 0.01 from the reference (relative tolerance "
        "0e+00; wrong at 3 of 12 steps)"
    )
