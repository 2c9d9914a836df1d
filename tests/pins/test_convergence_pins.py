"""The convergence check's verdicts (``checks.convergence``), pinned: a path is validated
against the trusted problem, its losses recomputed; divergence (explode x the reference's
largest loss), the band in decades after skip, the final factor, messages and severity."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.base import Target
from gradekit.checks.convergence import (
    Convergence,
    ConvergenceOptions,
    Trajectory,
    losses_of,
    trajectory,
    validate,
)
from gradekit.problems import PROBLEMS, Problem
from gradekit.sandbox.plan import Failure, Outcome, Plan

CHECK = Convergence()
WHERE = "4 steps on the ravine"
REF = np.array([8.0, 4.0, 2.0, 1.0, 0.5])


def options(**changes):
    return ConvergenceOptions(**{"steps": 4, "skip": 1, **changes})


def divergence(losses, ref=REF, **changes):
    return CHECK._divergence(options(**changes), np.array(losses), ref, WHERE)


def curve(losses, ref=REF, **changes):
    return CHECK._curve(options(**changes), np.array(losses), ref, WHERE)


def final(losses, ref=REF, **changes):
    return CHECK._final(options(**changes), np.array(losses), ref, WHERE)


def test_losses_below_explode_times_the_references_largest_do_not_diverge():
    case = divergence([8.0, 7999.0, 8000.0, 1.0, 1.0])
    assert (case.name, case.passed, case.compared, case.severe) == (
        "no divergence",
        True,
        False,
        False,
    )
    assert divergence([8.0, 79.0, 1, 1, 1], explode=10).passed
    assert divergence([8.0, 1, 1, 1, 1], np.array([8.0, np.inf, 2, 1, 0.5])).passed


def test_a_loss_above_the_limit_diverges_at_its_step():
    case = divergence([8.0, 1.0, 8001.0, 9e9, np.nan])
    assert (case.name, case.passed, case.compared, case.severe) == (
        "no divergence",
        False,
        False,
        True,
    )
    assert case.message == (
        "diverged at step 2: loss 8e+03, above 8e+03, 1000 x the largest loss of the "
        "reference's run; the reference's loss at step 2 is 2 (4 steps on the ravine)"
    )
    case = divergence([8.0, 81.0, 1, 1, 1], np.array([8.0, np.nan, 2, 1, 0.5]), explode=10)
    assert case.message.startswith(
        "diverged at step 1: loss 81, above 80, 10 x the largest loss of the reference's run;"
    )
    assert case.message.endswith("the reference's loss at step 1 is nan (4 steps on the ravine)")


def test_a_run_that_stopped_on_a_non_finite_point_diverges_there():
    case = divergence([8.0, 4.0, np.nan])
    assert not case.passed and case.severe
    assert case.message == (
        "diverged at step 2: loss nan, the parameters are not finite; the reference's loss "
        "at step 2 is 2 (4 steps on the ravine)"
    )
    case = divergence([8.0, 4.0, np.inf])
    assert "loss inf, above 8e+03" in case.message
    case = divergence([8.0, 4.0, 2.0, 1.0, 0.5, np.nan], REF)
    assert "the reference's loss at step 5 is nan" in case.message


def test_the_loss_curve_passes_within_band_decades_from_skip():
    assert curve(REF * 10**0.49).passed
    assert curve(REF / 10**0.49).passed
    assert curve([1e9, *(REF[1:] * 3)]).passed  # step 0 is skipped
    assert curve(REF * 10**0.9, band=1.0).passed
    assert curve([8.0, 4.0, 2.0, 1.0, 1e-9], np.array([8.0, 4.0, 2.0, 1.0, 0.0])).passed
    case = curve([1.0], skip=5)
    assert (case.name, case.passed) == ("loss curve", True)


def test_a_curve_out_of_its_band_names_the_first_step_out_and_how_many():
    case = curve([8.0, 4.0, 2.0 * 10**0.51, 1.0 * 10**0.6, 0.5])
    assert (case.name, case.passed, case.severe) == ("loss curve", False, False)
    assert case.message == (
        "loss at step 2: received 6.47, expected 2 from the reference; |log10 ratio| 0.51 > "
        "0.5 decades (2 of 4 steps from step 1 outside the band; 4 steps on the ravine)"
    )
    case = curve([8e3, 4.0, 2.0, 1.0, 0.5], skip=0, band=0.25)
    assert case.message.startswith("loss at step 0: received 8e+03, expected 8 ")
    assert "|log10 ratio| 3.00 > 0.25 decades (1 of 5 steps from step 0" in case.message


def test_the_floor_counts_tiny_losses_as_converged():
    assert curve([8.0, 4.0, 2.0, 1.0, 1e-12], np.array([8.0, 4.0, 2.0, 1.0, 1e-14])).passed
    assert not curve([8.0, 4, 2, 1, 1e-12], np.array([8.0, 4, 2, 1, 1e-14]), floor=1e-15).passed


def test_a_curve_where_one_run_diverged_is_out_of_the_band():
    case = curve([8.0, 4.0, np.nan])
    assert not case.passed
    assert case.message == (
        "loss at step 2: received nan, expected 2 from the reference; one run has diverged (3 "
        "of 4 steps from step 1 outside the band; 4 steps on the ravine)"
    )
    case = curve(REF, np.array([8.0, 4.0, 2.0, np.inf]))
    assert case.message.startswith("loss at step 3: received 1, expected inf from the reference;")
    assert curve([8.0, 4.0, np.nan], np.array([8.0, 4.0, np.nan])).passed


def test_the_final_loss_may_be_final_factor_times_the_references_plus_floor():
    assert final([8.0, 4, 2, 1, 5.0]).passed
    case = final([8.0, 4, 2, 1, 5.001])
    assert (case.name, case.passed, case.severe) == ("final loss", False, False)
    assert case.message == (
        "final loss at step 4: received 5, expected at most 5 (10 x the reference's 0.5; 4 "
        "steps on the ravine)"
    )
    assert final([8.0, 4, 2, 1, 1.5], final_factor=3).passed
    assert not final([8.0, 4, 2, 1, 1.6], final_factor=3).passed
    assert final([8.0, 4, 2, 1, 1e-3], np.array([8.0, 4, 2, 1, 0.0]), floor=1e-4).passed
    assert not final([8.0, 4, 2, 1, 1.1e-3], np.array([8.0, 4, 2, 1, 0.0]), floor=1e-4).passed


def test_a_final_loss_no_lower_than_the_start_fails_the_purpose():
    case = final([8.0, 9.0, 9.0, 9.0, 8.0])
    assert (case.passed, case.severe) == (False, True)
    assert case.message == (
        "final loss at step 4: received 8, expected at most 5 (10 x the reference's 0.5; 4 "
        "steps on the ravine): no lower than the starting loss 8, no progress"
    )
    case = final([8.0, 9.0, np.nan])
    assert (case.passed, case.severe) == (False, True)
    assert case.message.startswith("final loss at step 4: received nan, expected at most 5 ")
    case = final([8.0, 9.0, 9.0, 9.0, 7.9])
    assert (case.passed, case.severe) == (False, False)
    case = final([8.0, 9, 9, 9, 81], np.array([8.0, 9, 9, 9, 8.0]))
    assert (case.passed, case.severe) == (False, False)


def test_a_reference_that_diverged_leaves_nothing_to_reach():
    case = final([8.0, 9, 9, 9, 1e9], np.array([8.0, 9, 9, np.nan]))
    assert (case.name, case.passed, case.message) == ("final loss", True, "")
    assert final([8.0, 9, 9, 9, 1e9], np.array([8.0, 9, 9, 9, np.inf])).passed


def path(*points):
    return {"w": np.array(points, dtype=float)}


START = [-8.0, 1.0]
RAVINE = PROBLEMS["ravine"]()


def test_a_path_from_the_start_of_steps_plus_one_points_is_valid():
    got, why = validate(RAVINE, path(START, [1.0, 0.0], [0.0, 0.0]), 2)
    assert why == "" and set(got) == {"w"} and got["w"].dtype == np.float64
    assert np.array_equal(got["w"], [START, [1.0, 0.0], [0.0, 0.0]])
    assert validate(RAVINE, {"w": np.array([[-8, 1], [0, 0]])}, 1)[1] == ""


def test_a_run_may_stop_right_after_a_non_finite_point_only():
    got, why = validate(RAVINE, path(START, [1.0, 0.0], [np.inf, 0.0]), 5)
    assert why == "" and len(got["w"]) == 3
    assert validate(RAVINE, path(START, [np.nan, 0.0], [0.0, 0.0]), 5) == (
        {},
        "the path goes on after a non-finite point",
    )
    assert validate(RAVINE, path(START, [1.0, 0.0]), 5) == (
        {},
        "the run stopped after 1 of 5 steps",
    )


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ([1.0], "expected the parameters ['w'], received list"),
        (
            {"w": np.zeros((1, 2)), "b": np.zeros(1)},
            "expected the parameters ['w'], received ['b', 'w']",
        ),
        ({}, "expected the parameters ['w'], received []"),
        ({"w": [[-8.0, 1.0]]}, "parameter 'w': expected a real array, received list"),
        (
            {"w": np.array([["a", "b"]])},
            "parameter 'w': expected a real array, received ndarray of shape (1, 2) and dtype <U1",
        ),
        ({"w": np.zeros(2)}, "parameter 'w': received a path of shape (2,)"),
        ({"w": np.zeros((1, 3))}, "parameter 'w': received a path of shape (1, 3)"),
        ({"w": np.zeros((0, 2))}, "parameter 'w': received a path of shape (0, 2)"),
        ({"w": np.zeros((1, 1, 2))}, "parameter 'w': received a path of shape (1, 1, 2)"),
        (
            {"w": np.array([[8.0, 1.0]])},
            "parameter 'w': the path does not begin at the problem's start",
        ),
        ({"w": np.array([START] * 4)}, "paths of [4] points for 2 steps"),
    ],
)
def test_a_forged_or_broken_path_is_rejected(value, why):
    assert validate(RAVINE, value, 2) == ({}, why)


def test_every_parameter_path_has_the_same_length():
    two = Problem(
        "two", lambda: {"a": np.zeros(2), "b": np.ones(())}, lambda p: 0.0, lambda p: p, 0.0
    )
    value = {"a": np.zeros((3, 2)), "b": np.ones(2)}
    assert validate(two, value, 2) == ({}, "paths of [2, 3] points for 2 steps")
    value = {"a": np.zeros((3, 2)), "b": np.ones(3)}
    assert validate(two, value, 2)[1] == ""
    value = {"a": np.zeros((3, 2)), "b": np.array([1.0, 1.0, np.nan])}
    assert validate(two, value, 2)[1] == ""
    value = {"a": np.array([[0.0, 0], [0, np.nan], [0, 0]]), "b": np.ones(3)}
    assert validate(two, value, 2)[1] == "the path goes on after a non-finite point"
    assert validate(two, {"a": np.zeros((3, 2)), "b": np.zeros(3)}, 2)[1] == (
        "parameter 'b': the path does not begin at the problem's start"
    )


def test_losses_are_recomputed_with_nan_where_a_point_is_not_finite():
    losses = losses_of(RAVINE, path(START, [1.0, 0.0], [np.inf, 0.0]))
    assert losses[0] == pytest.approx(0.5 * (0.1 * 64 + 10 * 1))
    assert losses[1] == pytest.approx(0.05) and np.isnan(losses[2])


def run_outcome(*points):
    return Outcome({"run": path(*points)})


def test_a_trajectory_keeps_the_path_and_the_recomputed_losses():
    t = trajectory(run_outcome(START, [0.0, 0.0]), "ravine", 1)
    assert t.ok and t.failure is None and t.detail == "" and t.problem == "ravine"
    assert np.array_equal(t.losses, [8.2, 0.0])


def test_a_run_that_raised_in_gradekits_loop_gets_the_update_contract():
    failure = Failure(1, "TypeError", "cannot unpack", "")
    t = trajectory(Outcome({}, failure, "error"), "ravine", 3)
    assert not t.ok and t.path is None and t.losses is None and t.failure is failure
    assert t.detail == (
        "the run stopped: TypeError: cannot unpack (in gradekit's training loop: update must "
        "return (new_param, new_state), new_param an array of the parameter's shape)"
    )
    failure = Failure(1, "ValueError", "bad", 'File "student.py", line 3')
    t = trajectory(Outcome({}, failure, "error"), "ravine", 3)
    assert t.detail == "the run stopped: ValueError: bad"


def test_a_run_that_timed_out_or_returned_a_bad_path_is_not_ok():
    t = trajectory(Outcome({}, None, "timeout", "5 s"), "ravine", 3)
    assert not t.ok and t.detail == "run: not computed (5 s)"
    assert (t.failure.op, t.failure.type, t.failure.message) == (-1, "timeout", "5 s")
    t = trajectory(run_outcome([8.0, 1.0]), "ravine", 3)
    assert not t.ok and t.detail == "parameter 'w': the path does not begin at the problem's start"
    assert (t.failure.type, t.failure.message) == ("invalid", t.detail)


def judged(outcome, expected, **changes):
    target = Target("optimizers", "sgd", {}, 0, object)
    return CHECK.judge(target, options(**changes), Plan(), outcome, expected)


def test_judge_gives_three_cases_on_recomputed_losses():
    expected = trajectory(run_outcome(START, [4, 0.5], [2, 0], [1, 0], [0.5, 0]), "ravine", 4)
    cases = judged(run_outcome(START, [4, 0.5], [2, 0], [1, 0], [0.5, 0]), expected)
    assert [(c.name, c.passed) for c in cases] == [
        ("no divergence", True),
        ("loss curve", True),
        ("final loss", True),
    ]
    cases = judged(run_outcome(START, [4, 0.5], [2, 0], [1, 0], [-8.0, 1]), expected)
    assert [c.passed for c in cases] == [True, False, False]
    assert cases[2].severe and "4 steps on the ravine" in cases[2].message


def test_judge_names_a_failed_run_or_reference():
    bad = Trajectory(None, None, "ravine", None, "the run stopped: KeyError")
    (case,) = judged(run_outcome(START), bad)
    assert (case.name, case.passed) == ("run", False)
    assert case.message == "the reference's run failed: the run stopped: KeyError"
    good = trajectory(run_outcome(START, [4, 0.5], [2, 0], [1, 0], [0.5, 0]), "ravine", 4)
    (case,) = judged(run_outcome(START, [0.0, 0.0]), good)
    assert (case.name, case.passed) == ("run", False)
    assert case.message == "4 steps on the ravine: the run stopped after 1 of 4 steps"
