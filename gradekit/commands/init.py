"""``gradekit init ASSIGNMENT [DIR]``: a starter folder where plain ``pytest`` self-checks.

The folder holds the assignment's starter files (``submission.py``: the template), a
short README, and a ``pytest.ini`` that switches on gradekit's pytest plugin for this
assignment. It judges against the installed reference, so it is for instructors trying an
assignment out; the kit students get, which holds no answer, is ``gradekit kit``.
Existing files are never overwritten.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.console import Console

from ..assignments import Assignment, bundled_assignments, load_assignment
from ..errors import GradekitError
from ..kit.build import IN_JUPYTER, READING
from ..kit.notebook import SUBMISSION as NOTEBOOK
from ..kit.notebook import notebook_text

SUBMISSION = "submission.py"

PYTEST_INI = """\
# gradekit's self-check: plain `pytest` in this folder runs the public checks of the
# assignment on your submission, through gradekit's grader. See README.md.
[pytest]
gradekit_assignment = {assignment}
gradekit_submission = {submission}
"""

README = """\
# {title}

{description}

## What is here

- `{submission}`: your submission. Fill in every `TODO`; each method's docstring names
  the formula and the lecture section it comes from.
- `pytest.ini`: tells pytest to run gradekit's public checks of `{name}` on it.

## The loop

```bash
{commands}
```

{reading}

{in_jupyter}## What counts

These items run on your machine and only show you the public checks. Your grade comes
from `gradekit grade`, run by the course staff on the file you hand in, which may run
further checks (other shapes and seeds). Hand in `{submission}`.

Components to implement:

{components}
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``gradekit init`` to the command line's subparsers."""
    p = sub.add_parser(
        "init",
        help="write a starter folder to try an assignment out (students get `gradekit kit`)",
        description=(
            "Write a starter folder in which plain `pytest` runs the public checks against"
            " the installed reference: for instructors trying an assignment out. A kit for"
            " students, which holds no reference and no hidden check, is `gradekit kit`."
        ),
    )
    p.add_argument(
        "assignment", help=f"a bundled name ({', '.join(bundled_assignments())}) or a folder"
    )
    p.add_argument("dir", nargs="?", help="the folder to write (default: the assignment's name)")
    p.add_argument(
        "--notebook",
        action="store_true",
        help="the template as a Jupyter notebook (submission.ipynb), with a check cell per"
        " component",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace, console: Console) -> int:
    """Write the kit and say what to do next."""
    assignment = load_assignment(args.assignment)
    target = Path(args.dir or assignment.name)
    written = write_kit(assignment, target, args.assignment, notebook=args.notebook)
    console.print(f"Wrote the {assignment.name} starter kit ({assignment.source}) to {target}/:")
    for path in written:
        console.print(f"  {path.relative_to(target)}")
    console.print(f"Next: cd {target} && pytest")
    return 0


def kit_files(
    assignment: Assignment, target: Path, requested: str, *, notebook: bool = False
) -> dict[Path, bytes]:
    """Every file of the kit and its contents, keyed by its path under ``target``; with
    ``notebook``, the template as ``submission.ipynb`` in place of ``submission.py``."""
    starter = assignment.folder / "starter"
    if not (starter / SUBMISSION).is_file():
        raise GradekitError(f"{starter}: the assignment has no starter {SUBMISSION}")
    files = {
        target / p.relative_to(starter): p.read_bytes()
        for p in sorted(starter.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
    submission = SUBMISSION
    if notebook:
        template = files.pop(target / SUBMISSION).decode()
        submission = NOTEBOOK
        files[target / NOTEBOOK] = notebook_text(template, assignment.spec.title).encode()
    # A bundled name stays a name; a folder is written relative to the kit.
    local = Path(requested)
    if local.exists():
        requested = os.path.relpath(local.resolve(), target.resolve())
    public = sorted({c.component for c in assignment.spec.checks if c.visibility == "public"})
    names = [c.split("/")[1] for c in public]
    example = next((n for n in names if sum(n in m for m in names) == 1), "NAME")
    files[target / "pytest.ini"] = PYTEST_INI.format(
        assignment=requested, submission=submission
    ).encode()
    commands = [
        ("pytest", "every public check, one test item each"),
        (
            f"pytest {submission}::{example}",
            f"only the checks of {example} (or: pytest -k {example})",
        ),
        ("pytest -x", "stop at the first failure"),
        (f"gradekit list {submission}", "what your file registers, and which methods it lacks"),
    ]
    width = max(len(c) for c, _ in commands) + 2
    files[target / "README.md"] = README.format(
        commands="\n".join(f"{c.ljust(width)}# {why}" for c, why in commands),
        title=assignment.spec.title,
        description=assignment.spec.description.strip(),
        submission=submission,
        name=assignment.name,
        example=example,
        components="\n".join(f"- `{c}`" for c in public),
        reading=READING.strip(),
        in_jupyter=IN_JUPYTER.format(submission=NOTEBOOK) + "\n" if notebook else "",
    ).encode()
    return files


def write_kit(
    assignment: Assignment, target: Path, requested: str, *, notebook: bool = False
) -> list[Path]:
    """Write the kit into ``target``; refuse, before writing anything, if a file exists."""
    if target.exists() and not target.is_dir():
        raise GradekitError(f"{target}: exists and is not a folder")
    files = kit_files(assignment, target, requested, notebook=notebook)
    clash = [p for p in files if p.exists()]
    if clash:
        raise GradekitError(
            f"{clash[0]}: already exists; gradekit init never overwrites files"
            " (choose another folder or move it away)"
        )
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return sorted(files)
