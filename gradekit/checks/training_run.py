"""A trainer's run as the grader reads it: the worker's log of every batch and every
validation pass, validated, replayed with trusted code and measured (see ``training``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import Field

from .. import regression
from ..sandbox.plan import Outcome
from .base import Options, Target
from .compare import describe, failed_call

RUN = "run"
NAMES = regression.PARAMS


class TrainingOptions(Options):
    optimizer: Literal["sgd", "momentum"] = "sgd"
    """gradekit's optimizer handed to the trainer."""
    lr: float = Field(default=0.1, gt=0)
    mu: float = Field(default=0.9, ge=0, lt=1)
    """Momentum's mu (ignored by sgd)."""
    weight_decay: float = Field(default=0.0, ge=0)
    """The optimizer's weight decay, added to the gradient as ``weight_decay * w``: a
    frozen parameter that goes through ``update`` even with a zero gradient then moves."""
    curve: Literal["valley", "plateau", "noisy"] | None = None
    """A constructed validation curve (needs ``patience``); None trains on the real problem."""
    band: float = Field(default=0.3, gt=0)
    """Allowed distance of the validation-loss curves, in decades."""
    final_factor: float = Field(default=2.0, ge=1)
    """The final validation loss may be at most this many times the reference's."""


@dataclass
class TrainingRun:
    """A validated training run and the features the cases compare."""

    problem: str = ""
    epochs: int = 0
    coverage: str = ""
    """Why the epochs do not cover the training set in batches ("" when they do)."""
    shuffled: bool = False
    orders: list[np.ndarray] = field(default_factory=list)
    scale: float = float("nan")
    residual: float = float("nan")
    replay: str = ""
    """Why the replay does not reproduce the parameters ("" when it does)."""
    reported: str = ""
    """Why the reported validation losses do not match ("" when they do)."""
    reported_train: str = ""
    """Why the reported training losses do not match ("" when they do)."""
    val: np.ndarray | None = None
    train: np.ndarray | None = None
    """The training loss of every epoch's parameters on the whole training set."""
    kept: str = ""
    best: int = -1
    frozen: str = ""
    """Why a frozen parameter is not bit-for-bit its initial value ("" when every one is)."""
    stateful: str = ""
    """Why the optimizer met a frozen parameter ("" when it never did)."""
    trained_moved: bool = True
    """Whether the parameters to train ended anywhere but where they started."""


def _sizes(n: int, batch: int) -> list[int]:
    return [min(batch, n - s) for s in range(0, n, batch)]


def _flat(p: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([np.ravel(p[k]) for k in NAMES])


def _params_at(stack: dict[str, np.ndarray], i: int) -> dict[str, np.ndarray]:
    return {k: stack[k][i] for k in NAMES}


def rule_kwargs(options: TrainingOptions) -> dict[str, float]:
    """The keyword arguments of the check's update rule (``regression.RULES``)."""
    kwargs = {"lr": options.lr}
    if options.optimizer == "momentum":
        kwargs["mu"] = options.mu
    if options.weight_decay:
        kwargs["weight_decay"] = options.weight_decay
    return kwargs


def _rule(options: TrainingOptions) -> regression.Rule:
    return regression.RULES[options.optimizer](**rule_kwargs(options))


def trained_names(target: Target) -> tuple[str, ...]:
    """The parameters the trainer is asked to train: its ``trainable`` kwarg, or all."""
    names = target.kwargs.get("trainable")
    return NAMES if names is None else tuple(k for k in NAMES if k in names)


def _valid_stack(value: Any, start: dict[str, np.ndarray]) -> bool:
    """Whether ``value`` is what the routine stacks: for each parameter, finite copies of
    its shape, as many of each and at least one."""
    return (
        isinstance(value, dict)
        and set(value) == set(NAMES)
        and all(
            isinstance(value[k], np.ndarray)
            and value[k].dtype.kind == "f"
            and value[k].shape[1:] == start[k].shape
            and np.all(np.isfinite(value[k]))
            for k in NAMES
        )
        and len({len(value[k]) for k in NAMES}) == 1
        and len(value[NAMES[0]]) > 0
    )


def analyse(
    outcome: Outcome, target: Target, options: TrainingOptions, meta: dict
) -> TrainingRun | str:
    """Validate a run and measure its features; a string says why it is unusable."""
    missing = failed_call(outcome, RUN)
    if missing is not None:
        return missing.message
    value = outcome.values[RUN]
    if not isinstance(value, dict):
        return f"unreadable result {describe(value)}"
    data = regression.dataset()
    start = regression.initial_params(seed=target.seed)
    snaps, first = value.get("snapshots"), value.get("first")
    if snaps is None:
        return "fit never evaluated the validation set (model.forward(data['x_val']))"
    if first is None:
        return "fit made no training step (forward on a batch, then backward)"
    if not (_valid_stack(snaps, start) and _valid_stack(first, start)):
        return "the parameters became non-finite or lost their shapes during training"
    rows, sizes, step_epoch = value.get("rows"), value.get("sizes"), value.get("step_epoch")
    for arr in (rows, sizes, step_epoch):
        if not (isinstance(arr, np.ndarray) and arr.dtype.kind in "iu" and arr.ndim == 1):
            return f"unreadable log {describe(arr)}"
    n_train = len(data["x"])
    if (
        len(sizes) != len(step_epoch)
        or int(sizes.sum()) != len(rows)
        or (rows.size and (rows.min() < -1 or rows.max() >= n_train))
        or (sizes.size and sizes.min() < 0)
    ):
        return "inconsistent log"
    run = TrainingRun(epochs=len(snaps["W1"]))
    n, batch = len(data["x"]), int(target.kwargs.get("batch_size", 16))
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    for e in range(run.epochs):
        idx = np.flatnonzero(step_epoch == e)
        seen = rows[offsets[idx[0]] : offsets[idx[-1] + 1]] if len(idx) else rows[:0]
        if not run.coverage:
            if list(sizes[idx]) != _sizes(n, batch):
                run.coverage = (
                    f"epoch {e + 1} made {len(idx)} steps on batches of "
                    f"{sorted(set(sizes[idx].tolist()))} examples, expected batches of "
                    f"{batch} (the last one {_sizes(n, batch)[-1]}) covering {n} examples"
                )
            elif not np.array_equal(np.sort(seen), np.arange(n)):
                twice = int(n - len(np.unique(seen[seen >= 0])))
                run.coverage = (
                    f"epoch {e + 1} visits {twice} training examples twice or never; "
                    "each epoch is one pass over a permutation of the training set"
                )
        run.orders.append(seen)
    seen = [o for o in run.orders if len(o) > 1]
    run.shuffled = bool(
        seen
        and not np.array_equal(seen[0], np.arange(len(seen[0])))
        and (len(seen) == 1 or any(not np.array_equal(o, seen[0]) for o in seen[1:]))
    )
    init, update = _rule(options)
    trained = trained_names(target)
    p0 = _params_at(first, 0)
    if not all(np.array_equal(p0[k], start[k]) for k in NAMES):
        return "training did not start from the model's initial parameters"
    if len(first["W1"]) > 1 and len(sizes):
        batch_rows = rows[: sizes[0]]
        g = regression.grads(p0, data["x"][batch_rows], data["t"][batch_rows])
        want = _flat(
            {
                k: update(p0[k], g[k], init(p0[k]))[0] - p0[k] if k in trained else 0 * p0[k]
                for k in NAMES
            }
        )
        got = _flat(_params_at(first, 1)) - _flat(p0)
        denom = float(want @ want)
        run.scale = float(got @ want) / denom if denom > 0 else float("nan")
        run.residual = float(np.linalg.norm(got - run.scale * want) / np.sqrt(denom))
    run.replay, batch_means = _replay(
        rows, offsets, step_epoch, snaps, start, data, (init, update), run.epochs, trained
    )
    final = value.get("final")
    run.frozen = _frozen(first, snaps, final, start, trained)
    run.stateful = _stateful(value.get("calls"), trained)
    run.trained_moved = any(not np.array_equal(snaps[k][-1], start[k]) for k in trained)
    script = meta.get("script")
    if script is not None:
        run.val = np.array([script[min(e, len(script) - 1)] for e in range(run.epochs)])
    else:
        run.val = np.array(
            [
                regression.mse(
                    regression.predict(_params_at(snaps, e), data["x_val"]), data["t_val"]
                )
                for e in range(run.epochs)
            ]
        )
    run.train = np.array(
        [
            regression.mse(regression.predict(_params_at(snaps, e), data["x"]), data["t"])
            for e in range(run.epochs)
        ]
    )
    run.reported = _reported(value.get("history"), run.val)
    if not run.reported:
        run.reported_train = _reported_train(value["history"]["train_loss"], batch_means)
    run.best = int(np.argmin(run.val))
    if not (isinstance(final, dict) and set(final) == set(NAMES)):
        run.kept = "unreadable"
    else:
        match = [
            e
            for e in range(run.epochs)
            if all(
                isinstance(final[k], np.ndarray)
                and final[k].shape == snaps[k][e].shape
                and np.array_equal(final[k], snaps[k][e])
                for k in NAMES
            )
        ]
        run.kept = "best" if run.best in match else "last" if run.epochs - 1 in match else "other"
    return run


def _replay(
    rows, offsets, step_epoch, snaps, start, data, rule, epochs, trained
) -> tuple[str, list[float]]:
    """Rerun every logged step with trusted code, updating the ``trained`` parameters only;
    say where it departs from the log. Also the mean batch loss of every epoch the replay
    reproduced, each batch's loss taken at the parameters it met (before its update), as
    ``train_loss`` reports it."""
    init, update = rule
    p = {k: v.copy() for k, v in start.items()}
    state = {k: init(p[k]) for k in trained}
    means: list[float] = []
    with np.errstate(all="ignore"):
        for e in range(epochs):
            losses = []
            for s in np.flatnonzero(step_epoch == e):
                r = rows[offsets[s] : offsets[s + 1]]
                if np.any(r < 0):
                    problem = f"epoch {e + 1}: a batch holds rows that are not training examples"
                    return problem, means
                x, t = data["x"][r], data["t"][r]
                losses.append(regression.mse(regression.predict(p, x), t))
                g = regression.grads(p, x, t)
                for k in trained:
                    p[k], state[k] = update(p[k], g[k], state[k])
            want, got = _flat(p), _flat(_params_at(snaps, e))
            scale = max(float(np.max(np.abs(want))), 1.0)
            if not np.all(np.isfinite(want)) or np.max(np.abs(got - want)) > 1e-7 * scale:
                return (
                    f"after epoch {e + 1} the parameters differ from a replay of the logged "
                    f"batches with the mean squared error's gradient (largest difference "
                    f"{float(np.nanmax(np.abs(got - want))):.3g})"
                ), means
            means.append(float(np.mean(losses)) if losses else float("nan"))
    return "", means


def _frozen(first: dict, snaps: dict, final: Any, start: dict, trained: tuple[str, ...]) -> str:
    """Why a frozen parameter is not exactly its initial value at every logged step, every
    epoch's end and the end of ``fit`` ("" when it always is)."""
    for k in (k for k in NAMES if k not in trained):
        seen = [("step", i, first[k][i]) for i in range(len(first[k]))]
        seen += [("epoch", e, snaps[k][e]) for e in range(len(snaps[k]))]
        if isinstance(final, dict) and isinstance(final.get(k), np.ndarray):
            seen.append(("end", 0, final[k]))
        for where, i, got in seen:
            if got.shape == start[k].shape and np.array_equal(got, start[k]):
                continue
            at = {"step": f"at training step {i}", "epoch": f"after epoch {i + 1}"}
            gap = np.max(np.abs(got - start[k])) if got.shape == start[k].shape else np.inf
            return (
                f"the frozen parameter {k} moved {at.get(where, 'at the end of fit')} "
                f"(by up to {gap:.3g}); only the parameters in trainable train, and the "
                "others stay bit-for-bit as they were"
            )
    return ""


def _stateful(calls: Any, trained: tuple[str, ...]) -> str:
    """Why the optimizer met a frozen parameter ("" when it never did)."""
    if not (isinstance(calls, np.ndarray) and calls.dtype.kind in "iu" and calls.shape == (2, 4)):
        return f"unreadable optimizer log {describe(calls)}"
    for row, call in enumerate(("init", "update")):
        for k, n in zip(NAMES, calls[row], strict=True):
            if k not in trained and n:
                return (
                    f"optimizer.{call} was called {int(n)} times on the frozen parameter {k}: "
                    "a frozen parameter gets no optimizer state and no update"
                )
    return ""


def _reported_train(reported: list, means: list[float]) -> str:
    """Why the reported ``train_loss`` differs from the recomputed batch means ("" when
    it does not), on the epochs the replay reproduced."""
    for e, want in enumerate(means):
        got = float(reported[e])
        if np.isfinite(want) and abs(got - want) > 1e-6 * max(abs(want), 1e-12):
            return (
                f"history['train_loss'][{e}] is {got:.6g}, but the mean of epoch {e + 1}'s "
                f"batch losses, each at the parameters the batch met, is {want:.6g}"
                + _ratio(got, want)
            )
    return ""


def _ratio(got: float, want: float) -> str:
    """A reported loss over the recomputed one, shown when the latter is not 0."""
    return f" (ratio {got / want:.3g})" if want else ""


def _reported(history: Any, val: np.ndarray) -> str:
    if not isinstance(history, dict):
        return f"fit returned {describe(history)}, expected a dict with train_loss and val_loss"
    for key in ("train_loss", "val_loss"):
        v = history.get(key)
        if not isinstance(v, list) or len(v) != len(val):
            n = len(v) if isinstance(v, list) else describe(v)
            return f"history[{key!r}] has {n} entries, expected one per epoch ({len(val)})"
        if not all(type(x) in (int, float) and np.isfinite(x) for x in v):
            return f"history[{key!r}] holds values that are not finite numbers"
    got = np.array(history["val_loss"], dtype=float)
    bad = np.abs(got - val) > 1e-6 * np.maximum(np.abs(val), 1e-12)
    if bad.any():
        e = int(np.argmax(bad))
        return (
            f"history['val_loss'][{e}] is {got[e]:.6g}, but the validation loss of epoch "
            f"{e + 1}'s parameters is {val[e]:.6g}{_ratio(got[e], val[e])}; "
            "the loss is (1/N) sum_n ||y_n - t_n||^2, averaged over the batch axis"
        )
    return ""
