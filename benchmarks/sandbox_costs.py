"""What the sandbox costs, each figure beside its in-process floor from the same run.

- ``overhead_section``: one submission on every bundled assignment, graded through warm
  and cold workers under each backend, against the same checks run and judged in-process;
- ``roundtrip_section``: one small check (a 16x8 array each way) through a warm worker,
  the plan named by its index in the class's plans or sent whole, against a plain pipe
  round trip of the same bytes between two Python processes;
- ``classes_section``: a generated class on all five assignments with ``--jobs 1`` and
  ``--jobs 2``, against the in-process floor of the same work.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from common import make_class, table, timed

from gradekit.assignments import bundled_assignments, load_assignment
from gradekit.batch import grade_all
from gradekit.grading import Grader
from gradekit.plugins import load_catalog
from gradekit.results import SubmissionResult
from gradekit.sandbox.backends import available
from gradekit.sandbox.classroom import Classroom
from gradekit.sandbox.plan import Plan
from gradekit.sandbox.runner import LocalSession, WorkerSession
from gradekit.sandbox.transport import encode_outcome


def in_process(grader: Grader, path: Path, name: str) -> SubmissionResult:
    """``path`` graded with no sandbox: imported here, its plans run and judged here."""
    catalog = load_catalog(path, reference=False, installed=False)
    session = LocalSession({(e.kind, e.name): e.factory for e in catalog})
    outcomes = (session.run(check.plan) for check in grader.checks)
    results = grader.judge_all(grader.checks, outcomes, name)
    return grader._result(path, name, results, None)


def _grader(assignment: Any, backend: str, warm: bool, like: Grader) -> Grader:
    grader = Grader(assignment, backend=backend)
    grader.warm = warm
    grader.checks = like.checks  # the same prepared checks and expected outcomes
    grader.grade(assignment.folder / "examples" / "correct.py")  # the template starts here
    return grader


def overhead_section(repeats: int) -> None:
    print(f"## The sandbox's overhead (correct example, best of {repeats})\n")
    print(
        "Warm: the class's template already started (its start is the last column, paid "
        "once per class and assignment). Cold: a worker started for the submission alone.\n"
    )
    rows, totals, starts = [], defaultdict(float), defaultdict(float)
    for name in bundled_assignments():
        assignment = load_assignment(name)
        example = assignment.folder / "examples" / "correct.py"
        base = Grader(assignment)
        in_process(base, example, "correct")  # the reference's outcomes, outside the timings
        runs = [("in-process (no sandbox)", lambda g=base, e=example: in_process(g, e, "c"))]
        for backend in available():
            for warm in (True, False):
                start, g = timed(
                    lambda b=backend, w=warm, a=assignment, c=base: _grader(a, b, w, c)
                )
                label = f"{'warm' if warm else 'cold'} worker, {backend}"
                starts[label] += start
                runs.append((label, lambda g=g, e=example: g.grade(e)))
        times: dict[str, list[float]] = {label: [] for label, _ in runs}
        for _ in range(repeats):
            for label, run in runs:
                times[label].append(timed(run)[0])
        floor = min(times[runs[0][0]])
        for label, _ in runs:
            t = min(times[label])
            totals[label] += t
            rows.append([name, label, f"{t:.3f}", f"{t / floor:.2f}x"])
    floor = next(iter(totals.values()))
    for label, t in totals.items():
        start = f"{starts[label]:.2f}" if label in starts else ""
        rows.append(["**all bundled**", label, f"{t:.3f}", f"**{t / floor:.2f}x**", start])
    header = ["assignment", "how", "seconds", "ratio to in-process"]
    table([*header, "first submission, template start included (s)"], rows)


ECHO = """
import os, sys
fd_in, fd_out, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
while True:
    data = b""
    while len(data) < size:
        chunk = os.read(fd_in, size - len(data))
        if not chunk:
            sys.exit(0)
        data += chunk
    os.write(fd_out, data)
"""
"""The echo's program: its pipes' ends and the message size as arguments."""


class PipeEcho:
    """A Python process that sends back every message of ``size`` bytes it reads."""

    def __init__(self, size: int) -> None:
        to_r, self._to = os.pipe()
        self._back, back_w = os.pipe()
        self._proc = subprocess.Popen(
            [sys.executable, "-c", ECHO, str(to_r), str(back_w), str(size)],
            pass_fds=(to_r, back_w),
        )
        os.close(to_r)
        os.close(back_w)
        self._message = os.urandom(size)

    def round_trip(self) -> None:
        os.write(self._to, self._message)
        got = b""
        while len(got) < len(self._message):
            got += os.read(self._back, len(self._message) - len(got))

    def close(self) -> None:
        os.close(self._to)
        self._proc.wait()
        os.close(self._back)


def small_plan() -> Plan:
    """One small check: relu's forward on a 16x8 array, saving the 16x8 answer."""
    plan = Plan()
    plan.make("act", "activations", "relu")
    x = np.random.default_rng(0).standard_normal((16, 8))
    plan.call("act", "forward", plan.array(x), save="y")
    return plan


def roundtrip_section(count: int) -> None:
    print(f"## The round trip of one small check (median of {count})\n")
    example = load_assignment("backprop").folder / "examples" / "correct.py"
    plan = small_plan()
    catalog = load_catalog(example, reference=False, installed=False)
    local = LocalSession({(e.kind, e.name): e.factory for e in catalog})
    document, records = encode_outcome(local.run(plan))
    size = len(document) + len(records)  # the answer's bytes; the plan's go the other way
    rows = []
    for backend in available():
        grader = Grader(load_assignment("backprop"), backend=backend)
        own = Classroom([plan], backend, grader.hidden)  # the plan is one of the class's
        echo = PipeEcho(size)
        times: dict[str, list[float]] = defaultdict(list)
        with (
            WorkerSession(example, grader.limits, backend, grader.hidden, own) as indexed,
            WorkerSession(
                example, grader.limits, backend, grader.hidden, grader.classroom()
            ) as sent,
        ):
            indexed.run(plan)  # both started
            sent.run(plan)
            for _ in range(count):  # side by side: each in turn
                times["class"].append(timed(lambda w=indexed: w.run(plan))[0])
                times["own"].append(timed(lambda w=sent: w.run(plan))[0])
                times["pipe"].append(timed(echo.round_trip)[0])
                times["here"].append(timed(lambda: local.run(plan))[0])
        echo.close()
        own.close()
        grader.close()
        p, h = (statistics.median(times[k]) * 1e6 for k in ("pipe", "here"))
        for path, key in (("the class's, by index", "class"), ("its own, sent", "own")):
            w = statistics.median(times[key]) * 1e6
            row = [f"{w:.0f}", f"{p:.0f}", f"{h:.0f}", f"**{w / p:.2f}x**", f"{(w - h) / p:.2f}x"]
            rows.append([backend, path, *row])
    print(
        f"A warm worker's round trip against a Python echo of the answer's {size} bytes over "
        "two pipes, and the check run in-process (its compute), timed in turn. The plan is "
        "one of the class's, named by its index (as every check of an assignment is), or a "
        "plan of the session's own, sent with its 16x8 array. Medians, microseconds. The "
        "last column leaves the check's own compute out: the round trip's cost beyond the "
        "in-process run.\n"
    )
    heads = ["warm worker (us)", "pipe echo (us)", "in-process (us)", "ratio", "beyond compute"]
    table(["backend", "plan", *heads], rows)


def _floor(grader: Grader, subs: list[tuple[str, Path]], hostile: set[str]) -> float:
    """The class graded with no sandbox: the honest submissions in-process, and the hostile
    ones (which cannot run in-process) graded: mostly their timeouts, which no sandbox
    can shorten."""
    honest = sum(
        timed(lambda p=p, n=n: in_process(grader, p, n))[0] for n, p in subs if n not in hostile
    )
    waited = sum(timed(lambda p=p, n=n: grader.grade(p, n))[0] for n, p in subs if n in hostile)
    grader.close()
    return honest + waited


def classes_section(size: int, timeout: float) -> None:
    print(f"## A class of {size} on all five assignments (call timeout {timeout} s)\n")
    rows, same, mixes = [], True, {}
    totals = np.zeros(4)
    with tempfile.TemporaryDirectory() as tmp:
        for name in bundled_assignments():
            folder = Path(tmp) / name
            folder.mkdir()
            mixes[name] = make_class(folder, size, name)
            subs = [(p.stem, p) for p in sorted(folder.iterdir())]
            grader = Grader(load_assignment(name), limits={"call": timeout})
            _ = [c.expected for c in grader.checks]  # once, outside the timings
            hostile = {n for n, _ in subs if name == "backprop" and int(n[-4:]) % 50 == 49}
            floor = _floor(grader, subs, hostile)
            floor_two = _floor_in_two(grader, subs, hostile)
            one, first = timed(lambda g=grader, s=subs: grade_all(g, s, jobs=1))
            two, second = timed(lambda g=grader, s=subs: grade_all(g, s, jobs=2))
            same &= [r.model_dump(exclude={"path"}) for r in first] == [
                r.model_dump(exclude={"path"}) for r in second
            ]
            totals += (floor, floor_two, one, two)
            rows.append([name, *_ratios(floor, floor_two, one, two)])
    print(
        f"Mixes: {mixes}. The floor of ``--jobs 1`` is the class graded with no sandbox, in "
        "one process (hostile submissions graded, as they cannot run in-process). That of "
        "``--jobs 2`` is the same work split between two processes, measured: half the "
        "one-process floor would assume two processes share two cores perfectly. Results "
        f"identical for --jobs 1 and --jobs 2: {same}.\n"
    )
    rows.append(["**all five**", *_ratios(*totals)])
    table(
        [
            "assignment",
            "floor, one process (s)",
            "floor, two processes (s)",
            "--jobs 1 (s)",
            "ratio",
            "--jobs 2 (s)",
            "ratio",
            "ratio to half the one-process floor",
        ],
        rows,
    )


def _floor_in_two(grader: Grader, subs: list[tuple[str, Path]], hostile: set[str]) -> float:
    """The floor of two jobs: the in-process work split between two processes forked
    here, every other submission each, as ``--jobs 2`` splits a class."""
    grader.close()
    context = multiprocessing.get_context("fork")
    procs = [context.Process(target=_floor, args=(grader, subs[i::2], hostile)) for i in (0, 1)]
    start = time.perf_counter()
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    return time.perf_counter() - start


def _ratios(floor: float, floor_two: float, one: float, two: float) -> list[str]:
    return [
        f"{floor:.1f}",
        f"{floor_two:.1f}",
        f"{one:.1f}",
        f"{one / floor:.2f}x",
        f"{two:.1f}",
        f"**{two / floor_two:.2f}x**",
        f"{two / (floor / 2):.2f}x",
    ]
