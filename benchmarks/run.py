"""gradekit's benchmarks: ``python benchmarks/run.py``. Prints figures measured in one run.

- the wall time to grade each bundled assignment's correct example (worker included);
- the student forward calls one gradient check makes on a linear layer, by size: the
  count must not grow with the number of parameters (directional checks, as torch's
  gradcheck fast mode), against the per-entry loop's count.
"""

from __future__ import annotations

import platform
import time

from gradekit.assignments import bundled_assignments, load_assignment
from gradekit.checks import Target, check_kinds
from gradekit.grading import Grader, reference_factories


def grading_times() -> None:
    print("## Grading the correct example, per assignment (wall, worker included)\n")
    print("| assignment | checks | first grade (s) | regrade (s) | score |")
    print("|---|---:|---:|---:|---|")
    for name in bundled_assignments():
        assignment = load_assignment(name)
        example = assignment.folder / "examples" / "correct.py"
        start = time.perf_counter()
        grader = Grader(assignment)
        result = grader.grade(example)
        first = time.perf_counter() - start
        start = time.perf_counter()
        grader.grade(example)
        again = time.perf_counter() - start
        print(
            f"| {name} | {len(result.checks)} | {first:.2f} | {again:.2f} "
            f"| {result.score:g}/{result.max_score:g} |"
        )
    print("\nThe first grade includes the reference's expected outcomes, computed once per")
    print("check and reused for every later submission (the regrade column).\n")


def forward_calls() -> None:
    print("## Student forward calls of one gradient check on a linear layer\n")
    print("| layer | parameters | gradekit forward calls | per-entry loop forward calls | ratio |")
    print("|---|---:|---:|---:|---:|")
    gradient = check_kinds()["gradient"]
    factory = reference_factories()[("layers", "linear")]
    for din, dout in [(16, 16), (64, 64), (256, 256)]:
        target = Target("layers", "linear", {"din": din, "dout": dout}, 0, factory)
        options = gradient.options(batch=16)
        plan = gradient.plan(target, options)
        calls = sum(1 for op in plan.ops if op.get("method") == "forward")
        params = din * dout + dout
        loop = 2 * (16 * din + params)  # two forwards per entry of x, W and b
        print(f"| {din}x{dout} | {params} | {calls} | {loop} | {loop / calls:.0f}x |")
    print()


if __name__ == "__main__":
    print(f"# gradekit benchmarks ({platform.machine()}, Python {platform.python_version()})\n")
    grading_times()
    forward_calls()
