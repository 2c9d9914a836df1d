"""What the workers of one class share: a folder with the worker's view and the class's
plans, written once, and the warm template that forks each submission's worker.

Each submission gets its own seat: a subfolder (``home``, ``plans``, ``submission``),
removed when its session closes, and a warm worker forked into it. While one submission
is graded, the seat of the next is prepared in the background (forked, confined and
moved into its cgroup, which as root waits some 10 ms for the kernel): a worker that
has run no code of anyone's, given its submission with its first order. The whole
folder goes with the classroom. Nothing in it is secret: the view is gradekit's contract,
the plans are the checks' inputs.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cleanup import remove_tree
from .intake import read_regular, submission_files
from .plan import Plan
from .process import WarmWorker, scrubbed_env, start_warm
from .template import Template
from .transport import write_book
from .view import build_view

COPY_LIMIT = 64 << 20
"""The most bytes of a submission copied into its folder for a confined warm worker; a
larger one gets a cold worker, which sees the submission where it lies."""


class Classroom:
    """A class's shared folder and template; ``close`` (or garbage collection) ends both."""

    def __init__(
        self, plans: list[Plan], backend: str, hidden: tuple[Path, ...], warm: bool = True
    ) -> None:
        self.backend = backend
        self.root = Path(tempfile.mkdtemp(prefix="gradekit-class-"))
        self.view = build_view(self.root / "lib")
        self.book = self.root / "plans.bin"
        write_book(self.book, [(p.ops, p.arrays) for p in plans])
        self._index = {id(p): i for i, p in enumerate(plans)}
        self._plans = plans  # held, so that no other plan takes one of these ids
        self._hidden = hidden
        self._warm = warm
        self._template: Template | None = None
        self._started: list[Template] = []
        self._lock = threading.Lock()
        self._names = itertools.count()
        self._ready: _Preparing | None = None
        self._seats: list[_Preparing] = []
        """The seat being prepared, as the finalizer sees it: a closing class stops its worker."""
        self._closed = False
        self._finalizer = weakref.finalize(self, _close, self._started, self._seats, self.root)

    def index(self, plan: Plan) -> int | None:
        """Where ``plan`` is in the class's file of plans, or None (a plan of its own)."""
        return self._index.get(id(plan))

    def template(self) -> Template | None:
        """The running template, started on first use; None if warm workers are off or
        the template broke (then every later worker is cold)."""
        if not self._warm:
            return None
        with self._lock:
            if self._template is None:
                env = scrubbed_env(self.root)
                self._template = Template(
                    self.root, self.book, self.backend, self._hidden, env, self.view
                )
                self._started.append(self._template)
            return self._template if self._template.alive() else None

    def seat(self, template: Template, worker: WorkerKey) -> Seat:
        """A new submission's folder, with a warm worker waiting in it (None if the template
        could not fork one): the seat prepared while the previous submission was graded if
        it suits, else one made now. The next seat is then prepared in the background."""
        with self._lock:
            ready, self._ready = self._ready, None
        seat = ready.take() if ready is not None else None
        if seat is not None and (ready.key != (template, worker) or not seat.usable()):
            seat.leave()
            seat = None
        seat = seat or self._new_seat(template, worker)
        with self._lock:
            if not self._closed and template.alive():
                self._ready = _Preparing(self._new_seat, template, worker)
                self._seats[:] = [self._ready]
        return seat

    def _new_seat(self, template: Template, worker: WorkerKey) -> Seat:
        here, seen = template.folder(f"s{next(self._names)}")
        return Seat(here, seen, start_warm(template, seen, *worker))

    def admit(self, seat: Seat, submission: Path, imported: str | None) -> None:
        """Put the submission in its seat's folder: a confined worker sees only a copy of it
        (``imported`` is the notebook's module, written by the caller); raises OSError if it
        cannot be copied."""
        if self.backend == "bwrap" and imported is None:
            _copy(submission, seat.here / "submission" / submission.name)

    def close(self) -> None:
        """Stop the template and the waiting worker, and remove the class's folder."""
        with self._lock:
            self._closed = True
        self._finalizer()


def _copy(source: Path, target: Path) -> None:
    """Copy a submission's regular files (never a link), within ``COPY_LIMIT`` bytes."""
    files = submission_files(source)
    if file_is_folder := files != [source]:
        target.mkdir(parents=True)
    left = COPY_LIMIT
    for file in files:
        data = read_regular(file, left)
        left -= len(data)
        dest = target / file.relative_to(source) if file_is_folder else target
        dest.parent.mkdir(parents=True, exist_ok=True)
        # a new file, never through a link or over a file planted in the seat meanwhile
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)


WorkerKey = tuple[int, int, float]
"""What a warm worker is started with (``start_warm``): its process cap, the bytes of
output kept, its startup time."""


@dataclass
class Seat:
    """One submission's folder in the class (here, and as the template sees it), with the
    warm worker waiting in it."""

    here: Path
    seen: Path
    worker: WarmWorker | None

    def usable(self) -> bool:
        """Whether its worker still waits (it dies with a template that died)."""
        return self.worker is not None and not self.worker.exited()

    def leave(self) -> None:
        """Stop its worker and remove its folder."""
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        remove_tree(self.here)


class _Preparing:
    """A seat made in a background thread; ``take`` waits for it, once.

    The thread holds the class until it ends, so the class may be collected, and closed,
    there: it is not a daemon, so that a grader exiting meanwhile waits for that closing
    (a daemon thread is stopped mid-way at exit, leaving the class's folder behind).
    Making a seat is bounded by the worker's startup time."""

    def __init__(self, make: Callable[[Template, WorkerKey], Seat], *key: Any) -> None:
        self.key = key
        self._seat: Seat | None = None
        self._thread = threading.Thread(target=self._make, args=(make, *key))
        self._thread.start()

    def _make(self, make: Callable[[Template, WorkerKey], Seat], *key: Any) -> None:
        with contextlib.suppress(Exception):  # a seat that cannot be made is made later
            self._seat = make(*key)

    def take(self) -> Seat | None:
        if self._thread is not threading.current_thread():  # else the class was collected
            self._thread.join()  # by this very thread, which holds it until it ends
        seat, self._seat = self._seat, None
        return seat

    def discard(self) -> None:
        """Stop the seat's worker if nobody took it."""
        seat = self.take()
        if seat is not None:
            seat.leave()


def _close(templates: list[Template], seats: list[_Preparing], root: Path) -> None:
    for seat in seats:  # while its template lives, which kills its whole process group
        seat.discard()
    for template in templates:
        template.close()
    remove_tree(root)
