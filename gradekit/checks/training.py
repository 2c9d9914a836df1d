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
- **freezing** (with ``trainable``): every other parameter is bit-for-bit its initial
  value at every logged step, and the optimizer's ``init`` and ``update`` never meet it;
  the replay updates the trained ones only, so they follow the optimizer exactly;
- **early stopping** (with ``patience``, on a constructed validation curve such as a
  valley or a plateau): the number of epochs run, and that the parameters left in the
  model are the best epoch's, not the last one's.

A first update that leaves the parameters unchanged, a validation loss that ends no lower
than after the first epoch, and parameters to fine-tune that never move fail the
trainer's purpose (severe cases, see ``credit``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..hookspecs import hookimpl
from ..results import Figure, Panel, Series
from ..sandbox.plan import Outcome, Plan
from .base import Case, CheckKind, Run, Target
from .early_stopping import make_curve
from .training_run import RUN, TrainingOptions, TrainingRun, analyse, rule_kwargs


class Training(CheckKind):
    """The trainer's loop: batches, shuffling, updates, validation and early stopping."""

    name = "training"
    kinds = ("trainers",)
    options = TrainingOptions
    summary = "the loop replayed from its log: batches, shuffling, updates, validation, stopping"

    def plan(self, target: Target, options: TrainingOptions) -> Plan:
        plan = Plan()
        plan.make("trainer", target.kind, target.name, **target.kwargs)
        kwargs = rule_kwargs(options)
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
        if target.kwargs.get("trainable") is not None:
            cases += self._freezing(got, expected)
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
    def _freezing(got: TrainingRun, want: TrainingRun) -> list[Case]:
        """Frozen parameters never move and never meet the optimizer; the trained ones do
        move (they follow the optimizer exactly: the replay checks it)."""
        cases = [_same("frozen parameters", got.frozen, want.frozen)]
        cases.append(_same("no optimizer state for frozen parameters", got.stateful, want.stateful))
        ok = got.trained_moved == want.trained_moved
        cases.append(
            Case(
                "trained parameters move",
                ok,
                ""
                if ok
                else "trained parameters move: the parameters listed in trainable end where "
                "they started: nothing is fine-tuned",
                severe=not got.trained_moved and want.trained_moved,
            )
        )
        return cases

    @staticmethod
    def _updates(got: TrainingRun, want: TrainingRun) -> Case:
        same_scale = bool(
            np.isfinite(got.scale)
            and abs(got.scale - want.scale) <= 1e-6 * max(1.0, abs(want.scale))
            and (got.residual <= 1e-6) == (want.residual <= 1e-6)
        )
        if same_scale and bool(got.replay) == bool(want.replay):
            return Case("updates", True)
        if got.scale == 0 and got.residual == 0 and want.scale != 0:
            return Case(
                "updates",
                False,
                "updates: the first batch leaves the parameters unchanged: store what the "
                "optimizer's update returns (new_param, new_state) in the model",
                severe=True,
            )
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
        stuck = not got.val[-1] < got.val[0] and want.val[-1] < want.val[0]
        if stuck:
            message += f"; no lower than after epoch 1 ({got.val[0]:.4g}): the model does not learn"
        return Case("loss curve", False, f"loss curve: {message}", severe=stuck)


def _same(name: str, got: str, want: str) -> Case:
    """A case passing when the student's problem (or its absence) is the expected one's."""
    if bool(got) == bool(want):
        return Case(name, True)
    return Case(name, False, f"{name}: {got}" if got else f"{name}: expected a problem: {want}")


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The trainer check."""
    return [Training()]
