"""Hostile: components that leave in the middle of a call.

relu ``sys.exit(0)``, sigmoid ``os._exit(0)``, elu ``KeyboardInterrupt``, swish kills its own
process with SIGKILL.
"""

import os
import signal
import sys

import numpy as np

import gradekit


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        sys.exit(0)


class Sigmoid(ReLU):
    def forward(self, x, *, training=True):
        os._exit(0)


class ELU(ReLU):
    def forward(self, x, *, training=True):
        raise KeyboardInterrupt


class Swish(ReLU):
    def forward(self, x, *, training=True):
        os.kill(os.getpid(), signal.SIGKILL)


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
    registry.activations["sigmoid"] = Sigmoid
    registry.activations["elu"] = ELU
    registry.activations["swish"] = Swish
