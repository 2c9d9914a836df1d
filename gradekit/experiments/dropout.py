"""The lecture's dropout reasoning, measured: p is the keep probability; at training time
a fraction p of the units is kept, and the test-time output must equal the training-time
expectation. Vanilla dropout keeps ``E[train] = p x`` and scales by p at test time;
inverted dropout divides by p at training time, so ``E[train] = x`` and test time is the
identity.

Each layer runs many training-mode forwards (gradekit's ``repeat_forward`` routine) and one
evaluation forward on a fixed positive batch, on the reference or a submission's layers; a
layer a half-done submission cannot run yet is skipped with a line.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..errors import GradekitError
from ..results import Figure, Panel, Series
from ..sandbox.plan import Plan
from .common import (
    Run,
    Skipped,
    add_common_arguments,
    check_outcome,
    implementation,
    print_skipped,
    run_each,
    save_plot,
    who,
)

SUMMARY = "dropout's keep fraction and training expectation against its test-time output"

LAYERS = {"inverted": "dropout", "vanilla": "vanilla_dropout"}
"""The two conventions and their layer names."""


@dataclass(frozen=True)
class DropoutStats:
    """One layer at one keep probability."""

    convention: str
    p: float
    kept: float
    """The fraction of units kept at training time (expected: p)."""
    train: float
    """The mean training-time output over the mean input: ``E[train] / x``."""
    test: float
    """The test-time output over the input."""
    error: float
    """The standard error of ``train`` over the repeated forwards."""

    @property
    def matches(self) -> bool:
        """Whether the test-time output is the training-time expectation (within 4 s.e.)."""
        return abs(self.train - self.test) <= 4 * self.error + 1e-9


def measure(
    run: Run, convention: str, p: float, times: int = 50, shape: tuple[int, int] = (32, 256)
) -> DropoutStats:
    """Measure one dropout layer at keep probability ``p``; ``Skipped`` when it cannot run."""
    x = np.random.default_rng(7).uniform(0.5, 1.5, shape)
    name = LAYERS[convention]
    plan = Plan()
    plan.make("d", "layers", name, p=p)
    plan.set_rng("d", 1234)
    xr = plan.array(x)
    plan.routine("repeat_forward", save="train", layer={"component": "d"}, x=xr, times=times)
    plan.call("d", "forward", xr, save="test", training=False)
    outcome = run(plan)
    check_outcome(outcome, f"layers/{name}")
    train, test = outcome.values.get("train"), outcome.values.get("test")
    if not (
        isinstance(train, np.ndarray)
        and train.shape == (times, *shape)
        and isinstance(test, np.ndarray)
        and test.shape == shape
    ):
        raise Skipped(f"layers/{name}", "forward returned arrays of the wrong shape")
    per_call = train.mean(axis=(1, 2)) / x.mean()
    return DropoutStats(
        convention,
        p,
        float(np.mean(train != 0)),
        float(per_call.mean()),
        float(test.mean() / x.mean()),
        float(per_call.std(ddof=1) / np.sqrt(times)),
    )


def dropout_figure(stats: list[DropoutStats], title: str) -> Figure:
    """Training expectation and test output against p, for each convention measured."""
    series = []
    for convention in dict.fromkeys(s.convention for s in stats):
        rows = [s for s in stats if s.convention == convention]
        ps = [s.p for s in rows]
        series.append(Series.of(f"{convention}: E[train] / x", [s.train for s in rows], ps))
        series.append(Series.of(f"{convention}: test / x", [s.test for s in rows], ps))
        series.append(Series.of(f"{convention}: kept fraction", [s.kept for s in rows], ps))
    panel = Panel(
        kind="line",
        title="test-time output against the training-time expectation",
        xlabel="keep probability p",
        ylabel="output / input",
        series=series,
    )
    return Figure(title=title, panels=[panel])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The keep probabilities and the number of training-mode forwards."""
    parser.add_argument(
        "--p",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[0.25, 0.5, 0.75, 0.9],
        help="comma-separated keep probabilities (default 0.25,0.5,0.75,0.9)",
    )
    parser.add_argument("--times", type=int, default=50, help="training-mode forwards per p")
    add_common_arguments(parser)


def run(args: argparse.Namespace, console: Console) -> int:
    """Measure both conventions at every p, print the table, save the figure with --plot."""
    if not args.p or not all(0 < p <= 1 for p in args.p):
        raise GradekitError("--p takes keep probabilities in (0, 1]")
    if args.times < 2:
        raise GradekitError("--times must be at least 2")
    conventions = {layer: convention for convention, layer in LAYERS.items()}
    with implementation(args) as run_plan:
        measured, skipped = run_each(
            conventions,
            lambda layer: [measure(run_plan, conventions[layer], p, args.times) for p in args.p],
        )
    stats = [s for rows in measured.values() for s in rows]
    title = f"dropout with keep probability p ({who(args)})"
    table = Table(title=title)
    for column in ("dropout", "p", "kept", "E[train] / x", "test / x", "test = E[train]"):
        table.add_column(escape(column), justify="left" if column == "dropout" else "right")
    for s in stats:
        ok = "[green]yes[/]" if s.matches else "[red]no[/]"
        table.add_row(
            s.convention, f"{s.p:g}", f"{s.kept:.3f}", f"{s.train:.3f}", f"{s.test:.3f}", ok
        )
    console.print(table)
    print_skipped(skipped, console)
    save_plot(args, dropout_figure(stats, title), console)
    return 0
