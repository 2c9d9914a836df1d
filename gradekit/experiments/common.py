"""What every experiment shares: its implementation (the reference, or a submission run in
the worker), the ``--submission``, ``--backend`` and ``--plot`` options, and saving figures.

A submission's components never run in this process: its plans go to a worker, exactly as
in grading, and only plain arrays come back.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console

from ..errors import GradekitError
from ..results import Figure
from ..sandbox.plan import Outcome, Plan

Run = Callable[[Plan], Outcome]


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--submission FILE``, ``--backend`` and ``--plot FILE``."""
    parser.add_argument(
        "--submission",
        metavar="FILE",
        help="a submission (.py file or package folder) to run in the sandbox "
        "(default: the reference)",
    )
    parser.add_argument(
        "--backend",
        choices=["auto", "bwrap", "rlimits"],
        default="auto",
        help="how the submission's worker is confined (default: bubblewrap where it works)",
    )
    parser.add_argument("--plot", metavar="FILE", help="save the figure (.png, .svg or .pdf)")


def who(args: argparse.Namespace) -> str:
    """Whose components run, for titles: the submission's name or ``reference``."""
    return Path(args.submission).stem if args.submission else "reference"


@contextmanager
def implementation(args: argparse.Namespace, timeout: float = 120.0) -> Any:
    """Yield ``run(plan) -> Outcome`` on the reference (here) or on ``args.submission`` (in a
    worker with the reference and the assignments hidden)."""
    if not args.submission:
        from ..grading import reference_factories
        from ..sandbox.runner import LocalSession

        factories = reference_factories()
        session = LocalSession(factories)

        def run_reference(plan: Plan) -> Outcome:
            for op in plan.ops:
                if op["op"] == "make" and (op["kind"], op["name"]) not in factories:
                    known = sorted(n for k, n in factories if k == op["kind"])
                    raise GradekitError(
                        f"the reference has no {op['kind']} {op['name']!r}; it has "
                        + ", ".join(known)
                    )
            return session.run(plan)

        yield run_reference
        return
    from ..grading import hidden_paths
    from ..sandbox.runner import Limits, WorkerSession

    path = Path(args.submission)
    if not path.exists():
        raise GradekitError(f"{path}: no such submission")
    limits = Limits(call=timeout, submission=10 * timeout)
    with WorkerSession(path, limits, args.backend, hidden_paths()) as worker:

        def run(plan: Plan) -> Outcome:
            outcome = worker.run(plan)
            if worker.load_error:
                raise GradekitError(f"{path}: the submission did not load: {worker.load_error}")
            return outcome

        yield run


def failure(outcome: Outcome, what: str) -> str | None:
    """Why ``outcome`` has no result (the component raised, timed out, ...), or None."""
    if outcome.failure is not None:
        return f"{what}: {outcome.failure.type}: {outcome.failure.message}"
    if outcome.status != "ok":
        return f"{what}: {outcome.status}: {outcome.detail}"
    return None


def save_plot(args: argparse.Namespace, figure: Figure, console: Console) -> None:
    """Save ``figure`` to ``--plot`` when it was given."""
    if args.plot:
        from ..report.plots import save

        save(figure, Path(args.plot))
        console.print(f"figure saved to {args.plot}")
