"""The arena of the hostile-submission suite: each grading in a watched set of folders.

A grading runs with the grader's working folder, the class folder, a results folder, a
folder of hidden data and the workers' temporary folders all under one fresh directory,
with a TCP and a Unix socket listening, SIGINT and SIGTERM recorded instead of obeyed, and
a sentinel in the grader's environment. Afterwards it records what changed on disk outside
the workers' temporary folders, which workers' folders were left behind, which processes
of a fork bomb survived, which signals and connections reached the grader, and (when
asked) the grader's own peak memory. Each (submission, backend) is graded once per session.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gradekit_reference
from gradekit.assignments import load_assignment
from gradekit.grading import Grader
from gradekit.results import CheckResult, SubmissionResult
from gradekit.sandbox import backends

ROOT = Path(__file__).parents[2]
HOSTILE = ROOT / "tests" / "submissions" / "hostile"
EXAMPLES = ROOT / "assignments" / "backprop" / "examples"
BACKENDS = ("bwrap", "rlimits")

LIMITS: dict[str, Any] = dict(
    call=2.0,
    startup=5.0,
    submission=30.0,
    memory_mb=512,
    cpu_seconds=30,
    file_mb=16,
    open_files=64,
    processes=32,
    output_kb=16,
)
"""Small limits for backprop: a check of an honest component takes milliseconds."""
INIT_LIMITS: dict[str, Any] = {**LIMITS, "call": 15.0, "submission": 60.0, "memory_mb": 1024}
"""The initialization experiment draws 1024 x 1024 weights six times, as the bundled one."""
UNTIMED: dict[str, float] = {"memory_bomb": 30.0, "disk_bomb": 30.0}
"""Attacks whose limit under test is not the clock, with the generous call time they get
alone, so that a busy machine cannot turn their verdict into a timeout."""
SLACK = 15.0
"""Seconds a grading may take beyond its limits: the reference's outcomes, judging."""

SECRET = 31337.25
"""Every entry of the hidden data file: it must never show in any feedback."""

INIT_SPEC = """
schema_version = 1
name = "initialization-hostile"
title = "The initializer checks an RNG-tampering submission attacks"
seed = 2027
timeout = 15

[[checks]]
type = "distribution"
components = ["initializers/he", "initializers/xavier"]
points = 2

[[checks]]
id = "experiment.relu-he"
type = "init_experiment"
component = "initializers/he"
points = 2
options = { activation = "relu", width = 1024 }
"""


def hostile_names() -> list[str]:
    """Every hostile backprop submission (``rng_tamper`` is an initialization one)."""
    return sorted(p.stem for p in HOSTILE.glob("*.py") if p.stem != "rng_tamper")


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Each sandbox backend; bubblewrap is skipped where it cannot run (CI installs it)."""
    if request.param not in backends.available():
        pytest.skip(f"the {request.param} backend does not work on this machine")
    return request.param


def rlimits_xfail(request, backend: str, reason: str) -> None:
    """Mark the running test as a known, documented failure under plain rlimits."""
    request.applymarker(pytest.mark.xfail(backend == "rlimits", reason=reason, strict=True))


@cache
def init_assignment_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="gradekit-hostile-spec-"))
    (folder / "assignment.toml").write_text(INIT_SPEC)
    return folder


@pytest.fixture(scope="session", autouse=True)
def _remove_the_spec_folder() -> Iterator[None]:
    """The session's small initialization assignment goes with the session."""
    yield
    if init_assignment_folder.cache_info().currsize:
        shutil.rmtree(init_assignment_folder(), ignore_errors=True)


@cache
def grader(assignment: str, backend: str, call: float | None = None) -> Grader:
    """One grader per assignment, backend and call limit for the session (reference
    outcomes cached); ``call`` replaces the limits' time per call."""
    if assignment == "initialization":
        folder, limits = init_assignment_folder(), INIT_LIMITS
    else:
        folder, limits = assignment, LIMITS
    if call is not None:
        limits = {**limits, "call": call}
    return Grader(load_assignment(folder), limits=limits, backend=backend)


# ------------------------------------------------------------------------------ the arena
@dataclass
class Arena:
    """The folders of one grading. Only ``workers`` belongs to the workers."""

    root: Path
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def __post_init__(self) -> None:
        for name in ("class", "cwd", "workers", "outside", "results", "secret"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        (self.cwd / "answers.txt").write_text("the TA's answers\n")
        np.save(self.secret / "hidden.npy", np.full((4, 6), SECRET), allow_pickle=False)
        shutil.copy(EXAMPLES / "correct.py", self.klass / "other_student.py")

    klass = property(lambda self: self.root / "class")
    cwd = property(lambda self: self.root / "cwd")
    workers = property(lambda self: self.root / "workers")
    outside = property(lambda self: self.root / "outside")
    results = property(lambda self: self.root / "results")
    secret = property(lambda self: self.root / "secret")

    @property
    def tmp_marker(self) -> Path:
        """A file an attacker may write in the machine's /tmp (removed afterwards)."""
        return Path(tempfile.gettempdir()) / f"gradekit-hostile-{self.token}.json"

    @property
    def unix_socket(self) -> Path:
        """A socket outside /tmp, where a read-only view of / would still show it."""
        base = Path("/var/tmp") if os.access("/var/tmp", os.W_OK) else self.root
        return base / f"gradekit-hostile-{self.token}.sock"

    @property
    def marker(self) -> str:
        """The process name of a fork bomb's children (15 characters at most)."""
        return f"gkbomb{self.token}"

    def read_targets(self, assignment: Path) -> list[str]:
        reference = Path(gradekit_reference.__file__).resolve().parent
        return [
            str(reference / "__init__.py"),
            str(reference / "activations.py"),
            str(Path(str(files("gradekit_assignments"))) / "backprop" / "assignment.toml"),
            str(assignment / "assignment.toml"),
            str(self.cwd / "answers.txt"),
            str(self.klass / "other_student.py"),
            str(self.secret / "hidden.npy"),
        ]

    def add(self, name: str, settings: dict[str, Any], source: Path | None = None) -> Path:
        """Copy a submission into the class folder, filling in its ``SETTINGS``."""
        text = (source or HOSTILE / f"{name}.py").read_text()
        if "SETTINGS = {}" in text:
            text = text.replace("SETTINGS = {}", f"SETTINGS = {settings!r}", 1)
        path = self.klass / f"{name}.py"
        path.write_text(text)
        (self.results / name).mkdir(exist_ok=True)
        return path

    def settings(self, name: str, assignment: Path, port: int) -> dict[str, Any]:
        return {
            "read": self.read_targets(assignment),
            "write": [
                str(self.cwd / "results.json"),
                str(self.cwd / "grades.csv"),
                str(self.results / name / "results.json"),
                str(self.outside / "planted.json"),
                str(self.tmp_marker),
            ],
            "delay": 1.0,
            "outside": str(self.outside),
            "secret": str(self.secret / "hidden.npy"),
            "port": port,
            "unix": str(self.unix_socket),
            "marker": self.marker,
        }

    def watched(self) -> dict[str, tuple]:
        """Every file and link outside the workers' folders: (kind, size, mtime)."""
        seen: dict[str, tuple] = {}
        for name in ("class", "cwd", "outside", "results", "secret"):
            for path in sorted((self.root / name).rglob("*")):
                st = path.lstat()
                kind = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
                seen[str(path)] = (kind, 0 if kind == "dir" else st.st_size, st.st_mtime_ns)
        if self.tmp_marker.exists():
            seen[str(self.tmp_marker)] = ("file", self.tmp_marker.stat().st_size, 0)
        return seen


def _survivors(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == marker:
                    found.append(int(entry.name))
    return found


class _Listeners:
    """A TCP and a Unix socket that record every connection and what it sent."""

    def __init__(self, unix_path: Path) -> None:
        self.got: list[str] = []
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.port = self.tcp.getsockname()[1]
        self.unix_path = unix_path
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(str(unix_path))
        os.chmod(unix_path, 0o777)
        self.unix.listen()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._serve, args=(s, k), daemon=True)
            for s, k in ((self.tcp, "tcp"), (self.unix, "unix"))
        ]
        for t in self._threads:
            t.start()

    def _serve(self, server: socket.socket, kind: str) -> None:
        server.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(1.0)
                with contextlib.suppress(OSError):
                    self.got.append(f"{kind}: {conn.recv(200)!r}")

    def close(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2)
        self.tcp.close()
        self.unix.close()
        with contextlib.suppress(OSError):
            self.unix_path.unlink()


@dataclass
class Graded:
    """One grading of hostile submissions, and what it did to the grader's machine."""

    backend: str
    results: dict[str, SubmissionResult]
    seconds: float
    changed: list[str]
    workers_left: list[str]
    survivors: list[int]
    signals: list[int]
    connections: list[str]
    peak_bytes: int | None = None

    @property
    def result(self) -> SubmissionResult:
        (only,) = self.results.values()
        return only

    def check(self, check_id: str, submission: str | None = None) -> CheckResult:
        result = self.results[submission] if submission else self.result
        return next(c for c in result.checks if c.name == check_id)

    def leak(self, check_id: str = "relu.gradient", submission: str | None = None) -> Any:
        """What the submission reported through its error message (``LEAK:<json>``)."""
        message = self.check(check_id, submission).message
        start = message.find("LEAK:")
        if start < 0:
            return None
        return json.JSONDecoder().raw_decode(message, start + len("LEAK:"))[0]


@contextlib.contextmanager
def _recording_signals() -> Iterator[list[int]]:
    got: list[int] = []
    old = {s: signal.signal(s, lambda n, _: got.append(n)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield got
    finally:
        time.sleep(0.1)  # a signal in flight lands in the list, not in pytest
        for s, handler in old.items():
            signal.signal(s, handler)


def grade_in_arena(
    root: Path,
    names: list[str],
    backend: str,
    *,
    assignment: str = "backprop",
    run: Any = None,
    extra: dict[str, Path] | None = None,
    trace_memory: bool = False,
    settle: float = 0.0,
    call: float | None = None,
) -> Graded:
    """Grade hostile submissions ``names`` (and ``extra`` name -> file) in a fresh arena.

    ``run(grader, subs)`` grades a list of ``(name, path)`` (default: one by one).
    ``settle`` seconds are waited before the disk is compared, for delayed attacks;
    ``call`` replaces the limits' time per call.
    """
    arena = Arena(root)
    g = grader(assignment, backend, call)
    listeners = _Listeners(arena.unix_socket)
    subs = []
    for name in names:
        settings = arena.settings(name, g.assignment.folder, listeners.port)
        subs.append((name, arena.add(name, settings)))
    for name, source in (extra or {}).items():
        subs.append((name, arena.add(name, {}, source)))
    before = arena.watched()
    old_cwd, old_tempdir = os.getcwd(), tempfile.tempdir
    sentinel = os.environ.get("GRADEKIT_HOSTILE_SENTINEL")
    peak = None
    try:
        os.chdir(arena.cwd)
        tempfile.tempdir = str(arena.workers)
        os.environ["GRADEKIT_HOSTILE_SENTINEL"] = arena.token
        with _recording_signals() as signals:
            if trace_memory:
                tracemalloc.start()
            start = time.monotonic()
            try:
                if run is None:
                    results = [g.grade(path, name) for name, path in subs]
                else:
                    results = run(g, subs)
            finally:
                g.close()  # the class's folder and template go with the class
                seconds = time.monotonic() - start
                if trace_memory:
                    peak = tracemalloc.get_traced_memory()[1]
                    tracemalloc.stop()
        time.sleep(settle)
        deadline = time.monotonic() + 3.0
        while _survivors(arena.marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = _survivors(arena.marker)
        after = arena.watched()
    finally:
        os.chdir(old_cwd)
        tempfile.tempdir = old_tempdir
        if sentinel is None:
            os.environ.pop("GRADEKIT_HOSTILE_SENTINEL", None)
        else:
            os.environ["GRADEKIT_HOSTILE_SENTINEL"] = sentinel
        listeners.close()
        for pid in _survivors(arena.marker):  # our own fork bomb's children, by pid
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            arena.tmp_marker.unlink()
    changed = sorted(
        f"{path}: {'created' if path not in before else 'gone' if path not in after else 'changed'}"
        for path in set(before) | set(after)
        if before.get(path) != after.get(path)
    )
    return Graded(
        backend=backend,
        results={r.submission: r for r in results},
        seconds=seconds,
        changed=changed,
        workers_left=sorted(p.name for p in arena.workers.iterdir()),
        survivors=survivors,
        signals=list(signals),
        connections=list(listeners.got),
        peak_bytes=peak,
    )


_GRADED: dict[tuple[str, str], Graded] = {}


@pytest.fixture
def graded(backend, tmp_path_factory):
    """``graded(name)``: the hostile submission ``name`` graded alone under ``backend``."""

    def get(name: str) -> Graded:
        key = (name, backend)
        if key not in _GRADED:
            root = tmp_path_factory.mktemp(f"{name}-{backend}")
            _GRADED[key] = grade_in_arena(
                root,
                [name],
                backend,
                assignment="initialization" if name == "rng_tamper" else "backprop",
                trace_memory=name == "result_bomb",
                settle=1.5 if name == "write_results" else 0.0,
                call=UNTIMED.get(name),
            )
        return _GRADED[key]

    return get
