"""``gradekit audit ASSIGNMENT``: the audit of ``gradekit.audit`` on the command line, a
table per component that reads at 80 columns, and ``--json``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..assignments import bundled_assignments, load_assignment
from ..audit import AuditReport, CheckAudit, ComponentAudit, GradedRun, audit
from ..errors import GradekitError
from ..grading import require_reference
from ..report.safe import terminal_text


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``gradekit audit`` to the command line's subparsers."""
    p = sub.add_parser(
        "audit",
        help="grade the reference, every catalogue mutant and the examples against a spec",
        description=(
            "For an assignment's author: grade the reference and the bundled examples in the"
            " sandbox and every catalogue mutant of its components, then print per component"
            " the mutants caught and named, the mutants that pass every check (blind spots),"
            " the components graded by no check, the hidden checks that only repeat public"
            " ones and each check's time. Exit status 1 when there is a blind spot or the"
            " reference loses points."
        ),
    )
    p.add_argument(
        "assignment", help=f"a bundled name ({', '.join(bundled_assignments())}) or a folder"
    )
    p.add_argument("--json", metavar="FILE", help="write the audit as JSON")
    p.add_argument(
        "--backend",
        choices=["auto", "bwrap", "rlimits"],
        default="auto",
        help="how the sandboxed workers are confined (default: bubblewrap where it works)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Audit, print, write ``--json``; 1 when the spec has a blind spot or fails the reference."""
    require_reference()
    assignment = load_assignment(args.assignment)
    with console.status(f"auditing {assignment.name}") as status:
        report = audit(assignment, args.backend, status.update)
    print_audit(report, console)
    if args.json:
        try:
            Path(args.json).write_text(report.model_dump_json(indent=2) + "\n")
        except OSError as exc:
            raise GradekitError(f"{args.json}: cannot write the audit: {exc}") from None
    return 0 if report.sound else 1


def print_audit(report: AuditReport, console: Console) -> None:
    """A table per component, then the sandboxed runs, the gaps and a summary line."""
    for component in report.components:
        console.print(component_table(component))
    ref = report.reference
    check_time = sum(c.seconds for comp in report.components for c in comp.checks)
    console.print(
        f"Reference, in the sandbox: {_score(ref)}; its worker starts in "
        f"{_seconds(report.worker_start)} and runs the checks in {_seconds(check_time)}."
    )
    if ref.lost_on:
        console.print(f"[red]The reference loses points on {', '.join(ref.lost_on)}.[/red]")
    scores = ", ".join(f"{escape(e.name)} {_score(e)}" for e in report.examples)
    console.print(f"Examples, in the sandbox: {scores or 'none'}.")
    if report.starter_problem:
        problem = terminal_text(report.starter_problem)
        console.print(f"Components graded by no check: not looked for ({problem}).")
    else:
        ungraded = "; ".join(
            f"{u.component} ({', '.join(u.mutants) or 'no mutant'})" for u in report.ungraded
        )
        console.print(f"Components of the starter graded by no check: {ungraded or 'none'}.")
    repeats = ", ".join(f"{r.hidden} repeats {r.public}" for r in report.hidden_repeats)
    console.print(f"Hidden checks that only repeat a public one: {repeats or 'none'}.")
    if report.blind_spots:
        console.print(f"[red]Blind spots: {', '.join(report.blind_spots)}.[/red]")
    console.print(summary_line(report, check_time))


def component_table(component: ComponentAudit) -> Table:
    """The component's mutants (what catches each, what it keeps, whether it is named),
    with its checks' times as the caption."""
    caught = sum(m.caught for m in component.mutants)
    short = _short_ids(component.component)
    table = Table(
        title=f"{component.component}: {caught} of {len(component.mutants)} mutants caught",
        title_justify="left",
        caption="checks: " + " · ".join(_check_note(c, short) for c in component.checks),
        caption_justify="left",
    )
    table.add_column("mutant", no_wrap=True)
    table.add_column("caught by", overflow="fold")
    table.add_column("kept", justify="right")
    table.add_column("named")
    for m in component.mutants:
        by = ", ".join(map(short, m.caught_by)) or "[red]nothing: a blind spot[/red]"
        named = {"right": "yes", "wrong": "[red]wrong[/red]", "none": "no"}[m.named]
        if not m.caught:
            named = ""
        table.add_row(m.name, by, f"{m.kept:.0%}", named)
    if not component.mutants:
        table.add_row("[dim]none in the catalogue[/dim]", "", "", "")
    return table


def _short_ids(component: str) -> Callable[[str], str]:
    """Check ids without the component's name in front (``relu.gradient``: ``gradient``),
    for the component's own table."""
    prefix = component.split("/")[1] + "."
    return lambda check_id: check_id.removeprefix(prefix) or check_id


def _check_note(check: CheckAudit, short: Callable[[str], str]) -> str:
    """``gradient 12 ms``, marked when hidden or when the reference loses points on it."""
    hidden = " (hidden)" if check.visibility == "hidden" else ""
    lost = check.reference_score < check.points - 1e-9
    return f"{short(check.id)}{hidden} {_seconds(check.seconds)}" + (
        " [red](the reference loses points)[/red]" if lost else ""
    )


def _count(n: int, noun: str) -> str:
    """``1 blind spot``, ``2 blind spots``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _seconds(seconds: float) -> str:
    """``12 ms`` below a second, ``1.4 s`` above."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _score(run: GradedRun) -> str:
    """``40.6/49``, or why it did not load."""
    if run.load_error:
        return f"did not load ({terminal_text(run.load_error)})"
    return f"{run.score:.4g}/{run.max_score:.4g}"


def summary_line(report: AuditReport, check_time: float) -> str:
    """One line: mutants caught and named, blind spots, the reference, gaps and times."""
    mutants = [m for c in report.components for m in c.mutants]
    caught = sum(m.caught for m in mutants)
    named = sum(m.named == "right" for m in mutants)
    blind = _count(len(report.blind_spots), "blind spot")
    ungraded = _count(len(report.ungraded), "ungraded component")
    repeats = _count(len(report.hidden_repeats), "hidden repeat")
    colour = "green" if report.sound else "red"
    return (
        f"[{colour}]{report.assignment}: {caught} of {len(mutants)} mutants caught "
        f"({named} named), {blind}[/{colour}]; reference {_score(report.reference)}; "
        f"{ungraded}, {repeats}; {_seconds(check_time)} of checks per submission; "
        f"audit {_seconds(report.seconds)}"
    )
