"""Trusted loops a plan may run on student components: training runs and experiments.

They live in gradekit, not in the check, so the same code runs in the worker on a
submission and in the parent on the reference. Their results are re-validated by the
parent (losses are recomputed from the returned parameters, never taken as reported).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .problems import PROBLEMS
from .sandbox.plan import ROUTINES

ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(0.0, z),
    "linear": lambda z: z,
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
}
"""The non-linearities of the initialization experiment (gradekit's own, not the student's)."""


def routine(fn):
    """Make ``fn`` callable from a plan by its name."""
    ROUTINES[fn.__name__] = fn
    return fn


@routine
def optimize(optimizer: Any, problem: str, steps: int, lr_schedule: Any = None) -> dict:
    """Run ``steps`` updates of ``optimizer`` on a problem; return every parameter visited.

    Stops early once a parameter is not finite (divergence), so the path may be shorter.
    """
    spec = PROBLEMS[problem]()
    params = spec.start()
    states = {k: optimizer.init(v) for k, v in params.items()}
    path = {k: [v.copy()] for k, v in params.items()}
    for _ in range(steps):
        grads = spec.grad(params)
        for k in params:
            params[k], states[k] = optimizer.update(params[k], grads[k], states[k])
            params[k] = np.asarray(params[k], dtype=np.float64)
            path[k].append(params[k].copy())
        if not all(np.all(np.isfinite(v)) for v in params.values()):
            break
    return {k: np.stack(v) for k, v in path.items()}


@routine
def init_experiment(
    initializer: Any, activation: str, depth: int, width: int, batch: int, seed: int
) -> dict:
    """The lecture's experiment: ``depth`` layers of ``width`` units on a unit-Gaussian batch.

    Returns every layer's activations, shape (depth, batch, width), and the first layer's
    weights' mean and std. Weights come from ``initializer((width, width), rng)``.
    """
    rng = np.random.default_rng(seed)
    f = ACTIVATIONS[activation]
    x = rng.standard_normal((batch, width))
    hs = []
    for _ in range(depth):
        w = np.asarray(initializer((width, width), rng), dtype=np.float64)
        x = f(x @ w)
        hs.append(x.astype(np.float32))
    return {"activations": np.stack(hs)}
