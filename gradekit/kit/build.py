"""The instructor's side of a kit: the public checks' data, the engine wheel, the folder.

A kit holds no answer a student could not see anyway: the template, the public checks'
plans with the reference's outcomes on them (and the mutants', to name misconceptions),
and a gradekit engine with no reference, no mutant, no bundled assignment and no
instructor's module. Hidden checks, their seeds and the course secret never go in.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

from ..assignments import Assignment
from ..errors import GradekitError
from ..grading import Grader
from . import data
from .notebook import SUBMISSION as NOTEBOOK
from .notebook import notebook_text
from .wheel import STUDENT_LEAVES_OUT, build_wheel

SUBMISSION = "submission.py"
CHECKS_FOLDER = "public-checks"
ENGINE_FOLDER = "engine"
ENGINE_SUMMARY = (
    "gradekit's student engine: self-checks a submission against a kit's public checks"
    " (no reference, no hidden check)."
)

READING = """\
A fresh kit fails every item with "not implemented yet" and the TODO it reached. A
failure shows what is wrong and where: the worst entry, the value received from your code
and the one expected, the relative error against its tolerance and, when the mistake is
a known one, the misconception behind it. When your code raises, you see your own
traceback.

Relative errors: about 1e-7 or less is a healthy gradient in float64; about 1e-2 is a
wrong one.
"""
"""How to read the self-check's items: the same in a kit's README and in ``init``'s."""

IN_JUPYTER = """\
## In Jupyter

Open `{submission}` in Jupyter, with gradekit installed in its kernel's environment
(in a kit: `.venv/bin/jupyter lab {submission}`). Each component has a markdown cell
with its formula and the lecture's section, a code cell with its `TODO`s, and a check
cell: `gradekit.check("relu")` shows the verdicts of that component's public checks as a
table, and `gradekit.check()` those of every component. They read the notebook as saved
on disk, which is what you hand in: save first.

Only code cells are graded, joined in order into one module. Lines that only IPython
understands (`%matplotlib inline`, `!pip ...`) are left out, and so is every cell you
tag `gradekit: skip` (the check cells are): tag your plots and experiments so.
"""
"""The notebook kit's own section, in a kit's README and in ``init``'s."""

PYTEST_INI = """\
# gradekit's self-check: plain `pytest` in this folder runs the public checks of the
# assignment on your submission, through gradekit's grader. See README.md.
[pytest]
gradekit_assignment = {checks}
gradekit_submission = {submission}
"""

README = """\
# {title}

Set up once, then check yourself as often as you like (Python 3.11 or newer):

```bash
python3 -m venv .venv && .venv/bin/pip install {wheel}{jupyter}
.venv/bin/pytest
```

{description}

## What is here

- `{submission}`: your submission. Fill in every `TODO`; each method's docstring names
  the formula and the lecture section it comes from.
- `pytest.ini`: tells pytest to run the public checks of `{name}` on it.
- `{checks}/`: the public checks: their inputs and the outcomes a correct solution gives,
  as plain data.
- `{wheel}`: gradekit's engine, which runs your code in a sandboxed worker and judges it.

## The loop

```bash
{commands}
```

{reading}

{in_jupyter}## What counts

These items run on your machine and only show you the public checks. Your grade comes
from `gradekit grade`, run by the course staff on the file you hand in, with further
hidden checks (other shapes, hyperparameters and seeds). Hand in `{submission}`.

Components to implement:

{components}
"""


def public_document(grader: Grader) -> dict[str, Any]:
    """The public checks of ``grader``'s assignment, with plans and expected outcomes.

    Each check keeps its own seed; the assignment's base seed, from which hidden checks'
    seeds derive, is not kept. Every mutant of a check's component that runs its plan
    gives its outcome and misconception; the components that do nothing give the cases
    they pass (see ``Grader.null_passes``).
    """
    spec = grader.assignment.spec
    public = [c for c in grader.checks if c.spec.visibility == "public"]
    if not public:
        raise GradekitError(f"{grader.assignment.name}: no public check to put in a kit")
    targets = {(c.target.kind, c.target.name) for c in public}
    mutants = [m for m in grader.mutants if (m.kind, m.target) in targets]
    checks = []
    for check in public:
        outcomes = {
            m.name: grader.mutant_expected(check, m)
            for m in mutants
            if (m.kind, m.target) == (check.target.kind, check.target.name)
        }
        checks.append(
            {
                "spec": check.spec.model_dump(mode="json") | {"seed": check.target.seed},
                "ops": check.plan.ops,
                "arrays": check.plan.arrays,
                "meta": check.plan.meta,
                "timeout": check.timeout,
                "expected": check.expected,
                "mutants": {k: v for k, v in outcomes.items() if v is not None},
                "nulls": [sorted(passed) for passed in grader.null_passes(check)],
            }
        )
    header = spec.model_dump(mode="json", exclude={"checks", "seed"})
    return {
        "assignment": header,
        "mutants": [
            {"name": m.name, "kind": m.kind, "target": m.target, "misconception": m.misconception}
            for m in mutants
        ],
        "checks": checks,
    }


def _readme(assignment: Assignment, wheel: str, submission: str) -> str:
    public = sorted({c.component for c in assignment.spec.checks if c.visibility == "public"})
    names = [c.split("/")[1] for c in public]
    example = next((n for n in names if sum(n in m for m in names) == 1), "NAME")
    commands = [
        (".venv/bin/pytest", "every public check, one test item each"),
        (f".venv/bin/pytest {submission}::{example}", f"only the checks of {example}"),
        (".venv/bin/pytest -x", "stop at the first failure"),
        (
            f".venv/bin/gradekit list --mine {submission}",
            "what your file registers, and which methods still hold a TODO",
        ),
    ]
    width = max(len(c) for c, _ in commands) + 2
    return README.format(
        title=assignment.spec.title,
        description=assignment.spec.description.strip(),
        wheel=wheel,
        jupyter=" jupyterlab" if submission == NOTEBOOK else "",
        submission=submission,
        name=assignment.name,
        checks=CHECKS_FOLDER,
        commands="\n".join(f"{c.ljust(width)}# {why}" for c, why in commands),
        components="\n".join(f"- `{c}`" for c in public),
        reading=READING.strip(),
        in_jupyter=IN_JUPYTER.format(submission=NOTEBOOK) + "\n" if submission == NOTEBOOK else "",
    )


def write_kit(
    assignment: Assignment, target: Path, backend: str | None = None, *, notebook: bool = False
) -> Path:
    """Write the kit folder ``target`` and ``target.zip`` beside it; return the zip. With
    ``notebook``, the template is ``submission.ipynb`` (see ``kit.notebook``).

    Refuses, before writing anything, when either exists.
    """
    archive = target.with_name(target.name + ".zip")
    for path in (target, archive):
        if path.exists() or path.is_symlink():
            raise GradekitError(
                f"{path}: already exists; gradekit kit never overwrites files"
                " (choose another folder or move it away)"
            )
    starter = assignment.folder / "starter"
    if not (starter / SUBMISSION).is_file():
        raise GradekitError(f"{starter}: the assignment has no starter {SUBMISSION}")
    document = public_document(Grader(assignment, backend=backend))
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        shutil.copytree(starter, staging, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        submission = NOTEBOOK if notebook else SUBMISSION
        if notebook:  # the template's module becomes the notebook, in its place
            template = staging / SUBMISSION
            title = assignment.spec.title
            (staging / NOTEBOOK).write_text(notebook_text(template.read_text(), title))
            template.unlink()
        data.save(staging / CHECKS_FOLDER, document)
        wheel = build_wheel(
            staging / ENGINE_FOLDER, ["gradekit"], STUDENT_LEAVES_OUT, ENGINE_SUMMARY
        )
        wheel_name = f"{ENGINE_FOLDER}/{wheel.name}"
        (staging / "pytest.ini").write_text(
            PYTEST_INI.format(checks=CHECKS_FOLDER, submission=submission)
        )
        (staging / "README.md").write_text(_readme(assignment, wheel_name, submission))
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(target.rglob("*")):
            if path.is_file():
                zf.write(path, Path(target.name) / path.relative_to(target))
    return archive
