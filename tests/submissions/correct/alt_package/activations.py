"""Element-wise non-linearities."""

from __future__ import annotations

import math

import numpy as np

from ._base import INV_SQRT_2PI, SQRT2, Elementwise, Module, erf, sigmoid, softplus


class Sigmoid(Elementwise):
    def _fwd(self, x, training):
        s = sigmoid(x)
        return s, s

    def _deriv(self, s):
        return s - s * s


class Tanh(Elementwise):
    def _fwd(self, x, training):
        y = np.tanh(x)
        return y, y

    def _deriv(self, y):
        return 1.0 - np.square(y)


class ReLU(Elementwise):
    def _fwd(self, x, training):
        return np.maximum(x, 0.0), x

    def _deriv(self, x):
        return (x > 0).astype(np.float64)


class LeakyReLU(Elementwise):
    def __init__(self, alpha=0.1):
        super().__init__()
        self.alpha = alpha

    def _fwd(self, x, training):
        slope = self._deriv(x)
        return slope * x, x

    def _deriv(self, x):
        return np.where(x > 0, 1.0, self.alpha)


class PReLU(Module):
    def __init__(self, num_parameters=1, init=0.25):
        super().__init__(a=np.ones(num_parameters) * init)

    def _fwd(self, x, training):
        a = self.params["a"]
        return np.maximum(x, 0.0) + a * np.minimum(x, 0.0), (x, a)

    def _bwd(self, dout, cache):
        x, a = cache
        contrib = dout * np.minimum(x, 0.0)
        axes = tuple(range(contrib.ndim - 1))
        ga = contrib.sum(axis=axes)
        self.grads = {"a": np.sum(ga, keepdims=True) if a.size == 1 else ga}
        return dout * np.where(x > 0, 1.0, a)


class ELU(Elementwise):
    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def _fwd(self, x, training):
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0.0))), x

    def _deriv(self, x):
        return np.where(x > 0, 1.0, self.alpha * np.exp(np.minimum(x, 0.0)))


class SELU(ELU):
    LAMBDA = 1.0507009873554805

    def __init__(self):
        super().__init__(alpha=1.6732632423543772)

    def _fwd(self, x, training):
        y, cache = super()._fwd(x, training)
        return self.LAMBDA * y, cache

    def _deriv(self, x):
        return self.LAMBDA * super()._deriv(x)


class GELU(Elementwise):
    K = math.sqrt(2.0 / math.pi)
    C = 0.044715

    def __init__(self, approximate=False):
        super().__init__()
        self.approximate = approximate

    def _fwd(self, x, training):
        if self.approximate:
            th = np.tanh(self.K * (x + self.C * x**3))
            return 0.5 * x * (1.0 + th), (x, th)
        cdf = 0.5 + 0.5 * erf(x / SQRT2)
        return x * cdf, (x, cdf)

    def _deriv(self, cache):
        x, aux = cache
        if self.approximate:
            sech2 = 1.0 - aux * aux
            return 0.5 * (1.0 + aux) + 0.5 * x * sech2 * self.K * (1.0 + 3.0 * self.C * x * x)
        return aux + x * INV_SQRT_2PI * np.exp(-0.5 * x * x)


class Softplus(Elementwise):
    def _fwd(self, x, training):
        return softplus(x), x

    def _deriv(self, x):
        return sigmoid(x)


class Swish(Elementwise):
    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = beta

    def _fwd(self, x, training):
        s = sigmoid(self.beta * x)
        return x * s, (x, s)

    def _deriv(self, cache):
        x, s = cache
        y = x * s
        return self.beta * y + s * (1.0 - self.beta * y)
