"""What each mutant of the catalogue keeps of its component's points: docs/grading.md's table.

``python -m gradekit_reference.mutants.credit_table`` prints the table; the test of the
catalogue (tests/grader/test_mutants.py) checks that the one in docs/grading.md is current.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

from gradekit.assignments import load_assignment
from gradekit.credit import SEVERE_CAP
from gradekit.grading import Grader
from gradekit.results import CheckResult
from gradekit.sandbox.runner import LocalSession

from . import Mutant, all_mutants

ASSIGNMENTS = ("backprop", "initialization", "optimization", "regularization", "training")
"""The bundled assignments, whose checks grade the catalogue."""

BEGIN = "<!-- mutant credit table: python -m gradekit_reference.mutants.credit_table -->"
END = "<!-- end of the mutant credit table -->"


@cache
def grader(assignment: str) -> Grader:
    """One grader per bundled assignment (its reference outcomes are computed once)."""
    return Grader(load_assignment(assignment))


def graded() -> list[tuple[Mutant, str]]:
    """Each mutant of a component a bundled assignment checks, with that assignment."""
    found = []
    for mutant in all_mutants():
        for assignment in ASSIGNMENTS:
            checks = grader(assignment).checks
            if any((c.target.kind, c.target.name) == (mutant.kind, mutant.target) for c in checks):
                found.append((mutant, assignment))
                break
    return found


def verdicts(mutant: Mutant, assignment: str) -> list[CheckResult]:
    """The mutant's verdicts on every check of its component, judged as a submission's."""
    g = grader(assignment)
    key = (mutant.kind, mutant.target)
    checks = [c for c in g.checks if (c.target.kind, c.target.name) == key]
    session = LocalSession({key: mutant.factory})
    return g.judge_all(checks, [session.run(c.plan) for c in checks], mutant.name)


def kept(results: Sequence[CheckResult]) -> float:
    """The share of the component's points the results earn."""
    return sum(r.score for r in results) / sum(r.max_score for r in results)


def table(rows: Sequence[tuple[Mutant, Sequence[CheckResult]]]) -> str:
    """The markdown table, least credit first: the mutant, its component, the share of the
    component's points it keeps, whether a severe case failed, and whether it should."""
    lines = [
        BEGIN,
        "",
        "| mutant | component | credit kept | a severe case failed | breaks its purpose |",
        "|---|---|---|---|---|",
    ]
    for mutant, results in sorted(rows, key=lambda r: (round(kept(r[1]), 3), r[0].name)):
        severe = any(c.severe for r in results for c in r.cases)
        lines.append(
            f"| `{mutant.name}` | {mutant.kind}/{mutant.target} | {kept(results):.0%} | "
            f"{'yes' if severe else ''} | {'yes' if mutant.breaks_purpose else ''} |"
        )
    lines += ["", END]
    return "\n".join(lines)


def current(
    document: str, verdicts_of: Callable[[Mutant, str], Sequence[CheckResult]] = verdicts
) -> tuple[str, str]:
    """The table in ``document`` and the table as the catalogue grades today."""
    start, end = document.find(BEGIN), document.find(END)
    found = document[start : end + len(END)] if 0 <= start < end else ""
    return found, table([(m, verdicts_of(m, a)) for m, a in graded()])


def main() -> None:
    """Print the table, and the cap it is measured against."""
    print(f"(a mutant that breaks its component's purpose keeps at most {SEVERE_CAP:.0%})\n")
    print(table([(m, verdicts(m, a)) for m, a in graded()]))


if __name__ == "__main__":
    main()
