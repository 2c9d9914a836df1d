"""Grading a class: a pool of workers, a results cache, and shards for batch systems.

Each submission has its own worker process; ``jobs`` threads drive that many workers at
once and share the grader's expected outcomes. Results come back in input order, so any
``jobs`` gives the same report. A cached result is reused when the submission's files,
the assignment's spec, the course secret and gradekit's own code are all unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

from . import __version__
from .errors import GradekitError
from .grading import Grader
from .results import SubmissionResult
from .sandbox.intake import is_folder, read_regular, refusal, submission_files
from .secret import secret_digest

Submission = tuple[str, Path]
"""A submission's name and path."""


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` (1-based) as ``(i, n)``, or a GradekitError that says what is wrong."""
    try:
        i, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise GradekitError(f"--shard takes i/n, for example 2/8, not {text!r}") from None
    if not 1 <= i <= n:
        raise GradekitError(f"--shard {text}: i must be between 1 and n")
    return i, n


def shard(subs: list[Submission], i: int, n: int) -> list[Submission]:
    """The ``i``-th of ``n`` deterministic slices of a class: every n-th by sorted name."""
    ordered = sorted(subs, key=lambda s: s[0])
    return ordered[i - 1 :: n]


def _files(path: Path) -> Iterable[Path]:
    """gradekit's own files, for the code digest; a submission's are ``submission_files``."""
    if path.is_file():
        yield path
        return
    for p in sorted(path.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            yield p


def _digest(
    paths: Iterable[Path], root: Path, read: Callable[[Path], bytes] = Path.read_bytes
) -> str:
    """A hash of the files' names (relative to ``root``) and contents, read by ``read``."""
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p.relative_to(root)).encode() + b"\0" + read(p) + b"\0")
    return h.hexdigest()


@cache
def code_digest() -> str:
    """A hash of gradekit's and the reference's source: a new grader invalidates the cache."""
    import gradekit_reference

    roots = [Path(__file__).parent, Path(gradekit_reference.__file__).parent]
    parts = [_digest((p for p in _files(root) if p.suffix == ".py"), root) for root in roots]
    return hashlib.sha256((__version__ + "".join(parts)).encode()).hexdigest()


class ResultCache:
    """One JSON file per (submission files, assignment spec, secret, gradekit code) hash.

    The course secret changes every hidden check's inputs, so it is part of the key, as a
    hash of its own: neither the secret nor its hash appears in a file name or a file.
    """

    def __init__(self, folder: Path, grader: Grader) -> None:
        self.folder = folder
        spec = grader.assignment.folder / "assignment.toml"
        self._context = hashlib.sha256(
            (
                code_digest()
                + grader.assignment.spec.model_dump_json()
                + str(spec)
                + secret_digest(grader.secret)
            ).encode()
        ).hexdigest()
        self._limits = repr(grader.limits) + ("figures" if grader.figures else "")

    def _path(self, path: Path) -> Path | None:
        """The cache file of a submission, or None for one that is never cached.

        A refused submission (a link, a special file: see ``sandbox.intake``) is neither
        stored nor read: its files are not what gets graded, and refusing costs nothing.
        The hash reads regular files only, never through a link.
        """
        if refusal(path) is not None:
            return None
        root = path if is_folder(path) else path.parent
        try:
            files = _digest(submission_files(path), root, read_regular)
        except OSError:  # changed since it was checked: graded, not cached
            return None
        key = hashlib.sha256((self._context + self._limits + files).encode()).hexdigest()
        return self.folder / f"{key[:32]}.json"

    def get(self, name: str, path: Path) -> SubmissionResult | None:
        """The cached result of an unchanged submission, renamed to ``name``, or None."""
        file = self._path(path)
        if file is None or not file.is_file():
            return None
        try:
            result = SubmissionResult.model_validate_json(file.read_text())
        except ValueError:
            return None
        return result.model_copy(update={"submission": name, "path": str(path)})

    def put(self, path: Path, result: SubmissionResult) -> None:
        """Store a result; written to a temporary name first, so a crash leaves no half file."""
        file = self._path(path)
        if file is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(".tmp")
        tmp.write_text(result.model_dump_json())
        tmp.replace(file)


def grade_all(
    grader: Grader,
    subs: list[Submission],
    *,
    jobs: int = 1,
    cache: ResultCache | None = None,
    done: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade every submission with ``jobs`` workers at once; results in input order."""

    def one(sub: Submission) -> SubmissionResult:
        name, path = sub
        result = cache.get(name, path) if cache else None
        if result is None:
            result = grader.grade(path, name)
            if cache:
                cache.put(path, result)
        if done:
            done(result)
        return result

    if jobs <= 1:
        return [one(s) for s in subs]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, subs))
