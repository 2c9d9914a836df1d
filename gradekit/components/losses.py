"""The protocol of losses: a scalar from scores and targets, and its gradient."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Loss(Protocol):
    """A scalar objective of a batch of predictions ``y`` against targets ``t``."""

    def forward(self, y: np.ndarray, t: np.ndarray) -> float:
        """Return the loss, averaged over the batch (axis 0), caching what backward needs."""

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """Return dL/dy for the last forward, scaled by the upstream scalar ``dout``."""
