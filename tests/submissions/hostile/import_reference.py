"""Hostile: relu is the reference's own, imported in the worker by every route a file can
take without knowing where the reference lies: by name, by a submodule, through gradekit
(the plugin loader names the reference module) and through the installed distributions.
Under both backends the worker's path holds only the standard library, numpy, pluggy and
gradekit's contract, so every route fails and relu is missing."""

import importlib
import importlib.metadata

import numpy as np

import gradekit


def _reference_relu():
    routes = [
        lambda: importlib.import_module("gradekit_reference").COMPONENTS["activations"]["relu"],
        lambda: importlib.import_module("gradekit_reference.activations").ReLU,
        lambda: importlib.import_module(gradekit.plugins.REFERENCE_MODULE).ReLU,
        lambda: next(ep.load() for ep in importlib.metadata.entry_points(group="gradekit")).ReLU,
    ]
    for route in routes:
        try:
            return route()
        except Exception:
            continue
    return None


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
    relu = _reference_relu()
    if relu is not None:
        registry.activations["relu"] = relu
