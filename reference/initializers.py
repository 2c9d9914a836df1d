"""Reference weight initializers for a layer ``x @ W + b`` with ``W`` of shape (fan_in, fan_out).

Each draws from the generator it is given and reports its target standard deviation through
``std(shape)``, which the grader uses to set its bands. Biases start at 0: the Linear layer
does that, not the initializer.
"""

from __future__ import annotations

import math

import numpy as np


def _fans(shape: tuple[int, int]) -> tuple[int, int]:
    fan_in, fan_out = (int(n) for n in shape)
    return fan_in, fan_out


class _Gaussian:
    """``W ~ N(0, std(shape)^2)``, drawn as ``std * rng.standard_normal(shape)``."""

    def std(self, shape: tuple[int, int]) -> float:
        """The target standard deviation of the entries of a ``shape`` weight matrix."""
        raise NotImplementedError

    def __call__(self, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """Draw a float64 ``shape`` array of independent N(0, std^2) entries."""
        return self.std(shape) * rng.standard_normal(_fans(shape), dtype=np.float64)


class _Uniform:
    """``W ~ U(-bound(shape), bound(shape))``, whose std is ``bound / sqrt(3)``."""

    def bound(self, shape: tuple[int, int]) -> float:
        """The half-width of the uniform interval for a ``shape`` weight matrix."""
        raise NotImplementedError

    def std(self, shape: tuple[int, int]) -> float:
        """The target standard deviation: ``bound / sqrt(3)`` (variance ``bound^2 / 3``)."""
        return self.bound(shape) / math.sqrt(3.0)

    def __call__(self, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """Draw a float64 ``shape`` array of independent U(-bound, bound) entries."""
        limit = self.bound(shape)
        return rng.uniform(-limit, limit, size=_fans(shape)).astype(np.float64, copy=False)


class Constant:
    """``W = value`` everywhere (0 by default): the lecture's symmetry-problem demo.

    Every hidden unit computes the same function and receives the same gradient, so the
    units stay identical throughout training. Biases start at 0 (set by the Linear layer).
    """

    def __init__(self, value: float = 0.0) -> None:
        self.value = value

    def std(self, shape: tuple[int, int]) -> float:
        """The target standard deviation: 0, every entry is equal."""
        return 0.0

    def __call__(self, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """Return a float64 ``shape`` array filled with ``value`` (``rng`` is unused)."""
        return np.full(_fans(shape), self.value, dtype=np.float64)


class Normal(_Gaussian):
    """The lecture's small Gaussian ``W ~ N(0, std^2)``, std = 0.01 (the lecture also tries 0.05).

    ``std`` is the standard deviation, not the variance. The hyperparameter is stored as
    ``sigma`` because ``std(shape)`` is the method every initializer shares. Biases start at
    0 (set by the Linear layer).
    """

    def __init__(self, std: float = 0.01) -> None:
        self.sigma = std

    def std(self, shape: tuple[int, int]) -> float:
        """The target standard deviation: the constructor's ``std``, whatever the shape."""
        return float(self.sigma)


class Uniform(_Uniform):
    """``W ~ U(-limit, limit)``, limit = 0.05; std = limit / sqrt(3). Biases start at 0."""

    def __init__(self, limit: float = 0.05) -> None:
        self.limit = limit

    def bound(self, shape: tuple[int, int]) -> float:
        """The half-width: the constructor's ``limit``, whatever the shape."""
        return float(self.limit)


class Xavier(_Gaussian):
    """The lecture's Xavier: ``std = 1 / sqrt(fan_in)`` (LeCun normal), so Var(x W) = Var(x).

    This is the lecture's simplified form; the paper's (Glorot) form averages fan_in and
    fan_out, see ``Glorot``. A plain normal as in torch, not Keras' truncated normal.
    Biases start at 0 (set by the Linear layer).
    """

    def std(self, shape: tuple[int, int]) -> float:
        """The target standard deviation ``1 / sqrt(fan_in)``."""
        fan_in, _ = _fans(shape)
        return 1.0 / math.sqrt(fan_in)


class XavierUniform(_Uniform):
    """Uniform Xavier (LeCun uniform): limit ``sqrt(3 / fan_in)``, i.e. std ``1/sqrt(fan_in)``.

    Biases start at 0 (set by the Linear layer).
    """

    def bound(self, shape: tuple[int, int]) -> float:
        """The half-width ``sqrt(3 / fan_in)``."""
        fan_in, _ = _fans(shape)
        return math.sqrt(3.0 / fan_in)


class Glorot(_Gaussian):
    """Glorot & Bengio (2010) normal: ``std = sqrt(2 / (fan_in + fan_out))``.

    The lecture writes ``2 / sqrt(Din + Dout)``, which is sqrt(2) times too large; the course
    follows the paper (reference-semantics.md). Biases start at 0 (set by the Linear layer).
    """

    def std(self, shape: tuple[int, int]) -> float:
        """The target standard deviation ``sqrt(2 / (fan_in + fan_out))``."""
        fan_in, fan_out = _fans(shape)
        return math.sqrt(2.0 / (fan_in + fan_out))


class GlorotUniform(_Uniform):
    """Glorot & Bengio (2010) uniform: limit ``sqrt(6 / (fan_in + fan_out))``.

    Its variance ``limit^2 / 3 = 2 / (fan_in + fan_out)`` matches ``Glorot``. Biases start
    at 0 (set by the Linear layer).
    """

    def bound(self, shape: tuple[int, int]) -> float:
        """The half-width ``sqrt(6 / (fan_in + fan_out))``."""
        fan_in, fan_out = _fans(shape)
        return math.sqrt(6.0 / (fan_in + fan_out))


class He(_Gaussian):
    """He et al. (2015) normal for ReLU: ``std = sqrt(2 / fan_in)``.

    The factor 2 compensates for ReLU zeroing half of its inputs. Biases start at 0 (set by
    the Linear layer).
    """

    def std(self, shape: tuple[int, int]) -> float:
        """The target standard deviation ``sqrt(2 / fan_in)``."""
        fan_in, _ = _fans(shape)
        return math.sqrt(2.0 / fan_in)


class HeUniform(_Uniform):
    """He et al. (2015) uniform: limit ``sqrt(6 / fan_in)``, variance ``2 / fan_in``.

    Biases start at 0 (set by the Linear layer).
    """

    def bound(self, shape: tuple[int, int]) -> float:
        """The half-width ``sqrt(6 / fan_in)``."""
        fan_in, _ = _fans(shape)
        return math.sqrt(6.0 / fan_in)
