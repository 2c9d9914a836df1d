"""Linear, batch normalization, dropout and DropConnect."""

from __future__ import annotations

import numpy as np

from ._base import Module, generator


def _initial_weights(din, dout, weight_init, rng):
    if weight_init is not None:
        return weight_init((din, dout), rng)
    return rng.standard_normal((din, dout)) * (1.0 / np.sqrt(din))


class Linear(Module):
    def __init__(self, din, dout, weight_init=None, rng=None):
        self.rng = generator(rng)
        super().__init__(W=_initial_weights(din, dout, weight_init, self.rng), b=np.zeros(dout))

    def _fwd(self, x, training):
        return np.dot(x, self.params["W"]) + self.params["b"], x

    def _bwd(self, dout, x):
        self.grads = {"W": np.einsum("ni,nj->ij", x, dout), "b": np.einsum("nj->j", dout)}
        return np.einsum("nj,ij->ni", dout, self.params["W"])


class BatchNorm(Module):
    """Backward through the explicit computation graph: xhat, var, mu."""

    def __init__(self, dim, eps=1e-5, momentum=0.1):
        super().__init__(gamma=np.ones(dim), beta=np.zeros(dim))
        self.eps, self.momentum = eps, momentum
        self.running_mean = np.zeros(dim)
        self.running_var = np.ones(dim)

    def _fwd(self, x, training):
        if training:
            n = x.shape[0]
            mu = np.sum(x, axis=0) / n
            xmu = x - mu
            var = np.sum(xmu * xmu, axis=0) / n
            self.running_mean = self.running_mean + self.momentum * (mu - self.running_mean)
            self.running_var = self.running_var + self.momentum * (var - self.running_var)
        else:
            xmu = x - self.running_mean
            var = self.running_var
        std = np.sqrt(var + self.eps)
        xhat = xmu / std
        return self.params["gamma"] * xhat + self.params["beta"], (xmu, std, xhat, training)

    def _bwd(self, dout, cache):
        xmu, std, xhat, training = cache
        self.grads = {"gamma": np.sum(dout * xhat, axis=0), "beta": np.sum(dout, axis=0)}
        dxhat = dout * self.params["gamma"]
        if not training:
            return dxhat / std
        n = dout.shape[0]
        dxmu = dxhat / std
        dstd = -np.sum(dxhat * xmu, axis=0) / std**2
        dvar = dstd / (2.0 * std)
        dxmu = dxmu + dvar * 2.0 * xmu / n
        dmu = -np.sum(dxmu, axis=0)
        return dxmu + dmu / n


class Dropout(Module):
    def __init__(self, p=0.5, rng=None):
        super().__init__()
        self.p = p
        self.rng = generator(rng)

    def _fwd(self, x, training):
        if not training:
            return x.copy(), 1.0
        scale = self.rng.binomial(1, self.p, size=x.shape) / self.p
        return x * scale, scale

    def _bwd(self, dout, scale):
        return dout * scale


class VanillaDropout(Dropout):
    def _fwd(self, x, training):
        scale = self.rng.binomial(1, self.p, size=x.shape).astype(float) if training else self.p
        return x * scale, scale


class DropConnect(Linear):
    def __init__(self, din, dout, p=0.5, weight_init=None, rng=None):
        super().__init__(din, dout, weight_init=weight_init, rng=rng)
        self.p = p

    def _fwd(self, x, training):
        W = self.params["W"]
        M = self.rng.binomial(1, self.p, size=W.shape).astype(float) if training else self.p
        Wm = W * M
        return np.dot(x, Wm) + self.params["b"], (x, M, Wm)

    def _bwd(self, dout, cache):
        x, M, Wm = cache
        self.grads = {"W": np.dot(x.T, dout) * M, "b": dout.sum(axis=0)}
        return np.dot(dout, Wm.T)
