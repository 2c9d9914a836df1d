"""A kit's public checks, loaded into a grader that needs no reference.

The student's self-check runs the stored plans in the same worker as ``gradekit grade``
and judges them with the same check kinds against the stored expected outcomes, so a
kit's verdicts are the grader's verdicts on the public checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..assignments import Assignment, AssignmentSpec
from ..checks import Target
from ..errors import GradekitError
from ..grading import Grader, MutantInfo, PreparedCheck
from ..sandbox.plan import Plan
from . import data


def is_kit(folder: Path) -> bool:
    """Whether ``folder`` holds a kit's public checks."""
    return (folder / data.CHECKS).is_file()


def _no_reference(**kwargs: Any) -> Any:
    raise GradekitError("a kit holds no reference implementation")


def load_grader(
    folder: Path, *, backend: str | None = None, only: set[str] | None = None
) -> Grader:
    """A grader of the public checks stored in ``folder`` (see ``build.public_document``),
    or of those of them whose ids are in ``only``."""
    document = data.load(folder)
    try:
        entries = document["checks"]
        specs = [{**entry["spec"], "visibility": "public"} for entry in entries]
        spec = AssignmentSpec.model_validate({**document["assignment"], "checks": specs})
    except (KeyError, TypeError) as exc:
        raise data.KitError(f"{folder / data.CHECKS}: not a kit's data: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise data.KitError(f"{folder / data.CHECKS}: {first['msg']}") from None
    assignment = Assignment(spec, folder)
    try:
        mutants = [
            MutantInfo(m["name"], m["kind"], m["target"], None, m["misconception"])
            for m in document["mutants"]
        ]
        checks, outcomes, nulls = [], {}, {}
        for check_spec, entry in zip(spec.checks, entries, strict=True):
            target = Target(
                check_spec.kind,
                check_spec.name,
                dict(check_spec.kwargs),
                int(check_spec.seed or 0),
                _no_reference,
            )
            plan = Plan(ops=entry["ops"], arrays=entry["arrays"], meta=entry["meta"])
            checks.append(
                PreparedCheck.stored(check_spec, target, plan, entry["timeout"], entry["expected"])
            )
            for name, expected in entry["mutants"].items():
                outcomes[(check_spec.id, name)] = expected
            nulls[check_spec.id] = [frozenset(passed) for passed in entry["nulls"]]
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise data.KitError(f"{folder / data.CHECKS}: not a kit's data: {exc!r}") from None
    if only is not None:
        checks = [c for c in checks if c.spec.id in only]
    return Grader(
        assignment,
        backend=backend,
        checks=checks,
        mutants=mutants,
        mutant_outcomes=outcomes,
        null_passes=nulls,
    )
