"""The ``gradekit`` command line."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from .components import KINDS
from .errors import GradekitError
from .plugins import load_catalog


def _list(args: argparse.Namespace, console: Console) -> int:
    """Print every registered component by kind, with where it came from."""
    catalog = load_catalog(args.submission)
    table = Table(title="Registered components", show_lines=False)
    for column in ("kind", "name", "source", "summary"):
        table.add_column(column, overflow="fold")
    shown = 0
    for entry in catalog:
        if args.kind and entry.kind != args.kind:
            continue
        missing = entry.missing_methods()
        note = f"[red]missing {', '.join(missing)}[/red] " if missing else ""
        table.add_row(entry.kind, entry.name, str(entry.source), note + entry.summary)
        shown += 1
    console.print(table)
    console.print(f"{shown} components")
    return 0


def submissions_in(paths: Sequence[str]) -> list[tuple[str, Path]]:
    """Expand the command line's paths: a folder that is not a package holds submissions."""
    found: list[tuple[str, Path]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir() and not (path / "__init__.py").is_file():
            children = sorted(
                p
                for p in path.iterdir()
                if not p.name.startswith((".", "_")) and (p.suffix == ".py" or p.is_dir())
            )
            if not children:
                raise GradekitError(f"{path}: no submissions in this folder")
            found += [(p.stem, p) for p in children]
        elif path.exists():
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

    if args.assignment is None:
        if args.submissions or args.json or args.csv or args.gradescope or args.html:
            raise GradekitError("name the assignment to grade against with -a NAME_OR_FOLDER")
        for name in bundled_assignments():
            _grade_one(args, console, load_assignment(name), None)
        return 0
    assignment = load_assignment(args.assignment)
    _grade_one(args, console, assignment, submissions_in(args.submissions) or None)
    return 0


def _grade_one(args, console: Console, assignment, subs: list[tuple[str, Path]] | None) -> None:
    """Grade ``subs`` (default: the assignment's examples), print, write the outputs."""
    from .batch import ResultCache, grade_all, parse_shard, shard
    from .grading import Grader
    from .report import print_report, write_csv, write_gradescope, write_json

    if subs is None:
        subs = [(p.stem, p) for p in assignment.examples()]
        console.print(f"Grading the bundled examples of [bold]{assignment.name}[/bold].")
    if args.shard:
        subs = shard(subs, *parse_shard(args.shard))
    limits = dict(args.limit or [])
    if args.timeout:
        limits["call"] = args.timeout
    grader = Grader(assignment, limits=limits, backend=args.backend, figures=bool(args.html))
    cache = ResultCache(Path(args.cache), grader) if args.cache else None
    with Progress(console=console, transient=True, disable=len(subs) < 2) as progress:
        task = progress.add_task("grading", total=len(subs))
        results = grade_all(
            grader, subs, jobs=args.jobs, cache=cache, done=lambda _: progress.advance(task)
        )
    report = grader.report(results)
    print_report(report, console, detail=args.detail)
    if args.json:
        write_json(report, Path(args.json))
    if args.csv:
        write_csv(report, Path(args.csv))
    if args.gradescope:
        write_gradescope(report, Path(args.gradescope))
    if args.html:
        from .report.html import write_html

        index = write_html(report, Path(args.html), jobs=args.jobs)
        console.print(f"HTML report: {index}")


SUBCOMMANDS: tuple[str, ...] = ("init", "gradescope", "experiment")
"""Modules of ``gradekit.commands`` that add a subcommand with ``add_parser(sub)``."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, one subcommand per job."""
    parser = argparse.ArgumentParser(
        prog="gradekit", description="Grade numpy deep-learning components against a reference."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="list every registered component by kind and source")
    p.add_argument("submission", nargs="?", help="a submission: a .py file or a package folder")
    p.add_argument("--kind", choices=list(KINDS), help="only this kind")
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
        help="reuse results of unchanged submissions (default: .gradekit-cache)",
    )
    p.add_argument("--no-cache", dest="cache", action="store_const", const=None)
    p.add_argument("--shard", metavar="I/N", help="grade only the I-th of N slices of the class")
    p.add_argument(
        "--detail",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a table of checks per submission (default: when grading at most 3)",
    )
    p.set_defaults(run=_grade)
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__package__}.commands.{name}").add_parser(sub)
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
