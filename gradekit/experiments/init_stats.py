"""The lecture's initialization experiment: per-layer activation statistics of a deep net.

``depth`` layers of ``width`` units (no biases, gradekit's own non-linearity) on a batch of
unit Gaussians, weights from an initializer: the reference's, or a submission's run in the
worker. The same plan and routine as the ``init_experiment`` check; the figure is the
lecture's per-layer histograms, drawn by the HTML report's code.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
from rich.console import Console
from rich.table import Table

from ..checks.base import Target
from ..checks.init_experiment import (
    ExperimentOptions,
    InitExperiment,
    activation_figure,
    default_reading,
)
from ..errors import GradekitError
from ..routines import ACTIVATIONS
from .common import (
    Run,
    Skipped,
    add_common_arguments,
    check_outcome,
    implementation,
    save_plot,
    who,
)

SUMMARY = "per-layer activation mean and std of a deep net at initialization (6 x 4096)"


@dataclass(frozen=True)
class LayerStats:
    """One layer's activation statistics."""

    layer: int
    mean: float
    std: float
    saturated: float
    """The fraction with ``|x| > 0.99`` (tanh at +-1)."""
    zero: float
    """The fraction exactly 0 (dead ReLU units)."""


def activations(
    run: Run,
    init: str,
    kwargs: dict,
    activation: str,
    depth: int = 6,
    width: int = 4096,
    batch: int = 16,
    seed: int = 0,
) -> np.ndarray:
    """Every layer's activations, shape (depth, batch, width), from the check's own plan;
    ``Skipped`` (one line, why) when the initializer cannot run."""
    options = ExperimentOptions(activation=activation, depth=depth, width=width, batch=batch)
    target = Target("initializers", init, kwargs, seed, reference=dict)
    plan = InitExperiment().plan(target, options)
    outcome = run(plan)
    check_outcome(outcome, f"initializers/{init}")
    got = outcome.values.get("run")
    acts = got.get("activations") if isinstance(got, dict) else None
    if not isinstance(acts, np.ndarray) or acts.shape != (depth, batch, width):
        raise Skipped(f"initializers/{init}", "the experiment returned no activations")
    return acts.astype(np.float64)


def layer_stats(acts: np.ndarray) -> list[LayerStats]:
    """Mean, std, saturated and zero fractions of every layer."""
    return [
        LayerStats(
            i + 1,
            float(a.mean()),
            float(a.std()),
            float(np.mean(np.abs(a) > 0.99)),
            float(np.mean(a == 0.0)),
        )
        for i, a in enumerate(acts)
    ]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The experiment's options; depth, width and batch default to the lecture's."""
    parser.add_argument("--activation", choices=list(ACTIVATIONS), default="tanh")
    parser.add_argument(
        "--init", default="xavier", help="an initializer's name, e.g. normal, xavier, he"
    )
    parser.add_argument("--std", type=float, help="the standard deviation of --init normal")
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--width", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    add_common_arguments(parser)


def run(args: argparse.Namespace, console: Console) -> int:
    """Run the experiment, print the per-layer table, and save the histograms with --plot."""
    for name in ("depth", "width", "batch"):
        if getattr(args, name) < 1:
            raise GradekitError(f"--{name} must be at least 1")
    kwargs = {"std": args.std} if args.std is not None else {}
    with implementation(args) as run_plan:
        acts = activations(
            run_plan,
            args.init,
            kwargs,
            args.activation,
            args.depth,
            args.width,
            args.batch,
            args.seed,
        )
    init = f"{args.init}(std={args.std:g})" if args.std is not None else args.init
    title = f"{args.activation}, {init} weights: {args.depth} layers of {args.width}, " + (
        f"batch {args.batch} ({who(args)})"
    )
    extra = {"tanh": ("saturated: |x| > 0.99", "saturated"), "relu": ("zero", "zero")}.get(
        args.activation
    )
    table = Table(title=title)
    for column in ("layer", "mean", "std") + ((extra[0],) if extra else ()):
        table.add_column(column, justify="right")
    for s in layer_stats(acts):
        row = [str(s.layer), f"{s.mean:.3f}", f"{s.std:.3f}"]
        table.add_row(*row, *([f"{getattr(s, extra[1]):.1%}"] if extra else []))
    console.print(table)
    options = ExperimentOptions(
        activation=args.activation, depth=args.depth, width=args.width, batch=args.batch
    )
    reading = default_reading(Target("initializers", args.init, kwargs, 0, dict), options)
    if reading != f"{args.activation} with {args.init} weights":  # one of the lecture's cases
        console.print(f"The lecture: {reading}.")
    figure = activation_figure({who(args): acts}, args.activation, title)
    save_plot(args, figure, console)
    return 0
