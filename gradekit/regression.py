"""The trainer's problem: a fixed small regression dataset and a trusted 2-layer MLP.

The same code runs in the worker (the model a student's trainer drives, which logs what
it is asked to do) and in the parent (which replays the logged batches to check every
update). Nothing here is the student's: the trainer only decides the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

Params = dict[str, np.ndarray]

PARAMS = ("W1", "b1", "W2", "b2")
"""The network's parameters, in the order its dicts hold them."""


@cache
def dataset(n_train: int = 96, n_val: int = 48, seed: int = 0) -> dict[str, np.ndarray]:
    """Two noisy smooth targets of two inputs, split into training and validation sets."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, (n_train + n_val, 2))
    t = np.c_[np.sin(1.5 * x[:, 0]) + 0.3 * x[:, 1], np.cos(x[:, 1]) * x[:, 0] / 2]
    t = t + 0.1 * rng.standard_normal(t.shape)
    return {"x": x[:n_train], "t": t[:n_train], "x_val": x[n_train:], "t_val": t[n_train:]}


def initial_params(hidden: int = 16, seed: int = 0) -> Params:
    """Xavier-initialised weights of a 2-``hidden``-2 tanh network, biases at zero."""
    rng = np.random.default_rng([seed, 1])
    return {
        "W1": rng.standard_normal((2, hidden)) / np.sqrt(2),
        "b1": np.zeros(hidden),
        "W2": rng.standard_normal((hidden, 2)) / np.sqrt(hidden),
        "b2": np.zeros(2),
    }


def predict(p: Params, x: np.ndarray) -> np.ndarray:
    """``tanh(x W1 + b1) W2 + b2``."""
    return np.tanh(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]


def mse(y: np.ndarray, t: np.ndarray) -> float:
    """The course's squared error, averaged over the batch: ``(1/N) sum_n ||y_n - t_n||^2``."""
    return float(np.sum((y - t) ** 2) / len(t))


def grads(p: Params, x: np.ndarray, t: np.ndarray) -> Params:
    """The gradient of ``mse(predict(p, x), t)`` with respect to every parameter."""
    h = np.tanh(x @ p["W1"] + p["b1"])
    dy = 2.0 * (h @ p["W2"] + p["b2"] - t) / len(t)
    dz = (dy @ p["W2"].T) * (1.0 - h**2)
    return {"W1": x.T @ dz, "b1": dz.sum(0), "W2": h.T @ dy, "b2": dy.sum(0)}


Rule = tuple[Callable[[np.ndarray], dict], Callable[[np.ndarray, np.ndarray, dict], tuple]]
"""An update rule as a pure ``(init, update)`` pair of functions, as optax writes them."""


def sgd(lr: float = 0.1, weight_decay: float = 0.0) -> Rule:
    """``w - lr (g + weight_decay w)``, with no state."""

    def update(param: np.ndarray, grad: np.ndarray, state: dict) -> tuple[np.ndarray, dict]:
        param = np.asarray(param, dtype=np.float64)
        return param - lr * (np.asarray(grad) + weight_decay * param), state

    return (lambda param: {}), update


def momentum(lr: float = 0.05, mu: float = 0.9, weight_decay: float = 0.0) -> Rule:
    """``v = mu v - lr (g + weight_decay w); w + v``, from a zero velocity."""

    def update(param: np.ndarray, grad: np.ndarray, state: dict) -> tuple[np.ndarray, dict]:
        param = np.asarray(param, dtype=np.float64)
        v = mu * state["v"] - lr * (np.asarray(grad) + weight_decay * param)
        return param + v, {"v": v}

    return (lambda param: {"v": np.zeros(np.shape(param))}), update


RULES: dict[str, Callable[..., Rule]] = {"sgd": sgd, "momentum": momentum}
"""The update rules a trainer check may hand to the trainer, by name."""


class ModelOptimizer:
    """The optimizer a trainer gets: a rule of ``RULES`` that updates only its model.

    It follows the optimizer protocol for the trainer's own loop, but it is bound to one
    model and refuses any array that is not one of that model's parameters, so it is no
    optimizer a submission could register as its own.
    """

    def __init__(self, model: LoggedModel, rule: str, kwargs: dict[str, float]) -> None:
        self._model = model
        self._init, self._update = RULES[rule](**kwargs)
        self.calls = {"init": dict.fromkeys(PARAMS, 0), "update": dict.fromkeys(PARAMS, 0)}
        """How often ``init`` and ``update`` met each parameter (a frozen one: never)."""

    def _check(self, param: Any, call: str) -> None:
        params = self._model.params if isinstance(self._model.params, dict) else {}
        value = np.asarray(param)
        for name, p in params.items():
            if np.shape(p) == value.shape and np.array_equal(p, value):
                if name in self.calls[call]:
                    self.calls[call][name] += 1
                return
        raise ValueError("gradekit's trainer optimizer updates only the model's parameters")

    def init(self, param: np.ndarray) -> dict:
        """The rule's first state for one of the model's parameters."""
        self._check(param, "init")
        return self._init(param)

    def update(self, param: np.ndarray, grad: np.ndarray, state: dict) -> tuple[np.ndarray, dict]:
        """One step of the rule on one of the model's parameters."""
        self._check(param, "update")
        return self._update(param, grad, state)


class LoggedModel:
    """The model a trainer drives: ``params``, ``grads``, ``forward(x)``, ``backward(dy)``.

    It records, for every forward pass, which training rows it saw (or that it saw the
    validation set), whether a backward followed, and copies of the parameters at every
    forward. With ``script``, the validation loss at epoch ``e`` is ``script[e]``
    exactly (a constructed validation curve); training stays real.
    """

    def __init__(self, params: Params, data: dict[str, np.ndarray], script: Any = None) -> None:
        self.params = {k: v.copy() for k, v in params.items()}
        self.grads: Params = {}
        self._x, self._x_val, self._t_val = data["x"], data["x_val"], data["t_val"]
        self._rows = {row.tobytes(): i for i, row in enumerate(self._x)}
        self._script = None if script is None else np.asarray(script, dtype=np.float64)
        rng = np.random.default_rng(12345)
        u = rng.standard_normal(self._t_val.shape)
        self._unit = u / np.sqrt(np.sum(u**2) / len(u))  # mse(t + s u, t) = s^2
        self.log: list[dict[str, Any]] = []
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The network's output for ``x`` (logged)."""
        x = np.array(x, dtype=np.float64)
        snapshot = {k: np.array(v, dtype=np.float64, copy=True) for k, v in self.params.items()}
        is_val = x.shape == self._x_val.shape and np.array_equal(x, self._x_val)
        rows = np.array([self._rows.get(r.tobytes(), -1) for r in x], dtype=np.int64)
        epoch = sum(1 for e in self.log if e["val"])
        self.log.append({"val": is_val, "rows": rows, "params": snapshot, "backward": False})
        h = np.tanh(x @ snapshot["W1"] + snapshot["b1"])
        self._cache = (x, h)
        y = h @ snapshot["W2"] + snapshot["b2"]
        if is_val and self._script is not None:
            level = self._script[min(epoch, len(self._script) - 1)]
            y = self._t_val + np.sqrt(max(level, 0.0)) * self._unit
        return y

    def backward(self, dy: np.ndarray) -> None:
        """Fill ``grads`` with dL/dparam for the last forward, given ``dy = dL/dy``."""
        if self._cache is None:
            raise RuntimeError("backward called before forward")
        x, h = self._cache
        dy = np.asarray(dy, dtype=np.float64)
        p = self.log[-1]["params"]
        dz = (dy @ p["W2"].T) * (1.0 - h**2)
        self.grads = {"W1": x.T @ dz, "b1": dz.sum(0), "W2": h.T @ dy, "b2": dy.sum(0)}
        self.log[-1]["backward"] = True
