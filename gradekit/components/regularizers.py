"""The protocols of regularizers: weight penalties, batch transforms, early stopping."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Penalty(Protocol):
    """A term added to the loss that depends only on the weights (L1, L2)."""

    def penalty(self, w: np.ndarray) -> float:
        """Return the penalty's value for the weights ``w``."""

    def grad(self, w: np.ndarray) -> np.ndarray:
        """Return d(penalty)/dw, of the shape of ``w``."""


@runtime_checkable
class BatchTransform(Protocol):
    """A random training-time change of a batch: mixup, CutMix, augmentations, and the
    rotation pretext task (whose labels are the one-hot ``(N, 4)`` of the rotation)."""

    def __call__(
        self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return a new ``(x, y)``; images are ``(N, C, H, W)``, labels ``(N, K)``.

        All randomness comes from ``rng``. The inputs are left unchanged.
        """


@runtime_checkable
class EarlyStopping(Protocol):
    """Watches the validation loss, says when to stop, and keeps the best weights."""

    best_loss: float
    """The lowest validation loss seen so far (``inf`` before the first epoch)."""

    best_params: dict[str, np.ndarray] | None
    """Copies of the parameters at the best epoch, to restore after stopping."""

    def step(self, val_loss: float, params: dict[str, np.ndarray]) -> bool:
        """Record one epoch's validation loss and parameters; return True to stop."""
