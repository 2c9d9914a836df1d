"""Hostile: a buggy relu (backward gates on dout, as in the buggy example) that recognises
the gradient check's probes, forwards at inputs next to the first one, and answers them
from memory so that central differences agree with its wrong backward; and the third
backward, fabricated as 2 dx(a) - 3 dx(b) of the first two, so that it looks linear."""

import numpy as np

import gradekit


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}
        self.x0 = self.y0 = self.douts = None
        self.dxs = []

    def forward(self, x, *, training=True):
        x = np.asarray(x, dtype=np.float64)
        if self.x0 is None or x.shape != self.x0.shape:
            self.x0, self.y0, self.douts, self.dxs = x.copy(), np.maximum(x, 0.0), [], []
        self.x = x
        delta = x - self.x0
        if self.douts and 0 < np.max(np.abs(delta)) < 1e-3:  # a probe: answer from memory
            gate = (self.douts[0] > 0).astype(np.float64)
            return self.y0 + delta * gate
        return np.maximum(x, 0.0)

    def backward(self, dout):
        dout = np.asarray(dout, dtype=np.float64)
        # The linearity probe is answered with 2 dx(a) - 3 dx(b); otherwise the buggy
        # example's mistake: the mask comes from dout.
        twice = len(self.dxs) == 2
        dx = 2 * self.dxs[0] - 3 * self.dxs[1] if twice else np.maximum(dout, 0.0)
        self.douts.append(dout)
        self.dxs.append(dx)
        return dx


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
