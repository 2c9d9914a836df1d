"""Hostile: relu returns objects whose equality, truth, comparisons and ``__array__`` lie.

``Liar() == anything`` is True, it is truthy, never less or greater, converts to the
expected-looking array, and claims the shape and dtype of an ndarray.
"""

import numpy as np

import gradekit


class Liar:
    shape = (4, 6)
    dtype = np.dtype(np.float64)
    ndim = 2

    def __init__(self, x=None):
        self._x = np.zeros(self.shape) if x is None else np.maximum(x, 0.0)

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __lt__ = __gt__ = __ne__
    __le__ = __ge__ = __eq__

    def __bool__(self):
        return True

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._x, dtype=dtype)

    def __len__(self):
        return len(self._x)

    def __getitem__(self, index):
        return self._x[index]

    def __float__(self):
        return 0.0

    __hash__ = None


class ReLU:
    """Returns liars everywhere an array is expected."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        self.x = x
        return Liar(x)

    def backward(self, dout):
        self.grads = {"W": Liar()}
        return Liar(dout)


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
