"""The lecture's element-wise activations as layers, forward and backward side by side.

All are float64 and numerically stable at large magnitudes (no overflow at x = +-1000).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

SELU_ALPHA = 1.6732632423543772
"""SELU's alpha, from Klambauer et al. (2017)."""
SELU_SCALE = 1.0507009873554805
"""SELU's lambda, from Klambauer et al. (2017)."""
_SQRT_2 = math.sqrt(2.0)
_SQRT_2_PI = math.sqrt(2.0 * math.pi)
_TANH_C = math.sqrt(2.0 / math.pi)
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow: only e^-|x| is ever computed."""
    x = np.asarray(x, dtype=np.float64)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def std_normal_cdf(x: np.ndarray) -> np.ndarray:
    """Phi(x) = erfc(-x / sqrt 2) / 2, accurate to full float64 precision in both tails."""
    return 0.5 * _erfc(-np.asarray(x, dtype=np.float64) / _SQRT_2)


class _Activation:
    """Shared plumbing: empty ``params``/``grads`` and the cache forward leaves for backward."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._cache: tuple[np.ndarray, ...] | None = None

    def _cached(self, dout: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """Return ``dout`` as float64 and what forward cached; check they belong together."""
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        dout = np.asarray(dout, dtype=np.float64)
        if dout.shape != self._cache[0].shape:
            raise ValueError(
                f"{type(self).__name__}.backward: dout has shape {dout.shape}, "
                f"expected {self._cache[0].shape} (the shape of the last forward)"
            )
        return dout, self._cache


class Sigmoid(_Activation):
    """s(x) = 1 / (1 + e^-x), split on the sign of x so e^x never overflows; s' = s (1 - s).

    Backward uses the cached output s, as in the lecture.
    """

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return s(x), caching s."""
        y = sigmoid(x)
        self._cache = (y,)
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dout * s (1 - s)."""
        dout, (y,) = self._cached(dout)
        return dout * y * (1.0 - y)


class Tanh(_Activation):
    """y = tanh x; y' = 1 - y^2, from the cached output."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return tanh x, caching it."""
        y = np.tanh(np.asarray(x, dtype=np.float64))
        self._cache = (y,)
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dout * (1 - y^2)."""
        dout, (y,) = self._cached(dout)
        return dout * (1.0 - y * y)


class ReLU(_Activation):
    """y = max(0, x); y' = 1 if x > 0 else 0, so f'(0) = 0 (the mask is x > 0)."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return max(0, x), caching the mask x > 0."""
        x = np.asarray(x, dtype=np.float64)
        mask = x > 0
        self._cache = (mask,)
        return np.where(mask, x, 0.0)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dout where x > 0, else 0."""
        dout, (mask,) = self._cached(dout)
        return np.where(mask, dout, 0.0)


class LeakyReLU(_Activation):
    """y = x if x > 0 else alpha x; y' = 1 or alpha, with f'(0) = alpha (the mask is x > 0).

    The course's default slope is the lecture's alpha = 0.1; torch's default is 0.01.
    """

    def __init__(self, alpha: float = 0.1) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return x where x > 0, else alpha x, caching the mask."""
        x = np.asarray(x, dtype=np.float64)
        mask = x > 0
        self._cache = (mask,)
        return np.where(mask, x, self.alpha * x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dout where x > 0, else alpha dout."""
        dout, (mask,) = self._cached(dout)
        return np.where(mask, dout, self.alpha * dout)


class PReLU(_Activation):
    """y = max(0, x) + a min(0, x) with a learned slope ``params["a"]`` (init 0.25).

    ``a`` has shape (num_parameters,) and broadcasts over the LAST axis of x: one shared slope
    for num_parameters = 1, one per feature for num_parameters = D (torch broadcasts over
    axis 1, the same for (N, D) inputs). dL/dx = dy where x > 0, else a dy (f'(0) = a), and
    dL/da = sum of dy * min(0, x) over every axis a is broadcast along.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.params = {"a": np.full(num_parameters, init, dtype=np.float64)}
        self.grads = {"a": np.zeros(num_parameters, dtype=np.float64)}

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return max(0, x) + a min(0, x) with the current ``params["a"]``, caching x and a."""
        x = np.array(x, dtype=np.float64)
        a = np.array(self.params["a"], dtype=np.float64)
        if a.size != 1 and (x.ndim == 0 or x.shape[-1] != a.size):
            raise ValueError(
                f"PReLU: num_parameters = {a.size} slopes need inputs whose last axis has "
                f"{a.size} entries; received shape {x.shape}"
            )
        self._cache = (x, a)
        return np.maximum(x, 0.0) + a * np.minimum(x, 0.0)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Fill ``grads["a"]`` with sum(dy * min(0, x)) reduced to a's shape; return dL/dx."""
        dout, (x, a) = self._cached(dout)
        da = (dout * np.minimum(x, 0.0)).reshape(-1, a.size).sum(axis=0)
        self.grads = {"a": da.reshape(a.shape)}
        return np.where(x > 0, dout, a * dout)


class ELU(_Activation):
    """y = x if x > 0 else alpha (e^x - 1); y' = 1 or alpha e^x (f'(0) = alpha), alpha = 1.

    The negative branch is ``alpha * expm1(min(x, 0))``, so the unused branch never overflows.
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return ELU(x), caching x."""
        x = np.array(x, dtype=np.float64)
        self._cache = (x,)
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0.0)))

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dout where x > 0, else alpha e^x dout."""
        dout, (x,) = self._cached(dout)
        return np.where(x > 0, dout, self.alpha * np.exp(np.minimum(x, 0.0)) * dout)


class SELU(ELU):
    """y = lambda ELU_alpha(x) with alpha = 1.6732632423543772, lambda = 1.0507009873554805.

    The constants are fixed (Klambauer et al. 2017, as in torch); ``alpha`` and ``scale``
    (lambda) are attributes, not constructor arguments.
    """

    def __init__(self) -> None:
        super().__init__(alpha=SELU_ALPHA)
        self.scale = SELU_SCALE

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return lambda ELU_alpha(x)."""
        return self.scale * super().forward(x, training=training)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return lambda times ELU_alpha's backward."""
        return self.scale * super().backward(dout)


class GELU(_Activation):
    """y = x Phi(x), the exact erf form; y' = Phi(x) + x phi(x).

    ``approximate=True`` selects the tanh form 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    with its own exact derivative (torch's ``approximate="tanh"``). Phi uses math.erfc, since
    numpy has no erf.
    """

    def __init__(self, approximate: bool = False) -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return GELU(x), caching x."""
        x = np.array(x, dtype=np.float64)
        self._cache = (x,)
        if self.approximate:
            return 0.5 * x * (1.0 + np.tanh(_TANH_C * (x + 0.044715 * x**3)))
        return x * std_normal_cdf(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dout * GELU'(x)."""
        dout, (x,) = self._cached(dout)
        if self.approximate:
            t = np.tanh(_TANH_C * (x + 0.044715 * x**3))
            dt = (1.0 - t * t) * _TANH_C * (1.0 + 3 * 0.044715 * x * x)
            return dout * (0.5 * (1.0 + t) + 0.5 * x * dt)
        pdf = np.exp(-0.5 * x * x) / _SQRT_2_PI
        return dout * (std_normal_cdf(x) + x * pdf)


class Softplus(_Activation):
    """y = log(1 + e^x), computed as logaddexp(0, x) (exact, no overflow); y' = sigmoid(x).

    Unlike torch, there is no ``beta`` and no threshold: logaddexp is already exact for
    large x.
    """

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return log(1 + e^x), caching x."""
        x = np.array(x, dtype=np.float64)
        self._cache = (x,)
        return np.logaddexp(0.0, x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dout * sigmoid(x)."""
        dout, (x,) = self._cached(dout)
        return dout * sigmoid(x)


class Swish(_Activation):
    """y = x s(beta x), s the sigmoid (SiLU at beta = 1); y' = s + beta x s (1 - s)."""

    def __init__(self, beta: float = 1.0) -> None:
        super().__init__()
        self.beta = beta

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return x s(beta x), caching x and s."""
        x = np.array(x, dtype=np.float64)
        s = sigmoid(self.beta * x)
        self._cache = (x, s)
        return x * s

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dout * (s + beta x s (1 - s))."""
        dout, (x, s) = self._cached(dout)
        return dout * (s + self.beta * x * s * (1.0 - s))


ACTIVATIONS: Mapping[str, type[_Activation]] = MappingProxyType(
    {
        "sigmoid": Sigmoid,
        "tanh": Tanh,
        "relu": ReLU,
        "leaky_relu": LeakyReLU,
        "prelu": PReLU,
        "elu": ELU,
        "selu": SELU,
        "gelu": GELU,
        "softplus": Softplus,
        "swish": Swish,
        "silu": Swish,
    }
)
"""Registry name -> class, read-only; "silu" is Swish at its default beta = 1."""

__all__ = [
    "ACTIVATIONS",
    "ELU",
    "GELU",
    "SELU",
    "SELU_ALPHA",
    "SELU_SCALE",
    "LeakyReLU",
    "PReLU",
    "ReLU",
    "Sigmoid",
    "Softplus",
    "Swish",
    "Tanh",
    "sigmoid",
    "std_normal_cdf",
]
