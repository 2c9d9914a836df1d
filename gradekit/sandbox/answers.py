"""One answer read from a worker: its frame, then its body, both by the task's deadline.
Every way an answer fails is the outcome of that check alone, with whether the worker is
spent (it timed out, died, lied, or ran out) and must be replaced."""

from __future__ import annotations

from .plan import Outcome
from .process import Worker
from .transport import FRAME, TransportError, answer_sizes, decode_answer

OUTPUT_MARK = "; its last output: "
"""Where what a worker printed last is appended to a message about it."""
EXHAUSTED = ("MemoryError", "RecursionError")
"""Exceptions after which a worker's process is spent: it is restarted for the next check."""


def last_output(worker: Worker) -> str:
    """What ``worker`` printed last, as a clause to append ("" if nothing)."""
    tail = worker.output.tail()
    return f"{OUTPUT_MARK}{tail}" if tail else ""


def read_answer(
    worker: Worker, task: int, deadline: float, timeout: float, limit: int, name: str
) -> tuple[Outcome, bool]:
    """The outcome of task ``task`` (its records within ``limit`` bytes), and whether the
    worker is spent. ``name`` is the submission's, for the messages."""
    late = Outcome(status="timeout", detail=f"no answer within {timeout:.3g} s")
    frame = worker.read_exact(FRAME.size, deadline)
    if frame == "timeout":
        return late, True
    sizes = answer_sizes(frame, task, limit) if isinstance(frame, bytearray) else None
    if sizes is None:
        detail = f"the worker died during the call{last_output(worker)}"
        return Outcome(status="crashed", detail=detail), True
    if isinstance(sizes, str):  # what follows on the pipe is not read: the worker is replaced
        return Outcome(status="error", detail=f"unreadable result from {name}: {sizes}"), True
    body = worker.read_exact(sum(sizes), deadline)
    if body == "timeout":
        return late, True
    if not isinstance(body, bytearray):
        return Outcome(status="crashed", detail="the worker died while answering"), True
    try:
        outcome = decode_answer(body, sizes[0])
    except TransportError as exc:
        return Outcome(status="error", detail=f"unreadable result from {name}: {exc}"), False
    return outcome, outcome.failure is not None and outcome.failure.type in EXHAUSTED
