"""The worker process: imports one submission and runs the plans the parent sends.

Started with only the standard library, numpy, pluggy and gradekit's contract on its
path (see ``view``), with the arguments ``SUBMISSION FD_IN FD_OUT``. Its first order is
its limits, which it sets on itself before it imports the submission. The control pipe
carries orders (a plan by its file and index, or ``{"catalog": true}``) one way, and
acknowledgements, the submission's catalog and each plan's outcome (``answer``) the
other. Plans are files the parent writes (read-only under bubblewrap); a warm worker,
forked by a template (``zygote``), already holds the class's. Nothing the worker says is
trusted: the parent validates every result.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import json
import os
import resource
import sys
import textwrap
from pathlib import Path
from typing import BinaryIO

import numpy as np

import gradekit

from ..components import KINDS
from ..errors import SubmissionError
from ..plugins import load_catalog
from ..registry import Entry
from .orders import plan_of
from .plan import Outcome, execute
from .transport import Book, answer_frame, outcome_parts

_HIDE = (str(Path(gradekit.__file__).parent), str(Path(np.__file__).parent))


class MissingComponent(LookupError):
    """The submission registers no component of that kind and name."""


def missing(kind: str, name: str, registered: list[str]) -> str:
    """Why a checked component cannot be built, with the registered name it was probably
    meant to be (a typo such as ``rellu`` for ``relu``)."""
    close = difflib.get_close_matches(name, registered, n=1, cutoff=0.75)
    hint = f" (it registers {close[0]!r}: did you mean {name!r}?)" if close else ""
    return f"the submission registers no {kind} {name!r}{hint}"


def _definition(source: str) -> ast.AST | None:
    """The first statement of a method's source, however deep the method was indented."""
    for text in (textwrap.dedent(source), "if 1:\n" + source):  # a flush-left docstring line
        try:
            body = ast.parse(text).body
        except SyntaxError:
            continue
        node = body[0] if body else None
        return node.body[0] if isinstance(node, ast.If) else node
    return None


def still_todo(method: object) -> bool:
    """Whether ``method`` is still the template's TODO, read from its source, never called:
    a body of an optional docstring and ``raise NotImplementedError(...)`` only."""
    try:
        node = _definition(inspect.getsource(method))  # type: ignore[arg-type]
    except Exception:  # no source (a builtin, exec'd code) or a hostile object: not a TODO
        return False
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    body = node.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:] if isinstance(body[0].value.value, str) else body
    if len(body) != 1 or not isinstance(body[0], ast.Raise):
        return False
    raised = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def describe(entry: Entry) -> dict[str, object]:
    """One component as plain data for the parent: kind, name, summary, and the protocol
    methods it lacks or that still raise the template's TODO."""
    missing = entry.missing_methods()
    methods = KINDS[entry.kind].methods if inspect.isclass(entry.factory) else []
    todo = [m for m in methods if m not in missing and still_todo(getattr(entry.factory, m))]
    return {
        "kind": entry.kind,
        "name": entry.name,
        "summary": entry.summary,
        "missing": missing,
        "todo": todo,
    }


def apply_limits(
    memory_mb: int, cpu_seconds: int, file_mb: int, open_files: int, processes: int
) -> None:
    """Set the worker's resource limits on itself; whatever it starts inherits them.

    Set here rather than between fork and exec in the parent: a ``preexec_fn`` makes the
    parent fork (not spawn) the worker, and a fork while another of the grader's threads is
    inside OpenBLAS can deadlock the grader. Root ignores RLIMIT_NPROC, so the parent caps
    processes with a cgroup there (``ProcessCap``); elsewhere the rlimit applies.
    """
    mb = 1 << 20
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * mb, memory_mb * mb))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb * mb, file_mb * mb))
    resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if os.geteuid() != 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))


def answer(out: BinaryIO, task: int, outcome: Outcome) -> None:
    """Send one plan's outcome: its frame (the task, the sizes of its two parts), then
    both, the arrays' data written from where it lies."""
    document, records = outcome_parts(outcome)
    out.write(answer_frame(task, document, sum(len(p) for p in records)) + document)
    for part in records:
        out.write(part)
    out.flush()


def serve(fd_in: int, fd_out: int, submission: str | None, books: dict[str, Book]) -> int:
    """Set the limits, load the submission, say whether it loaded, then run plans until
    the pipe closes. The first order holds the limits and the submission's path (a warm
    worker is forked before it is known). A plan is named by a file of plans and its index
    there; ``books`` holds the files already read (the class's, read once by a template)."""
    os.environ.pop("PWD", None)  # set by bubblewrap's --chdir; the worker's env is only ours
    control_in = os.fdopen(fd_in, "rb")
    control_out = os.fdopen(fd_out, "wb")
    limits = json.loads(control_in.readline() or b"null")
    if not isinstance(limits, dict):
        return 1  # the parent closed the pipe before it sent the limits
    submission = limits.pop("submission", submission)
    apply_limits(**limits)

    def say(message: dict) -> None:
        control_out.write(json.dumps(message).encode() + b"\n")
        control_out.flush()

    try:
        catalog = load_catalog(submission, reference=False, installed=False)
    except SubmissionError as exc:
        say({"load_error": exc.problem})
        return 0

    def resolve(kind: str, name: str):
        entry = catalog.get(kind, name)
        if entry is None:
            raise MissingComponent(missing(kind, name, [e.name for e in catalog if e.kind == kind]))
        return entry.factory

    say({"ready": True})
    for line in control_in:
        order = json.loads(line)
        if order.get("catalog") is True:
            say({"catalog": [describe(entry) for entry in catalog]})
            continue
        ops, arrays = plan_of(order, control_in, books)
        answer(control_out, order["out"], execute(ops, arrays, resolve, hide=_HIDE))
    return 0


def main(argv: list[str]) -> int:
    """A cold worker: ``SUBMISSION FD_IN FD_OUT``, started for one submission."""
    submission, fd_in, fd_out = argv[0], int(argv[1]), int(argv[2])
    return serve(fd_in, fd_out, submission, {})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
