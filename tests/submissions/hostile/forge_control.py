"""Hostile: a buggy relu (as in the buggy example) that writes forged messages into the
worker's control pipe: "done" for the task in progress before any answer exists, "ready",
and garbage, to desynchronise the grader or have it read an answer of its choosing."""

import os
import re
import sys

import numpy as np

import gradekit


def _forge():
    numbers = [int(m.group(1)) for n in os.listdir(".") if (m := re.fullmatch(r"task(\d+)", n))]
    task = f"task{max(numbers, default=1)}"
    try:
        fd = int(sys.argv[-1])
        os.write(fd, f'{{"done": "{task}"}}\n{{"ready": true}}\nnot json\n'.encode())
    except (OSError, ValueError):
        pass


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        _forge()
        self.x = x
        return np.maximum(x, 0.0)

    def backward(self, dout):
        return np.maximum(dout, 0.0)  # the buggy example's mistake


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
