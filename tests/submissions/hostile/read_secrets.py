"""Hostile: relu looks for the reference, the assignment's hidden checks, the grader's folder
and other students' submissions: by their paths, by import, and by walking the file system.
It leaks what it could read through the one channel it has, its error message."""

import importlib
import json
import os
import time
from importlib.resources import files
from pathlib import Path

import numpy as np

import gradekit

SETTINGS = {}  # filled in by tests/hostile/conftest.py: {"read": [paths]}


def _readable(path):
    try:
        with open(path, "rb") as f:
            return len(f.read(64)) > 0
    except OSError:
        return False


def _walk(roots, budget=1.5):
    """Folders that look like the reference package, and readable assignment specs."""
    found = []
    deadline = time.monotonic() + budget
    for root in roots:
        for folder, dirs, names in os.walk(root):
            if time.monotonic() > deadline or len(found) >= 2:
                return found
            dirs[:] = [d for d in dirs if os.path.join(folder, d) not in ("/proc", "/sys", "/dev")]
            if "mutants" in dirs and _readable(os.path.join(folder, "activations.py")):
                found.append(folder)
            if "assignment.toml" in names and _readable(os.path.join(folder, "assignment.toml")):
                found.append(folder)
    return found


def _imports():
    got = []
    try:
        importlib.import_module("gradekit_reference.activations")
        got.append("gradekit_reference")
    except Exception:
        pass
    try:
        if (files("gradekit_assignments") / "backprop" / "assignment.toml").read_text():
            got.append("gradekit_assignments")
    except Exception:
        pass
    return got


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        targets = SETTINGS["read"]
        report = {
            "read": [i for i, path in enumerate(targets) if _readable(path)],
            "import": _imports(),
            "parent_env": _readable(f"/proc/{os.getppid()}/environ"),
            "walk": _walk([str(Path(gradekit.__file__).resolve().parents[1]), "/"]),
        }
        raise RuntimeError("LEAK:" + json.dumps(report)[:400])


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
