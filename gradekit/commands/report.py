"""``gradekit report RESULTS.json``: every output of a grading run, rebuilt from its JSON.

The JSON that ``gradekit grade --json`` writes holds everything (the figures' data too,
when the run was graded with ``--html``), so the gradebook, the Gradescope files, the HTML
pages and the terminal view can be made again, or made later, without grading again.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console

from ..errors import GradekitError
from ..results import GradeReport


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``gradekit report`` to the command line's subparsers."""
    p = sub.add_parser(
        "report",
        help="rebuild the outputs of a grading run from its --json file, without grading",
        description=(
            "Read a results file written by `gradekit grade --json` and write the gradebook,"
            " the Gradescope files and the HTML report from it, or show it in the terminal."
        ),
    )
    p.add_argument("results", help="a results file written by `gradekit grade --json`")
    p.add_argument("--csv", metavar="FILE", help="write the gradebook: a row per submission")
    p.add_argument("--gradescope", metavar="DIR", help="write DIR/<submission>/results.json")
    p.add_argument("--html", metavar="DIR", help="write DIR/index.html and a page per submission")
    p.add_argument(
        "--detail",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a table per submission (default: only for 3 submissions or fewer)",
    )
    p.set_defaults(run=run)


def read_report(path: Path) -> GradeReport:
    """The grading run saved in ``path``, or one line saying why it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GradekitError(f"{path}: cannot read the results file: {exc}") from None
    try:
        return GradeReport.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise GradekitError(
            f"{path}: not a gradekit results file ({where}: {first['msg']})"
        ) from None


def run(args: argparse.Namespace, console: Console) -> int:
    """Write each output asked for; with none, show the run in the terminal."""
    from ..report import print_report, write_csv, write_gradescope

    report = read_report(Path(args.results))
    if args.csv:
        write_csv(report, Path(args.csv))
        console.print(f"gradebook: {args.csv}")
    if args.gradescope:
        write_gradescope(report, Path(args.gradescope))
        console.print(f"Gradescope results: {args.gradescope}/")
    if args.html:
        from ..report.analytics import ClassAnalytics
        from ..report.html import write_html

        # The run's own analytics, whose similar pairs left the starter template out.
        analytics = ClassAnalytics.model_validate(report.analytics) if report.analytics else None
        console.print(f"HTML report: {write_html(report, Path(args.html), analytics=analytics)}")
    if not (args.csv or args.gradescope or args.html):
        print_report(report, console, detail=args.detail)
    return 0
