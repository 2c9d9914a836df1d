"""The parent's side of the trust boundary: run plans in a worker process, or locally.

A ``WorkerSession`` keeps one worker per submission and restarts it after a timeout or
a crash, so one bad call costs one check. A ``LocalSession`` runs trusted code (the
reference, the mutants) in the parent through the very same plan executor.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .plan import Factory, Outcome, Plan, execute
from .transport import TransportError, read_outcome, write_plan

_KEEP_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LANG", "LC_ALL", "SYSTEMROOT")
_TAIL = 2000


@dataclass(frozen=True)
class Limits:
    """Wall-clock limits on student code, in seconds."""

    call: float = 30.0
    """One plan (one check's calls)."""
    startup: float = 30.0
    """Importing the submission."""


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


class WorkerSession:
    """One submission's worker process, started on first use and after each failure."""

    def __init__(self, submission: str | Path, limits: Limits | None = None) -> None:
        self.submission = Path(submission).resolve()
        self.limits = limits or Limits()
        self.load_error: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._home: Path | None = None
        self._tasks = 0

    def __enter__(self) -> WorkerSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker and remove its temporary folder."""
        self._stop()
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None

    def _stop(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
            for f in (self._in, self._out):
                os.close(f)
            self._proc = None

    def _start(self) -> None:
        if self._home is None:
            self._home = Path(tempfile.mkdtemp(prefix="gradekit-worker-"))
        to_worker_r, self._in = os.pipe()
        self._out, from_worker_w = os.pipe()
        log = self._home / "output.log"
        with log.open("ab") as sink:
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    "-m",
                    "gradekit.sandbox.worker",
                    str(self.submission),
                    str(to_worker_r),
                    str(from_worker_w),
                ],
                pass_fds=(to_worker_r, from_worker_w),
                cwd=self._home,
                env=_scrubbed_env(self._home),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
                start_new_session=True,
            )
        os.close(to_worker_r)
        os.close(from_worker_w)
        self._buffer = b""
        message = self._read_message(self.limits.startup)
        if isinstance(message, dict) and isinstance(message.get("load_error"), str):
            self.load_error = message["load_error"][:1000]
            self._stop()
        elif not (isinstance(message, dict) and message.get("ready") is True):
            problem = "timed out importing" if message == "timeout" else "died while importing"
            self.load_error = f"the submission {problem}{self._output_tail()}"
            self._stop()

    def _read_message(self, timeout: float) -> Any:
        """One JSON line from the worker, ``"timeout"``, or ``None`` if it died."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            ready, _, _ = select.select([self._out], [], [], left)
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
        except ValueError:
            return None

    def _output_tail(self) -> str:
        log = (self._home / "output.log") if self._home else None
        if not log or not log.is_file():
            return ""
        with log.open("rb") as f:
            f.seek(max(0, log.stat().st_size - _TAIL))
            tail = f.read().decode("utf-8", "replace").strip()
        return f"; its last output: {tail[-500:]}" if tail else ""

    def run(self, plan: Plan, timeout: float | None = None) -> Outcome:
        """Run ``plan`` in the worker within ``timeout`` (default: the per-call limit)."""
        if self._proc is None and self.load_error is None:
            self._start()
        if self.load_error is not None:
            return Outcome(status="error", detail=f"the submission did not load: {self.load_error}")
        assert self._home is not None and self._proc is not None
        self._tasks += 1
        folder = self._home / f"task{self._tasks}"
        write_plan(folder, plan.ops, plan.arrays)
        os.write(self._in, (str(folder) + "\n").encode())
        message = self._read_message(timeout or self.limits.call)
        try:
            if message == "timeout":
                self._stop()
                return Outcome(
                    status="timeout", detail=f"no answer within {timeout or self.limits.call:g} s"
                )
            if not isinstance(message, dict) or message.get("done") != folder.name:
                tail = self._output_tail()
                self._stop()
                return Outcome(status="crashed", detail=f"the worker died during the call{tail}")
            return read_outcome(folder)
        except TransportError as exc:
            return Outcome(status="error", detail=f"unreadable result: {exc}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
