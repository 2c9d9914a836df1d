"""The lecture's self-supervised pretext task, measured: rotate each image by 0, 90, 180 or
270 degrees, train a network to predict the rotation (labels made from the data alone),
then classify with a few labels on top of the features it learned.

The images are the 8x8 handwritten digits shipped with gradekit: a small, real, well-known
image set under CC BY 4.0 that needs no download. The ``rotation_pretext`` transform (the
reference's, or with ``--submission`` the submission's, run in the worker) makes the
pretext set from one part of the digits; the network, the reference's components, learns
it, and its first hidden layer is then compared on the other part, with a few labels per
digit, against the same layer with random weights and against training from scratch.
"""

from __future__ import annotations

import argparse

import numpy as np
from rich.console import Console
from rich.table import Table

from ..errors import GradekitError
from ..results import Figure, Panel, Series
from ..sandbox.plan import Plan
from . import mlp
from .common import (
    Skipped,
    add_common_arguments,
    check_outcome,
    implementation,
    print_skipped,
    run_each,
    save_plot,
    who,
)

SUMMARY = "self-supervised rotation pretext task, then few-label digits on its features"

PRETEXT = (64, 64, 32, 4)
"""The pretext network: pixels, two hidden layers, four rotations."""
DOWNSTREAM = (64, 64, 10)
"""The few-label network: pixels, the (pretext, random or fresh) first hidden layer, digits."""
UNLABELLED = 1000
"""Images of the pretext task; the others make the few-label task."""
STRATEGIES = {
    "from scratch": "fresh",
    "random features": "random",
    "pretext features": "pretext",
    "pretext, fine-tuned": "pretext",
}
"""Each strategy's first hidden layer; frozen unless the strategy trains every layer."""
TRAINS_ALL = ("from scratch", "pretext, fine-tuned")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Labels per digit, passes of the transform, steps of each training and the seed."""
    parser.add_argument("--labels", type=int, default=2, help="labels per digit (default 2)")
    parser.add_argument("--passes", type=int, default=4, help="rotated copies of each image")
    parser.add_argument(
        "--pretext-steps", type=int, default=600, help="steps on the pretext task (default 600)"
    )
    parser.add_argument("--steps", type=int, default=150, help="steps on the few-label task")
    parser.add_argument("--seed", type=int, default=0)
    add_common_arguments(parser)


def rotated(run: mlp.Run, images: np.ndarray, passes: int, seed: int) -> tuple[np.ndarray, ...]:
    """The pretext set: ``passes`` calls of the ``rotation_pretext`` transform on
    ``images`` (N, 8, 8): rotated images (passes N, 64), their labels' k (-1 where a label
    is not one-hot) and each image's true k (-1 where it is none of the four rotations)."""
    x = images[:, None]
    plan = Plan()
    plan.make("t", "transforms", "rotation_pretext")
    plan.routine("repeat_transform", save="out", transform={"component": "t"},
                 x=plan.array(x), y=plan.array(np.full((len(x), 4), 0.25)), seed=seed,
                 times=passes)  # fmt: skip
    outcome = run(plan)
    check_outcome(outcome, "transforms/rotation_pretext")
    out = outcome.values.get("out")
    xs, ys = (out.get("x"), out.get("y")) if isinstance(out, dict) else (None, None)
    if not (isinstance(xs, np.ndarray) and xs.shape == (passes, *x.shape)) or not (
        isinstance(ys, np.ndarray) and np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))
    ):
        raise Skipped("transforms/rotation_pretext", "returned no finite rotated batch")
    xs, ys = xs.reshape(-1, *images.shape[1:]), ys.reshape(-1, 4)
    onehot = np.all((ys == 0) | (ys == 1), axis=1) & (ys.sum(axis=1) == 1)
    labels = np.where(onehot, ys.argmax(axis=1), -1)
    truth = np.full(len(xs), -1)
    source = np.tile(images, (passes, 1, 1))
    for k in range(4):
        match = np.all(np.rot90(source, k, axes=(1, 2)) == xs, axis=(1, 2))
        truth = np.where((truth < 0) & match, k, truth)
    return xs.reshape(len(xs), -1), labels, truth


def experiment(run: mlp.Run, args: argparse.Namespace) -> dict:
    """Make the pretext set with the transform under test, train the pretext network with the
    reference, then every few-label strategy: curves, pretext accuracies, what was skipped."""
    rng = np.random.default_rng(args.seed)
    x, y = mlp.digits()
    order = rng.permutation(len(x))
    pool, task = order[:UNLABELLED], order[UNLABELLED:]
    xs, labels, truth = rotated(run, x[pool], args.passes, args.seed)
    usable = labels >= 0
    if not usable.any():
        raise GradekitError("transforms/rotation_pretext: no label is the one-hot of a rotation")
    reference = argparse.Namespace(submission=None, backend="auto")
    with implementation(reference) as network:
        k_val = rng.integers(4, size=len(task))
        held_out = np.stack([np.rot90(im, k) for im, k in zip(x[task], k_val, strict=True)])
        pretext = mlp.train(
            network, mlp.init(PRETEXT, rng), list(mlp.init(PRETEXT, rng)),
            (xs[usable], labels[usable]), args.pretext_steps, rng,
            lambda p: mlp.accuracy(p, held_out, k_val), batch=64, every=50,
        )  # fmt: skip
        chosen, rest = mlp.per_class(y[task], args.labels, rng)
        flat = x[task].reshape(len(task), -1)
        train_set, val = (flat[chosen], y[task][chosen]), (flat[rest], y[task][rest])
        fresh, head = mlp.init(DOWNSTREAM, rng), mlp.init(DOWNSTREAM, rng)
        first = {"fresh": fresh, "random": fresh, "pretext": pretext.params}

        def attempt(strategy: str) -> mlp.Curve:
            hidden = {k: v for k, v in first[STRATEGIES[strategy]].items() if "hidden1" in k}
            start = {**hidden, "head.W": head["head.W"], "head.b": head["head.b"]}
            if strategy == "from scratch":
                start = dict(fresh)
            names = list(start) if strategy in TRAINS_ALL else ["head.W", "head.b"]
            rng_steps = np.random.default_rng(args.seed)
            return mlp.train(
                network, start, names, train_set, args.steps, rng_steps,
                lambda p: mlp.accuracy(p, *val),
            )  # fmt: skip

        curves, skipped = run_each(STRATEGIES, attempt)
    return {
        "curves": curves,
        "pretext": pretext,
        "matching": float(np.mean(labels == truth)),
        "images": len(xs),
        "skipped": skipped,
    }


def figure(result: dict, title: str) -> Figure:
    """The pretext task's held-out rotation accuracy, and the few-label validation curves
    (from the first evaluation after step 0, so the axis stays linear)."""
    pretext = result["pretext"]
    left = Panel(
        kind="line",
        title="pretext task: predict the rotation",
        xlabel="step",
        ylabel="held-out rotation accuracy",
        marks={"chance": 0.25},
        series=[Series.of("rotation accuracy", pretext.accuracy, pretext.steps)],
    )
    right = Panel(
        kind="line",
        title="few-label digits",
        xlabel="step",
        ylabel="validation accuracy",
        marks={"chance": 0.1},
        series=[Series.of(s, c.accuracy[1:], c.steps[1:]) for s, c in result["curves"].items()],
    )
    return Figure(title=title, panels=[left, right])


def _check(args: argparse.Namespace) -> None:
    if not 1 <= args.labels <= 50:
        raise GradekitError("--labels must be between 1 and 50 per digit")
    if min(args.passes, args.pretext_steps, args.steps) < 1:
        raise GradekitError("--passes, --pretext-steps and --steps must be at least 1")


def run(args: argparse.Namespace, console: Console) -> int:
    """Run the experiment, print the accuracy table, save the curves with --plot."""
    _check(args)
    with implementation(args) as run_plan:
        result = experiment(run_plan, args)
    title = f"rotation pretext task, then {args.labels} label(s) per digit, seed {args.seed} " + (
        f"({who(args)})"
    )
    table = Table(title=title)
    for column in ("strategy", "first hidden layer", "trains", "validation accuracy"):
        table.add_column(column, justify="right" if column.startswith("valid") else "left")
    for strategy, c in result["curves"].items():
        trains = "every layer" if strategy in TRAINS_ALL else "the linear classifier"
        layer = {"fresh": "fresh", "random": "random, frozen", "pretext": "pretext"}[
            STRATEGIES[strategy]
        ] + (", frozen" if strategy == "pretext features" else "")
        table.add_row(strategy, layer, trains, f"{c.accuracy[-1]:.3f}")
    console.print(table)
    pretext = result["pretext"]
    console.print(
        f"pretext task: {result['images']} rotated images, labels matching their rotation: "
        f"{result['matching']:.1%}; held-out rotation accuracy {pretext.accuracy[-1]:.3f} "
        "(chance 0.25)"
    )
    print_skipped(result["skipped"], console)
    save_plot(args, figure(result, title), console)
    return 0
