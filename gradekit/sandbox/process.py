"""A worker process as the parent holds it: its pipes, its output, and how it is ended.

A cold worker is the parent's own child (``subprocess``); a warm one is a template's
child (``template``), killed through the template and awaited through a pidfd. Both are
read and written the same way: orders go down one pipe, lines and answers come up
another, and whatever the worker prints is drained into a bounded buffer, never parsed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .backends import ProcessCap
from .template import Template, TemplateError

PIPE_BYTES = 1 << 20
"""The capacity asked for a worker's answer pipe (Linux allows 1 MiB without privilege)."""
CHUNK = 1 << 16
"""The most read at once before an answer's size is known: ``os.read`` allocates what it
is asked for (a 1 MiB request costs some 40 us, a 64 KiB one 3), and a large answer's
body is read straight into its own buffer (``read_exact``)."""
KEEP_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL", "SYSTEMROOT")


def scrubbed_env(home: Path) -> dict[str, str]:
    """The worker's whole environment: nothing of the grader's but what numpy needs."""
    env = {k: os.environ[k] for k in KEEP_ENV if k in os.environ}
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


class Output:
    """Drains a worker's stdout and stderr, keeping only the last ``limit`` bytes."""

    def __init__(self, stream: Any, limit: int) -> None:
        self._buffer = bytearray()
        self._limit = limit
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream: Any) -> None:
        with contextlib.suppress(OSError, ValueError), stream:
            for chunk in iter(lambda: stream.read1(65536), b""):
                self._buffer += chunk
                del self._buffer[: max(0, len(self._buffer) - self._limit)]

    def tail(self, chars: int = 500) -> str:
        """The end of what the worker printed, for a message (never parsed)."""
        self._thread.join(timeout=1)
        return bytes(self._buffer[-chars:]).decode("utf-8", "replace").strip()


class Worker:
    """A started worker: ``orders`` to write, ``answers`` to read, its printed output."""

    def __init__(self, orders: int, answers: int, output: Output, cap: ProcessCap) -> None:
        self.orders = orders
        self.answers = answers
        self.output = output
        self._cap = cap
        self._buffer = bytearray()
        with contextlib.suppress(OSError, AttributeError):  # a larger pipe: fewer reads
            fcntl.fcntl(answers, fcntl.F_SETPIPE_SZ, PIPE_BYTES)

    def _fill(self, deadline: float) -> bool | None:
        """Read what the worker sent into the buffer: True, False past ``deadline``
        (monotonic), None if it closed its pipe. The pipe is always polled once."""
        wait = max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([self.answers], [], [], wait)
        if not ready:
            return False
        chunk = os.read(self.answers, CHUNK)
        if not chunk:
            return None
        self._buffer += chunk
        return True

    def read_message(self, deadline: float) -> Any:
        """One JSON line from the worker by ``deadline`` (monotonic), ``"timeout"``, or
        ``None`` if it died or sent garbage (a line over 64 KiB included)."""
        while b"\n" not in self._buffer[: 1 << 16]:
            if len(self._buffer) > 1 << 16:
                return None
            filled = self._fill(deadline)
            if not filled:
                return "timeout" if filled is False else None
        end = self._buffer.index(b"\n")
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        try:
            return json.loads(line)
        except (ValueError, RecursionError):  # a deeply nested line is garbage too
            return None

    def read_exact(self, size: int, deadline: float) -> bytearray | str | None:
        """The next ``size`` bytes from the worker, ``"timeout"``, or None if it died: a
        few bytes (an answer's frame) through the buffer, with whatever follows them in
        one read; more, straight into one buffer of that size."""
        if size <= CHUNK:
            while len(self._buffer) < size:
                filled = self._fill(deadline)
                if not filled:
                    return "timeout" if filled is False else None
            data = self._buffer[:size]
            del self._buffer[:size]
            return data
        data = bytearray(size)
        view = memoryview(data)
        got = min(size, len(self._buffer))
        view[:got] = self._buffer[:got]
        del self._buffer[:got]
        while got < size:
            wait = max(0.0, deadline - time.monotonic())
            if not select.select([self.answers], [], [], wait)[0]:
                return "timeout"
            count = os.readv(self.answers, [view[got:]])
            if not count:
                return None
            got += count
        return data

    def _end(self) -> None:
        """Kill the worker's process and everything under it."""
        raise NotImplementedError

    def stop(self) -> None:
        """Kill the worker, wait for it, and close the parent's ends of its pipes."""
        self._end()
        self._cap.close()
        for fd in (self.orders, self.answers):
            with contextlib.suppress(OSError):
                os.close(fd)


class ColdWorker(Worker):
    """A worker started by the parent itself (under bubblewrap, or plain)."""

    def __init__(self, proc: subprocess.Popen[bytes], *args: Any) -> None:
        super().__init__(*args)
        self._proc = proc

    def _end(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        self._cap.kill_all()
        self._proc.wait()


class WarmWorker(Worker):
    """A worker a template forked: ended through the template, awaited by its pidfd."""

    def __init__(self, template: Template, pid: int, pidfd: int, *args: Any) -> None:
        super().__init__(*args)
        self._template = template
        self._pid = pid
        self._pidfd = pidfd

    def exited(self) -> bool:
        """Whether the worker's process has ended (a waiting one dies with its template)."""
        try:
            return bool(select.select([self._pidfd], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def _end(self) -> None:
        with contextlib.suppress(OSError):  # this very process, whatever became of its pid
            signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
        self._template.kill(self._pid)
        self._cap.kill_all()
        with contextlib.suppress(OSError):
            select.select([self._pidfd], [], [], 10.0)
            os.close(self._pidfd)


def start_cold(
    command: Callable[[tuple[int, int]], list[str]], home: Path, cap: ProcessCap, output: int
) -> ColdWorker:
    """Start a worker for one submission alone: ``command`` given the worker's ends of its
    order and answer pipes, run in ``home``; ``output`` bytes of what it prints kept."""
    to_worker_r, orders = os.pipe()
    answers, from_worker_w = os.pipe()
    # No preexec_fn: without one the worker is spawned (vfork), never forked, so no
    # fork handler of a library (OpenBLAS's can deadlock) runs in the grader's threads.
    proc = subprocess.Popen(
        command((to_worker_r, from_worker_w)),
        pass_fds=(to_worker_r, from_worker_w),
        cwd=home,
        env=scrubbed_env(home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    os.close(to_worker_r)
    os.close(from_worker_w)
    cap.adopt(proc.pid)
    return ColdWorker(proc, orders, answers, Output(proc.stdout, output), cap)


def fork_warm(template: Template, folder: Path, cap: ProcessCap, output: int) -> WarmWorker:
    """Have ``template`` fork a worker in one submission's ``folder`` (as the template sees
    it); raises TemplateError if it cannot."""
    ends = [os.pipe() for _ in range(3)]  # orders, answers, output
    theirs = (ends[0][0], ends[1][1], ends[2][1])
    try:
        pid, pidfd = template.fork(folder, theirs)
    except TemplateError:
        for fd in (ends[0][1], ends[1][0], ends[2][0]):
            os.close(fd)
        raise
    finally:
        for fd in theirs:
            os.close(fd)
    cap.adopt(pid)
    printed = Output(os.fdopen(ends[2][0], "rb"), output)
    return WarmWorker(template, pid, pidfd, ends[0][1], ends[1][0], printed, cap)


def start_warm(
    template: Template, folder: Path, processes: int, output: int, startup: float
) -> WarmWorker | None:
    """A warm worker in ``folder``, confined and waiting for its first order; None if the
    template cannot fork one (and the template broken if its children cannot be confined)."""
    cap = ProcessCap(processes)
    try:
        worker = fork_warm(template, folder, cap, output)
    except TemplateError:
        cap.close()
        return None
    first = worker.read_message(time.monotonic() + startup)
    if first == {"started": True}:
        return worker
    worker.stop()
    reason = first.get("not_started") if isinstance(first, dict) else None
    template.broken = f"a worker could not be confined: {str(reason)[:300]}"
    return None
