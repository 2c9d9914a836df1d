"""Result files: the versioned JSON, a CSV gradebook and Gradescope's ``results.json``.

The versioned JSON keeps every string as the submission produced it: it is data. The
gradebook's cells are printable and never formulas, and the ``output`` Gradescope shows
has no escape sequences or control characters (see :mod:`.safe`).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..results import GradeReport, SubmissionResult
from .safe import csv_cell, printable

GRADESCOPE_VISIBILITY = {"public": "visible", "hidden": "after_published"}
"""Hidden checks count at once but are shown to students only once grades are published."""


def write_json(report: GradeReport, path: Path) -> None:
    """The whole run, in the versioned schema of ``gradekit.results``."""
    path.write_text(report.model_dump_json(indent=2) + "\n")


def standing(result: SubmissionResult) -> tuple[str, str]:
    """A submission's status for a gradebook, and the reason when it is not ``graded``:
    ``load error`` (nothing ran, so every score is 0 for that reason) or ``timed out``
    (some checks ran out of time; their scores are 0)."""
    if result.load_error:
        return "load error", printable(result.load_error)
    late = [c.name for c in result.checks if c.status == "timeout"]
    if late:
        named = ", ".join(late[:3]) + (f" and {len(late) - 3} more" if len(late) > 3 else "")
        return "timed out", f"{len(late)} of {len(result.checks)} checks timed out: {named}"
    return "graded", ""


def write_csv(report: GradeReport, path: Path) -> None:
    """A gradebook: one row per submission, its status and the reason, then one column per
    check (its score)."""
    ids = list(dict.fromkeys(c.name for s in report.submissions for c in s.checks))
    head = ("submission", "score", "max_score", "status", "reason", *ids)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([csv_cell(c) for c in head])
        for s in report.submissions:
            scores = {c.name: c.score for c in s.checks}
            row = [s.submission, s.score, s.max_score, *standing(s)]
            writer.writerow([csv_cell(c) for c in row + [scores.get(i, "") for i in ids]])


def gradescope_results(result: SubmissionResult) -> dict:
    """Gradescope's autograder ``results.json`` for one submission."""
    tests = []
    for check in result.checks:
        output = check.message
        if check.misconception:
            output += f"\nLikely misconception: {check.misconception}"
        if check.output:
            output += f"\n\n{check.output}"
        tests.append(
            {
                "name": f"{check.name}: {check.title}",
                "score": check.score,
                "max_score": check.max_score,
                "status": "passed" if check.status == "passed" else "failed",
                "output": printable(output, multiline=True).strip() or "passed",
                "visibility": GRADESCOPE_VISIBILITY[check.visibility],
            }
        )
    out = {"score": result.score, "tests": tests}
    said = [f"The submission did not load: {result.load_error}"] if result.load_error else []
    said += ["Left out of grading:", *result.notes] if result.notes else []
    if said:
        out["output"] = printable("\n".join(said), multiline=True)
    return out


def write_gradescope(report: GradeReport, folder: Path) -> list[Path]:
    """``<folder>/<submission>/results.json`` for each submission; returns the paths."""
    written = []
    for result in report.submissions:
        target = folder / result.submission / "results.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(gradescope_results(result), indent=2) + "\n")
        written.append(target)
    return written
