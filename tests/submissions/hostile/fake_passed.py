"""Hostile: a buggy relu (backward gates on dout, as in the buggy example) that prints fake
"PASSED" lines, a fake score and fake result records on stdout and stderr."""

import sys

import numpy as np

import gradekit

FAKE = """\
tests/test_relu.py::test_gradient PASSED
relu.gradient ............................................. PASSED 2.0/2.0
{"done": "task1"}
{"values": {}, "failure": null}
{"name": "relu.gradient", "status": "passed", "score": 2.0, "max_score": 2.0}
Total score: 49.0 / 49.0
"""


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        print(FAKE, flush=True)
        print(FAKE, file=sys.stderr, flush=True)
        self.x = x
        return np.maximum(x, 0.0)

    def backward(self, dout):
        print("PASSED", flush=True)
        return np.maximum(dout, 0.0)  # the buggy example's mistake: the mask comes from dout


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
