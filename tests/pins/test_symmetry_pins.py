"""The symmetry check (``checks.symmetry``), pinned: the spread of the hidden units (unit j
against unit 0, over max(1, max |weight|)), the initial weights equal to a constant's or
not symmetric for a random initializer, the training recomputed from them, the hidden
units identical exactly when the reference's are, the control, and every message."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks import symmetry
from gradekit.checks.base import Target
from gradekit.checks.symmetry import (
    BROKEN,
    SYMMETRIC,
    UNITS_WEIGHT,
    Symmetry,
    SymmetryExpected,
    SymmetryOptions,
    unit_spread,
)
from gradekit.routines import symmetry_data, two_layer_gd
from gradekit.sandbox.plan import Failure, Outcome
from gradekit.sandbox.runner import LocalSession
from gradekit_reference import COMPONENTS
from gradekit_reference.initializers import Constant

CHECK = Symmetry()
OPTIONS = SymmetryOptions()
READING = (
    "with a constant initialization every hidden unit computes the same function and "
    "receives the same gradient, so the units stay identical: the symmetry problem"
)


def target(name="constant", kwargs=None, seed=21):
    kwargs = {"value": 0.5} if kwargs is None and name == "constant" else kwargs or {}
    return Target("initializers", name, kwargs, seed, COMPONENTS["initializers"][name])


def judged(factory, t=None, options=OPTIONS, change=None):
    t = t or target()
    plan = CHECK.plan(t, options)
    expected = CHECK.expect(
        t, options, plan, LocalSession({("initializers", t.name): t.reference}).run
    )
    outcome = LocalSession({("initializers", t.name): factory}).run(plan)
    if change:
        change(outcome)
    return {c.name: c for c in CHECK.judge(t, options, plan, outcome, expected)}, expected


def params(w1, b1, w2):
    return {"W1": np.asarray(w1, float), "b1": np.asarray(b1, float), "W2": np.asarray(w2, float)}


# ------------------------------------------------------------------- unit spread
def test_identical_units_have_no_spread():
    assert unit_spread(params(np.ones((3, 4)), np.zeros(4), np.ones((4, 2)))) == (0.0, 0)


@pytest.mark.parametrize(
    ("where", "j"),
    [("W1", 2), ("b1", 3), ("b1", 1), ("W2", 1)],
)
def test_the_spread_is_the_largest_difference_from_unit_0_and_its_unit(where, j):
    p = params(np.full((3, 4), 0.5), np.zeros(4), np.full((4, 2), 0.25))
    if where == "W1":
        p["W1"][1, j] += 0.3
    elif where == "b1":
        p["b1"][j] -= 0.2
    else:
        p["W2"][j, 1] += 0.1
    spread, unit = unit_spread(p)
    assert unit == j
    assert spread == pytest.approx({"W1": 0.3, "b1": 0.2, "W2": 0.1}[where])


def test_a_unit_0_that_differs_from_the_rest_shows_in_every_other_unit():
    p = params(np.ones((2, 3)), np.zeros(3), np.ones((3, 2)))
    p["W1"][0, 0] = 0.5
    assert unit_spread(p) == (pytest.approx(0.5), 1)


def test_the_spread_is_relative_to_the_largest_weight_above_one():
    p = params(np.full((2, 3), 4.0), np.zeros(3), np.ones((3, 2)))
    p["W1"][0, 2] = 5.0
    assert unit_spread(p) == (pytest.approx(1.0 / 5.0), 2)
    p = params(np.ones((2, 3)), np.zeros(3), np.full((3, 2), -8.0))
    p["W2"][1, 0] = -6.0
    assert unit_spread(p) == (pytest.approx(2.0 / 8.0), 1)
    p = params(np.full((2, 3), 0.1), np.zeros(3), np.full((3, 2), 0.2))
    p["b1"][2] = 0.05
    assert unit_spread(p) == (pytest.approx(0.05), 2)


def test_the_thresholds_are_the_documented_ones():
    assert SYMMETRIC == 1e-9 and BROKEN == 1e-3


# ------------------------------------------------------------------------- plan
def test_the_plan_trains_the_initializers_weights_with_the_options():
    options = SymmetryOptions(din=3, hidden=5, dout=2, batch=4, steps=7, lr=0.3)
    plan = CHECK.plan(target(seed=2**31 + 9), options)
    make, routine = plan.ops
    assert make == {
        "op": "make",
        "obj": "init",
        "kind": "initializers",
        "name": "constant",
        "kwargs": {"value": 0.5},
    }
    assert routine["name"] == "symmetry_training" and routine["save"] == "run"
    assert routine["kwargs"] == {
        "initializer": {"component": "init"},
        "din": 3,
        "hidden": 5,
        "dout": 2,
        "batch": 4,
        "steps": 7,
        "lr": 0.3,
        "seed": 9,
    }


# ---------------------------------------------------------------------- expect
def test_the_expected_side_is_the_constants_weights_and_symmetric():
    t = target()
    plan = CHECK.plan(t, OPTIONS)
    expected = CHECK.expect(
        t, OPTIONS, plan, LocalSession({("initializers", "constant"): Constant}).run
    )
    assert expected.symmetric and expected.spread <= SYMMETRIC
    assert np.array_equal(expected.initial["W1"], np.full((4, 6), 0.5))
    assert np.array_equal(expected.initial["W2"], np.full((6, 3), 0.5))
    assert set(expected.controls) == {"he", "xavier"}
    assert min(expected.controls.values()) > BROKEN


def test_a_random_reference_is_not_symmetric():
    t = target("he", {})
    plan = CHECK.plan(t, OPTIONS)
    run = LocalSession({("initializers", "he"): t.reference}).run
    expected = CHECK.expect(t, OPTIONS, plan, run)
    assert not expected.symmetric and expected.spread > BROKEN
    controls = CHECK.expect(t, SymmetryOptions(controls=("xavier",)), plan, run).controls
    assert list(controls) == ["xavier"]


def test_a_failing_reference_is_refused():
    t = target()
    plan = CHECK.plan(t, OPTIONS)
    failed = Outcome(failure=Failure(1, "ValueError", "bad", ""), status="error")
    with pytest.raises(RuntimeError, match=r"^the trusted constant fails: bad$"):
        CHECK.expect(t, OPTIONS, plan, lambda p: failed)


# ------------------------------------------------------------------------ judge
def test_the_constant_passes_every_case_with_its_weight():
    got, _ = judged(Constant)
    assert [(c.name, c.passed, c.message, c.compared) for c in got.values()] == [
        ("initial weights", True, "", True),
        ("training reproduced", True, "", False),
        ("hidden units", True, "", True),
        ("control", True, "", False),
    ]
    assert [c.weight for c in got.values()] == [1.0, 0.25, UNITS_WEIGHT, 0.25]


def test_the_hidden_units_weigh_the_same_passed_or_failed():
    """A case's weight is part of the credit's denominator: it cannot depend on the verdict."""
    passed, _ = judged(lambda value=0.0: Constant(0.25))
    failed, _ = judged(Random)
    assert passed["hidden units"].passed and not failed["hidden units"].passed
    assert passed["hidden units"].weight == failed["hidden units"].weight == UNITS_WEIGHT == 2.0


def test_a_wrong_constant_fails_the_initial_weights_with_the_value():
    got, _ = judged(lambda value=0.0: Constant(0.25))
    case = got["initial weights"]
    assert case.passed is False and case.message.startswith("initial weights: W1[")
    assert case.message.endswith("; a constant initializer sets every weight to its value")
    assert "expected 0.5" in case.message
    assert got["hidden units"].passed


def test_the_initial_weights_are_equal_within_1e_minus_12():
    class Nudged(Constant):
        def __init__(self, value=0.0, by=0.0):
            super().__init__(value)
            self.by = by

        def __call__(self, shape, rng):
            w = super().__call__(shape, rng)
            if shape == (6, 3):
                w = w.copy()
                w[2, 1] *= 1 + self.by
            return w

    got, _ = judged(lambda value=0.0: Nudged(value, 0.5e-12))
    assert got["initial weights"].passed
    got, _ = judged(lambda value=0.0: Nudged(value, 1e-10))
    assert got["initial weights"].message.startswith("initial weights: W2[")


class Random:
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, rng):
        return self.value + 0.1 * rng.standard_normal(shape)


def test_a_random_initializer_for_a_constant_breaks_the_symmetry_and_says_so():
    seen = []
    got, _ = judged(Random, change=seen.append)
    assert not got["initial weights"].passed
    run = seen[0].values["run"]
    trained = two_layer_gd(run["W1_0"], run["W2_0"], *symmetry_data(4, 3, 8, 21), 25, 0.1)
    spread, j = unit_spread(trained)
    case = got["hidden units"]
    assert not case.passed and case.weight == 2.0
    assert case.message == (
        f"hidden units: after 25 full-batch gradient-descent steps, hidden unit {j} differs "
        f"from unit 0 by {spread:.3g} (relative; tolerance 1e-09), expected identical units; "
        + READING
    )
    assert spread > BROKEN


def test_a_constant_for_a_random_reference_is_named():
    t = target("he", {})
    got, expected = judged(lambda: Constant(0.2), t)
    assert got["initial weights"] == symmetry.Case(
        "initial weights",
        False,
        "initial weights: every hidden unit starts equal; random weights must differ",
    )
    case = got["hidden units"]
    assert case.message == (
        "hidden units: after 25 full-batch gradient-descent steps, every hidden unit is "
        f"identical (spread 0.0e+00), expected {expected.spread:.3g} as the reference: the "
        "initialization must break the symmetry"
    )
    got, _ = judged(t.reference, t)
    assert all(c.passed for c in got.values())


def test_random_weights_are_judged_apart_from_unit_0_within_1e_minus_9():
    t = target("he", {})

    def nearly(by):
        def make():
            def init(shape, rng):
                w = np.full(shape, 0.3)
                if shape == (4, 6):
                    w[0, 5] += by
                return w

            return init

        return make

    assert not judged(nearly(0.5e-9), t)[0]["initial weights"].passed
    assert judged(nearly(1e-6), t)[0]["initial weights"].passed
    expected = SymmetryExpected({}, False, 0.4, {})
    w1, w2 = np.zeros((4, 6)), np.zeros((6, 3))
    w1[0, 5] = SYMMETRIC  # exactly at the tolerance: still equal
    assert not CHECK._initial({"W1": w1, "W2": w2}, expected).passed
    w1[0, 5] = 2 * SYMMETRIC
    assert CHECK._initial({"W1": w1, "W2": w2}, expected).passed


def test_trained_units_at_the_tolerance_are_identical():
    w1 = np.zeros((4, 6))
    w1[1, 3] = SYMMETRIC
    trained = params(w1, np.zeros(6), np.zeros((6, 3)))
    symmetric = SymmetryExpected({}, True, 0.0, {})
    case = CHECK._units(trained, symmetric, OPTIONS)
    assert (case.name, case.passed, case.message) == ("hidden units", True, "")
    w1[1, 3] = 2 * SYMMETRIC
    case = CHECK._units(trained, symmetric, OPTIONS)
    assert case.passed is False and case.weight == 2.0
    assert case.message.startswith(
        "hidden units: after 25 full-batch gradient-descent steps, hidden unit 3 differs "
        "from unit 0 by 2e-09 (relative; tolerance 1e-09)"
    )
    random = SymmetryExpected({}, False, 0.25, {})
    case = CHECK._units(trained, random, SymmetryOptions(steps=4))
    assert case.passed
    w1[1, 3] = SYMMETRIC
    case = CHECK._units(trained, random, SymmetryOptions(steps=4))
    assert case.message == (
        "hidden units: after 4 full-batch gradient-descent steps, every hidden unit is "
        "identical (spread 1.0e-09), expected 0.25 as the reference: the initialization must "
        "break the symmetry"
    )


def test_the_training_is_recomputed_from_the_returned_weights():
    def moved(outcome):
        outcome.values["run"]["trained"]["W2"] = outcome.values["run"]["trained"]["W2"] * 1.01

    got, _ = judged(Constant, change=moved)
    case = got["training reproduced"]
    assert not case.passed and case.weight == 0.25 and not case.compared
    assert case.message.startswith("training reproduced: W2[")
    assert "grader's recomputation" in case.message
    assert [c.name for c in got.values() if not c.passed] == ["training reproduced"]

    def slightly(outcome):
        outcome.values["run"]["trained"]["b1"] = outcome.values["run"]["trained"]["b1"] + 1e-13

    assert judged(Constant, change=slightly)[0]["training reproduced"].passed

    def dropped(outcome):
        outcome.values["run"]["trained"] = None

    case = judged(Constant, change=dropped)[0]["training reproduced"]
    assert case.message == "training reproduced: received NoneType"
    assert case.weight == 0.25 and not case.compared and not case.passed


def test_initial_weights_of_the_wrong_kind_are_named_and_stop_the_check():
    def broken(outcome):
        outcome.values["run"]["W1_0"] = outcome.values["run"]["W1_0"].astype(int)
        outcome.values["run"]["W2_0"] = np.ones((3, 6))

    got, _ = judged(Constant, change=broken)
    assert list(got) == ["initial weights"]
    message = got["initial weights"].message
    assert message.startswith("initial weights: W1 = init((4, 6), rng) returned expected a float")
    assert "; W2 = init((6, 3), rng) returned " in message

    def one(outcome):
        outcome.values["run"]["W2_0"] = [1.0]

    got, _ = judged(Constant, change=one)
    assert got["initial weights"].message.startswith("initial weights: W2 = init((6, 3), rng)")


def test_a_run_that_failed_or_returned_nothing_is_named():
    class Raises(Constant):
        def __call__(self, shape, rng):
            raise ValueError("no weights")

    got, _ = judged(Raises)
    assert list(got) == ["initial weights"]
    message = got["initial weights"].message
    assert message.startswith("initial weights") and "no weights" in message
    assert "run" not in message.split(":")[0]

    def emptied(outcome):
        outcome.values["run"] = 3

    got, _ = judged(Constant, change=emptied)
    assert got["initial weights"].message.startswith(
        "initial weights: W1 = init((4, 6), rng) returned "
    )


def test_the_control_must_separate_the_units():
    expected = SymmetryExpected({}, True, 0.0, {"he": 0.5, "xavier": 2e-4})
    assert CHECK._control(expected) == symmetry.Case(
        "control",
        False,
        "control: the grader's loop kept the hidden units identical from the reference's "
        "random weights (xavier 2.0e-04 < 1e-03): report this to your instructor",
        0.25,
        compared=False,
    )
    expected.controls = {"he": 1e-4, "xavier": 2e-4}
    assert "(he 1.0e-04, xavier 2.0e-04 < 1e-03)" in CHECK._control(expected).message
    expected.controls = {"he": 0.9e-3, "xavier": 1e-3}
    assert "(he 9.0e-04 < 1e-03)" in CHECK._control(expected).message
    expected.controls = {"he": 1e-3, "xavier": 0.2}
    assert CHECK._control(expected) == symmetry.Case("control", True, "", 0.25, compared=False)
