"""What the workers of one class share: a folder with the worker's view and the class's
plans, written once, and the warm template that forks each submission's worker.

Each submission gets its own subfolder (``home``, ``plans``, ``submission``),
removed when its session closes; the whole folder goes with the classroom. Nothing in it
is secret: the view is gradekit's contract, the plans are the checks' inputs.
"""

from __future__ import annotations

import itertools
import tempfile
import threading
import weakref
from pathlib import Path

from .cleanup import remove_tree
from .intake import read_regular, submission_files
from .plan import Plan
from .process import scrubbed_env
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
        self._finalizer = weakref.finalize(self, _close, self._started, self.root)

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
            return None if self._template.broken else self._template

    def folder(
        self, template: Template, submission: Path, imported: str | None
    ) -> tuple[Path, Path]:
        """A new folder for one submission's warm worker: its path here and as the worker's
        template sees it. A confined worker sees only a copy of the submission (``imported``
        is the notebook's module, already written); raises OSError if it cannot be copied."""
        here, seen = template.folder(f"s{next(self._names)}")
        if template.backend == "bwrap" and imported is None:
            try:
                _copy(submission, here / "submission" / submission.name)
            except OSError:
                remove_tree(here)
                raise
        return here, seen

    def close(self) -> None:
        """Stop the template and remove the class's folder."""
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
        dest.write_bytes(data)


def _close(templates: list[Template], root: Path) -> None:
    for template in templates:
        template.close()
    remove_tree(root)
