"""The lecture's hyperparameter search: random search of the learning rate on a log scale,
then a finer round around the best results (coarse to fine).

Each trial trains one optimizer (any registered one: the reference's, or with
``--submission`` the submission's, in the worker) on the small MLP of the spiral, through
the convergence check's plan; the grader's side recomputes the training loss from the
returned parameters and measures the validation loss on a second spiral. Settings are
proposed by the reference's ``log_uniform`` and ``coarse_to_fine`` strategies. The figure
is the lecture's coarse-to-fine picture: validation loss against the learning rate.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from ..errors import GradekitError
from ..problems import mlp_validation_loss
from ..results import Figure, Panel, Series
from .common import add_common_arguments, implementation, save_plot, who
from .optimizers import SETTINGS, describe, train

SUMMARY = "random search of the learning rate on a log scale, coarse to fine, on the small MLP"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The optimizer, the range and number of trials, the rounds and the steps per trial."""
    parser.add_argument("--optimizer", default="sgd", help="a registered optimizer (default sgd)")
    parser.add_argument("--low", type=float, default=1e-4, help="smallest learning rate")
    parser.add_argument("--high", type=float, default=10.0, help="largest learning rate")
    parser.add_argument("--trials", type=int, default=20, help="trials per round (default 20)")
    parser.add_argument("--rounds", type=int, default=2, help="1: coarse only; 2: then fine")
    parser.add_argument("--steps", type=int, default=200, help="updates per trial")
    parser.add_argument("--seed", type=int, default=0, help="seed of the proposals")
    add_common_arguments(parser)


def _check(args: argparse.Namespace) -> None:
    if not 0 < args.low < args.high:
        raise GradekitError("--low and --high must satisfy 0 < low < high")
    if args.trials < 2 or args.rounds not in (1, 2) or args.steps < 1:
        raise GradekitError("--trials must be at least 2, --rounds 1 or 2, --steps at least 1")


def _trial(run: Any, args: argparse.Namespace, lr: float) -> dict[str, float]:
    """Train at ``lr``; the final training loss and the validation loss of its weights."""
    others = {k: v for k, v in SETTINGS["mlp"].get(args.optimizer, {}).items() if k != "lr"}
    t = train(run, args.optimizer, {**others, "lr": lr}, "mlp", args.steps)
    final = {k: v[-1] for k, v in t.path.items()}
    finite = all(np.all(np.isfinite(v)) for v in final.values())
    val = mlp_validation_loss(final) if finite else float("nan")
    return {"lr": lr, "train": float(t.losses[-1]), "val": val if np.isfinite(val) else np.nan}


def search(run: Any, args: argparse.Namespace) -> list[list[dict[str, float]]]:
    """The rounds of trials: a log-uniform coarse round, then one in the narrowed range."""
    from gradekit_reference.search import CoarseToFine

    strategy, rng = CoarseToFine(keep=0.25), np.random.default_rng(args.seed)
    space = {"lr": (args.low, args.high)}
    rounds = [[_trial(run, args, s["lr"]) for s in strategy.propose(space, args.trials, rng)]]
    if args.rounds == 2:
        scored = [({"lr": r["lr"]}, r["val"]) for r in rounds[0] if np.isfinite(r["val"])]
        if len(scored) < 2:
            raise GradekitError(
                "fewer than two trials of the coarse round trained: widen the range"
            )
        proposals = strategy.refine(space, scored, args.trials, rng)
        rounds.append([_trial(run, args, s["lr"]) for s in proposals])
    return rounds


def _g(x: float) -> str:
    return f"{x:.4g}" if np.isfinite(x) else "diverged"


def figure(rounds: list[list[dict[str, float]]], best: dict[str, float], title: str) -> Figure:
    """The coarse-to-fine picture: validation loss against the learning rate, log x axis;
    a diverged trial has no loss (None), which the plot marks at the top of the axis."""
    series = [
        Series.of(f"{label} round", [r["val"] for r in trials], [r["lr"] for r in trials])
        for trials, label in zip(rounds, ("coarse", "fine"), strict=False)
    ]
    series.append(Series.of("best", [best["val"]], [best["lr"]]))
    panel = Panel(
        kind="scatter",
        xlabel="learning rate (log scale)",
        ylabel="validation loss",
        logx=True,
        series=series,
    )
    return Figure(title=title, panels=[panel])


def run(args: argparse.Namespace, console: Console) -> int:
    """Search, print the trials by validation loss and the best setting, plot with --plot."""
    _check(args)
    with implementation(args) as run_plan:
        rounds = search(run_plan, args)
    trials = [(i, r) for i, trials in enumerate(rounds) for r in trials]
    ranked = sorted(trials, key=lambda t: (not np.isfinite(t[1]["val"]), t[1]["val"]))
    title = (
        f"{args.optimizer}: random search of lr in [{args.low:g}, {args.high:g}] on a log scale, "
        f"{args.steps} steps on the small MLP ({who(args)})"
    )
    table = Table(title=title)
    for column in ("round", "learning rate", "training loss", "validation loss"):
        table.add_column(column, justify="right")
    for i, r in ranked[:10]:
        table.add_row(("coarse", "fine")[i], f"{r['lr']:.4g}", _g(r["train"]), _g(r["val"]))
    console.print(table)
    if not np.isfinite(ranked[0][1]["val"]):
        raise GradekitError("every trial diverged: lower --high")
    best = ranked[0][1]
    others = {k: v for k, v in SETTINGS["mlp"].get(args.optimizer, {}).items() if k != "lr"}
    setting = describe({**others, "lr": best["lr"]})
    console.print(
        f"best: {args.optimizer} with {setting}: validation loss {best['val']:.4g} "
        f"(training loss {best['train']:.4g}) out of {len(trials)} trials"
    )
    if len(rounds) == 2:
        lrs = [r["lr"] for r in rounds[1]]
        console.print(f"the fine round searched lr in [{min(lrs):.3g}, {max(lrs):.3g}]")
    caption = f"validation loss against the learning rate: {args.optimizer} ({who(args)})"
    save_plot(args, figure(rounds, best, caption), console)
    return 0
