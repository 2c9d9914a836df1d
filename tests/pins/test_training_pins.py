"""The trainer check's verdicts (``checks.training``), pinned on measured runs: each case
of the loop (epochs, shuffling, updates, validation, training loss), freezing, early
stopping, the loss curve's band and final factor, their messages and severity."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gradekit.checks import training
from gradekit.checks.base import Target
from gradekit.checks.training import Training, _same
from gradekit.checks.training_run import TrainingOptions, TrainingRun
from gradekit.sandbox.plan import Plan

CHECK = Training()
CURVE = np.array([1.0, 0.5, 0.25])


def run(**changes) -> TrainingRun:
    good = TrainingRun(
        epochs=3,
        shuffled=True,
        orders=[np.array([3, 1, 4, 0, 2, 5, 7, 6]), np.array([5, 2, 0, 1, 3, 4, 6, 7])],
        scale=1.0,
        residual=0.0,
        val=CURVE.copy(),
        kept="best",
        best=2,
    )
    return replace(good, **changes)


def judged(got, want=None, options=None, **kwargs):
    """The cases of a run measured as ``got`` (analyse is skipped: the outcome is the run)."""
    target = Target("trainers", "minibatch", kwargs, 7, object)
    plan = Plan(meta={"script": None})
    original = training.analyse
    training.analyse = lambda outcome, *args: outcome
    try:
        return CHECK.judge(target, options or TrainingOptions(), plan, got, want or run())
    finally:
        training.analyse = original


def by_name(cases):
    return {c.name: c for c in cases}


def test_a_run_like_the_references_passes_every_case():
    cases = judged(run())
    assert [c.name for c in cases] == [
        "epochs",
        "shuffling",
        "updates",
        "validation",
        "training loss",
        "loss curve",
    ]
    assert all(c.passed and c.message == "" and not c.severe for c in cases)
    assert all(c.weight == 1.0 for c in cases)


def test_failed_runs_give_one_case():
    (case,) = judged(run(), "the trainer raised")
    assert (case.name, case.passed) == ("run", False)
    assert case.message == "the reference's run failed: the trainer raised"
    (case,) = judged("inconsistent log")
    assert (case.name, case.passed, case.message) == ("run", False, "inconsistent log")


def test_a_problem_is_judged_against_the_references_own():
    assert _same("epochs", "", "") == _same("epochs", "a", "b")
    case = _same("epochs", "", "")
    assert (case.name, case.passed, case.message) == ("epochs", True, "")
    case = _same("epochs", "epoch 1 made 3 steps", "")
    assert (case.name, case.passed) == ("epochs", False)
    assert case.message == "epochs: epoch 1 made 3 steps"
    case = _same("epochs", "", "the last batch dropped")
    assert case.message == "epochs: expected a problem: the last batch dropped"


def test_epochs_validation_and_training_loss_cases_carry_their_problems():
    got = run(coverage="skips", reported="val off", reported_train="train off")
    cases = by_name(judged(got))
    assert cases["epochs"].message == "epochs: skips"
    assert cases["validation"].message == "validation: val off"
    assert cases["training loss"].message == "training loss: train off"
    assert not any(c.passed for c in (cases["epochs"], cases["validation"]))
    assert not cases["training loss"].passed and cases["updates"].passed


def test_an_unshuffled_loop_shows_its_first_rows():
    got = run(shuffled=False, orders=[np.arange(10), np.arange(10)])
    case = by_name(judged(got))["shuffling"]
    assert (case.passed, case.severe) == (False, False)
    assert case.message == (
        "shuffling: every epoch visits the training examples in the same order (first batch "
        "rows [0, 1, 2, 3, 4, 5]...); expected a fresh permutation from rng each epoch"
    )
    case = by_name(judged(run(shuffled=False, orders=[])))["shuffling"]
    assert "(first batch rows []...)" in case.message
    assert by_name(judged(run(shuffled=False), run(shuffled=False)))["shuffling"].passed


def test_freezing_cases_come_with_trainable():
    assert "frozen parameters" not in by_name(judged(run()))
    cases = judged(run(), trainable=["W2", "b2"])
    assert [c.name for c in cases[5:8]] == [
        "frozen parameters",
        "no optimizer state for frozen parameters",
        "trained parameters move",
    ]
    assert all(c.passed for c in cases)
    assert "frozen parameters" in by_name(judged(run(), trainable=[]))


def test_frozen_parameters_that_move_or_meet_the_optimizer_fail():
    got = run(frozen="W1 moved", stateful="init on W1")
    cases = by_name(judged(got, trainable=["W2"]))
    assert cases["frozen parameters"].message == "frozen parameters: W1 moved"
    assert cases["no optimizer state for frozen parameters"].message == (
        "no optimizer state for frozen parameters: init on W1"
    )
    assert cases["trained parameters move"].passed


def test_trained_parameters_that_never_move_fail_the_purpose():
    case = by_name(judged(run(trained_moved=False), trainable=["W2"]))["trained parameters move"]
    assert (case.passed, case.severe) == (False, True)
    assert case.message == (
        "trained parameters move: the parameters listed in trainable end where they started: "
        "nothing is fine-tuned"
    )
    want = run(trained_moved=False)
    case = by_name(judged(run(), want, trainable=["W2"]))["trained parameters move"]
    assert (case.passed, case.severe) == (False, False)
    assert by_name(judged(want, want, trainable=["W2"]))["trained parameters move"].passed


def test_early_stopping_cases_come_with_patience():
    assert "epochs run" not in by_name(judged(run()))
    cases = by_name(judged(run(), patience=0))
    assert cases["epochs run"].passed and cases["best weights"].passed
    assert cases["epochs run"].message == cases["best weights"].message == ""


def test_stopping_at_the_wrong_epoch_shows_the_losses_seen():
    got = run(epochs=2, val=np.array([1.0, 0.123456, 0.1]))
    case = by_name(judged(got, patience=3))["epochs run"]
    assert not case.passed
    assert case.message == (
        "epochs run: 2, expected 3 (validation losses 1, 0.1235; stop after patience = 3 "
        "epochs without a lower loss)"
    )


def test_keeping_the_last_weights_says_which_epoch_was_best():
    case = by_name(judged(run(kept="last", best=1), patience=2))["best weights"]
    assert not case.passed and not case.severe
    assert case.message == (
        "best weights: the model ends with the last epoch's parameters, expected the best "
        "epoch's (epoch 2, the lowest validation loss): restore the best weights after stopping"
    )


def test_a_constructed_curve_has_no_loss_curve_case():
    cases = judged(run(), options=TrainingOptions(curve="valley"), patience=2)
    assert "loss curve" not in by_name(cases) and len(cases) == 7


def test_a_first_update_along_the_step_passes_within_1e_6():
    for got in (run(scale=1.0 + 0.9e-6), run(scale=1.0 - 0.9e-6), run(residual=0.9e-6)):
        assert by_name(judged(got))["updates"].passed
    assert by_name(judged(run(scale=2000.0), run(scale=2000.0 + 1.9e-3)))["updates"].passed
    assert not by_name(judged(run(scale=2000.0), run(scale=2000.0 + 2.1e-3)))["updates"].passed


@pytest.mark.parametrize("scale", [1.0 + 1.1e-6, 1.0 - 1.1e-6, np.nan, np.inf])
def test_a_first_update_of_another_size_says_how_many_steps(scale):
    case = by_name(judged(run(scale=scale)))["updates"]
    assert (case.passed, case.severe) == (False, False)
    assert case.message == (
        f"updates: the first update is {scale:.4g} times the optimizer's step along the "
        "gradient of the batch's mean squared error, expected 1; the gradient is dL/dy = "
        "2 (y - t) / N, N the batch size"
    )


def test_a_first_update_pointing_elsewhere_says_how_much():
    case = by_name(judged(run(scale=0.5, residual=0.25)))["updates"]
    assert case.message == (
        "updates: the first update is 0.5 times the optimizer's step along the gradient of "
        "the batch's mean squared error, expected 1 (and 0.25 of it points elsewhere); the "
        "gradient is dL/dy = 2 (y - t) / N, N the batch size"
    )
    case = by_name(judged(run(residual=1.1e-6)))["updates"]
    assert not case.passed and "(and 1.1e-06 of it points elsewhere)" in case.message
    assert by_name(judged(run(residual=1.1e-6), run(residual=3.0)))["updates"].passed


def test_a_first_update_that_changes_nothing_fails_the_purpose():
    case = by_name(judged(run(scale=0.0, residual=0.0)))["updates"]
    assert (case.passed, case.severe) == (False, True)
    assert case.message == (
        "updates: the first batch leaves the parameters unchanged: store what the optimizer's "
        "update returns (new_param, new_state) in the model"
    )
    for got, want in (
        (run(scale=0.0, residual=0.5), run()),
        (run(scale=0.5, residual=0.0), run()),
    ):
        case = by_name(judged(got, want))["updates"]
        assert (case.passed, case.severe) == (False, False)
    case = by_name(judged(run(scale=0.0, residual=0.0), run(scale=0.0)))["updates"]
    assert (case.passed, case.severe) == (True, False)


def test_a_replay_that_departs_is_named():
    case = by_name(judged(run(replay="after epoch 2 the parameters differ")))["updates"]
    assert (case.passed, case.severe) == (False, False)
    assert case.message == "updates: after epoch 2 the parameters differ"
    case = by_name(judged(run(), run(replay="a mutant departs")))["updates"]
    assert case.message == "updates: the replay matches, expected it not to"
    assert by_name(judged(run(replay="x"), run(replay="y")))["updates"].passed


def curve_case(got, want=CURVE, **options):
    return by_name(
        judged(run(val=np.array(got)), run(val=np.array(want)), TrainingOptions(**options))
    )["loss curve"]


def test_the_loss_curve_passes_within_band_decades_and_the_final_factor():
    inside = 10**0.29
    assert curve_case(CURVE * inside).passed
    assert curve_case(CURVE / inside).passed
    assert curve_case(CURVE * 10**0.49, band=0.5, final_factor=4).passed
    assert curve_case([1.0, 0.5, 0.25, 0.2]).passed


def test_a_curve_out_of_its_band_names_the_first_epoch_out():
    case = curve_case([1.0, 0.5 * 10**0.31, 0.25 * 10**0.4])
    assert (case.name, case.passed, case.severe) == ("loss curve", False, False)
    assert case.message == (
        "loss curve: validation loss after epoch 2: 1.021, expected 0.5 from the reference; "
        "|log10 ratio| 0.31 > 0.3 decades"
    )
    case = curve_case([1.0, 0.5 / 10**0.45, 0.25], band=0.4)
    assert case.message.endswith("|log10 ratio| 0.45 > 0.4 decades")


def test_a_shorter_curve_says_how_many_epochs():
    case = curve_case([1.0, 0.5])
    assert not case.passed and not case.severe
    assert case.message == "loss curve: ran 2 epochs, expected 3"


def test_the_final_loss_may_be_at_most_final_factor_times_the_references():
    want = [1.0, 0.5, 0.1]
    assert curve_case([1.0, 0.5, 0.2], want, band=1.0).passed
    case = curve_case([1.0, 0.5, 0.2001], want, band=1.0)
    assert (case.passed, case.severe) == (False, False)
    assert case.message == (
        "loss curve: final validation loss 0.2001, expected at most 2 x the reference's 0.1"
    )
    assert curve_case([1.0, 0.5, 0.3], want, band=1.0, final_factor=3).passed
    case = curve_case([1.0, 0.5, 0.31], want, band=1.0, final_factor=3)
    assert case.message.endswith("expected at most 3 x the reference's 0.1")


def test_a_curve_that_ends_no_lower_than_it_began_fails_the_purpose():
    case = curve_case([1.0, 1.2, 1.0], [1.0, 0.5, 0.4], band=1.0)
    assert (case.passed, case.severe) == (False, True)
    assert case.message == (
        "loss curve: final validation loss 1, expected at most 2 x the reference's 0.4; no "
        "lower than after epoch 1 (1): the model does not learn"
    )
    case = curve_case([1.0, 1.5, 1.4], [1.0, 1.2, 1.1], band=1.0)
    assert (case.passed, case.severe) == (True, False)
    case = curve_case([1.0, 1.5, 2.5], [1.0, 1.2, 1.1], band=1.0)
    assert (case.passed, case.severe) == (False, False) and "does not learn" not in case.message
    case = curve_case([1.0, 1.5, 0.99], [1.0, 0.5, 0.4], band=1.0)
    assert (case.passed, case.severe) == (False, False)


def test_the_first_updates_tolerances_hold_their_edges():
    assert by_name(judged(run(scale=1e-6), run(scale=0.0)))["updates"].passed
    assert by_name(judged(run(residual=1e-6)))["updates"].passed
    assert by_name(judged(run(), run(residual=1e-6)))["updates"].passed
    assert by_name(judged(run(residual=0.5), run(residual=0.5)))["updates"].passed
    case = by_name(judged(run(scale=0.5, residual=1e-6)))["updates"]
    assert not case.passed and "points elsewhere" not in case.message
