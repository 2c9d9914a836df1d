"""The early-stopping check's verdicts (``checks.early_stopping``), pinned: the stopping
epoch and its message, best_loss within 1e-12, best_params against the best epoch's
weights (copies), and what a failed run gives each case."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.base import Target
from gradekit.checks.early_stopping import EarlyStoppingCheck, EarlyStoppingOptions, _params
from gradekit.sandbox.plan import Failure, Outcome, Plan

CHECK = EarlyStoppingCheck()
LOSSES = np.array([1.0, 0.8, 0.9, 0.95, 0.97, 0.99, 1.01, 1.02])
TRAJ = {"W": np.arange(16.0).reshape(8, 2) + 1.0}
META = {"patience": 3, "min_delta": 0.01}


def result(stop=4, loss=0.8, epoch=1, params=None):
    best = {"W": TRAJ["W"][epoch].copy()} if params is None else params
    return {"stop": stop, "best_loss": loss, "best_params": best}


def judged(fresh=None, inplace=None, want=None, outcome=None):
    plan = Plan(meta={"curves": {"valley": (LOSSES, TRAJ)}, **META})
    want = want or result()
    expected = Outcome({"valley:fresh": want, "valley:inplace": want})
    if outcome is None:
        outcome = Outcome(
            {"valley:fresh": fresh or result(), "valley:inplace": inplace or result()}
        )
    target = Target("early_stopping", "patience", {}, 0, object)
    return CHECK.judge(target, EarlyStoppingOptions(), plan, outcome, expected)


def test_a_stopper_like_the_references_passes_four_cases_per_curve():
    cases = judged()
    assert [c.name for c in cases] == [
        "stop epoch (valley)",
        "best_loss (valley)",
        "best_params (valley)",
        "best_params are copies (valley)",
    ]
    assert all(c.passed and c.message == "" for c in cases)


def test_stopping_late_names_both_epochs_and_the_rule():
    case = judged(fresh=result(stop=5))[0]
    assert (case.name, case.passed) == ("stop epoch (valley)", False)
    assert case.message == (
        "valley curve (losses 1, 0.8, 0.9, 0.95, 0.97, 0.99, ...): received the first True from "
        "step() at epoch 6, expected at epoch 5 (stop after patience = 3 epochs without an "
        "improvement larger than min_delta = 0.01 over the best loss)"
    )


def test_never_stopping_and_other_answers_are_named():
    case = judged(fresh=result(stop=-1))[0]
    assert "received the first True from step() never, expected at epoch 5" in case.message
    case = judged(want=result(stop=-1))[0]
    assert case.message.startswith(
        "valley curve (losses 1, 0.8, 0.9, 0.95, 0.97, 0.99, 1.01, 1.02): received the first "
        "True from step() at epoch 5, expected never"
    )
    for stop in (4.0, True, "4", None):
        case = judged(fresh=result(stop=stop))[0]
        assert not case.passed
        assert f"step() as {type(stop).__name__}, expected at epoch 5 (" in case.message


def test_the_best_loss_passes_within_1e_12():
    for loss in (0.8, 0.8 + 0.5e-12, np.array(0.8), np.array([0.8])):
        assert judged(fresh=result(loss=loss))[1].passed
    assert judged(fresh=result(loss=1e12), want=result(loss=1e12 + 0.9))[1].passed
    assert judged(fresh=result(loss=1e-12), want=result(loss=0.0))[1].passed
    assert not judged(fresh=result(loss=1e12), want=result(loss=1e12 + 1.1))[1].passed
    case = judged(fresh=result(loss=0.8 + 2e-12))[1]
    assert (case.name, case.passed) == ("best_loss (valley)", False)
    assert case.message == (
        "valley curve (losses 1, 0.8, 0.9, 0.95, 0.97, 0.99, ...): received best_loss 0.8, "
        "expected 0.8"
    )
    inf = judged(fresh=result(loss=float("inf")), want=result(loss=float("inf")))[1]
    assert inf.passed


@pytest.mark.parametrize(
    "loss", [None, "0.8", [0.8], np.array([0.8, 0.8]), np.array(["a"]), np.array([True])]
)
def test_a_best_loss_that_is_no_number_is_named(loss):
    from gradekit.checks.compare import describe

    case = judged(fresh=result(loss=loss))[1]
    assert (case.name, case.passed) == ("best_loss (valley)", False)
    assert case.message == f"best_loss (valley): expected a number, received {describe(loss)}"


def test_best_params_must_be_the_best_epochs_weights():
    case = judged(fresh=result(epoch=4))[2]
    assert (case.name, case.passed) == ("best_params (valley)", False)
    assert case.message == (
        "valley curve (losses 1, 0.8, 0.9, 0.95, 0.97, 0.99, ...): received best_params['W'] = the "
        "weights of epoch 5, expected those of epoch 2, the best epoch"
    )
    case = judged(fresh=result(params={"W": np.zeros(2)}))[2]
    assert case.message.endswith(
        "best_params['W'] = zeros, written into the arrays after the loop, expected those of "
        "epoch 2, the best epoch"
    )
    case = judged(fresh=result(params={"W": np.array([0.0, 7.0])}))[2]
    assert "best_params['W'] = other weights, expected those of epoch 2" in case.message
    close = {"W": TRAJ["W"][1] * (1 + 0.5e-12)}
    assert judged(fresh=result(params=close))[2].passed
    assert not judged(fresh=result(params={"W": TRAJ["W"][1] * (1 + 2e-12)}))[2].passed
    assert not judged(fresh=result(params={"W": TRAJ["W"][1] + 1e-300}), want=result(epoch=0))[
        2
    ].passed


def test_the_in_place_run_must_keep_copies():
    cases = judged(inplace=result(epoch=5))
    assert cases[2].passed and not cases[3].passed
    assert cases[3].name == "best_params are copies (valley)"
    assert cases[3].message == (
        "valley curve (losses 1, 0.8, 0.9, 0.95, 0.97, 0.99, ...), with the weights updated in "
        "place every epoch: received best_params['W'] = the weights of epoch 6, expected "
        "those of epoch 2, the best epoch: later in-place updates (w -= lr * dw) changed "
        "them; store copies"
    )


def test_best_params_of_the_wrong_kind_or_shape_are_named():
    case = _params("p", [1.0], {"W": np.zeros(2)}, TRAJ, "ctx", "")
    assert (case.passed, case.message) == (False, "p: best_params is list, expected a dict")
    case = _params("p", {"W": np.zeros(3)}, {"W": np.zeros(2)}, TRAJ, "ctx", "")
    assert case.message == (
        "p: best_params['W'] is ndarray of shape (3,) and dtype float64, expected an array "
        "of shape (2,)"
    )
    case = _params("p", {}, {"W": np.zeros(2)}, TRAJ, "ctx", "")
    assert case.message == "p: best_params['W'] is NoneType, expected an array of shape (2,)"
    assert not _params("p", {"W": [1.0, 2.0]}, {"W": np.zeros(2)}, TRAJ, "ctx", "").passed


def test_no_best_params_is_right_only_where_the_reference_has_none():
    case = _params("p", None, None, TRAJ, "ctx", "")
    assert (case.name, case.passed) == ("p", True)
    case = _params("p", {"W": np.zeros(2)}, None, TRAJ, "ctx", "")
    assert case.passed is False
    assert case.message == "p: received dict, expected None"
    assert _params("p", {"W": TRAJ["W"][2]}, {"W": TRAJ["W"][2]}, TRAJ, "ctx", "").passed


def test_a_run_that_raised_fails_every_case_of_its_curve():
    failure = Failure(3, "ValueError", "bad patience", "")
    cases = judged(outcome=Outcome({}, failure, "error"))
    assert [c.passed for c in cases] == [False] * 4
    assert cases[0].message == (
        "stop epoch (valley): not computed, your code raised ValueError: bad patience"
    )
    assert cases[3].message.startswith("best_params are copies (valley): not computed")
    cases = judged(outcome=Outcome({}, None, "timeout", "ran 10 s"))
    assert cases[1].message == "best_loss (valley): not computed (ran 10 s)"
    cases = judged(outcome=Outcome({}, None, "crashed"))
    assert cases[2].message == "best_params (valley): not computed (crashed)"
    cases = judged(outcome=Outcome({"valley:fresh": [1], "valley:inplace": result()}))
    assert cases[0].message == "stop epoch (valley): unreadable result list"


def test_only_the_in_place_run_failing_fails_its_case_only():
    outcome = Outcome({"valley:fresh": result()}, Failure(9, "KeyError", "'W'", ""), "error")
    cases = judged(outcome=outcome)
    assert [c.passed for c in cases] == [True, True, True, False]
    assert cases[3].message == (
        "best_params are copies (valley): not computed, your code raised KeyError: 'W'"
    )
