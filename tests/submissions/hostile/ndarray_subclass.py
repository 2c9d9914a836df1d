"""Hostile: relu returns a numpy subclass that lies about equality, closeness and itself.

Its ``__eq__`` says equal, its ``__array_function__`` answers True to any numpy function
(``np.allclose``, ``np.array_equal``...), and ``copy``/``view``/``__reduce__`` try to pass
it off as something else.
"""

import numpy as np

import gradekit


class Trojan(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)

    def __ne__(self, other):
        return np.zeros(self.shape, dtype=bool)

    def __array_function__(self, func, types, args, kwargs):
        return True

    def __reduce__(self):  # what a pickling parent would run
        return (print, ("owned",))

    def copy(self, order="C"):
        return self


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        self.x = x
        return (x * 0.0).view(Trojan)  # the wrong values, dressed up

    def backward(self, dout):
        return (dout * 0.0).view(Trojan)


class Tanh:
    """Honest."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return dout * (1 - self.y**2)


class Linear:
    """Honest."""

    def __init__(self, din, dout, weight_init=None, rng=None):
        rng = rng if rng is not None else np.random.default_rng(0)
        self.params = {"W": rng.standard_normal((din, dout)) / np.sqrt(din), "b": np.zeros(dout)}
        self.grads = {}

    def forward(self, x, *, training=True):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        self.grads = {"W": self.x.T @ dout, "b": dout.sum(axis=0)}
        return dout @ self.params["W"].T


@gradekit.hookimpl
def gradekit_register(registry):
    registry.activations["tanh"] = Tanh
    registry.layers["linear"] = Linear
    registry.activations["relu"] = ReLU
