"""The protocol of layers and activations: forward and backward side by side."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Layer(Protocol):
    """A differentiable map of a batch, with its parameters and their gradients.

    Layers (linear, batchnorm, dropout, dropconnect) and activations (relu, tanh, ...)
    share this protocol. An activation has empty ``params`` and ``grads`` unless it
    learns something (PReLU learns its slope ``a``). Stochastic layers draw their random
    numbers from the ``rng`` attribute (a ``numpy.random.Generator``), which the grader
    may replace before a forward pass.
    """

    params: dict[str, np.ndarray]
    """The learnable arrays by name; the grader may overwrite them before a check."""

    grads: dict[str, np.ndarray]
    """After ``backward``: dL/dparam for every key of ``params``, of the same shape."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return the layer's output for the batch ``x``, caching what backward needs.

        ``training=False`` selects test-time behaviour (dropout off, batchnorm's running
        statistics). The input array must not be modified.
        """

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Given dL/dout for the last forward, fill ``grads`` and return dL/dx.

        Must be linear in ``dout`` (the upstream gradient) and must not modify it.
        """
