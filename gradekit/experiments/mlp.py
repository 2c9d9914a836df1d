"""The small ReLU network of the transfer and pretext experiments, trained with freezing.

A network is a dict of named parameters (``hidden1.W``, ``hidden1.b``, ..., ``head.W``).
Each training step is one plan: the ``linear`` layers, ``relu`` activations and the
``softmax_cross_entropy`` loss (the reference's, or a submission's in the worker) run the
forward and backward pass and return the gradients; the update happens here, with the
reference's optimizer, on the named trained parameters only. Frozen parameters are never
touched (the same arrays, bit for bit) and get no optimizer state. Accuracy is computed
here from the parameters, with gradekit's own numpy, as grading recomputes losses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import pairwise

import numpy as np

from ..sandbox.plan import Plan, saved
from .common import Run, Skipped, check_outcome

Params = dict[str, np.ndarray]
COMPONENTS = ("layers/linear", "activations/relu", "losses/softmax_cross_entropy")
"""What runs a network's forward and backward pass: the backprop assignment's components."""


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 8x8 handwritten digits shipped with gradekit (UCI, CC BY 4.0): images
    ``(N, 8, 8)`` scaled to [0, 1], and labels 0-9. See ``data/README.md``."""
    with resources.files(__package__).joinpath("data/digits.npz").open("rb") as f, np.load(f) as d:
        return d["images"].astype(np.float64) / 16.0, d["labels"].astype(np.int64)


def layer_names(depth: int) -> list[str]:
    """``hidden1``, ..., ``hidden{depth - 1}`` and ``head``: the layers, input first."""
    return [f"hidden{i + 1}" for i in range(depth - 1)] + ["head"]


def init(sizes: Sequence[int], rng: np.random.Generator) -> Params:
    """He-initialised weights and zero biases of a network with layer widths ``sizes``
    (input first, classes last)."""
    params: Params = {}
    for name, (din, dout) in zip(layer_names(len(sizes) - 1), pairwise(sizes), strict=True):
        params[f"{name}.W"] = rng.standard_normal((din, dout)) * np.sqrt(2.0 / din)
        params[f"{name}.b"] = np.zeros(dout)
    return params


def _layers(params: Params) -> list[str]:
    return list(dict.fromkeys(k.split(".")[0] for k in params))


def features(params: Params, x: np.ndarray, upto: int | None = None) -> np.ndarray:
    """The activations after ``upto`` layers (default: the scores of the head), computed
    here: ``relu(x W + b)`` for hidden layers, ``x W + b`` for the head."""
    names = _layers(params)
    h = x.reshape(len(x), -1)
    for i, name in enumerate(names[:upto]):
        h = h @ params[f"{name}.W"] + params[f"{name}.b"]
        if i < len(names) - 1:
            h = np.maximum(h, 0.0)
    return h


def accuracy(params: Params, x: np.ndarray, y: np.ndarray) -> float:
    """The fraction of ``x`` whose highest score is its label."""
    return float(np.mean(features(params, x).argmax(axis=1) == y))


def step_plan(params: Params, x: np.ndarray, y: np.ndarray) -> Plan:
    """One forward and backward pass of the network on a batch, returning every layer's
    ``grads`` and the loss."""
    plan = Plan()
    names = _layers(params)
    h: dict = plan.array(x.reshape(len(x), -1))
    for i, name in enumerate(names):
        din, dout = params[f"{name}.W"].shape
        plan.make(name, "layers", "linear", din=din, dout=dout)
        for key in ("W", "b"):
            plan.set_param(name, key, plan.array(params[f"{name}.{key}"]))
        plan.call(name, "forward", h, save="h")
        h = saved("h")
        if i < len(names) - 1:
            plan.make(f"{name}.relu", "activations", "relu")
            plan.call(f"{name}.relu", "forward", h, save="h")
    plan.make("loss", "losses", "softmax_cross_entropy")
    plan.call("loss", "forward", h, plan.array(y), save="loss")
    plan.call("loss", "backward", save="d")
    for i, name in reversed(list(enumerate(names))):
        if i < len(names) - 1:
            plan.call(f"{name}.relu", "backward", saved("d"), save="d")
        plan.call(name, "backward", saved("d"), save="d")
        plan.get(name, "grads", f"grads.{name}")
    return plan


def _culprit(plan: Plan, op: int | None) -> str:
    """``kind/name`` of the component whose op failed (the linear layer when unknown)."""
    made = {o["obj"]: f"{o['kind']}/{o['name']}" for o in plan.ops if o["op"] == "make"}
    if op is None or not 0 <= op < len(plan.ops):
        return COMPONENTS[0]
    failed = plan.ops[op]
    if failed["op"] == "make":
        return f"{failed['kind']}/{failed['name']}"
    return made.get(failed.get("obj", ""), COMPONENTS[0])


def gradients(run: Run, params: Params, x: np.ndarray, y: np.ndarray) -> Params:
    """Every parameter's gradient on a batch, from the components' own backward pass;
    ``Skipped`` when they cannot run or return something other than finite arrays of the
    parameters' shapes."""
    plan = step_plan(params, x, y)
    outcome = run(plan)
    check_outcome(outcome, _culprit(plan, outcome.failure.op if outcome.failure else None))
    grads: Params = {}
    for key, value in params.items():
        name, part = key.split(".")
        got = outcome.values.get(f"grads.{name}")
        g = got.get(part) if isinstance(got, dict) else None
        if not (isinstance(g, np.ndarray) and g.shape == value.shape and np.all(np.isfinite(g))):
            raise Skipped(
                "layers/linear", f"backward left no finite grads[{part!r}] of shape {value.shape}"
            )
        grads[key] = g.astype(np.float64)
    return grads


@dataclass
class Curve:
    """Validation accuracy every ``every`` steps (step 0 first) and the final parameters."""

    steps: list[int]
    accuracy: list[float]
    params: Params


def train(
    run: Run,
    params: Params,
    trained: Sequence[str],
    data: tuple[np.ndarray, np.ndarray],
    steps: int,
    rng: np.random.Generator,
    evaluate: Callable[[Params], float],
    batch: int | None = None,
    lr: float = 0.01,
    every: int = 5,
) -> Curve:
    """Train only the parameters named in ``trained`` with the reference's Adam; every other
    parameter stays the same array, bit for bit, and has no optimizer state. ``batch`` of
    None is full-batch gradient descent; otherwise a fresh random batch every step."""
    from gradekit_reference.optimizers import Adam

    unknown = sorted(set(trained) - set(params))
    if unknown:
        raise ValueError(f"no parameters named {', '.join(unknown)}")
    optimizer = Adam(lr=lr)
    params = dict(params)
    state = {k: optimizer.init(params[k]) for k in trained}
    x, y = data
    curve = Curve([0], [evaluate(params)], params)
    for step in range(1, steps + 1):
        idx = rng.choice(len(x), batch, replace=False) if batch and batch < len(x) else None
        grads = gradients(run, params, *((x, y) if idx is None else (x[idx], y[idx])))
        for k in trained:
            params[k], state[k] = optimizer.update(params[k], grads[k], state[k])
        if step % every == 0 or step == steps:
            curve.steps.append(step)
            curve.accuracy.append(evaluate(params))
    curve.params = params
    return curve


def per_class(y: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices of ``n`` labelled examples of every class, and of all the others."""
    chosen = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), n, replace=False) for c in np.unique(y)]
    )
    return np.sort(chosen), np.setdiff1d(np.arange(len(y)), chosen)
