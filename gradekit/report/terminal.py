"""The terminal view: a table of checks for one submission, a class table for many."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..results import GradeReport, SubmissionResult

STYLE = {"passed": "green", "failed": "red", "error": "magenta", "timeout": "yellow"}


def _checks_table(result: SubmissionResult) -> Table:
    table = Table(title=f"{result.submission}: {result.score:g} / {result.max_score:g}")
    for column in ("check", "status", "score", "why"):
        table.add_column(column, overflow="fold")
    for check in result.checks:
        why = escape(check.message)
        if check.misconception:
            why += f"\n[bold]Misconception:[/bold] {escape(check.misconception)}"
        status = f"[{STYLE[check.status]}]{check.status}[/]"
        hidden = " (hidden)" if check.visibility == "hidden" else ""
        table.add_row(check.name + hidden, status, f"{check.score:g}/{check.max_score:g}", why)
    return table


def _class_table(report: GradeReport) -> Table:
    table = Table(title=f"{report.assignment}: {len(report.submissions)} submissions")
    for column in ("submission", "score", "failed checks"):
        table.add_column(column, overflow="fold")
    for s in report.submissions:
        failed = [c.name for c in s.checks if c.status != "passed"]
        note = f"did not load: {s.load_error}" if s.load_error else ", ".join(failed)
        note = escape(note)
        table.add_row(s.submission, f"{s.score:g}/{s.max_score:g}", note)
    return table


def print_report(report: GradeReport, console: Console, *, detail: bool | None = None) -> None:
    """One table per submission when there are few (or ``detail``), else a class table."""
    if detail is None:
        detail = len(report.submissions) <= 3
    if detail:
        for result in report.submissions:
            console.print(_checks_table(result))
    else:
        console.print(_class_table(report))
