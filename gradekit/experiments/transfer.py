"""The lecture's transfer-learning table, measured: re-use a network trained on a first
task for a second task with few labels, from scratch, as a linear classifier on the frozen
top layer, fine-tuning the last layers, or fine-tuning all.

The data are the 8x8 handwritten digits shipped with gradekit. The first task is "which
digit" on one part of them with every label; the second task has a few labels per digit
on the other part: the same kind of images (a very similar database), or the same images
with their pixels scrambled by a fixed permutation (a very different one, whose lower
layers' features do not apply). Every pass runs the ``linear``, ``relu`` and
``softmax_cross_entropy`` components (the reference's, or with ``--submission`` the
submission's in the worker); the updates, with the reference's Adam, touch only the
trained parameters.
"""

from __future__ import annotations

import argparse

import numpy as np
from rich.console import Console
from rich.table import Table

from ..errors import GradekitError
from ..results import Figure, Panel, Series
from . import mlp
from .common import add_common_arguments, implementation, print_skipped, run_each, save_plot, who

SUMMARY = "transfer learning: scratch, frozen features, fine-tuning the last layers or all"

SIZES = (64, 64, 32, 10)
"""Input pixels, two hidden layers, ten digits."""
FIRST = 1000
"""Images of the first task; the others make the second."""
STRATEGIES = {
    "from scratch": None,
    "linear classifier on frozen features": ("head",),
    "fine-tune the last layers": ("hidden2", "head"),
    "fine-tune all": ("hidden1", "hidden2", "head"),
}
"""Each strategy's trained layers (None: every layer, from a fresh initialisation)."""
TASKS = ("similar", "different")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Labels per digit, steps of each training and the seed."""
    parser.add_argument("--labels", type=int, default=2, help="labels per digit (default 2)")
    parser.add_argument("--steps", type=int, default=150, help="steps on the second task")
    parser.add_argument(
        "--pretrain-steps", type=int, default=300, help="steps on the first task (default 300)"
    )
    parser.add_argument("--seed", type=int, default=0)
    add_common_arguments(parser)


def second_tasks(
    x: np.ndarray, y: np.ndarray, labels: int, rng: np.random.Generator
) -> dict[str, dict[str, np.ndarray]]:
    """The similar and the different second task: ``labels`` training images per digit and
    the rest for validation; the different one scrambles the pixels by one permutation."""
    chosen, rest = mlp.per_class(y, labels, rng)
    flat = x.reshape(len(x), -1)
    scrambled = flat[:, rng.permutation(flat.shape[1])]
    return {
        task: {"x": data[chosen], "y": y[chosen], "x_val": data[rest], "y_val": y[rest]}
        for task, data in zip(TASKS, (flat, scrambled), strict=True)
    }


def experiment(run: mlp.Run, args: argparse.Namespace) -> dict:
    """Pretrain on the first task, then train every strategy on both second tasks: the
    curves by task and strategy, the first task's held-out accuracy, and what was skipped."""
    rng = np.random.default_rng(args.seed)
    x, y = mlp.digits()
    order = rng.permutation(len(x))
    first, second = order[:FIRST], order[FIRST:]
    tasks = second_tasks(x[second], y[second], args.labels, rng)
    first_val = x[second].reshape(len(second), -1), y[second]

    def pretrain(_: str) -> mlp.Curve:
        params = mlp.init(SIZES, rng)
        data = x[first].reshape(FIRST, -1), y[first]
        return mlp.train(run, params, list(params), data, args.pretrain_steps, rng,
                         lambda p: mlp.accuracy(p, *first_val), batch=64, every=50)  # fmt: skip

    pretrained = run_each(["first task"], pretrain)[0]["first task"]
    head = mlp.init(SIZES, rng)  # the new head every transferred strategy starts from
    scratch = mlp.init(SIZES, rng)

    def attempt(strategy: str) -> dict[str, mlp.Curve]:
        layers = STRATEGIES[strategy]
        start = dict(scratch) if layers is None else {**pretrained.params}
        if layers is not None:
            start.update({k: v for k, v in head.items() if k.startswith("head.")})
        names = list(start) if layers is None else [k for k in start if k.split(".")[0] in layers]
        curves = {}
        for task, d in tasks.items():
            curves[task] = mlp.train(
                run, start, names, (d["x"], d["y"]), args.steps, np.random.default_rng(args.seed),
                lambda p, d=d: mlp.accuracy(p, d["x_val"], d["y_val"]),
            )  # fmt: skip
        return curves

    curves, skipped = run_each(STRATEGIES, attempt)
    return {"curves": curves, "first": pretrained.accuracy[-1], "skipped": skipped}


def figure(curves: dict[str, dict[str, mlp.Curve]], title: str) -> Figure:
    """Validation accuracy against the step (from the first evaluation after step 0, so the
    axis stays linear), one panel per second task."""
    panels = [
        Panel(
            kind="line",
            title=f"{task} second task",
            xlabel="step on the second task",
            ylabel="validation accuracy",
            series=[
                Series.of(s, c[task].accuracy[1:], c[task].steps[1:]) for s, c in curves.items()
            ],
        )
        for task in TASKS
    ]
    return Figure(title=title, panels=panels)


def _check(args: argparse.Namespace) -> None:
    if not 1 <= args.labels <= 100:
        raise GradekitError("--labels must be between 1 and 100 per digit")
    if args.steps < 1 or args.pretrain_steps < 1:
        raise GradekitError("--steps and --pretrain-steps must be at least 1")


def run(args: argparse.Namespace, console: Console) -> int:
    """Run the experiment, print the accuracy table, save the curves with --plot."""
    _check(args)
    with implementation(args) as run_plan:
        result = experiment(run_plan, args)
    curves = result["curves"]
    title = (
        f"transfer from digits to {args.labels} label(s) per digit, seed {args.seed} ({who(args)})"
    )
    table = Table(title=title)
    for column in ("strategy", "trains", "similar task", "different task"):
        table.add_column(column, justify="left" if column in ("strategy", "trains") else "right")
    for strategy, c in curves.items():
        layers = STRATEGIES[strategy]
        trains = "every layer, fresh" if layers is None else ", ".join(layers)
        table.add_row(strategy, trains, *(f"{c[t].accuracy[-1]:.3f}" for t in TASKS))
    console.print(table)
    console.print(
        f"validation accuracy after {args.steps} steps; the first task's network reaches "
        f"{result['first']:.3f} on held-out digits"
    )
    for task in TASKS:
        best = max(curves, key=lambda s, t=task: curves[s][t].accuracy[-1])
        console.print(f"best on the {task} task: {best}")
    print_skipped(result["skipped"], console)
    save_plot(args, figure(curves, title), console)
    return 0
