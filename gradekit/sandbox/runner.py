"""The parent's side of the trust boundary: run plans in a worker process, or locally.

A ``WorkerSession`` keeps one worker per submission and restarts it after a timeout or
a crash, so one bad call costs one check; given many plans, it sends each as soon as the
one before is answered, so the parent judges while the worker runs. A ``LocalSession``
runs trusted code (the reference, the mutants) in the parent through the very same plan
executor.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SubmissionError
from ..notebook.convert import MODULE_NAME, Module, convert, is_notebook
from . import orders
from .answers import OUTPUT_MARK, last_output, read_answer
from .backends import ProcessCap, bwrap_prefix, choose, inside, python_executable
from .catalog import plain, validate_catalog
from .classroom import Classroom
from .cleanup import remove, remove_tree
from .intake import refusal
from .isolate import WORKER_PLANS
from .limits import SET_BY_THE_WORKER, Limits
from .local import LocalSession
from .plan import Outcome, Plan
from .process import WarmWorker, Worker, scrubbed_env, start_cold, start_warm
from .template import Template
from .transport import encode_book, write_book
from .view import boot, build_view

__all__ = ["Limits", "LocalSession", "WorkerSession"]


class WorkerSession:
    """One submission's worker process, started on first use and after each failure.

    With a ``classroom`` the worker is warm: forked by the class's template, with the
    class's plans already read. Without one, or when the template cannot fork or
    confine it, the worker is cold: started by bubblewrap (or plainly) for this
    submission alone. Both are confined alike and answer alike.
    """

    def __init__(
        self,
        submission: str | Path,
        limits: Limits | None = None,
        backend: str | None = None,
        hidden: tuple[Path, ...] = (),
        classroom: Classroom | None = None,
    ) -> None:
        self.load_error: str | None = refusal(Path(submission))
        """Why the submission cannot be graded (a link, a special file; or it did not load)."""
        self.submission = Path(submission).resolve()
        self.notebook: Module | None = None
        """A notebook's code cells as one module (see ``notebooks``): what the worker imports."""
        if self.load_error is None and is_notebook(self.submission):
            try:
                self.notebook = convert(self.submission)
            except SubmissionError as exc:
                self.load_error = exc.problem
        self.limits = limits or Limits()
        self.backend = choose(backend)
        self.hidden = hidden
        self.classroom = classroom
        self._worker: Worker | None = None
        self._template: Template | None = None
        """The template of this session's folder, while it can fork the session's workers."""
        self._waiting: WarmWorker | None = None
        """The worker waiting in the session's seat, until the session starts it."""
        self._root: Path | None = None
        """The session's folder: ``home``, ``plans`` (ours) and ``submission``."""
        self._seen_root: Path | None = None
        self._tasks = 0
        self._spent = 0.0

    def __enter__(self) -> WorkerSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker and remove its folder."""
        self._stop()
        if self._root is not None:
            remove_tree(self._root)
            self._root = None

    @property
    def warm(self) -> bool:
        """Whether the running worker was forked by a template (and sees its paths)."""
        return isinstance(self._worker, WarmWorker)

    def _stop(self) -> None:
        for worker in (self._worker, self._waiting):
            if worker is not None:
                worker.stop()
        self._worker = self._waiting = None

    @property
    def notes(self) -> tuple[str, ...]:
        """What the grader left out of the submission (a notebook's IPython lines), once each."""
        return self.notebook.notes if self.notebook is not None else ()

    @property
    def _imported(self) -> Path:
        """What the worker imports: the submission, or a notebook's module in our folder."""
        if self.notebook is None:
            return self.submission
        assert self._root is not None
        return self._root / "submission" / MODULE_NAME

    @property
    def _seen_as(self) -> Path:
        """The path of ``_imported`` as the worker sees it."""
        return inside(self._imported) if self.backend == "bwrap" else self._imported

    def _prepare(self) -> None:
        """Make the session's folder: a seat in the classroom, with a warm worker waiting
        there, or a folder of its own for a cold worker."""
        template = self.classroom.template() if self.classroom else None
        if template is not None:
            assert self.classroom is not None
            seat = None
            try:
                seat = self.classroom.seat(template, self._warm_key)
                self.classroom.admit(seat, self.submission, MODULE_NAME if self.notebook else None)
            except OSError:  # no seat, or no copy (too large, changed since): a cold worker
                if seat is not None:
                    seat.leave()
            else:
                self._root, self._seen_root, self._template = seat.here, seat.seen, template
                self._waiting = seat.worker
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="gradekit-worker-"))
            for sub in ("home", "plans", "submission"):
                (self._root / sub).mkdir()
            if self.classroom is None:
                build_view(self._root / "lib")
        if self.notebook is not None:
            self._imported.write_text(self.notebook.source, encoding="utf-8")

    def _book(self) -> str:
        """The class's file of plans as the worker names it."""
        assert self.classroom is not None
        if self.warm:
            assert self._template is not None
            return str(self._template.book)
        return str(self.classroom.book)

    def _plans_seen(self) -> Path:
        """The folder of this session's own plans as the worker sees it."""
        assert self._root is not None
        return WORKER_PLANS if self.warm and self.backend == "bwrap" else self._root / "plans"

    def _command(self, fds: tuple[int, int]) -> list[str]:
        """The command line of a cold worker, given its ends of the two pipes."""
        assert self._root is not None
        view = self.classroom.view if self.classroom else self._root / "lib"
        # -I ignores PYTHON* variables, so -B itself keeps .pyc files out of the submission;
        # -S leaves every site-packages folder off the path: the view is all it imports.
        python = [str(python_executable()), "-I", "-S", "-B", "-c", boot("worker"), str(view)]
        python += [str(self._seen_as), *(str(fd) for fd in fds)]
        if self.backend != "bwrap":
            return python
        home = self._root / "home"
        hidden = [*self.hidden, Path.cwd(), self.submission.parent]
        env = [a for k, v in scrubbed_env(home).items() for a in ("--setenv", k, v)]
        book = (self.classroom.book,) if self.classroom else ()
        prefix = bwrap_prefix(home, self._imported, hidden, self._root / "plans", view, book)
        return [*prefix, "--clearenv", *env, *python]

    def _warm_worker(self) -> WarmWorker | None:
        """The worker waiting in the session's seat, or one forked there now (after a
        crash); None if the template cannot fork one."""
        worker, self._waiting = self._waiting, None
        if worker is not None and not worker.exited():
            return worker
        if worker is not None:
            worker.stop()
        template = self._template
        if template is None or not template.alive():
            return None
        assert self._seen_root is not None
        return start_warm(template, self._seen_root, *self._warm_key)

    @property
    def _warm_key(self) -> tuple[int, int, float]:
        """What a warm worker is started with: its process cap, output kept, startup time."""
        return self.limits.processes, self.limits.output_kb * 1024, self.limits.startup

    def _start(self) -> None:
        if self._root is None:
            self._prepare()
        limits = self.limits
        worker: Worker | None = self._warm_worker()
        if worker is None:
            assert self._root is not None
            cap, output = ProcessCap(limits.processes), limits.output_kb * 1024
            worker = start_cold(self._command, self._root / "home", cap, output)
        self._worker = worker
        told = self._order(
            orders.first(str(self._seen_as), {k: getattr(limits, k) for k in SET_BY_THE_WORKER})
        )
        message = self._read_message(time.monotonic() + limits.startup) if told else None
        if isinstance(message, dict) and isinstance(message.get("load_error"), str):
            problem = message["load_error"][:1000]
            self.load_error = self.notebook.locate(problem) if self.notebook else problem
            self._stop()
        elif not (isinstance(message, dict) and message.get("ready") is True):
            lost = self.warm and self._template is not None and not self._template.alive()
            problem = "timed out importing" if message == "timeout" else "died while importing"
            tail = last_output(self._worker) if self._worker else ""
            self._stop()
            if lost:  # its template died under it, not by the submission: a cold worker
                self._template = None
                self._start()
                return
            self.load_error = f"the submission {problem}{tail}"

    def _read_message(self, deadline: float) -> Any:
        """The worker's next line (see ``Worker.read_message``); None without a worker."""
        return self._worker.read_message(deadline) if self._worker else None

    def catalog(self) -> list[dict[str, Any]]:
        """What the submission registers, as its worker describes it, checked here.

        Each entry has ``kind``, ``name``, ``summary`` and the protocol methods that are
        ``missing`` or still raise the template's ``todo``. A submission that does not
        load, or a worker that dies, hangs or answers garbage, raises a one-line
        SubmissionError that never shows what the worker printed.
        """
        reply = self._catalog_reply()
        try:
            return validate_catalog(reply)
        except ValueError as exc:
            self._stop()
            raise self._failure(f"the worker's catalog is malformed: {exc}") from None

    def _catalog_reply(self) -> Any:
        """The worker's answer to the catalog order, within ``startup`` + ``call``."""
        if self._worker is None and self.load_error is None:
            self._start()
        if self.load_error is not None:
            raise self._failure(self.load_error.split(OUTPUT_MARK)[0])
        message: Any = None
        if self._order(orders.CATALOG):
            message = self._read_message(time.monotonic() + self.limits.call)
        if isinstance(message, dict) and set(message) == {"catalog"}:
            return message["catalog"]
        self._stop()
        if message == "timeout":
            raise self._failure(f"listing its components took over {self.limits.call:g} s")
        if message is None:
            raise self._failure("the worker died or sent an unreadable answer while listing")
        raise self._failure("the worker answered the catalog order with garbage")

    def _failure(self, problem: str) -> SubmissionError:
        """A one-line error about this submission, safe to print."""
        return SubmissionError(str(self.submission), plain(problem, 500))

    def run(self, plan: Plan, timeout: float | None = None) -> Outcome:
        """Run ``plan`` in the worker within ``timeout`` (default: the per-call limit)."""
        return next(self.run_many([(plan, timeout)]))

    def run_many(self, plans: Iterable[tuple[Plan, float | None]]) -> Iterator[Outcome]:
        """Run ``(plan, timeout)`` pairs in order, yielding each outcome.

        The next plan goes to the worker before an outcome is yielded, so the caller judges
        one check while the worker runs the next. A plan's timeout counts from its sending.
        """
        pending = iter(plans)
        task = self._send(*first) if (first := next(pending, None)) else None
        while task is not None:
            outcome = self._receive(task)
            task = self._send(*following) if (following := next(pending, None)) else None
            yield outcome

    def _order_for(self, plan: Plan, task: int) -> tuple[bytes, bool]:
        """The order that runs ``plan``: by its index in the class's plans, the plan itself
        after the order's line when small (two orders at most wait in the pipe, so writing
        one never blocks), or a file of its own in the session's ``plans`` folder; and
        whether it made that file."""
        index = self.classroom.index(plan) if self.classroom else None
        if index is not None:
            return orders.by_index(self._book(), index, task, keep=True), False
        data = encode_book([(plan.ops, plan.arrays)])
        if len(data) <= orders.INLINE_BYTES:
            return orders.inline(data, task), False
        assert self._root is not None
        write_book(self._root / "plans" / _own(task), [(plan.ops, plan.arrays)])
        return orders.by_index(str(self._plans_seen() / _own(task)), 0, task), True

    def _send(self, plan: Plan, timeout: float | None) -> _Task:
        """Start ``plan`` in the worker (starting the worker if needed)."""
        left = self.limits.submission - self._spent
        if left <= 0:
            budget = f"{self.limits.submission:g} s"
            detail = f"the submission's time budget ({budget}) is used up"
            return _Task(outcome=Outcome(status="timeout", detail=detail))
        if self._worker is None and self.load_error is None:
            self._start()
        if self.load_error is not None:
            detail = f"the submission did not load: {self.load_error}"
            return _Task(outcome=Outcome(status="error", detail=detail))
        self._tasks += 1
        task = self._tasks
        order, own = self._order_for(plan, task)
        if not self._order(order):  # the worker died between two checks: replaced, once
            self._stop()
            self._start()
            if self.load_error is not None or not self._order(order):
                self._stop()
                self._forget(task, own)
                detail = "the worker died before the call"
                return _Task(outcome=Outcome(status="crashed", detail=detail))
        return _Task(task, time.monotonic(), min(timeout or self.limits.call, left), own)

    def _forget(self, task: int, own: bool) -> None:
        """Remove a task's own plan file, if it had one."""
        if own and self._root is not None:
            remove(self._root / "plans" / _own(task))

    def _order(self, order: bytes) -> bool:
        """Send the worker one order (a line, and an inline plan's bytes); False if its end
        of the pipe is closed."""
        assert self._worker is not None
        try:
            os.write(self._worker.orders, order)
        except OSError:
            return False
        return True

    def _receive(self, task: _Task) -> Outcome:
        """The outcome of a sent plan, once the worker answers or its time is up."""
        if task.outcome is not None:
            return task.outcome
        waiting = time.monotonic()
        try:
            return self._answer(task)
        finally:  # the budget counts the time waited: never the grader's own judging
            self._spent += time.monotonic() - max(task.sent, waiting)
            self._forget(task.number, task.own)

    def _answer(self, task: _Task) -> Outcome:
        """Read and decode the worker's answer to ``task``; replace a spent worker."""
        assert self._worker is not None
        deadline, limit = task.sent + task.timeout, self.limits.file_mb << 20
        outcome, spent = read_answer(
            self._worker, task.number, deadline, task.timeout, limit, self.submission.name
        )
        if spent:
            self._stop()
        if outcome.failure is not None and self.notebook is not None:
            where = str(self._seen_as), self.submission.name
            outcome.failure.trace = self.notebook.retrace(outcome.failure.trace, *where)
        return outcome


def _own(task: int) -> str:
    """The name of a task's own file of plans."""
    return f"task{task}"


@dataclass(frozen=True)
class _Task:
    """A plan sent to the worker, or the outcome it got without being sent."""

    number: int = 0
    sent: float = 0.0
    timeout: float = 0.0
    own: bool = False
    """Whether the plan has a file of its own, removed once answered."""
    outcome: Outcome | None = None
