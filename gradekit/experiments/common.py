"""What every experiment shares: its implementation (the reference, or a submission run in
the worker), the ``--submission``, ``--backend`` and ``--plot`` options, saving figures,
and skipping the components of a half-done submission that cannot run.

A submission's components never run in this process: its plans go to a worker, exactly as
in grading, and only plain arrays come back.

A half-done submission still shows what it has: an experiment of several components
(``run_each``) runs those that work, says which it skipped and why ("not registered",
"not implemented yet (TODO: Adam.update)", what the code raised), and fails only when
none could run.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console

from ..errors import GradekitError
from ..report.safe import printable, terminal_text
from ..results import Figure
from ..sandbox.plan import Failure, Outcome, Plan

Run = Callable[[Plan], Outcome]
T = TypeVar("T")


class Skipped(GradekitError):
    """A component that could not run in an experiment, and why, in one line."""

    def __init__(self, component: str, reason: str) -> None:
        self.component = component
        """``kind/name``, e.g. ``optimizers/adam``."""
        self.reason = reason
        super().__init__(f"{component}: {reason}")


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


def why_not(failure: Failure | None, detail: str = "") -> str:
    """Why a component stopped, in the grader's words: not registered, a TODO left, or
    ``detail`` (default: what it raised). One line, harmless to print."""
    if failure is None:
        why = detail
    elif failure.type == "MissingComponent":  # a typo's hint follows the worker's sentence
        hint = failure.message.partition(" (")[2]
        why = "not registered" + (f" ({hint}" if hint else "")
    elif failure.type == "NotImplementedError":
        why = f"not implemented yet ({failure.message or 'NotImplementedError'})"
    else:
        why = detail or f"raised {failure.type}: {failure.message}"
    return printable(why)


def check_outcome(outcome: Outcome, component: str) -> None:
    """Raise ``Skipped`` when ``outcome`` has no result (the component raised, timed out,
    is not registered, ...)."""
    if outcome.failure is not None or outcome.status != "ok":
        detail = f"{outcome.status}: {outcome.detail}"
        raise Skipped(component, why_not(outcome.failure, detail))


def run_each(
    labels: Iterable[str], attempt: Callable[[str], T]
) -> tuple[dict[str, T], list[tuple[str, Skipped]]]:
    """``attempt`` each label: what ran by label, and the labels skipped with why. When
    nothing ran, one line with every distinct reason (a GradekitError)."""
    done: dict[str, T] = {}
    skipped = []
    for label in labels:
        try:
            done[label] = attempt(label)
        except Skipped as exc:
            skipped.append((label, exc))
    if not done:
        reasons = dict.fromkeys(str(exc) for _, exc in skipped)
        raise GradekitError("nothing could run: " + "; ".join(reasons))
    return done, skipped


def print_skipped(skipped: list[tuple[str, Skipped]], console: Console) -> None:
    """A line per skipped label: ``skipped adam: not implemented yet (TODO: Adam.update)``."""
    for label, exc in skipped:
        console.print(f"skipped {terminal_text(label)}: {terminal_text(exc.reason)}")


def save_plot(args: argparse.Namespace, figure: Figure, console: Console) -> None:
    """Save ``figure`` to ``--plot`` when it was given."""
    if args.plot:
        from ..report.plots import save

        save(figure, Path(args.plot))
        console.print(f"figure saved to {args.plot}")
