"""The lecture's learning-rate picture: too small converges very slowly, a good rate
converges, too big overshoots and even diverges.

One optimizer (SGD by default) trains the small MLP on the spiral (or another problem) at
three rates, through the convergence check's plan; the figure is the three loss curves.
A rate at which a submission's optimizer cannot run is skipped with a line.
"""

from __future__ import annotations

import argparse

import numpy as np
from rich.console import Console
from rich.table import Table

from ..errors import GradekitError
from ..problems import PROBLEMS
from .common import add_common_arguments, implementation, print_skipped, run_each, save_plot, who
from .optimizers import SETTINGS, curves_figure, train

SUMMARY = "too small, good and too big learning rates: the loss curves of the lecture"

RATES = {"mlp": (0.01, 1.0, 10.0), "ravine": (0.01, 0.15, 0.21), "rosenbrock": (1e-5, 1e-3, 3e-3)}
"""Too small, good and too big rates of SGD per problem."""
LABELS = ("too small", "good", "too big")


def reading(losses: np.ndarray) -> str:
    """What a loss curve did: diverged, went up, or how much of the loss it removed."""
    if not np.all(np.isfinite(losses)):
        return f"diverged at step {int(np.argmax(~np.isfinite(losses)))}"
    start, end = float(losses[0]), float(losses[-1])
    if end >= start or float(losses.max()) > 2 * start:
        return f"overshoots: the loss peaks at {float(losses.max()):.3g}"
    return f"converges: {1 - end / start:.0%} of the starting loss removed"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The problem, the optimizer, the three rates and the number of steps."""
    parser.add_argument("--problem", choices=list(PROBLEMS), default="mlp")
    parser.add_argument("--optimizer", default="sgd", choices=list(SETTINGS["mlp"]))
    parser.add_argument(
        "--rates",
        type=lambda s: tuple(float(x) for x in s.split(",")),
        help="three comma-separated rates: too small, good, too big (default by problem, SGD's)",
    )
    parser.add_argument("--steps", type=int, default=200)
    add_common_arguments(parser)


def run(args: argparse.Namespace, console: Console) -> int:
    """Train at each rate, print how each curve behaves, save the curves with --plot."""
    rates = args.rates or RATES[args.problem]
    if len(rates) != 3 or min(rates) <= 0:
        raise GradekitError("--rates takes three positive rates: too small, good, too big")
    if args.steps < 1:
        raise GradekitError("--steps must be at least 1")
    others = {k: v for k, v in SETTINGS[args.problem][args.optimizer].items() if k != "lr"}
    at = {f"{label}: lr={lr:g}": lr for label, lr in zip(LABELS, rates, strict=True)}
    with implementation(args) as run_plan:
        runs, skipped = run_each(
            at,
            lambda k: train(
                run_plan, args.optimizer, {**others, "lr": at[k]}, args.problem, args.steps
            ),
        )
    title = f"{args.optimizer} on the {args.problem} at three learning rates ({who(args)})"
    table = Table(title=title)
    for column in ("learning rate", "loss at 0", "final", "what happens"):
        table.add_column(column)
    for name, t in runs.items():
        final = float(t.losses[-1])
        table.add_row(name, f"{t.losses[0]:.3g}", f"{final:.3g}", reading(t.losses))
    console.print(table)
    print_skipped(skipped, console)
    figure = curves_figure(title, args.problem, runs)
    figure.panels = figure.panels[:1]  # the lecture's picture is the loss curves
    save_plot(args, figure, console)
    return 0
