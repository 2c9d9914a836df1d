"""The terminal view: a table of checks for one submission, a class table for many.

Whatever came from a submission (its name, messages quoting its values, why it did not
load) is shown literally: cleaned of escape sequences and control characters by
:mod:`.safe` and put in rich ``Text``, never read as markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..results import CheckResult, GradeReport, SubmissionResult
from .safe import literal, printable

STYLE = {"passed": "green", "failed": "red", "error": "magenta", "timeout": "yellow"}


def _title(name: str, score: float, max_score: float) -> Text:
    """A table's title: a submission's name, literally, with its score."""
    return Text(f"{printable(name)}: {score:g} / {max_score:g}")


def _why(check: CheckResult) -> Text:
    """A check's message and misconception (which may quote a submission's values)."""
    why = literal(check.message, multiline=True)
    if check.misconception:
        why.append("\n")
        why.append("Misconception:", style="bold")
        why.append(" " + printable(check.misconception, multiline=True))
    return why


def _checks_table(result: SubmissionResult) -> Table:
    table = Table(title=_title(result.submission, result.score, result.max_score))
    for column in ("check", "status", "score", "why"):
        table.add_column(column, overflow="fold")
    for check in result.checks:
        hidden = " (hidden)" if check.visibility == "hidden" else ""
        table.add_row(
            literal(check.name + hidden),
            Text(check.status, style=STYLE[check.status]),
            Text(f"{check.score:g}/{check.max_score:g}"),
            _why(check),
        )
    return table


def _class_table(report: GradeReport) -> Table:
    table = Table(
        title=Text(f"{printable(report.assignment)}: {len(report.submissions)} submissions")
    )
    for column in ("submission", "score", "failed checks"):
        table.add_column(column, overflow="fold")
    for s in report.submissions:
        failed = [c.name for c in s.checks if c.status != "passed"]
        note = f"did not load: {s.load_error}" if s.load_error else ", ".join(failed)
        table.add_row(
            literal(s.submission),
            Text(f"{s.score:g}/{s.max_score:g}"),
            literal(note, multiline=True),
        )
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
