"""The ``gradekit`` command line."""

from __future__ import annotations

import argparse
import difflib
import importlib
import importlib.util
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from . import __version__
from .components import KINDS
from .errors import GradekitError, SubmissionError
from .plugins import load_catalog

if TYPE_CHECKING:
    from .results import SubmissionResult


def _list(args: argparse.Namespace, console: Console) -> int:
    """Print the registered components by kind, with where each came from; a submission's
    are read from its worker, never imported here."""
    if args.mine and args.submission is None:
        raise GradekitError("--mine lists a submission's own components: name its FILE")
    trusted = _trusted_rows()
    rows = [] if args.mine else trusted
    if args.submission is not None:
        rows += _typos(_submission_rows(args), trusted)
    order = {kind: i for i, kind in enumerate(KINDS)}
    rows = sorted(rows, key=lambda r: (order[r["kind"]], r["name"]))  # stable: overrides last
    rows = [r for r in rows if not args.kind or r["kind"] == args.kind]
    if args.mine:
        _print_mine(rows, console)
    else:
        _print_all(rows, console)
    return 0


def _trusted_rows() -> list[dict[str, Any]]:
    """The reference's and installed plugins' entries, loaded here: they are trusted."""
    return [
        {
            "kind": e.kind,
            "name": e.name,
            "source": str(e.source),
            "summary": e.summary,
            "missing": e.missing_methods(),
            "todo": [],
        }
        for e in load_catalog()
    ]


def _submission_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The submission's entries as its sandboxed worker reports them (checked by the session)."""
    from .grading import hidden_paths
    from .sandbox.runner import Limits, WorkerSession

    if not Path(args.submission).exists():
        raise SubmissionError(args.submission, "no such file or folder")
    try:
        with WorkerSession(args.submission, Limits(), args.backend, hidden_paths()) as worker:
            entries = worker.catalog()
    except SubmissionError as exc:  # name the file as it was given
        raise SubmissionError(args.submission, exc.problem) from None
    return [{**e, "source": f"submission {args.submission}"} for e in entries]


def _typos(rows: list[dict[str, Any]], known: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The submission's rows, each whose name no known component has but is close to one
    noted with that name: a typo such as ``rellu`` is never checked, and says so here."""
    names: dict[str, list[str]] = {}
    for row in known:
        names.setdefault(row["kind"], []).append(row["name"])
    for row in rows:
        of_kind = names.get(row["kind"], [])
        close = difflib.get_close_matches(row["name"], of_kind, n=1, cutoff=0.75)
        if row["name"] not in of_kind and close:
            row["typo"] = f"no check uses {row['name']!r}: did you mean {close[0]!r}?"
    return rows


def _summary(row: dict[str, Any]) -> str:
    """The row's summary, escaped, after red notes of a likely typo in its name and of the
    protocol methods it lacks."""
    notes = [row["typo"]] if row.get("typo") else []
    if row["missing"]:
        notes.append(f"missing {', '.join(row['missing'])}")
    return "".join(f"[red]{escape(n)}[/red] " for n in notes) + escape(row["summary"])


def _print_all(rows: list[dict[str, Any]], console: Console) -> None:
    """The table of every component and its source, then the count."""
    table = Table(title="Registered components", show_lines=False)
    for column in ("kind", "name", "source", "summary"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row["kind"], escape(row["name"]), escape(row["source"]), _summary(row))
    console.print(table)
    console.print(f"{len(rows)} components")


def _print_mine(rows: list[dict[str, Any]], console: Console) -> None:
    """The submission's own components with the methods still raising the template's TODO."""
    table = Table(title="Your components", show_lines=False)
    for column in ("kind", "name", "todo", "summary"):
        table.add_column(column, overflow="fold")
    for row in rows:
        todo = f"[red]{escape(', '.join(row['todo']))}[/red]" if row["todo"] else ""
        table.add_row(row["kind"], escape(row["name"]), todo, _summary(row))
    console.print(table)
    left = sum(1 for row in rows if row["todo"])
    console.print(f"{len(rows)} components, {left} with TODOs left")


def submissions_in(paths: Sequence[str]) -> list[tuple[str, Path]]:
    """Expand the command line's paths: a folder that is not a package holds submissions.

    Links are never followed: a link, to a file or to a folder, is one submission, which
    the grader refuses with its reason (see ``sandbox.intake``).
    """
    from .sandbox.intake import FILE_SUFFIXES, is_folder

    found: list[tuple[str, Path]] = []
    for raw in paths:
        path = Path(raw)
        init = path / "__init__.py"
        if is_folder(path) and not (init.is_symlink() or init.exists()):
            children = sorted(
                p
                for p in path.iterdir()
                if not p.name.startswith((".", "_"))
                and (p.suffix in FILE_SUFFIXES or p.is_symlink() or is_folder(p))
            )
            if not children:
                raise GradekitError(f"{path}: no submissions in this folder")
            found += [(p.stem, p) for p in children]
        elif path.is_symlink() or path.exists():
            found.append((path.stem, path))
        else:
            raise GradekitError(f"{path}: no such file or folder")
    names = [n for n, _ in found]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise GradekitError(f"two submissions are named {duplicate!r}; rename one")
    return found


def _limit(text: str) -> tuple[str, float]:
    """``NAME=VALUE`` for ``--limit``, checked against the Limits fields."""
    from dataclasses import fields

    from .sandbox.runner import Limits

    name, _, value = text.partition("=")
    known = {f.name: f.type for f in fields(Limits)}
    if name not in known:
        raise argparse.ArgumentTypeError(f"unknown limit {name!r}; known: {', '.join(known)}")
    try:
        number = float(value) if known[name] == "float" else int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name} needs a number, not {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{name} must be positive")
    return name, number


def _grade(args: argparse.Namespace, console: Console) -> int:
    """Grade submissions against an assignment, or every bundled example without one."""
    from .assignments import bundled_assignments, load_assignment
    from .grading import require_reference
    from .secret import course_secret, notice_public_seeds

    require_reference()
    secret = course_secret(args.secret_file)
    if args.assignment is None:
        if args.submissions or args.json or args.csv or args.gradescope or args.html:
            raise GradekitError("name the assignment to grade against with -a NAME_OR_FOLDER")
        assignments = [load_assignment(name) for name in bundled_assignments()]
        notice_public_seeds(assignments, secret)
        for assignment in assignments:
            _grade_one(args, console, assignment, None, secret)
        return 0
    assignment = load_assignment(args.assignment)
    console.print(f"Assignment: {assignment.source}.")
    subs = submissions_in(args.submissions) or None
    notice_public_seeds([assignment], secret)
    _grade_one(args, console, assignment, subs, secret)
    return 0


def _grade_one(
    args, console: Console, assignment, subs: list[tuple[str, Path]] | None, secret: str | None
) -> None:
    """Grade ``subs`` (default: the assignment's examples), print, write the outputs."""
    from .batch import grade_all, open_cache, parse_shard, shard
    from .grading import Grader
    from .report import print_report, summary_line, write_csv, write_gradescope, write_json
    from .report.safe import printable

    if subs is None:
        subs = [(p.stem, p) for p in assignment.examples()]
        console.print(f"Grading the bundled examples of [bold]{assignment.name}[/bold].")
    if args.shard:
        subs = shard(subs, *parse_shard(args.shard))
    limits = dict(args.limit or [])
    if args.timeout:
        limits["call"] = args.timeout
    grader = Grader(
        assignment, limits=limits, backend=args.backend, figures=bool(args.html), secret=secret
    )
    cache = open_cache(args.cache, grader)  # off, with a notice, where a worker could reach it
    start = time.perf_counter()
    what = f"grading {len(subs)} submissions of {assignment.name}"
    with Progress(console=console, transient=True, disable=len(subs) < 2) as progress:
        task = progress.add_task(what, total=len(subs))

        def done(result: SubmissionResult) -> None:
            name = escape(printable(result.submission))
            progress.update(task, advance=1, description=f"{what}: {name}")

        results = grade_all(grader, subs, jobs=args.jobs, cache=cache, done=done)
    report = grader.report(results)
    print_report(report, console, detail=args.detail)
    hits = cache.hits if cache is not None else 0
    console.print(summary_line(report, hits, time.perf_counter() - start))
    analytics = None
    if args.json or args.html:
        from .report.analytics import class_analytics
        from .report.similarity import report_similarity

        similar = report_similarity(report, assignment.folder / "starter")
        analytics = class_analytics(report, similar)
        report = report.model_copy(update={"analytics": analytics.model_dump(mode="json")})
    if args.json:
        write_json(report, Path(args.json))
    if args.csv:
        write_csv(report, Path(args.csv))
    if args.gradescope:
        write_gradescope(report, Path(args.gradescope))
    if args.html:
        from .report.html import write_html

        index = write_html(report, Path(args.html), jobs=args.jobs, analytics=analytics)
        console.print(f"HTML report: {index}")


SUBCOMMANDS: tuple[str, ...] = ("init", "kit", "gradescope", "experiment", "report", "audit")
"""Modules of ``gradekit.commands`` that add a subcommand with ``add_parser(sub)``."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subcommand per job."""
    parser = argparse.ArgumentParser(
        prog="gradekit", description="Grade numpy deep-learning components against a reference."
    )
    parser.add_argument("--version", action="version", version=f"gradekit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="list every registered component by kind and source")
    p.add_argument(
        "submission",
        nargs="?",
        help="a submission: a .py file or a package folder (imported only in a sandboxed worker)",
    )
    p.add_argument("--kind", choices=list(KINDS), help="only this kind")
    p.add_argument(
        "--mine",
        action="store_true",
        help="only the submission's own components, with the methods still marked TODO",
    )
    p.add_argument(
        "--backend",
        choices=["auto", "bwrap", "rlimits"],
        default="auto",
        help="how the submission's worker is confined (default: bubblewrap where it works)",
    )
    p.set_defaults(run=_list)

    p = sub.add_parser(
        "grade", help="grade submissions against an assignment (default: the bundled examples)"
    )
    p.add_argument(
        "submissions",
        nargs="*",
        help="a .py file, a package folder, or a folder of submissions (default: the examples)",
    )
    p.add_argument(
        "-a", "--assignment", help="a bundled name or a folder (default: every bundled one)"
    )
    p.add_argument("--json", metavar="FILE", help="write every result as JSON")
    p.add_argument("--csv", metavar="FILE", help="write a gradebook: a row per submission")
    p.add_argument("--gradescope", metavar="DIR", help="write DIR/<submission>/results.json")
    p.add_argument(
        "--html", metavar="DIR", help="write DIR/index.html and a page with figures per submission"
    )
    p.add_argument("--timeout", type=float, help="seconds for one check's calls")
    p.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded at once")
    p.add_argument(
        "--backend",
        choices=["auto", "bwrap", "rlimits"],
        default="auto",
        help="how workers are confined (default: bubblewrap where it works)",
    )
    p.add_argument(
        "--limit",
        action="append",
        type=_limit,
        metavar="NAME=VALUE",
        help="a worker limit, e.g. memory_mb=1024 or submission=300 (see docs/sandbox.md)",
    )
    p.add_argument(
        "--cache",
        default=".gradekit-cache",
        metavar="DIR",
        help="reuse results of unchanged submissions (default: .gradekit-cache);"
        " under bubblewrap only: see docs/scale.md",
    )
    p.add_argument(
        "--no-cache",
        dest="cache",
        action="store_const",
        const=None,
        help="grade every submission, reading and writing no cache",
    )
    p.add_argument("--shard", metavar="I/N", help="grade only the I-th of N slices of the class")
    p.add_argument(
        "--secret-file",
        metavar="FILE",
        help="the course secret that salts hidden checks' seeds (default: $GRADEKIT_SECRET)",
    )
    p.add_argument(
        "--detail",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a table of checks per submission (default: when grading at most 3)",
    )
    p.set_defaults(run=_grade)
    for name in SUBCOMMANDS:  # a student's engine (from a kit) has none of them
        module = f"{__package__}.commands.{name}"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; exit 2 with a one-line message when gradekit cannot run."""
    args = build_parser().parse_args(argv)
    console = Console()
    try:
        return args.run(args, console)
    except GradekitError as exc:
        print(f"gradekit: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
