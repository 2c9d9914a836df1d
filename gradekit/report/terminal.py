"""The terminal view: a table of checks for one submission, a class table for many, and
a closing line for the run. Below ``WIDE`` columns a submission's checks are a list, each
failure's message on the lines below its row, at the terminal's full width.

Whatever came from a submission (its name, messages quoting its values, why it did not
load) is shown literally: cleaned of escape sequences and control characters by
:mod:`.safe` and put in rich ``Text``, never read as markup.
"""

from __future__ import annotations

import statistics

from rich.console import Console, Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..results import CheckResult, GradeReport, SubmissionResult
from .safe import literal, printable

STYLE = {"passed": "green", "failed": "red", "error": "magenta", "timeout": "yellow"}
WIDE = 120
"""Terminals at least this wide show the message beside its check, in a column."""


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


def _notes(result: SubmissionResult) -> Text | None:
    """What the grader left out of the submission (a notebook's IPython lines), a line each."""
    return literal("\n".join(result.notes), multiline=True) if result.notes else None


def _checks_table(result: SubmissionResult) -> Table:
    title = _title(result.submission, result.score, result.max_score)
    table = Table(title=title, caption=_notes(result), caption_justify="left")
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


def _checks_list(result: SubmissionResult) -> Group:
    """A submission's checks for a narrow terminal: a row per check, and the message of a
    check that did not pass indented below it, as wide as the terminal."""
    parts: list = [_title(result.submission, result.score, result.max_score)]
    for check in result.checks:
        hidden = " (hidden)" if check.visibility == "hidden" else ""
        row = Table.grid(padding=(0, 2), expand=True)
        row.add_column(ratio=1, overflow="fold")
        row.add_column(width=7)
        row.add_column(justify="right", width=9)
        row.add_row(
            literal(check.name + hidden),
            Text(check.status, style=STYLE[check.status]),
            Text(f"{check.score:g}/{check.max_score:g}"),
        )
        parts.append(row)
        if check.status != "passed":
            parts.append(Padding(_why(check), (0, 0, 0, 4)))
    return Group(*parts, *filter(None, [_notes(result)]))


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
            wide = console.width >= WIDE
            console.print(_checks_table(result) if wide else _checks_list(result))
    else:
        console.print(_class_table(report))


def summary_line(report: GradeReport, cached: int, seconds: float) -> Text:
    """The run in one line: how many were graded, from the cache, did not load or timed
    out, the mean and median score, and the time it took."""
    subs = report.submissions
    if not subs:
        return Text(f"{printable(report.assignment)}: no submission graded ({seconds:.1f} s)")
    scores = [s.score for s in subs]
    top = max(s.max_score for s in subs)
    unloaded = sum(1 for s in subs if s.load_error)
    late = sum(1 for s in subs if any(c.status == "timeout" for c in s.checks))
    return Text(
        f"{printable(report.assignment)}: {len(subs)} graded ({cached} from the cache, "
        f"{unloaded} did not load, {late} timed out); mean {statistics.fmean(scores):.4g}, "
        f"median {statistics.median(scores):.4g} of {top:g}; {seconds:.1f} s"
    )
