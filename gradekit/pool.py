"""Grading a class in several processes: ``--jobs`` beyond one.

Judging is Python in the grader's process, and holds the GIL: threads would judge one
submission at a time while the workers waited. So each job is a process forked from the
grader once its reference outcomes are computed, sharing them (copy-on-write) instead of
recomputing them, with its own warm template; it takes the next submission from a shared
counter and sends each result back as it is done. A job that dies (the grader's own
process, never a submission's code, which runs in workers) leaves its submissions to the
parent, which grades them itself.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from .grading import Grader
from .results import SubmissionResult

Grade = Callable[[str, Path], SubmissionResult]
"""Grades one submission (name, path), storing it in the results cache if there is one."""


def grade_in_processes(
    grader: Grader,
    subs: list[tuple[str, Path]],
    jobs: int,
    grade: Grade,
    finish: Callable[[int, SubmissionResult], None],
) -> None:
    """Grade ``subs`` in ``jobs`` processes; ``finish(i, result)`` as each result arrives."""
    for check in grader.checks:
        _ = check.expected  # computed here once, before the fork: every job shares them
    grader.close()  # each job starts its own template
    context = multiprocessing.get_context("fork")
    counter = context.Value("q", 0)
    procs, conns = [], []
    for _ in range(min(jobs, len(subs))):
        mine, theirs = context.Pipe(duplex=False)
        proc = context.Process(target=_job, args=(grader, subs, counter, theirs, grade))
        proc.start()
        theirs.close()
        procs.append(proc)
        conns.append(mine)
    got: set[int] = set()
    try:
        while conns:
            for conn in wait(conns):
                try:
                    i, result = conn.recv()  # type: ignore[union-attr]
                except EOFError:  # the job is done, or died
                    conns.remove(conn)  # type: ignore[arg-type]
                    continue
                got.add(i)
                finish(i, result)
    finally:  # interrupted: no job goes on grading for nobody
        for proc in procs:
            if proc.is_alive() and conns:
                proc.terminate()
            proc.join()
    for i, (name, path) in enumerate(subs):  # what a dead job left undone
        if i not in got:
            finish(i, grade(name, path))


def _job(
    grader: Grader, subs: list[tuple[str, Path]], counter: Any, conn: Connection, grade: Grade
) -> None:
    """One job: the next submission of the counter, until none is left."""
    try:
        while True:
            with counter.get_lock():
                i = counter.value
                counter.value += 1
            if i >= len(subs):
                return
            conn.send((i, grade(*subs[i])))
    finally:
        grader.close()
        conn.close()
