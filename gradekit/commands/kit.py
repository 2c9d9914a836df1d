"""``gradekit kit ASSIGNMENT -o DIR``: the student kit, which holds no answer.

The kit (a folder, and ``DIR.zip`` beside it to hand out) holds the template, a README
whose first code block is the student's whole set-up, the public checks as data, and a
wheel of gradekit's engine without the reference, the mutants, the bundled assignments
or the instructor's modules (see ``gradekit.kit``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from ..assignments import bundled_assignments, load_assignment


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``gradekit kit`` to the command line's subparsers."""
    p = sub.add_parser(
        "kit",
        help="write the student kit of an assignment: template, public checks, engine",
        description=(
            "Write a kit for students: the template, a README, the public checks as data"
            " and a gradekit engine that holds no reference, no hidden check and no seed"
            " of one. Students install it as its README says and self-check with pytest."
        ),
    )
    p.add_argument(
        "assignment", help=f"a bundled name ({', '.join(bundled_assignments())}) or a folder"
    )
    p.add_argument("-o", "--output", metavar="DIR", help="the folder to write (default: NAME-kit)")
    p.add_argument(
        "--backend",
        choices=["auto", "bwrap", "rlimits"],
        default="auto",
        help="the sandbox backend of the grader that computes the public outcomes",
    )
    p.add_argument(
        "--notebook",
        action="store_true",
        help="the template as a Jupyter notebook (submission.ipynb), with a check cell per"
        " component",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Write the kit and its zip, and say what is in them."""
    from ..kit.build import write_kit

    assignment = load_assignment(args.assignment)
    target = Path(args.output or f"{assignment.name}-kit")
    archive = write_kit(assignment, target, backend=args.backend, notebook=args.notebook)
    checks = assignment.spec.checks
    public = sum(c.visibility == "public" for c in checks)
    console.print(
        f"Wrote the {assignment.name} kit for students ({assignment.source}) to {target}/"
        f" and {archive}:"
        f" the template, {public} public checks as data and gradekit's engine."
        f" Left out: the reference, the mutants and {len(checks) - public} hidden checks."
    )
    console.print(f"Hand out {archive}; its README.md gives the set-up and the self-check.")
    return 0
