"""The mini-batch SGD loop: shuffle, forward, backward, update, validate, stop early, and
train only some parameters (transfer learning's frozen layers).

The trainer drives a model (``params``, ``grads``, ``forward``, ``backward``) and an
optimizer (pure ``init``/``update``) it is given; it owns the loop and the loss, the
course's squared error averaged over the batch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np


def squared_error(y: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    """``(1/N) sum_n ||y_n - t_n||^2`` and its gradient ``2 (y - t) / N``: batch axis 0."""
    diff = np.asarray(y, dtype=np.float64) - t
    return float(np.sum(diff**2) / len(t)), 2.0 * diff / len(t)


class MiniBatchTrainer:
    """Mini-batch SGD for ``epochs`` epochs, with early stopping when ``patience`` is set.

    Every epoch draws a fresh permutation of the training set from ``rng`` and walks it in
    batches of ``batch_size`` (the last may be smaller): forward, loss, backward, and
    ``optimizer.update`` for every parameter. After the epoch's updates it evaluates the
    validation set once. ``train_loss`` is the mean of the epoch's batch losses. With
    ``patience``, an epoch improves when its validation loss is below the best so far;
    after ``patience`` epochs without one the loop stops, and in any case the best
    epoch's parameters (copies) are restored at the end.

    With ``trainable`` (names of parameters), only those train: the others are frozen,
    as transfer learning freezes the lower layers (lecture: "Transfer Learning"). A frozen
    parameter gets no optimizer state (``optimizer.init`` is never called on it) and no
    update, so it stays bit-for-bit what it was, whatever momentum or weight decay the
    optimizer applies. ``None`` trains every parameter.
    """

    def __init__(
        self,
        epochs: int = 20,
        batch_size: int = 16,
        patience: int | None = None,
        trainable: Iterable[str] | None = None,
    ):
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.trainable = None if trainable is None else tuple(trainable)

    def trained(self, params: dict[str, np.ndarray]) -> list[str]:
        """The names of the parameters to train, in the model's order."""
        if self.trainable is None:
            return list(params)
        return [k for k in params if k in self.trainable]

    def init_state(self, model: Any, optimizer: Any) -> dict[str, Any]:
        """The optimizer's state of every trained parameter, and of no other."""
        return {k: optimizer.init(model.params[k]) for k in self.trained(model.params)}

    def step(self, model: Any, optimizer: Any, state: dict[str, Any]) -> None:
        """One update of every parameter that has a state, with the last backward's grads."""
        for k in state:
            model.params[k], state[k] = optimizer.update(model.params[k], model.grads[k], state[k])

    def order(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """The order of the training examples for one epoch: a fresh permutation."""
        return rng.permutation(n)

    def loss(self, y: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
        """The batch's loss and dL/dy."""
        return squared_error(y, t)

    def epoch_loss(self, losses: list[float]) -> float:
        """The epoch's ``train_loss``: the mean of its batch losses."""
        return float(np.mean(losses))

    def restore(self, model: Any, best: dict[str, np.ndarray] | None) -> None:
        """Put the best epoch's parameters back into the model."""
        if best is not None:
            for k, v in best.items():
                model.params[k] = v.copy()

    def fit(
        self, model: Any, optimizer: Any, data: dict[str, np.ndarray], rng: np.random.Generator
    ) -> dict[str, list[float]]:
        """Train ``model`` in place; return ``{"train_loss": [...], "val_loss": [...]}``."""
        x, t = data["x"], data["t"]
        state = self.init_state(model, optimizer)
        history: dict[str, list[float]] = {"train_loss": [], "val_loss": []}
        best_loss, best, wait = math.inf, None, 0
        for _ in range(self.epochs):
            order, losses = self.order(len(x), rng), []
            for start in range(0, len(x), self.batch_size):
                idx = order[start : start + self.batch_size]
                loss, dy = self.loss(model.forward(x[idx]), t[idx])
                model.backward(dy)
                self.step(model, optimizer, state)
                losses.append(loss)
            val_loss = self.loss(model.forward(data["x_val"]), data["t_val"])[0]
            history["train_loss"].append(self.epoch_loss(losses))
            history["val_loss"].append(val_loss)
            if self.patience is None:
                continue
            if val_loss < best_loss:
                best_loss, wait = val_loss, 0
                best = {k: np.array(v, copy=True) for k, v in model.params.items()}
            else:
                wait += 1
                if wait >= self.patience:
                    break
        if self.patience is not None:
            self.restore(model, best)
        return history
