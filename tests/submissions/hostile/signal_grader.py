"""Hostile: relu sends SIGINT and SIGTERM to its parent process, the grader, as a TA's Ctrl-C
would (stopping a whole class's grading), then reports whom it signalled."""

import json
import os
import signal

import numpy as np

import gradekit


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        parent = os.getppid()
        sent = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                if parent > 1:
                    os.kill(parent, sig)
                    sent.append(int(sig))
            except OSError:
                pass
        raise RuntimeError("LEAK:" + json.dumps({"parent": parent, "sent": sent}))


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
