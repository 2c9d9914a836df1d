"""Hostile: relu looks for signs of the grader (environment variables, argv, the parent
process and the others it can see) and behaves differently when it finds them: here it
leaks what it saw instead of answering."""

import json
import os
import sys

import numpy as np

import gradekit


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _evidence():
    others = [_cmdline(p) for p in os.listdir("/proc") if p.isdigit()]
    return {
        "env": sorted(os.environ),
        "argv": " ".join(sys.argv)[:60],
        "parent": _cmdline(os.getppid())[:60],
        "pytest_seen": any("pytest" in c for c in others),
        "processes": len(others),
    }


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        seen = _evidence()
        graded = "gradekit" in " ".join(sys.argv) or seen["pytest_seen"] or "GRADEKIT" in str(seen)
        if graded:
            raise RuntimeError("LEAK:" + json.dumps(seen)[:450])
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
