"""Hostile: relu writes fake results (JSON, CSV, Gradescope) next to itself, in the grader's
folder and in the results folder, at once and again from a detached child after a delay,
when grading should be over. It reports which writes it believes succeeded."""

import json
import os
import time
from pathlib import Path

import numpy as np

import gradekit

SETTINGS = {}  # filled in by tests/hostile/conftest.py: {"write": [paths], "delay": s}

FAKE = json.dumps({"score": 100.0, "tests": [{"name": "everything", "score": 100.0}]})


def _targets():
    here = Path(__file__).resolve().parent
    paths = [here / "results.json", here / "grades.csv", here / "zz_planted.py"]
    paths.append(Path(f"/proc/{os.getppid()}/cwd/results.json"))
    return paths + [Path(p) for p in SETTINGS["write"]]


def _write_all():
    done = []
    for i, path in enumerate(_targets()):
        try:
            with open(path, "w") as f:
                f.write(FAKE)
            done.append(i)
        except OSError:
            pass
    return done


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        try:
            if os.fork() == 0:  # a detached child writes again once grading is over
                try:
                    os.setsid()
                    if os.fork() == 0:
                        time.sleep(SETTINGS["delay"])
                        _write_all()
                finally:
                    os._exit(0)
        except OSError:
            pass
        raise RuntimeError("LEAK:" + json.dumps({"wrote": _write_all()}))


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
