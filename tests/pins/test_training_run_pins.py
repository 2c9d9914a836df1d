"""A trainer's run as the grader measures it (``checks.training_run``), pinned: the
reported losses against the recomputed ones (1e-6 relative), the optimizer's log and the
frozen parameters, the batch sizes of an epoch, the update rule's arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradekit.checks.base import Target
from gradekit.checks.training_run import (
    TrainingOptions,
    _frozen,
    _reported,
    _reported_train,
    _sizes,
    _stateful,
    rule_kwargs,
    trained_names,
)

VAL = np.array([2.0, 1.0, 0.5])


def history(val=(2.0, 1.0, 0.5), train=(3.0, 2.0, 1.0)):
    return {"train_loss": list(train), "val_loss": list(val)}


def test_reported_losses_that_match_pass():
    assert _reported(history(), VAL) == ""
    assert _reported(history(val=(2, 1.000001, 0.5000005)), VAL) == ""
    assert _reported(history(val=(0.0, 1, 0.5)), np.array([0.0, 1.0, 0.5])) == ""


def test_a_validation_loss_off_by_more_than_1e_6_relative_is_named():
    message = _reported(history(val=(2.0, 1.0000011, 0.6)), VAL)
    assert message == (
        "history['val_loss'][1] is 1, but the validation loss of epoch 2's parameters is 1 "
        "(ratio 1); the loss is (1/N) sum_n ||y_n - t_n||^2, averaged over the batch axis"
    )
    message = _reported(history(val=(2.0, 1.0, 0.25)), VAL)
    assert message.startswith(
        "history['val_loss'][2] is 0.25, but the validation loss of epoch 3's parameters is "
        "0.5 (ratio 0.5);"
    )
    assert _reported(history(val=(2.0, 1.0, 0.4999994)), VAL) != ""
    with np.errstate(divide="ignore"):  # the ratio to a loss of 0
        assert _reported(history(val=(1e-13, 1, 0.5)), np.array([0.0, 1.0, 0.5])) != ""


def test_a_history_that_is_not_a_dict_of_lists_per_epoch_is_named():
    assert _reported([1.0], VAL) == (
        "fit returned list, expected a dict with train_loss and val_loss"
    )
    assert _reported({"val_loss": [2.0, 1.0, 0.5]}, VAL) == (
        "history['train_loss'] has NoneType entries, expected one per epoch (3)"
    )
    assert _reported(history(train=(1.0, 1.0)), VAL) == (
        "history['train_loss'] has 2 entries, expected one per epoch (3)"
    )
    assert _reported(history(val=(1.0, 1.0, 1.0, 1.0)), VAL) == (
        "history['val_loss'] has 4 entries, expected one per epoch (3)"
    )
    h = history()
    h["val_loss"] = np.array([2.0, 1.0, 0.5])
    assert _reported(h, VAL).startswith("history['val_loss'] has ndarray of shape (3,)")


@pytest.mark.parametrize("bad", [np.nan, np.inf, np.float64(1.0), "1.0", None, True])
def test_reported_losses_must_be_finite_python_numbers(bad):
    assert _reported(history(train=(3.0, bad, 1.0)), VAL) == (
        "history['train_loss'] holds values that are not finite numbers"
    )
    assert _reported(history(val=(2.0, 1.0, bad)), VAL) == (
        "history['val_loss'] holds values that are not finite numbers"
    )


def test_reported_training_losses_are_the_batch_means_within_1e_6():
    assert _reported_train([3.0, 2.0], [3.0, 2.0]) == ""
    assert _reported_train([3.0, 2.000002], [3.0, 2.0]) == ""
    assert _reported_train([3.0, 2.0, 5.0], [3.0, float("nan")]) == ""
    assert _reported_train([0.0], [0.0]) == ""
    message = _reported_train([3.0, 2.1, 9.0], [3.0, 2.0, 1.0])
    assert message == (
        "history['train_loss'][1] is 2.1, but the mean of epoch 2's batch losses, each at the "
        "parameters the batch met, is 2 (ratio 1.05)"
    )
    assert _reported_train([3.0, 1.9999978], [3.0, 2.0]).startswith("history['train_loss'][1]")
    assert _reported_train([1e-13], [0.0]) == (
        "history['train_loss'][0] is 1e-13, but the mean of epoch 1's batch losses, each at "
        "the parameters the batch met, is 0"
    )


LOSS = 1e6 / 1024
"""976.5625: 1e-6 of it is 1 / 1024, exactly in floats, and so are the losses that far off."""


def test_a_loss_off_by_exactly_1e_6_relative_is_still_the_same():
    assert 1e-6 * LOSS == 1 / 1024
    val = np.array([2.0, LOSS, 0.5])
    for edge in (LOSS + 1 / 1024, LOSS - 1 / 1024):
        assert _reported(history(val=(2.0, edge, 0.5)), val) == ""
        assert _reported_train([3.0, edge], [3.0, LOSS]) == ""
    beyond = math.nextafter(LOSS + 1 / 1024, math.inf)
    assert _reported(history(val=(2.0, beyond, 0.5)), val).startswith(
        "history['val_loss'][1] is 976.563, but the validation loss of epoch 2's parameters "
        "is 976.562"
    )
    assert _reported_train([3.0, beyond], [3.0, LOSS]).startswith(
        "history['train_loss'][1] is 976.563, but the mean of epoch 2's batch losses"
    )


CALLS = np.array([[1, 1, 1, 1], [5, 5, 5, 5]])


def test_the_optimizer_may_meet_the_trained_parameters_only():
    assert _stateful(CALLS, ("W1", "b1", "W2", "b2")) == ""
    assert _stateful(np.array([[0, 0, 1, 1], [0, 0, 5, 5]], dtype=np.uint8), ("W2", "b2")) == ""
    assert _stateful(np.array([[0, 0, 1, 1], [0, 3, 5, 5]]), ("W2", "b2")) == (
        "optimizer.update was called 3 times on the frozen parameter b1: a frozen parameter "
        "gets no optimizer state and no update"
    )
    assert _stateful(np.array([[0, 2, 1, 1], [4, 0, 5, 5]]), ("W2", "b2")) == (
        "optimizer.init was called 2 times on the frozen parameter b1: a frozen parameter "
        "gets no optimizer state and no update"
    )
    assert _stateful(CALLS, ("W1", "b1", "W2")).startswith(
        "optimizer.init was called 1 times on the frozen parameter b2"
    )


@pytest.mark.parametrize(
    "calls", [None, CALLS.astype(float), CALLS[:, :3], CALLS.reshape(4, 2), [[0] * 4] * 2]
)
def test_an_unreadable_optimizer_log_is_named(calls):
    from gradekit.checks.compare import describe

    assert _stateful(calls, ("W2",)) == f"unreadable optimizer log {describe(calls)}"


START = {"W1": np.ones((2, 2)), "b1": np.zeros(2), "W2": np.full((2, 1), 2.0), "b2": np.zeros(1)}


def stack(count, **moved):
    return {k: np.stack([moved.get(k, v)] * count) for k, v in START.items()}


def test_frozen_parameters_that_never_move_pass():
    first, snaps = stack(3), stack(2)
    assert _frozen(first, snaps, dict(START), START, ("W2",)) == ""
    assert _frozen(first, snaps, None, START, ("W2",)) == ""
    assert _frozen(first, snaps, {"W1": [1.0]}, START, ("W2",)) == ""


def test_a_frozen_parameter_that_moves_is_named_with_where_and_how_far():
    first, snaps = stack(3), stack(2)
    first["b1"][2] = [0.0, 0.25]
    assert _frozen(first, snaps, None, START, ("W1", "W2", "b2")) == (
        "the frozen parameter b1 moved at training step 2 (by up to 0.25); only the "
        "parameters in trainable train, and the others stay bit-for-bit as they were"
    )
    first, snaps = stack(3), stack(2)
    snaps["W1"][1, 0, 0] = 1.5
    assert _frozen(first, snaps, None, START, ("b1", "W2", "b2")).startswith(
        "the frozen parameter W1 moved after epoch 2 (by up to 0.5);"
    )
    final = {**START, "b2": np.array([-3.0])}
    assert _frozen(stack(3), stack(2), final, START, ("W1", "b1", "W2")).startswith(
        "the frozen parameter b2 moved at the end of fit (by up to 3);"
    )
    final = {**START, "b2": np.zeros(2)}
    assert _frozen(stack(3), stack(2), final, START, ("W1", "b1", "W2")).startswith(
        "the frozen parameter b2 moved at the end of fit (by up to inf);"
    )


def test_trained_parameters_may_move_and_the_first_frozen_one_is_named():
    first, snaps = stack(3, W1=np.zeros((2, 2)), b1=np.ones(2)), stack(2, b2=np.ones(1))
    message = _frozen(first, snaps, None, START, ("W1",))
    assert message.startswith("the frozen parameter b1 moved at training step 0 (by up to 1);")
    assert _frozen(first, snaps, None, START, ("W1", "b1", "W2")).startswith(
        "the frozen parameter b2 moved after epoch 1"
    )


def test_an_epoch_is_full_batches_then_the_rest():
    assert _sizes(10, 4) == [4, 4, 2]
    assert _sizes(8, 4) == [4, 4]
    assert _sizes(3, 16) == [3]


def test_the_rule_gets_mu_for_momentum_and_weight_decay_when_set():
    assert rule_kwargs(TrainingOptions(lr=0.5)) == {"lr": 0.5}
    assert rule_kwargs(TrainingOptions(optimizer="momentum", mu=0.8)) == {"lr": 0.1, "mu": 0.8}
    assert rule_kwargs(TrainingOptions(weight_decay=0.01)) == {"lr": 0.1, "weight_decay": 0.01}


def test_the_trained_parameters_are_trainable_in_the_networks_order():
    def target(**kwargs):
        return Target("trainers", "minibatch", kwargs, 0, object)

    assert trained_names(target()) == ("W1", "b1", "W2", "b2")
    assert trained_names(target(trainable=None)) == ("W1", "b1", "W2", "b2")
    assert trained_names(target(trainable=["b2", "W2", "x"])) == ("W2", "b2")
    assert trained_names(target(trainable=[])) == ()


def test_a_loss_recomputed_as_zero_is_named_without_a_ratio():
    message = _reported(history(val=(0.5, 1.0, 0.5)), np.array([0.0, 1.0, 0.5]))
    assert message.startswith(
        "history['val_loss'][0] is 0.5, but the validation loss of epoch 1's parameters is 0; "
    )
