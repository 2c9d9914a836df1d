"""Weight penalties (L2, L1) and early stopping: the lecture's explicit regularizers.

Penalties add a term to the loss that depends only on the weights; early stopping watches
the validation loss and keeps a copy of the best weights for the trainer to restore.
"""

from __future__ import annotations

import math

import numpy as np


class L2:
    """L2 penalty (weight decay): ``(lam / 2) ||w||^2``, gradient ``lam w``.

    The 1/2 makes the gradient ``lam w``, as in the lecture's SGD update
    ``w <- w - eta lam w - eta grad``. With plain SGD this is exactly weight decay; with
    momentum or adaptive optimizers it differs from decoupled weight decay (AdamW), which
    shrinks ``w`` outside the optimizer's rescaling.
    """

    def __init__(self, lam: float = 1e-3) -> None:
        self.lam = lam

    def penalty(self, w: np.ndarray) -> float:
        """Return ``(lam / 2) * sum(w ** 2)``."""
        w = np.asarray(w, dtype=np.float64)
        return float(0.5 * self.lam * np.sum(w * w))

    def grad(self, w: np.ndarray) -> np.ndarray:
        """Return ``lam * w``."""
        return self.lam * np.asarray(w, dtype=np.float64)


class L1:
    """L1 penalty: ``lam ||w||_1 = lam sum |w|``, gradient ``lam sign(w)``.

    |w| has a kink at 0; the course takes the subgradient sign(0) = 0 (numpy's and torch's
    ``sign``), so exactly-zero weights stay at zero under the penalty alone.
    """

    def __init__(self, lam: float = 1e-3) -> None:
        self.lam = lam

    def penalty(self, w: np.ndarray) -> float:
        """Return ``lam * sum(|w|)``."""
        return float(self.lam * np.sum(np.abs(np.asarray(w, dtype=np.float64))))

    def grad(self, w: np.ndarray) -> np.ndarray:
        """Return ``lam * sign(w)``, with sign(0) = 0."""
        return self.lam * np.sign(np.asarray(w, dtype=np.float64))


class EarlyStopping:
    """Stop after ``patience`` epochs without an improvement larger than ``min_delta``.

    An epoch improves when ``val_loss < best_loss - min_delta`` (Keras' and Lightning's
    rule for a minimised quantity). Then ``best_loss``, ``best_epoch`` (0-based index of
    the call to ``step``) and ``best_params`` (deep copies of the parameter arrays) are
    updated and ``wait`` resets to 0; otherwise ``wait`` grows by one and ``step`` returns
    True once ``wait >= patience`` (Lightning's rule; an improving epoch never stops). With
    the minimum at epoch b, the call for epoch ``b + patience`` says stop (``b + 1`` when
    patience is 0). Restoring the best weights is the trainer's job: it copies
    ``best_params`` back. A NaN loss never counts as an improvement.
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0) -> None:
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss: float = math.inf
        self.best_epoch: int = -1
        self.best_params: dict[str, np.ndarray] | None = None
        self.wait: int = 0
        self.epoch: int = 0

    def step(self, val_loss: float, params: dict[str, np.ndarray]) -> bool:
        """Record one epoch's validation loss and parameters; return True to stop."""
        val_loss = float(val_loss)
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = val_loss
            self.best_epoch = self.epoch
            self.best_params = {name: np.array(p, copy=True) for name, p in params.items()}
            self.wait = 0
            self.epoch += 1
            return False
        self.wait += 1
        self.epoch += 1
        return self.wait >= self.patience
