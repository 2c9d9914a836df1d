"""The ``gradekit`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console
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
