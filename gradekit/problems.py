"""The optimization problems of the convergence checks: trusted, deterministic numpy.

The lecture's narrow ravine (steep across, shallow along), Rosenbrock's curved valley, and
a small MLP on a fixed dataset. Each maps named parameter arrays to a loss and gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

Params = dict[str, np.ndarray]


@dataclass(frozen=True)
class Problem:
    """A loss over named parameters, its gradient, a start point and a known minimum."""

    name: str
    start: Callable[[], Params]
    loss: Callable[[Params], float]
    grad: Callable[[Params], Params]
    minimum: float


def _ravine(shallow: float = 0.1, steep: float = 10.0) -> Problem:
    """``0.5 (shallow x^2 + steep y^2)``: steepest descent zig-zags across the ravine."""
    scale = np.array([shallow, steep])

    def loss(p: Params) -> float:
        return float(0.5 * np.sum(scale * p["w"] ** 2))

    def grad(p: Params) -> Params:
        return {"w": scale * p["w"]}

    return Problem("ravine", lambda: {"w": np.array([-8.0, 1.0])}, loss, grad, 0.0)


def _rosenbrock() -> Problem:
    """``(1 - x)^2 + 100 (y - x^2)^2``, from the classic start (-1.2, 1); minimum at (1, 1)."""

    def loss(p: Params) -> float:
        x, y = p["w"]
        return float((1 - x) ** 2 + 100 * (y - x**2) ** 2)

    def grad(p: Params) -> Params:
        x, y = p["w"]
        return {"w": np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])}

    return Problem("rosenbrock", lambda: {"w": np.array([-1.2, 1.0])}, loss, grad, 0.0)


@cache
def spiral(n_per_class: int = 40, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The CS231n spiral: ``classes`` interleaved arms in 2-D, a fixed non-linear dataset."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for k in range(classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        theta = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + 0.2 * rng.standard_normal(
            n_per_class
        )
        xs.append(np.c_[r * np.sin(theta), r * np.cos(theta)])
        ys.append(np.full(n_per_class, k))
    return np.concatenate(xs), np.concatenate(ys)


def mlp_forward(p: Params, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The small MLP's hidden layer, log-probabilities and mean cross-entropy on ``(x, y)``."""
    h = np.tanh(x @ p["W1"] + p["b1"])
    z = h @ p["W2"] + p["b2"]
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return h, logp, float(-logp[np.arange(len(y)), y].mean())


def mlp_validation_loss(p: Params, seed: int = 1) -> float:
    """The small MLP's loss on a validation spiral: the same arms, other noise."""
    with np.errstate(all="ignore"):
        return mlp_forward(p, *spiral(seed=seed))[2]


def _mlp(hidden: int = 16, seed: int = 0) -> Problem:
    """A 2-``hidden``-3 tanh MLP with softmax cross-entropy on the spiral, full batch."""
    x, y = spiral()
    n, classes = len(y), int(y.max()) + 1

    def start() -> Params:
        rng = np.random.default_rng(seed)
        return {
            "W1": rng.standard_normal((2, hidden)) / np.sqrt(2),
            "b1": np.zeros(hidden),
            "W2": rng.standard_normal((hidden, classes)) / np.sqrt(hidden),
            "b2": np.zeros(classes),
        }

    def forward(p: Params) -> tuple[np.ndarray, np.ndarray, float]:
        return mlp_forward(p, x, y)

    def grad(p: Params) -> Params:
        h, logp, _ = forward(p)
        dz = np.exp(logp)
        dz[np.arange(n), y] -= 1
        dz /= n
        dh = (dz @ p["W2"].T) * (1 - h**2)
        return {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ dz, "b2": dz.sum(0)}

    return Problem("mlp", start, lambda p: forward(p)[2], grad, 0.0)


PROBLEMS: dict[str, Callable[[], Problem]] = {
    "ravine": _ravine,
    "rosenbrock": _rosenbrock,
    "mlp": _mlp,
}
"""Every problem by name; a convergence check names one."""
