"""Trusted loops a plan may run on student components: training runs and experiments.

They live in gradekit, not in the check, so the same code runs in the worker on a
submission and in the parent on the reference. Their results are re-validated by the
parent (losses are recomputed from the returned parameters, never taken as reported).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import regression
from .components.training import CURVE_LABELS, RECIPE_LABELS, TRANSFER_LABELS
from .problems import PROBLEMS


class ContractError(ValueError):
    """An answer that breaks the contract (its type, shape or dtype), found by one of
    gradekit's own loops: reported as what the contract asks, not as the student's error."""


def _float64(value: Any, what: str) -> np.ndarray:
    """``value`` as float64, or ContractError when it is a float narrower than float64."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.dtype != np.float64:
        raise ContractError(f"{what} of dtype {value.dtype}; return float64")
    return np.asarray(value, dtype=np.float64)


ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(0.0, z),
    "linear": lambda z: z,
    "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
}
"""The non-linearities of the initialization experiment (gradekit's own, not the student's)."""


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


def init_experiment(
    initializer: Any, activation: str, depth: int, width: int, batch: int, seed: int
) -> dict:
    """The lecture's experiment: ``depth`` layers of ``width`` units on a unit-Gaussian batch.

    Returns every layer's activations (float32), shape (depth, batch, width); the parent
    computes the per-layer statistics. Weights come from ``initializer((width, width), rng)``
    with the generator that drew the batch; there are no biases.
    """
    rng = np.random.default_rng(seed)
    f = ACTIVATIONS[activation]
    x = rng.standard_normal((batch, width))
    hs = []
    for layer in range(1, depth + 1):
        w = initializer((width, width), rng)
        if not (type(w) is np.ndarray and w.dtype.kind == "f" and w.shape == (width, width)):
            got = type(w).__name__
            if type(w) is np.ndarray:
                got = f"shape {w.shape} and dtype {w.dtype}"
            raise ContractError(
                f"layer {layer}: initializer(({width}, {width}), rng) returned {got}, "
                f"expected a float ndarray of shape ({width}, {width})"
            )
        w = w.astype(np.float64, copy=False)
        x = f(x @ w)
        hs.append(x.astype(np.float32))
    return {"activations": np.stack(hs)}


def initializer_draws(initializer: Any, shape: tuple[int, int], seeds: list[int]) -> dict:
    """Call ``initializer(shape, rng)`` once per seed, each with a fresh generator.

    Returns the raw results (the parent validates them) and, per call, the next four
    uniforms of the generator after the call: the parent compares them with a fresh
    generator's to see whether the initializer drew from the ``rng`` it was given.
    """
    shape = (int(shape[0]), int(shape[1]))
    draws, after = [], []
    for seed in seeds:
        rng = np.random.default_rng(int(seed))
        draws.append(initializer(shape, rng))
        after.append(rng.random(4))
    return {"draws": draws, "after": np.stack(after)}


def two_layer_gd(
    w1: np.ndarray, w2: np.ndarray, x: np.ndarray, t: np.ndarray, steps: int, lr: float
) -> dict[str, np.ndarray]:
    """Full-batch gradient descent on ``y = tanh(x W1 + b1) W2 + b2``, squared error.

    The loss is ``(1/N) sum ||y - t||^2`` and the biases start at 0. Plain trusted numpy:
    the parent reruns it from the returned initial weights to recompute the routine's result.
    """
    w1, w2 = np.array(w1, dtype=np.float64), np.array(w2, dtype=np.float64)
    b1, b2 = np.zeros(w1.shape[1]), np.zeros(w2.shape[1])
    n = x.shape[0]
    for _ in range(steps):
        h = np.tanh(x @ w1 + b1)
        dy = 2.0 * (h @ w2 + b2 - t) / n
        dz = (dy @ w2.T) * (1.0 - h**2)
        w2, b2 = w2 - lr * (h.T @ dy), b2 - lr * dy.sum(0)
        w1, b1 = w1 - lr * (x.T @ dz), b1 - lr * dz.sum(0)
    return {"W1": w1, "b1": b1, "W2": w2, "b2": b2}


def symmetry_data(din: int, dout: int, batch: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The fixed regression batch of the symmetry experiment: inputs and real targets."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, din)), rng.standard_normal((batch, dout))


def symmetry_training(
    initializer: Any,
    din: int,
    hidden: int,
    dout: int,
    batch: int,
    steps: int,
    lr: float,
    seed: int,
) -> dict:
    """The symmetry problem: a ``din``-``hidden``-``dout`` tanh net trained from weights
    drawn by ``initializer``, ``steps`` full-batch gradient-descent steps.

    Returns the initial weights exactly as the initializer gave them, and the trained
    weights (None when the initial ones are not arrays of the right shapes).
    """
    x, t = symmetry_data(din, dout, batch, seed)
    rng = np.random.default_rng(seed + 1)
    w1 = initializer((din, hidden), rng)
    w2 = initializer((hidden, dout), rng)
    trained = None
    ok = all(type(w) is np.ndarray and w.dtype.kind == "f" for w in (w1, w2))
    if ok and w1.shape == (din, hidden) and w2.shape == (hidden, dout):
        trained = two_layer_gd(w1, w2, x, t, steps, lr)
    return {"W1_0": w1, "W2_0": w2, "trained": trained}


def repeat_forward(layer: Any, x: np.ndarray, times: int, training: bool = True) -> np.ndarray:
    """``layer.forward(x)`` ``times`` times (fresh random masks each time), stacked.

    Each call gets its own copy of ``x``; every output must have the first one's shape.
    """
    outs = []
    for t in range(times):
        y = _float64(layer.forward(x.copy(), training=training), f"forward call {t + 1} returned")
        if outs and y.shape != outs[0].shape:
            raise ContractError(
                f"forward call {t + 1} returned shape {y.shape}, call 1 shape {outs[0].shape}"
            )
        outs.append(y)
    return np.stack(outs)


def repeat_transform(
    transform: Any, x: np.ndarray, y: np.ndarray, seed: int, times: int
) -> dict[str, Any]:
    """Call a batch transform ``times`` times with one generator; stack what it returns.

    Each call gets copies of ``x`` and ``y``; ``mutated`` says whether any call modified
    them. A result that is not a pair of arrays of the inputs' shapes stops the run.
    """
    rng = np.random.default_rng(seed)
    xs, ys, changed = [], [], False
    for t in range(times):
        xi, yi = x.copy(), y.copy()
        out = transform(xi, yi, rng)
        if not (isinstance(out, tuple | list) and len(out) == 2):
            raise ContractError(
                f"call {t + 1}: a transform returns a pair (x, y), received {type(out).__name__}"
            )
        ox = _float64(out[0], f"call {t + 1}: returned x")
        oy = _float64(out[1], f"call {t + 1}: returned y")
        if ox.shape != x.shape or oy.shape != y.shape:
            raise ContractError(
                f"call {t + 1}: returned x of shape {ox.shape} and y of shape {oy.shape}; "
                f"expected the inputs' shapes {x.shape} and {y.shape}"
            )
        changed = changed or not (np.array_equal(xi, x) and np.array_equal(yi, y))
        xs.append(ox)
        ys.append(oy)
    return {"x": np.stack(xs), "y": np.stack(ys), "mutated": changed}


REFUSAL_CODES = ("accepted", "ValueError", "another exception")
"""What ``transform_refusal`` saw, by the code it returns."""


def transform_refusal(transform: Any, x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, Any]:
    """Call a batch transform on inputs the contract says it refuses; ``code`` indexes
    ``REFUSAL_CODES``: it returned, raised ``ValueError``, or raised something else."""
    try:
        transform(x.copy(), y.copy(), np.random.default_rng(seed))
    except ValueError:
        return {"code": 1}
    except Exception:
        return {"code": 2}
    return {"code": 0}


def early_stopping_run(
    stopper: Any, losses: np.ndarray, trajectory: dict[str, np.ndarray], inplace: bool
) -> dict[str, Any]:
    """Drive early stopping through one validation curve, as a training loop does.

    Epoch ``e`` sets the weights to ``trajectory[name][e]``, then calls
    ``stopper.step(losses[e], params)``, and stops at the first True. With ``inplace``,
    ``params`` is the same dict of the same arrays every epoch, overwritten in place (as
    ``w -= lr * dw`` does) and zeroed once the loop ends, so stored references change;
    otherwise every epoch passes a fresh dict of fresh arrays. Returns the epoch of the
    first True (-1 if none), and ``best_loss`` and ``best_params`` as the stopper holds
    them at the end.
    """
    live = {k: np.array(v[0], dtype=np.float64) for k, v in trajectory.items()}
    stop = -1
    for epoch, loss in enumerate(losses):
        if inplace:
            for k, v in trajectory.items():
                live[k][...] = v[epoch]
            params = live
        else:
            params = {k: np.array(v[epoch], dtype=np.float64) for k, v in trajectory.items()}
        if bool(stopper.step(float(loss), params)):
            stop = epoch
            break
    if inplace:
        for k in live:
            live[k][...] = 0.0  # the loop goes on using its arrays: stored references see it
    return {"stop": stop, "best_loss": stopper.best_loss, "best_params": stopper.best_params}


def _settings(value: Any, names: list[str], what: str) -> np.ndarray:
    """A strategy's list of settings as an array ``(len, len(names))`` in ``names`` order."""
    if not isinstance(value, list | tuple):
        raise ContractError(f"{what} returned {type(value).__name__}, expected a list of dicts")
    rows = []
    for i, setting in enumerate(value):
        if not isinstance(setting, dict) or sorted(setting) != names:
            got = sorted(setting) if isinstance(setting, dict) else type(setting).__name__
            raise ContractError(f"{what}: setting {i} is {got}, expected a dict with keys {names}")
        narrow = [k for k in names if isinstance(setting[k], np.floating | np.ndarray)]
        narrow = [k for k in narrow if np.asarray(setting[k]).dtype != np.float64]
        if narrow:
            dtype = np.asarray(setting[narrow[0]]).dtype
            raise ContractError(
                f"{what}: setting {i} has {narrow[0]} of dtype {dtype}; return float64 values"
            )
        rows.append([float(setting[k]) for k in names])
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(names))


def search_draws(strategy: Any, space: dict, n: int, seeds: list[int]) -> dict[str, Any]:
    """``strategy.propose(space, n, rng)`` once per seed (a fresh generator each), and
    once more with the first seed; each result as an array in sorted-name order."""
    names = sorted(space)
    space = {k: (float(v[0]), float(v[1])) for k, v in space.items()}
    draws = []
    for seed in [*seeds, seeds[0]]:
        out = strategy.propose(dict(space), int(n), np.random.default_rng(int(seed)))
        draws.append(_settings(out, names, "propose"))
    return {"draws": draws[:-1], "repeat": draws[-1]}


def refine_run(
    strategy: Any,
    space: dict,
    settings: np.ndarray,
    losses: np.ndarray,
    n: int,
    seeds: list[int],
) -> dict[str, Any]:
    """``strategy.refine(space, results, n, rng)`` once per seed, where ``results`` is a
    list of ``(setting, loss)`` pairs of a first round; each result as an array."""
    names = sorted(space)
    space = {k: (float(v[0]), float(v[1])) for k, v in space.items()}
    draws = []
    for seed in seeds:
        results = [
            ({k: float(row[i]) for i, k in enumerate(names)}, float(loss))
            for row, loss in zip(settings, losses, strict=True)
        ]
        out = strategy.refine(dict(space), results, int(n), np.random.default_rng(int(seed)))
        draws.append(_settings(out, names, "refine"))
    return {"draws": draws}


def _label(value: Any, labels: tuple[str, ...]) -> int:
    """The index of an answer in ``labels`` (case, spaces and hyphens forgiven), or -1."""
    if type(value) is not str:
        return -1
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    return labels.index(key) if key in labels else -1


def diagnose_bank(
    diagnoser: Any, train: np.ndarray, val: np.ndarray, errors: np.ndarray
) -> dict[str, np.ndarray]:
    """Ask ``diagnose`` about every pair of curves and ``recipe`` about every row of
    ``errors`` (train, test, base, tol); answers come back as label indices (-1: not a
    label)."""
    curves = [
        _label(diagnoser.diagnose(tr.copy(), va.copy()), CURVE_LABELS)
        for tr, va in zip(train, val, strict=True)
    ]
    cells = [
        _label(diagnoser.recipe(float(a), float(b), float(c), float(d)), RECIPE_LABELS)
        for a, b, c, d in errors
    ]
    return {"curves": np.array(curves, dtype=np.int64), "recipe": np.array(cells, dtype=np.int64)}


def advise_table(diagnoser: Any, sizes: np.ndarray, similarities: np.ndarray) -> dict:
    """Ask ``advise(data_size, similarity)`` for every pair; answers come back as indices
    of ``TRANSFER_LABELS`` (-1: not a label)."""
    cells = [
        _label(diagnoser.advise(int(n), float(s)), TRANSFER_LABELS)
        for n, s in zip(sizes, similarities, strict=True)
    ]
    return {"cells": np.array(cells, dtype=np.int64)}


def train_run(
    trainer: Any,
    optimizer: str,
    optimizer_kwargs: dict,
    seed: int,
    script: np.ndarray | None = None,
    first_steps: int = 3,
) -> dict[str, Any]:
    """Run ``trainer.fit`` on gradekit's regression problem with gradekit's model and
    optimizer; return what the model logged and the history the trainer reported.

    Steps are forward passes followed by a backward; each validation forward ends an
    epoch and snapshots the parameters. ``script`` is a constructed validation curve.
    ``calls`` counts, per parameter (``regression.PARAMS``), the optimizer's ``init`` and
    ``update`` calls on it.
    """
    data = {k: v.copy() for k, v in regression.dataset().items()}
    model = regression.LoggedModel(regression.initial_params(seed=int(seed)), data, script)
    opt = regression.ModelOptimizer(model, optimizer, optimizer_kwargs)
    history = trainer.fit(model, opt, data, np.random.default_rng(int(seed)))
    steps = [e for e in model.log if e["backward"] and not e["val"]]
    vals = [e for e in model.log if e["val"]]
    epoch, step_epoch = 0, []
    for e in model.log:
        if e["val"]:
            epoch += 1
        elif e["backward"]:
            step_epoch.append(epoch)

    def stack(entries: list[dict]) -> dict[str, np.ndarray]:
        return {k: np.stack([e["params"][k] for e in entries]) for k in model.log[0]["params"]}

    empty = np.zeros(0, dtype=np.int64)
    return {
        "rows": np.concatenate([e["rows"] for e in steps]) if steps else empty,
        "sizes": np.array([len(e["rows"]) for e in steps], dtype=np.int64),
        "step_epoch": np.array(step_epoch, dtype=np.int64),
        "first": stack(steps[: first_steps + 1]) if steps else None,
        "snapshots": stack(vals) if vals else None,
        "final": dict(model.params) if isinstance(model.params, dict) else model.params,
        "history": history,
        "calls": np.array(
            [[opt.calls[c][k] for k in regression.PARAMS] for c in ("init", "update")],
            dtype=np.int64,
        ),
    }


ROUTINES: dict[str, Callable[..., Any]] = {
    fn.__name__: fn
    for fn in (
        optimize,
        init_experiment,
        initializer_draws,
        symmetry_training,
        repeat_forward,
        repeat_transform,
        transform_refusal,
        early_stopping_run,
        search_draws,
        refine_run,
        diagnose_bank,
        advise_table,
        train_run,
    )
}
"""The routines a plan may run, by name."""
