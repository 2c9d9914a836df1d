"""Hostile: relu writes one file as large as it can, then many 1 MB files (200 MB in all)."""

import json
import os

import numpy as np

import gradekit

MB = b"\0" * (1 << 20)


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        big = None
        with open("big.bin", "wb", buffering=0) as f:
            for i in range(200):
                try:
                    f.write(MB)
                except OSError:
                    big = i
                    break
        small = 0
        for i in range(200 - (big or 0)):
            try:
                with open(f"small{i}.bin", "wb") as f:
                    f.write(MB)
                small += 1
            except OSError:
                break
        report = {"big_mb": big, "small_files": small, "cwd": os.getcwd()}
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
