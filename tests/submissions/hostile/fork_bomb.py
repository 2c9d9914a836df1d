"""Hostile: relu forks up to 200 children that detach (setsid), rename themselves and sleep.

A cap on processes stops the forks; killing the worker must take every child with it, even
the detached ones. The names (``SETTINGS["marker"]``) let the test find survivors.
"""

import ctypes
import json
import os
import time

import numpy as np

import gradekit

SETTINGS = {}  # filled in by tests/hostile/conftest.py


def _child():
    try:
        os.setsid()
        libc = ctypes.CDLL(None)
        libc.prctl(15, SETTINGS["marker"].encode(), 0, 0, 0)  # PR_SET_NAME
    finally:
        time.sleep(30)
        os._exit(0)


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        forked, error = 0, ""
        for _ in range(200):
            try:
                pid = os.fork()
            except OSError as exc:
                error = type(exc).__name__
                break
            if pid == 0:
                _child()
            forked += 1
        raise RuntimeError("LEAK:" + json.dumps({"forked": forked, "error": error}))


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
