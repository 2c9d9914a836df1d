"""Reading learning curves and errors: the lecture's "debugging learning curves", the ML
recipe, and the transfer-learning table of how much of a network to retrain.

Curves are losses per epoch (lower is better). The rules below read smoothed curves in
fractions of the total drop of the training loss, so they do not depend on its scale.
"""

from __future__ import annotations

import numpy as np


def smooth(curve: np.ndarray, width: int) -> np.ndarray:
    """A moving average of ``width`` epochs (only full windows)."""
    curve = np.asarray(curve, dtype=np.float64)
    width = max(1, min(width, len(curve)))
    return np.convolve(curve, np.ones(width) / width, mode="valid")


class CurveDiagnoser:
    """Names the situation of train and validation loss curves, as the lecture's "debugging
    learning curves" slide does, and the ML-recipe cell of final errors.

    Curves are read smoothed, a moving average over a tenth of the epochs, so that noise
    as large as the trend averages out; each end of a curve is the mean of its first or
    last tenth (``q`` smoothed epochs). Amounts are fractions of the training loss's drop
    from start to end, so the reading does not depend on the loss's scale. In this order:

    - ``error_increasing``: the training loss ends more than 10% above its start (the
      slide's suspect: a bug in the update, such as a sign);
    - ``not_training``: it ends within 10% of its start (a bug in the update, or a
      learning rate far too small);
    - ``overfitting``: the validation loss turns back up: its minimum comes before the
      last ``2q`` epochs and it climbs back by more than 20% of its own drop, however
      late the turn and however small the final gap to the training loss;
    - ``slow_start``: the first fifth of the run makes less than 15% of the drop (a
      suboptimal initialization?), however well the run recovers afterwards;
    - ``not_converged``: the last fifth still makes more than 5% of the drop: train
      longer;
    - ``looks_good`` otherwise: the loss falls early and levels off, however high.

    Recipe: bias is ``train_err - base_err``, variance ``test_err - train_err``; each
    counts as high above ``tol``.

    Transfer advice (``advise``): the lecture's table of what to retrain, by how much
    labelled data there is (very little: fewer than ``LITTLE_DATA`` examples) and how
    similar the new task's data is to the pre-training data (similar: a similarity of
    ``SIMILAR`` or more, on a scale from 0, unrelated, to 1, the same data).
    """

    def diagnose(self, train_curve: np.ndarray, val_curve: np.ndarray) -> str:
        """One of the six labels of the lecture's learning-curve slide."""
        n = len(train_curve)
        w = max(3, n // 10)
        tr, va = smooth(train_curve, w), smooth(val_curve, w)
        m = len(tr)
        q = max(2, m // 10)
        start, end = tr[:q].mean(), tr[-q:].mean()
        if end > 1.1 * start:
            return "error_increasing"
        if end > 0.9 * start:
            return "not_training"
        drop = start - end
        i = int(np.argmin(va))
        v_start, v_min, v_end = va[:q].mean(), va[i], va[-q:].mean()
        if i < m - 2 * q and v_end - v_min > 0.2 * (v_start - v_min):
            return "overfitting"
        fifth = max(1, m // 5)
        if start - tr[fifth : fifth + q].mean() < 0.15 * drop:
            return "slow_start"
        if tr[m - fifth - q : m - fifth].mean() - end > 0.05 * drop:
            return "not_converged"
        return "looks_good"

    def recipe(
        self, train_err: float, test_err: float, base_err: float = 0.0, tol: float = 0.05
    ) -> str:
        """One of the four columns of the ML recipe, from final train and test errors."""
        return recipe_cell(train_err - base_err > tol, test_err - train_err > tol)

    def advise(self, data_size: int, similarity: float) -> str:
        """The cell of the lecture's transfer-learning table for ``data_size`` labelled
        examples of data ``similarity``-similar to the pre-training data."""
        return transfer_cell(data_size < LITTLE_DATA, similarity >= SIMILAR)


LITTLE_DATA = 1000
"""Fewer labelled examples than this is "very little data"; this many or more, "a lot"."""

SIMILAR = 0.5
"""A similarity (0 to 1) of this or more is a "similar dataset"; below it, "different"."""


def transfer_cell(little: bool, similar: bool) -> str:
    """The lecture's transfer-learning table (Transfer Learning, what to retrain), by rows
    of data and columns of similarity:

    - very little data, similar: ``linear_on_top``, a linear classifier on the top layer;
    - very little data, different: ``linear_from_stages``, "you're in trouble": try
      linear classifiers on the features of different stages;
    - quite a lot, similar: ``finetune_few``, fine-tune a few layers;
    - quite a lot, different: ``finetune_many``, fine-tune a larger number of layers.
    """
    if little:
        return "linear_on_top" if similar else "linear_from_stages"
    return "finetune_few" if similar else "finetune_many"


def recipe_cell(high_bias: bool, high_variance: bool) -> str:
    """The ML recipe's column for a high (or low) bias and a high (or low) variance."""
    if high_bias and high_variance:
        return "high_bias_and_variance"
    if high_bias:
        return "high_bias"
    if high_variance:
        return "high_variance"
    return "low_bias_and_variance"
