"""The terminal at 80 columns: a failure's message reads below its check at full width, and
a run closes with one line that counts what happened."""

from __future__ import annotations

from rich.console import Console

from gradekit.report import print_report, summary_line
from gradekit.results import CheckResult, GradeReport, SubmissionResult

MESSAGE = (
    "dx[2, 0]: received 1.49675, expected 0 from the reference; relative error 9.8e-01 > "
    "tolerance 1e-07 (7 of 24 entries wrong)"
)


def check(name: str, status: str, score: float, message: str = "") -> CheckResult:
    return CheckResult(
        name=name,
        title=name,
        component="activations/relu",
        type="gradient",
        status=status,
        score=score,
        max_score=2.0,
        message=message,
        visibility="public",
    )


def submission(name: str, score: float, checks: list, load_error: str | None = None):
    return SubmissionResult(
        submission=name,
        path=f"{name}.py",
        assignment="backprop",
        score=score,
        max_score=4.0,
        load_error=load_error,
        checks=checks,
    )


ALICE = submission("alice", 4.0, [check("relu.gradient", "passed", 2), check("a", "passed", 2)])
BOB = submission(
    "bob", 1.0, [check("relu.gradient", "failed", 1, MESSAGE), check("a", "timeout", 0, "t")]
)
CAROL = submission(
    "carol", 0.0, [check("relu.gradient", "error", 0), check("a", "error", 0)], "syntax error"
)
REPORT = GradeReport(gradekit_version="0", assignment="backprop", submissions=[ALICE, BOB, CAROL])


def shown(report: GradeReport, width: int, **kwargs) -> list[str]:
    console = Console(width=width, record=True, force_terminal=False)
    print_report(report, console, **kwargs)
    return console.export_text().splitlines()


def test_at_80_columns_a_message_reads_below_its_check():
    lines = shown(REPORT.model_copy(update={"submissions": [BOB]}), 80, detail=True)
    row = next(i for i, line in enumerate(lines) if line.startswith("relu.gradient"))
    assert "failed" in lines[row] and "1/2" in lines[row]
    below = " ".join(line.strip() for line in lines[row + 1 : row + 3])
    assert below.startswith(MESSAGE[:60])
    assert len(lines[row + 1].strip()) > 60  # the message has the terminal's width
    assert all(len(line) <= 80 for line in lines)


def test_a_wide_terminal_keeps_the_table():
    lines = shown(REPORT.model_copy(update={"submissions": [BOB]}), 160, detail=True)
    assert any("relu.gradient" in line and "received 1.49675" in line for line in lines)


def test_the_closing_line_counts_the_run():
    line = summary_line(REPORT, cached=1, seconds=2.25).plain
    assert line == (
        "backprop: 3 graded (1 from the cache, 1 did not load, 1 timed out); "
        "mean 1.667, median 1 of 4; 2.2 s"
    )
