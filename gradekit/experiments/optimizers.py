"""The lecture's optimizers side by side on one problem: loss curves and, on the 2-D
problems, their paths (SGD's zig-zag across the narrow ravine against momentum's).

Each optimizer runs the convergence check's plan (gradekit's ``optimize`` routine) on the
reference or, with ``--submission``, on the submission's optimizer in the worker; the
losses are recomputed here from the returned path, as in grading. Optimizers a half-done
submission has not registered or still leaves as TODO are skipped, each with a line.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from ..checks.base import Target
from ..checks.convergence import (
    Convergence,
    ConvergenceOptions,
    Trajectory,
    loss_panel,
    path_panel,
    trajectory,
)
from ..errors import GradekitError
from ..problems import PROBLEMS
from ..results import Figure
from .common import (
    Run,
    Skipped,
    add_common_arguments,
    implementation,
    print_skipped,
    run_each,
    save_plot,
    who,
    why_not,
)

SUMMARY = "SGD, momentum, Nesterov, Adagrad, RMSProp and Adam on one problem: losses and paths"

SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "ravine": {
        "sgd": {"lr": 0.15},
        "momentum": {"lr": 0.02, "mu": 0.9},
        "nesterov": {"lr": 0.02, "mu": 0.9},
        "adagrad": {"lr": 1.0},
        "rmsprop": {"lr": 0.1},
        "adam": {"lr": 0.3},
    },
    "rosenbrock": {
        "sgd": {"lr": 0.001},
        "momentum": {"lr": 0.001, "mu": 0.9},
        "nesterov": {"lr": 0.001, "mu": 0.9},
        "adagrad": {"lr": 0.5},
        "rmsprop": {"lr": 0.01},
        "adam": {"lr": 0.05},
    },
    "mlp": {
        "sgd": {"lr": 0.5},
        "momentum": {"lr": 0.1, "mu": 0.9},
        "nesterov": {"lr": 0.1, "mu": 0.9},
        "adagrad": {"lr": 0.3},
        "rmsprop": {"lr": 0.01},
        "adam": {"lr": 0.02},
    },
}
"""Hyperparameters per problem and optimizer (those of the optimization assignment's
convergence checks where it has them)."""

STEPS = {"ravine": 100, "rosenbrock": 1000, "mlp": 500}


def train(run: Run, name: str, kwargs: dict[str, Any], problem: str, steps: int) -> Trajectory:
    """One optimizer's validated run on ``problem``: the convergence check's own plan;
    ``Skipped`` when it cannot run (not registered, a TODO, an exception, a bad path)."""
    options = ConvergenceOptions(problem=problem, steps=steps)
    plan = Convergence().plan(Target("optimizers", name, kwargs, 0, dict), options)
    got = trajectory(run(plan), problem, steps)
    if not got.ok:
        raise Skipped(f"optimizers/{name}", why_not(got.failure, f"on the {problem}: {got.detail}"))
    return got


def _g(x: float) -> str:
    return f"{x:.3g}" if np.isfinite(x) else "diverged"


def describe(kwargs: dict[str, Any]) -> str:
    """Hyperparameters as ``lr=0.02, mu=0.9``."""
    return ", ".join(f"{k}={v:g}" for k, v in kwargs.items())


def curves_figure(title: str, problem: str, runs: dict[str, Trajectory]) -> Figure:
    """Loss curves of several runs and, on a 2-D problem, their paths."""
    panels = [loss_panel({k: t.losses for k, t in runs.items()}, f"loss on the {problem}")]
    if all(set(t.path) == {"w"} for t in runs.values()):
        paths = path_panel(problem, {k: t.path["w"] for k, t in runs.items()}, "paths")
        if paths is not None:
            panels.append(paths)
    return Figure(title=title, panels=panels)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The problem, the optimizers and the number of steps."""
    parser.add_argument("--problem", choices=list(PROBLEMS), default="ravine")
    parser.add_argument(
        "--optimizers",
        default=",".join(SETTINGS["ravine"]),
        help="comma-separated names (default: all six)",
    )
    parser.add_argument("--steps", type=int, help="updates per optimizer (default by problem)")
    add_common_arguments(parser)


def run(args: argparse.Namespace, console: Console) -> int:
    """Train each optimizer, print the loss table, and save losses and paths with --plot."""
    names = [n.strip() for n in args.optimizers.split(",") if n.strip()]
    unknown = [n for n in names if n not in SETTINGS[args.problem]]
    if unknown or not names:
        known = ", ".join(SETTINGS[args.problem])
        raise GradekitError(f"--optimizers: unknown {', '.join(unknown) or 'none'}; known: {known}")
    steps = args.steps or STEPS[args.problem]
    if steps < 1:
        raise GradekitError("--steps must be at least 1")
    with implementation(args) as run_plan:
        runs, skipped = run_each(
            names, lambda n: train(run_plan, n, SETTINGS[args.problem][n], args.problem, steps)
        )
    title = f"optimizers on the {args.problem}, {steps} steps ({who(args)})"
    table = Table(title=title)
    for column in ("optimizer", "hyperparameters", "loss at 0", f"at {steps // 10}", "final"):
        table.add_column(
            column, justify="right" if column.startswith(("loss", "at", "f")) else "left"
        )
    for name, t in runs.items():
        losses = np.concatenate([t.losses, np.full(steps + 1 - len(t.losses), np.nan)])
        table.add_row(
            name,
            describe(SETTINGS[args.problem][name]),
            _g(losses[0]),
            _g(losses[steps // 10]),
            _g(losses[-1]),
        )
    console.print(table)
    print_skipped(skipped, console)
    save_plot(args, curves_figure(title, args.problem, runs), console)
    return 0
