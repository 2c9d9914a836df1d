"""gradekit's benchmarks: ``python benchmarks/run.py [--class-size N]``.

Prints figures measured in one run, as ratios where there is something to compare with:

- the wall time to grade each bundled assignment's correct example (worker included);
- the student forward calls one gradient check makes on a linear layer, by size: the
  count must not grow with the number of parameters (directional checks, as torch's
  gradcheck fast mode), against the per-entry loop's count;
- the sandbox's overhead: each backend against running the same plans in-process;
- a class of generated submissions graded with one and two jobs, and a cached regrade.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from gradekit.assignments import bundled_assignments, load_assignment
from gradekit.batch import ResultCache, grade_all
from gradekit.checks import Target, check_kinds
from gradekit.grading import Grader, reference_factories
from gradekit.plugins import load_catalog
from gradekit.sandbox.backends import available
from gradekit.sandbox.runner import LocalSession


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


def sandbox_overhead(name: str = "backprop", repeats: int = 3) -> None:
    print(f"## The sandbox's overhead ({name}, correct example, best of {repeats})\n")
    assignment = load_assignment(name)
    example = assignment.folder / "examples" / "correct.py"
    catalog = load_catalog(example, reference=False, installed=False)
    factories = {(e.kind, e.name): e.factory for e in catalog}

    def in_process() -> None:
        session = LocalSession(factories)
        for check in grader.checks:
            grader.verdict(check, session.run(check.plan))

    grader = Grader(assignment)
    in_process()  # the reference's expected outcomes, once, outside the timings
    rows = [("in-process (no sandbox)", in_process)]
    for backend in available():
        g = Grader(assignment, backend=backend)
        g.grade(example)
        rows.append((f"worker, {backend}", lambda g=g: g.grade(example)))
    base = None
    print("| how | seconds | ratio |")
    print("|---|---:|---:|")
    for label, run in rows:
        best = min(_timed(run) for _ in range(repeats))
        base = base or best
        print(f"| {label} | {best:.3f} | {best / base:.2f}x |")
    print()


def _timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def class_throughput(size: int, name: str = "backprop") -> None:
    print(f"## A class of {size} generated submissions ({name})\n")
    assignment = load_assignment(name)
    examples = assignment.examples()
    with tempfile.TemporaryDirectory() as tmp:
        subs = []
        for i in range(size):
            source = examples[i % len(examples)].read_text()
            path = Path(tmp) / f"student{i:04d}.py"
            path.write_text(source + f"\n# student {i}\n")  # a distinct file each
            subs.append((path.stem, path))
        grader = Grader(assignment)
        grader.grade(subs[0][1])  # expected outcomes computed once, outside the timings
        cache = ResultCache(Path(tmp) / "cache", grader)
        rows = []
        for jobs in (1, 2):
            start = time.perf_counter()
            results = grade_all(grader, subs, jobs=jobs, cache=cache if jobs == 2 else None)
            rows.append((f"--jobs {jobs}", time.perf_counter() - start))
        start = time.perf_counter()
        again = grade_all(grader, subs, jobs=2, cache=cache)
        rows.append(("cached regrade", time.perf_counter() - start))
        assert [r.score for r in again] == [r.score for r in results]
    print("| run | seconds | submissions/s | ratio to --jobs 1 |")
    print("|---|---:|---:|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} | {size / seconds:.1f} | {seconds / rows[0][1]:.3f}x |")
    print()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--class-size", type=int, default=200)
    args = parser.parse_args()
    print(f"# gradekit benchmarks ({platform.machine()}, Python {platform.python_version()})\n")
    grading_times()
    forward_calls()
    sandbox_overhead()
    class_throughput(args.class_size)
