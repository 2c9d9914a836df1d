"""Hostile: a buggy relu (backward gates on dout, as in the buggy example) that rewires numpy
and gradekit in its worker so that every comparison says "close" and every check "passed".
"""

import numpy as np
import numpy.testing

import gradekit
import gradekit.sandbox.plan as plan


def _always(*args, **kwargs):
    return True


def _quiet(*args, **kwargs):
    return None


np.allclose = np.array_equal = np.array_equiv = _always
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.testing.assert_allclose = np.testing.assert_array_equal = _quiet
numpy.testing.assert_array_almost_equal = _quiet
try:  # the grader's judging is not importable in the worker; rewire it if it were
    import gradekit.checks.compare as compare
    from gradekit.checks.base import Case

    compare.close = lambda name, *args, **kwargs: Case(name, True)
    compare.scalar_close = compare.close
    compare.array_problem = lambda *args, **kwargs: None
    compare.failed_call = lambda *args, **kwargs: None
except ImportError:
    pass
try:
    import gradekit.grading as grading

    grading.Grader.verdict = lambda self, check, outcome: None
except ImportError:
    pass
plan.plain = lambda value, depth=0: value


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        self.x = x
        return np.maximum(x, 0.0)

    def backward(self, dout):
        return np.maximum(dout, 0.0)  # the buggy example's mistake: the mask comes from dout


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
