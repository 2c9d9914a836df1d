"""Shared helpers: a Module base class and numerically careful scalar functions."""

from __future__ import annotations

import math

import numpy as np

SQRT2 = math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def sigmoid(z):
    """0.5 (1 + tanh(z / 2)): no exp at all, so nothing can overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def softplus(z):
    """max(z, 0) + log1p(e^-|z|), exact for every z."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def erf(z):
    """Element-wise math.erf (numpy has no erf and scipy is not available)."""
    z = np.asarray(z, dtype=np.float64)
    return np.fromiter((math.erf(v) for v in z.ravel()), dtype=np.float64, count=z.size).reshape(
        z.shape
    )


def generator(rng):
    return rng if rng is not None else np.random.default_rng()


class Module:
    """Something with ``params`` and ``grads``; subclasses implement _fwd and _bwd."""

    def __init__(self, **params):
        self.params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
        self.grads = {}
        self._cache = None

    def forward(self, x, *, training=True):
        out, self._cache = self._fwd(np.asarray(x, dtype=np.float64), training)
        return out

    def backward(self, dout):
        return self._bwd(np.asarray(dout, dtype=np.float64), self._cache)

    def _fwd(self, x, training):
        raise NotImplementedError

    def _bwd(self, dout, cache):
        raise NotImplementedError


class Elementwise(Module):
    """An activation f with f' computed from the cache: backward is dout * f'."""

    def __init__(self):
        super().__init__()

    def _bwd(self, dout, cache):
        return dout * self._deriv(cache)

    def _deriv(self, cache):
        raise NotImplementedError


class Stateless:
    """An object built from keyword hyperparameters stored as attributes."""

    def __init__(self, **hyper):
        self.__dict__.update(hyper)
