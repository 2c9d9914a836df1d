"""Hostile: relu prints 50 MB to stdout and 50 MB to stderr, fake results included, then
raises."""

import sys

import numpy as np

import gradekit

_LINE = b'PASSED relu.gradient 2/2  {"score": 49.0, "max_score": 49.0}\n'
_CHUNK = _LINE * ((1 << 20) // len(_LINE))


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        for _ in range(50):
            sys.stdout.buffer.write(_CHUNK)
            sys.stderr.buffer.write(_CHUNK)
        sys.stdout.flush()
        raise RuntimeError("flooded")


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
