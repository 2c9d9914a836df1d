"""Trainer checks: the mini-batch loop, replayed and re-measured by the grader.

The worker runs the student's ``fit`` on gradekit's regression problem with gradekit's
model and optimizer (``gradekit.regression``); the model logs every batch it sees and the
parameters at every validation pass. The parent reads that log and checks, each against
the same feature of the reference's run:

- **epochs**: every epoch visits every training example once, in batches of
  ``batch_size`` (the last may be smaller);
- **shuffling**: the order is a fresh permutation every epoch;
- **updates**: the first update is one optimizer step along the gradient of the batch's
  mean squared error (the message gives the ratio when it is not), and replaying every
  logged batch with gradekit's own gradient and optimizer reproduces every epoch's
  parameters;
- **validation**: the reported ``val_loss`` of each epoch is the validation loss of that
  epoch's parameters, recomputed by the grader;
- **training loss**: the reported ``train_loss`` of each epoch is the mean of its batch
  losses, each recomputed by the grader at the parameters the batch met;
- **loss curve** (on the real problem): the recomputed validation curve stays within
  ``band`` decades of the reference's, and the final loss reaches it;
- **early stopping** (with ``patience``, on a constructed validation curve such as a
  valley or a plateau): the number of epochs run, and that the parameters left in the
  model are the best epoch's, not the last one's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import Field

from .. import regression
from ..hookspecs import hookimpl
from ..results import Figure, Panel, Series
from ..sandbox.plan import Outcome, Plan
from .base import Case, CheckKind, Options, Run, Target
from .compare import describe, failed_call
from .early_stopping import make_curve

RUN = "run"
NAMES = ("W1", "b1", "W2", "b2")


class TrainingOptions(Options):
    optimizer: Literal["sgd", "momentum"] = "sgd"
    """gradekit's optimizer handed to the trainer."""
    lr: float = Field(default=0.1, gt=0)
    mu: float = Field(default=0.9, ge=0, lt=1)
    """Momentum's mu (ignored by sgd)."""
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


def _sizes(n: int, batch: int) -> list[int]:
    return [min(batch, n - s) for s in range(0, n, batch)]


def _flat(p: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([np.ravel(p[k]) for k in NAMES])


def _params_at(stack: dict[str, np.ndarray], i: int) -> dict[str, np.ndarray]:
    return {k: stack[k][i] for k in NAMES}


def _rule(options: TrainingOptions) -> regression.Rule:
    kwargs = {"lr": options.lr}
    if options.optimizer == "momentum":
        kwargs["mu"] = options.mu
    return regression.RULES[options.optimizer](**kwargs)


def _valid_stack(value: Any, start: dict[str, np.ndarray]) -> bool:
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
    p0 = _params_at(first, 0)
    if not all(np.array_equal(p0[k], start[k]) for k in NAMES):
        return "training did not start from the model's initial parameters"
    if len(first["W1"]) > 1 and len(sizes):
        batch_rows = rows[: sizes[0]]
        g = regression.grads(p0, data["x"][batch_rows], data["t"][batch_rows])
        want = _flat({k: update(p0[k], g[k], init(p0[k]))[0] - p0[k] for k in NAMES})
        got = _flat(_params_at(first, 1)) - _flat(p0)
        denom = float(want @ want)
        run.scale = float(got @ want) / denom if denom > 0 else float("nan")
        run.residual = float(np.linalg.norm(got - run.scale * want) / np.sqrt(denom))
    run.replay, batch_means = _replay(
        rows, offsets, step_epoch, snaps, start, data, (init, update), run.epochs
    )
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
    final = value.get("final")
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


def _replay(rows, offsets, step_epoch, snaps, start, data, rule, epochs) -> tuple[str, list[float]]:
    """Rerun every logged step with trusted code; say where it departs from the log. Also
    the mean batch loss of every epoch the replay reproduced, each batch's loss taken at
    the parameters it met (before its update), as ``train_loss`` reports it."""
    init, update = rule
    p = {k: v.copy() for k, v in start.items()}
    state = {k: init(v) for k, v in p.items()}
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
                for k in NAMES:
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


def _reported_train(reported: list, means: list[float]) -> str:
    """Why the reported ``train_loss`` differs from the recomputed batch means ("" when
    it does not), on the epochs the replay reproduced."""
    for e, want in enumerate(means):
        got = float(reported[e])
        if np.isfinite(want) and abs(got - want) > 1e-6 * max(abs(want), 1e-12):
            return (
                f"history['train_loss'][{e}] is {got:.6g}, but the mean of epoch {e + 1}'s "
                f"batch losses, each at the parameters the batch met, is {want:.6g}"
                + (f" (ratio {got / want:.3g})" if want else "")
            )
    return ""


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
            f"{e + 1}'s parameters is {val[e]:.6g} (ratio {got[e] / val[e]:.3g}); "
            "the loss is (1/N) sum_n ||y_n - t_n||^2, averaged over the batch axis"
        )
    return ""


class Training(CheckKind):
    """The trainer's loop: batches, shuffling, updates, validation and early stopping."""

    name = "training"
    kinds = ("trainers",)
    options = TrainingOptions
    summary = "the loop replayed from its log: batches, shuffling, updates, validation, stopping"

    def plan(self, target: Target, options: TrainingOptions) -> Plan:
        plan = Plan()
        plan.make("trainer", target.kind, target.name, **target.kwargs)
        kwargs = {"lr": options.lr}
        if options.optimizer == "momentum":
            kwargs["mu"] = options.mu
        script = None
        if options.curve is not None:
            patience = int(target.kwargs.get("patience") or 1)
            script = make_curve(options.curve, patience, 0.0, target.rng(1))
        plan.routine(
            "train_run",
            RUN,
            trainer={"component": "trainer"},
            optimizer=options.optimizer,
            optimizer_kwargs=kwargs,
            seed=target.seed,
            script=None if script is None else plan.array(script),
        )
        plan.meta = {"script": script}
        return plan

    def expect(self, target: Target, options: TrainingOptions, plan: Plan, run: Run) -> Any:
        return analyse(run(plan), target, options, plan.meta)

    def judge(
        self, target: Target, options: TrainingOptions, plan: Plan, outcome: Outcome, expected: Any
    ) -> list[Case]:
        if isinstance(expected, str):
            return [Case("run", False, f"the reference's run failed: {expected}")]
        got = analyse(outcome, target, options, plan.meta)
        if isinstance(got, str):
            return [Case("run", False, got)]
        cases = [
            _same("epochs", got.coverage, expected.coverage),
            Case(
                "shuffling",
                got.shuffled == expected.shuffled,
                ""
                if got.shuffled == expected.shuffled
                else "shuffling: every epoch visits the training examples in the same order "
                "(first batch rows "
                f"{got.orders[0][:6].tolist() if got.orders else []}...); expected a fresh "
                "permutation from rng each epoch",
            ),
            self._updates(got, expected),
            _same("validation", got.reported, expected.reported),
            _same("training loss", got.reported_train, expected.reported_train),
        ]
        if target.kwargs.get("patience") is not None:
            ok = got.epochs == expected.epochs
            cases.append(
                Case(
                    "epochs run",
                    ok,
                    ""
                    if ok
                    else f"epochs run: {got.epochs}, expected {expected.epochs} (validation "
                    f"losses {', '.join(f'{v:.4g}' for v in got.val[: got.epochs])}; stop after "
                    f"patience = {target.kwargs['patience']} epochs without a lower loss)",
                )
            )
            ok = got.kept == expected.kept
            cases.append(
                Case(
                    "best weights",
                    ok,
                    ""
                    if ok
                    else f"best weights: the model ends with the {got.kept} epoch's "
                    f"parameters, expected the {expected.kept} epoch's (epoch {got.best + 1}, "
                    "the lowest validation loss): restore the best weights after stopping",
                )
            )
        if options.curve is None:
            cases.append(self._curve(got, expected, options))
        return cases

    def figure(
        self, target: Target, options: TrainingOptions, plan: Plan, outcome: Outcome, expected: Any
    ) -> Figure | None:
        """The learning curves, training and validation loss by epoch, beside the reference's."""
        got = analyse(outcome, target, options, plan.meta)
        runs = {"yours": got, "reference": expected}
        runs = {k: v for k, v in runs.items() if isinstance(v, TrainingRun) and v.epochs}
        if not runs:
            return None
        panels = [
            Panel(
                kind="line",
                title=title,
                xlabel="epoch",
                ylabel="loss",
                log=True,
                series=[
                    Series.of(k, getattr(v, key), np.arange(1, v.epochs + 1))
                    for k, v in runs.items()
                ],
            )
            for key, title in (("train", "training loss"), ("val", "validation loss"))
        ]
        what = f"on a constructed {options.curve} curve" if options.curve else "on the regression"
        return Figure(title=f"{target.name}: learning curves {what}", panels=panels)

    @staticmethod
    def _updates(got: TrainingRun, want: TrainingRun) -> Case:
        same_scale = bool(
            np.isfinite(got.scale)
            and abs(got.scale - want.scale) <= 1e-6 * max(1.0, abs(want.scale))
            and (got.residual <= 1e-6) == (want.residual <= 1e-6)
        )
        if same_scale and bool(got.replay) == bool(want.replay):
            return Case("updates", True)
        if not same_scale:
            message = (
                f"updates: the first update is {got.scale:.4g} times the optimizer's step along "
                f"the gradient of the batch's mean squared error, expected {want.scale:.4g}"
            )
            if got.residual > 1e-6:
                message += f" (and {got.residual:.2g} of it points elsewhere)"
            message += "; the gradient is dL/dy = 2 (y - t) / N, N the batch size"
        else:
            message = f"updates: {got.replay or 'the replay matches, expected it not to'}"
        return Case("updates", False, message)

    @staticmethod
    def _curve(got: TrainingRun, want: TrainingRun, options: TrainingOptions) -> Case:
        n = min(len(got.val), len(want.val))
        dist = np.abs(np.log10(got.val[:n]) - np.log10(want.val[:n]))
        final = got.val[-1] <= options.final_factor * want.val[-1]
        if n == len(want.val) and not (dist > options.band).any() and final:
            return Case("loss curve", True)
        if n < len(want.val):
            message = f"ran {len(got.val)} epochs, expected {len(want.val)}"
        elif (dist > options.band).any():
            e = int(np.argmax(dist > options.band))
            message = (
                f"validation loss after epoch {e + 1}: {got.val[e]:.4g}, expected "
                f"{want.val[e]:.4g} from the reference; |log10 ratio| {dist[e]:.2f} > "
                f"{options.band:g} decades"
            )
        else:
            message = (
                f"final validation loss {got.val[-1]:.4g}, expected at most "
                f"{options.final_factor:g} x the reference's {want.val[-1]:.4g}"
            )
        return Case("loss curve", False, f"loss curve: {message}")


def _same(name: str, got: str, want: str) -> Case:
    """A case passing when the student's problem (or its absence) is the expected one's."""
    if bool(got) == bool(want):
        return Case(name, True)
    return Case(name, False, f"{name}: {got}" if got else f"{name}: expected a problem: {want}")


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The trainer check."""
    return [Training()]
