"""The protocols of training: search strategies, trainers, learning-curve diagnosers and the
transfer-learning advice."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

Space = dict[str, tuple[float, float]]
"""A search space: hyperparameter name -> ``(low, high)`` bounds, both included."""

Setting = dict[str, float]
"""One proposed setting: a value for every name of the space."""


@runtime_checkable
class SearchStrategy(Protocol):
    """Proposes hyperparameter settings from a space: grid, random, log-uniform, ...

    A coarse-to-fine strategy also has ``refine(space, results, n, rng)``, which narrows
    the space around the best results of a first round and proposes ``n`` new settings.
    """

    def propose(self, space: Space, n: int, rng: np.random.Generator) -> list[Setting]:
        """Return settings (dicts of floats, one value per name of ``space``).

        A grid returns ``n`` values per axis, every combination (``n ** len(space)``
        settings); a random strategy returns ``n`` settings drawn with ``rng``.
        """


@runtime_checkable
class Trainer(Protocol):
    """A mini-batch SGD loop: shuffle, forward, backward, update, validate each epoch.

    Built with ``trainable`` (names of parameters), it trains those only: every other
    parameter is frozen, with no optimizer state and no update.
    """

    def fit(
        self, model: Any, optimizer: Any, data: dict[str, np.ndarray], rng: np.random.Generator
    ) -> dict[str, list[float]]:
        """Train ``model`` in place with ``optimizer`` on ``data``; return the history.

        ``data`` holds ``x``, ``t`` (training) and ``x_val``, ``t_val``. ``model`` has
        ``params`` and ``grads`` dicts, ``forward(x) -> y`` and ``backward(dy)``; the
        loss is the course's squared error ``(1/N) sum_n ||y_n - t_n||^2``, computed by
        the trainer. ``optimizer`` follows the optimizer protocol, one state per
        parameter. Returns ``{"train_loss": [...], "val_loss": [...]}``, one entry per
        epoch run.
        """


@runtime_checkable
class Diagnoser(Protocol):
    """Reads learning curves and errors the way the lecture's last slides do, and advises
    what to retrain in transfer learning."""

    def diagnose(self, train_curve: np.ndarray, val_curve: np.ndarray) -> str:
        """Name the situation of the loss curves (one value per epoch, lower is better).

        One of ``not_training``, ``error_increasing``, ``not_converged``, ``slow_start``,
        ``overfitting`` and ``looks_good``.
        """

    def recipe(
        self, train_err: float, test_err: float, base_err: float = 0.0, tol: float = 0.05
    ) -> str:
        """Name the ML-recipe cell of final train and test errors (fractions in [0, 1]).

        Bias is ``train_err - base_err``, variance ``test_err - train_err``; each is high
        above ``tol``. One of ``high_variance``, ``high_bias``, ``high_bias_and_variance``
        and ``low_bias_and_variance``.
        """

    def advise(self, data_size: int, similarity: float) -> str:
        """Name the cell of the lecture's transfer-learning table.

        ``data_size`` is the number of labelled examples of the new task: fewer than
        ``LITTLE_DATA`` (1000) is very little data. ``similarity`` in [0, 1] says how
        alike the new data is to the pre-training data: ``SIMILAR`` (0.5) or more is
        similar. One of ``TRANSFER_LABELS``.
        """


CURVE_LABELS = (
    "not_training",
    "error_increasing",
    "not_converged",
    "slow_start",
    "overfitting",
    "looks_good",
)
"""What ``Diagnoser.diagnose`` may answer: the six curves of "debugging learning curves"."""

RECIPE_LABELS = (
    "high_variance",
    "high_bias",
    "high_bias_and_variance",
    "low_bias_and_variance",
)
"""What ``Diagnoser.recipe`` may answer: the four columns of the lecture's ML recipe."""

TRANSFER_LABELS = (
    "linear_on_top",
    "linear_from_stages",
    "finetune_few",
    "finetune_many",
)
"""What ``Diagnoser.advise`` may answer, the lecture's table: very little data and similar,
a linear classifier on the top layer; very little and different ("you're in trouble"),
linear classifiers from different stages; a lot and similar, fine-tune a few layers; a
lot and different, fine-tune a larger number of layers."""

LITTLE_DATA = 1000
"""Fewer labelled examples than this is very little data (this many is a lot)."""

SIMILAR = 0.5
"""A similarity of this or more is similar data (just below it is different)."""
