"""The protocol of preprocessors: statistics fit on the training set, reused at test time."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Preprocessor(Protocol):
    """A data transform whose statistics come from the training set only."""

    def fit(self, x: np.ndarray) -> Preprocessor:
        """Learn the statistics from training data ``x`` of shape ``(N, D)``; return self."""

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Apply the fitted transform to any data of shape ``(M, D)`` (train or test)."""
