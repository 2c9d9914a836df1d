"""The parent's side of the trust boundary: run plans in a worker process, or locally.

A ``WorkerSession`` keeps one worker per submission and restarts it after a timeout or
a crash, so one bad call costs one check; given many plans, it sends each as soon as the
one before is answered, so the parent judges while the worker runs. A ``LocalSession``
runs trusted code (the reference, the mutants) in the parent through the very same plan
executor.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SubmissionError
from ..notebook.convert import MODULE_NAME, Module, convert, is_notebook
from .backends import ProcessCap, bwrap_prefix, choose, inside, python_executable
from .catalog import plain, validate_catalog
from .cleanup import remove, remove_tree
from .intake import refusal
from .plan import Factory, Outcome, Plan, execute
from .transport import TransportError, read_outcome, write_plan
from .view import BOOT, build_view

_OUTPUT_MARK = "; its last output: "
"""Where ``_start`` appends the worker's printed output to a load error."""
EXHAUSTED = ("MemoryError", "RecursionError")
"""Exceptions after which a worker's process is spent: it is restarted for the next check."""
_KEEP_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL", "SYSTEMROOT")


@dataclass(frozen=True)
class Limits:
    """What a worker may use. Times are wall-clock seconds; sizes are MiB."""

    call: float = 30.0
    """One plan (one check's calls)."""
    startup: float = 30.0
    """Importing the submission."""
    submission: float = 600.0
    """Every call of one submission together; checks after that time out at once."""
    memory_mb: int = 2048
    """Address space of the worker (RLIMIT_AS)."""
    cpu_seconds: int = 600
    """CPU time of one worker process (RLIMIT_CPU)."""
    file_mb: int = 64
    """The largest file the worker may write (RLIMIT_FSIZE)."""
    open_files: int = 256
    processes: int = 64
    """Processes and threads at once (a pids cgroup as root, else RLIMIT_NPROC)."""
    output_kb: int = 64
    """How much of the worker's printed output is kept (the rest is read and dropped)."""


SET_BY_THE_WORKER = ("memory_mb", "cpu_seconds", "file_mb", "open_files", "processes")
"""The limits the worker sets on itself (``worker.apply_limits``) before it imports code."""


class LocalSession:
    """Runs plans in this process on trusted factories: the reference or a mutant."""

    def __init__(self, factories: dict[tuple[str, str], Factory]) -> None:
        self._factories = factories

    def run(self, plan: Plan, timeout: float | None = None) -> Outcome:
        """Execute ``plan`` here; only for trusted code."""

        def resolve(kind: str, name: str) -> Factory:
            return self._factories[(kind, name)]

        with warnings.catch_warnings():  # a mutant's numpy warnings are part of its bug
            warnings.simplefilter("ignore")
            return execute(plan.ops, plan.arrays, resolve)


def _scrubbed_env(home: Path) -> dict[str, str]:
    """The worker's whole environment: nothing of the grader's but what numpy needs."""
    env = {k: os.environ[k] for k in _KEEP_ENV if k in os.environ}
    env.update(
        HOME=str(home),
        TMPDIR=str(home),
        PATH="/usr/bin:/bin",
        PYTHONNOUSERSITE="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONHASHSEED="0",
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    return env


class _Output:
    """Drains a worker's stdout and stderr, keeping only the last ``limit`` bytes."""

    def __init__(self, stream: Any, limit: int) -> None:
        self._buffer = bytearray()
        self._limit = limit
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream: Any) -> None:
        with contextlib.suppress(OSError, ValueError):
            for chunk in iter(lambda: stream.read1(65536), b""):
                self._buffer += chunk
                del self._buffer[: max(0, len(self._buffer) - self._limit)]

    def tail(self, chars: int = 500) -> str:
        """The end of what the worker printed, for a message (never parsed)."""
        self._thread.join(timeout=1)
        return bytes(self._buffer[-chars:]).decode("utf-8", "replace").strip()


class WorkerSession:
    """One submission's worker process, started on first use and after each failure."""

    def __init__(
        self,
        submission: str | Path,
        limits: Limits | None = None,
        backend: str | None = None,
        hidden: tuple[Path, ...] = (),
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
        self._proc: subprocess.Popen[bytes] | None = None
        self._root: Path | None = None
        """The session's temporary folder: ``home`` (the worker's) and ``plans`` (ours)."""
        self._cap: ProcessCap | None = None
        self._output: _Output | None = None
        self._tasks = 0
        self._spent = 0.0

    def __enter__(self) -> WorkerSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker and remove its temporary folder."""
        self._stop()
        if self._root is not None:
            remove_tree(self._root)
            self._root = None

    @property
    def _home(self) -> Path:
        """The worker's private folder: its working directory, the only one it may write."""
        assert self._root is not None
        return self._root / "home"

    @property
    def _plans(self) -> Path:
        """Where the parent writes plans: read-only for a confined worker."""
        assert self._root is not None
        return self._root / "plans"

    def _stop(self) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        if self._cap is not None:
            self._cap.close()
            self._cap = None
        self._proc.wait()
        for f in (self._in, self._out):
            os.close(f)
        self._proc = None

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
        return self._root / "notebook" / MODULE_NAME

    @property
    def _seen_as(self) -> Path:
        """The path of ``_imported`` as the worker sees it."""
        return inside(self._imported) if self.backend == "bwrap" else self._imported

    @property
    def _view(self) -> Path:
        """The worker's import folder (see ``view``): read-only for a confined worker."""
        assert self._root is not None
        return self._root / "lib"

    def _command(self, fds: tuple[int, int]) -> list[str]:
        # -I ignores PYTHON* variables, so -B itself keeps .pyc files out of the submission;
        # -S leaves every site-packages folder off the path: the view is all it imports.
        python = [str(python_executable()), "-I", "-S", "-B", "-c", BOOT, str(self._view)]
        python += [str(self._seen_as), *(str(fd) for fd in fds)]
        if self.backend != "bwrap":
            return python
        hidden = [*self.hidden, Path.cwd(), self.submission.parent]
        env = [a for k, v in _scrubbed_env(self._home).items() for a in ("--setenv", k, v)]
        prefix = bwrap_prefix(self._home, self._imported, hidden, self._plans, self._view)
        return [*prefix, "--clearenv", *env, *python]

    def _start(self) -> None:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="gradekit-worker-"))
            self._home.mkdir()
            self._plans.mkdir()
            build_view(self._view)
            if self.notebook is not None:
                self._imported.parent.mkdir()
                self._imported.write_text(self.notebook.source, encoding="utf-8")
        to_worker_r, self._in = os.pipe()
        self._out, from_worker_w = os.pipe()
        limits = self.limits
        self._cap = ProcessCap(limits.processes)
        # No preexec_fn: without one the worker is spawned (vfork), never forked, so no
        # fork handler of a library (OpenBLAS's can deadlock) runs in the grader's threads.
        self._proc = subprocess.Popen(
            self._command((to_worker_r, from_worker_w)),
            pass_fds=(to_worker_r, from_worker_w),
            cwd=self._home,
            env=_scrubbed_env(self._home),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._cap.adopt(self._proc.pid)
        self._output = _Output(self._proc.stdout, limits.output_kb * 1024)
        os.close(to_worker_r)
        os.close(from_worker_w)
        self._buffer = b""
        told = self._order(json.dumps({k: getattr(limits, k) for k in SET_BY_THE_WORKER}))
        message = self._read_message(time.monotonic() + limits.startup) if told else None
        if isinstance(message, dict) and isinstance(message.get("load_error"), str):
            problem = message["load_error"][:1000]
            self.load_error = self.notebook.locate(problem) if self.notebook else problem
            self._stop()
        elif not (isinstance(message, dict) and message.get("ready") is True):
            problem = "timed out importing" if message == "timeout" else "died while importing"
            self.load_error = f"the submission {problem}{self._output_tail()}"
            self._stop()

    def _read_message(self, deadline: float) -> Any:
        """One JSON line from the worker by ``deadline`` (monotonic), ``"timeout"``, or
        ``None`` if it died. The pipe is always polled once, even past the deadline."""
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([self._out], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return "timeout"
            chunk = os.read(self._out, 65536)
            if not chunk:
                return None
            self._buffer += chunk
            if len(self._buffer) > 1 << 16:
                return None
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except (ValueError, RecursionError):  # a deeply nested line is garbage too
            return None

    def _output_tail(self) -> str:
        tail = self._output.tail() if self._output else ""
        return f"; its last output: {tail}" if tail else ""

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
        if self._proc is None and self.load_error is None:
            self._start()
        if self.load_error is not None:
            raise self._failure(self.load_error.split(_OUTPUT_MARK)[0])
        message: Any = None
        if self._order(json.dumps({"catalog": True})):
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

    def _send(self, plan: Plan, timeout: float | None) -> _Task:
        """Start ``plan`` in the worker (starting the worker if needed)."""
        left = self.limits.submission - self._spent
        if left <= 0:
            budget = f"{self.limits.submission:g} s"
            detail = f"the submission's time budget ({budget}) is used up"
            return _Task(outcome=Outcome(status="timeout", detail=detail))
        if self._proc is None and self.load_error is None:
            self._start()
        if self.load_error is not None:
            detail = f"the submission did not load: {self.load_error}"
            return _Task(outcome=Outcome(status="error", detail=detail))
        self._tasks += 1
        name = f"task{self._tasks}"
        write_plan(self._plans / name, plan.ops, plan.arrays)
        order = json.dumps({"plan": str(self._plans / name), "out": str(self._home / name)})
        if not self._order(order):  # the worker died between two checks: replaced, once
            self._stop()
            self._start()
            if self.load_error is not None or not self._order(order):
                self._stop()
                remove_tree(self._plans / name)
                detail = "the worker died before the call"
                return _Task(outcome=Outcome(status="crashed", detail=detail))
        return _Task(name, time.monotonic(), min(timeout or self.limits.call, left))

    def _order(self, order: str) -> bool:
        """Send the worker one order; False if its end of the pipe is closed."""
        try:
            os.write(self._in, (order + "\n").encode())
        except OSError:
            return False
        return True

    def _receive(self, task: _Task) -> Outcome:
        """The outcome of a sent plan, once the worker answers or its time is up."""
        if task.outcome is not None:
            return task.outcome
        folder = self._home / task.name
        waiting = time.monotonic()
        try:
            message = self._read_message(task.sent + task.timeout)
            if message == "timeout":
                self._stop()
                return Outcome(status="timeout", detail=f"no answer within {task.timeout:.3g} s")
            if not isinstance(message, dict) or message.get("done") != task.name:
                tail = self._output_tail()
                self._stop()
                return Outcome(status="crashed", detail=f"the worker died during the call{tail}")
            outcome = read_outcome(folder)
            if outcome.failure is not None and self.notebook is not None:
                where = str(self._seen_as), self.submission.name
                outcome.failure.trace = self.notebook.retrace(outcome.failure.trace, *where)
            if outcome.failure is not None and outcome.failure.type in EXHAUSTED:
                self._stop()  # the next check gets a fresh worker, not this one's leftovers
            return outcome
        except TransportError as exc:
            detail = f"unreadable result from {self.submission.name}: {exc}"
            return Outcome(status="error", detail=detail)
        finally:  # the budget counts the time waited: never the grader's own judging
            self._spent += time.monotonic() - max(task.sent, waiting)
            remove_tree(self._plans / task.name)
            remove(folder)


@dataclass(frozen=True)
class _Task:
    """A plan sent to the worker, or the outcome it got without being sent."""

    name: str = ""
    sent: float = 0.0
    timeout: float = 0.0
    outcome: Outcome | None = None
