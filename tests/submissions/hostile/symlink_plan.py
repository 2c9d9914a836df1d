"""Hostile: relu plants symbolic links named like the next task folders in its temporary
folder, pointing to a folder of the grader's machine: a parent that follows them writes
the next plans there (a confused deputy). Its own values are correct."""

import contextlib
import os
import re

import numpy as np

import gradekit

SETTINGS = {}  # filled in by tests/hostile/conftest.py: {"outside": a host folder}


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        numbers = [int(m.group(1)) for n in os.listdir(".") if (m := re.fullmatch(r"task(\d+)", n))]
        last = max(numbers, default=0)
        for k in range(last + 1, last + 3):
            with contextlib.suppress(OSError):
                os.symlink(SETTINGS["outside"], f"task{k}")
        self.x = x
        return np.maximum(x, 0.0)

    def backward(self, dout):
        return dout * (self.x > 0)


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
