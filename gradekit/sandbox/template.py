"""The parent's side of a warm template: one per class, forking a worker per submission.

A cold worker pays an interpreter, numpy and gradekit's imports (about 0.1 s) for every
submission and assignment. A template pays them once per class: it is started confined
as a worker is (bubblewrap, or resource limits only), reads the class's plans, and forks
a child per request (``zygote``). Under bubblewrap each child makes its own namespaces
before it reads an order (``isolate``). The template never runs a submission's code; a
template that dies or whose children cannot be confined is replaced by cold workers.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import threading
from pathlib import Path

from .backends import CLASS_FOLDER, VIEW_FOLDER, python_executable, template_prefix
from .isolate import MOUNT_POINTS
from .view import boot

START_SECONDS = 30.0
"""How long a template may take to start and answer its first request."""


class TemplateError(RuntimeError):
    """The template cannot fork a worker: the session falls back to a cold one."""


class Template:
    """A class's warm template process; ``fork`` is safe from several threads."""

    def __init__(
        self,
        root: Path,
        book: Path,
        backend: str,
        hidden: tuple[Path, ...],
        env: dict[str, str],
        view: Path,
    ) -> None:
        self.root = root
        """The class's folder: the plans, and one folder per submission (``folder``)."""
        self.backend = backend
        self.broken: str | None = None
        """Why the template no longer forks workers (it died, or could not confine one)."""
        self._lock = threading.Lock()
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        confine = backend == "bwrap"
        seen_book = CLASS_FOLDER / book.relative_to(root) if confine else book
        self.book = seen_book
        """The plans' file as a worker names it (the key of every class plan's order)."""
        seen_view = VIEW_FOLDER if confine else view
        python = [str(python_executable()), "-I", "-S", "-B", "-c", boot("zygote"), str(seen_view)]
        python += [str(theirs.fileno()), str(seen_book), "1" if confine else "0"]
        prefix = template_prefix(root, [*hidden, Path.cwd()], view, MOUNT_POINTS) if confine else []
        self._proc = subprocess.Popen(
            [*prefix, *python],
            pass_fds=(theirs.fileno(),),
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()

    def folder(self, name: str) -> tuple[Path, Path]:
        """A new folder for one submission: its path here, and as the template sees it."""
        here = self.root / name
        for sub in ("home", "plans", "submission"):
            (here / sub).mkdir(parents=True)
        return here, (CLASS_FOLDER / name if self.backend == "bwrap" else here)

    def fork(self, seen_folder: Path, fds: tuple[int, int, int]) -> tuple[int, int]:
        """Fork a worker in one submission's folder: its pid (as the grader sees it) and a
        pidfd of it, opened before the template could collect it.

        ``fds`` are the worker's ends of its order pipe, answer pipe and output.
        """
        request = {"folder": str(seen_folder)}
        with self._lock:
            if self.broken:
                raise TemplateError(self.broken)
            try:
                socket.send_fds(self._sock, [json.dumps(request).encode()], list(fds))
                ready, _, _ = select.select([self._sock], [], [], START_SECONDS)
                reply = json.loads(self._sock.recv(4096)) if ready else None
            except (OSError, ValueError) as exc:
                reply = None
                self.broken = f"the template failed: {exc}"
            if not (isinstance(reply, dict) and type(reply.get("pid")) is int):
                self.broken = self.broken or "the template did not answer"
                raise TemplateError(self.broken)
            try:
                return reply["pid"], os.pidfd_open(reply["pid"])
            except OSError as exc:
                raise TemplateError(f"the worker is gone: {exc}") from None

    def alive(self) -> bool:
        """Whether the template still runs (one that died is marked broken)."""
        if self._proc.poll() is not None:
            self.broken = self.broken or "the template died"
        return self.broken is None

    def kill(self, pid: int) -> None:
        """Kill a worker the template forked, and everything in its process group.

        Under the lock: the template collects exited children only while it forks, so
        ``pid`` cannot name another process meanwhile. Once the template is gone its
        children are collected by others and their pids free: nothing is sent by pid then
        (they die with the template; the caller kills its worker through a pidfd).
        """
        with self._lock:
            if self._proc.poll() is not None:
                return
            for kill in (os.killpg, os.kill):  # the group, or the child before its setsid
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(pid, signal.SIGKILL)

    def close(self) -> None:
        """Stop the template (its children die with it)."""
        with self._lock:
            self.broken = self.broken or "closed"
            with contextlib.suppress(OSError):
                self._sock.close()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
