"""Finite differences and error measures for gradient checks, in float64.

Central differences with a step near ``cbrt(eps)`` times the scale of the entry balance
truncation error (O(h^2)) against round-off (O(eps/h)); Richardson extrapolation of two
steps cancels the h^2 term where more accuracy is needed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

EPS = np.finfo(np.float64).eps
STEP = float(np.cbrt(EPS))
"""The relative step of a central difference, about 6e-6."""


def step_for(value: float | np.ndarray) -> float | np.ndarray:
    """The central-difference step for an entry of this magnitude."""
    return STEP * np.maximum(1.0, np.abs(value))


def relative_error(received: np.ndarray, expected: np.ndarray, floor: float = 1e-12) -> np.ndarray:
    """Entry-wise ``|a - b| / max(|a| + |b|, floor)``: 0 for equal, 1 for opposite signs."""
    a = np.asarray(received, dtype=np.float64)
    b = np.asarray(expected, dtype=np.float64)
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)


def _central(f: Callable[[], float], x: np.ndarray, i: tuple[int, ...], h: float) -> float:
    old = x[i]
    x[i] = old + h
    plus = f()
    x[i] = old - h
    minus = f()
    x[i] = old
    return (plus - minus) / (2 * h)


def numeric_gradient(
    f: Callable[[], float],
    x: np.ndarray,
    *,
    indices: list[tuple[int, ...]] | None = None,
    richardson: bool = False,
) -> np.ndarray:
    """dF/dx by central differences, where ``f()`` reads ``x``, which is nudged in place.

    With ``indices``, only those entries are estimated (the rest stay 0), which keeps
    the cost independent of the size of ``x``. ``x`` is restored before returning.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for i in indices if indices is not None else list(np.ndindex(x.shape)):
        h = float(step_for(x[i]))
        d = _central(f, x, i, h)
        if richardson:
            d = (4 * _central(f, x, i, h / 2) - d) / 3
        grad[i] = d
    return grad


def numeric_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray
) -> np.ndarray:
    """The gradient of ``sum(f(x) * dout)`` with respect to ``x``: a vector-Jacobian product.

    This is the quantity a layer's ``backward(dout)`` returns, estimated numerically.
    """
    return numeric_gradient(lambda: float(np.sum(f(x) * dout)), x)


def directional_derivative(
    f: Callable[[np.ndarray], float], x: np.ndarray, v: np.ndarray, *, richardson: bool = True
) -> float:
    """d/de f(x + e v) at e = 0: one probe along direction ``v`` whatever the size of ``x``."""
    scale = float(np.max(np.abs(x))) if x.size else 1.0
    h = STEP * max(1.0, scale) / max(float(np.max(np.abs(v))), 1e-300)

    def at(step: float) -> float:
        return (f(x + step * v) - f(x - step * v)) / (2 * step)

    d = at(h)
    return (4 * at(h / 2) - d) / 3 if richardson else d
