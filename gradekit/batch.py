"""Grading a class: a pool of workers, a results cache, and shards for batch systems.

Each submission has its own worker process; ``jobs`` threads drive that many workers at
once and share the grader's expected outcomes. Results come back in input order, so any
``jobs`` gives the same report. A cached result is reused when the submission's files,
the assignment's spec, the course secret and gradekit's own code are all unchanged, and
only when its MAC verifies; the cache is off where a worker could reach it (see
``off_reason``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
import sys
import threading
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from . import __version__
from .errors import GradekitError
from .grading import Grader
from .pool import grade_in_processes
from .results import SubmissionResult
from .sandbox.backends import bwrap_prefix, template_prefix
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


MAX_HASHED_BYTES = 64 << 20
"""The most bytes of one submission file read to key the cache: a larger file is graded
(and refused by the worker's limits) without ever being read into the grader's memory."""


def _cached_read(path: Path) -> bytes:
    """A submission file's bytes for the cache key, to ``MAX_HASHED_BYTES`` (TooLarge past it)."""
    return read_regular(path, MAX_HASHED_BYTES)


def _digest(
    paths: Iterable[Path], root: Path, read: Callable[[Path], bytes] = Path.read_bytes
) -> str:
    """A hash of the files' names (relative to ``root``) and contents, read by ``read``,
    each preceded by its length: no two sets of files give the same bytes to hash."""
    h = hashlib.sha256()
    for p in paths:
        for part in (str(p.relative_to(root)).encode(), read(p)):
            h.update(len(part).to_bytes(8, "little") + part)
    return h.hexdigest()


@cache
def code_digest() -> str:
    """A hash of gradekit's and the reference's source: a new grader invalidates the cache."""
    import gradekit_reference

    roots = [Path(__file__).parent, Path(gradekit_reference.__file__).parent]
    parts = [_digest((p for p in _files(root) if p.suffix == ".py"), root) for root in roots]
    return hashlib.sha256((__version__ + "".join(parts)).encode()).hexdigest()


class CacheOff(GradekitError):
    """Why the results cache cannot be trusted here: grading goes on without it."""


NO_BWRAP = "without bubblewrap a submission could rewrite it"
"""Why the cache is off under plain rlimits: a worker runs as the grader's user."""
KEY_FILE = "cache-key"
"""The cache's MAC key, in the cache folder: random bytes only the grader's user may read."""
KEY_BYTES = 32
"""The key's length: 256 random bits, the size of an HMAC-SHA256."""
BIND_OPTIONS = frozenset({"--bind", "--ro-bind", "--dev-bind", "--bind-try", "--ro-bind-try"})
"""The bubblewrap options that show a folder of the grader's inside a worker."""


@cache
def worker_folders() -> tuple[Path, ...]:
    """The grader's folders bubblewrap mounts into every worker (system, Python, numpy).

    Read from ``bwrap_prefix`` itself, so a new mount there is seen here; a session's own
    folders (its home, plans, view and submission) are left out: they are per worker.
    """
    session = Path("/nonexistent-gradekit-session")
    args = bwrap_prefix(
        session / "home", session / "submission", [], session / "plans", session / "view"
    )
    args += template_prefix(session, [], session / "view", ())
    sources = [Path(args[i + 1]) for i, arg in enumerate(args[:-1]) if arg in BIND_OPTIONS]
    return tuple(p.resolve() for p in sources if not p.is_relative_to(session))


def off_reason(folder: Path, backend: str) -> str | None:
    """Why a cache in ``folder`` would be open to workers under ``backend``, or None.

    Under rlimits a worker can read the key and rewrite any entry; under bubblewrap it sees
    only the folders it is given, so the cache must lie in none of them.
    """
    if backend != "bwrap":
        return NO_BWRAP
    try:
        real = folder.resolve()
    except (OSError, RuntimeError):  # a loop of links
        return f"cannot find the real path of {folder}"
    seen = next((m for m in worker_folders() if real.is_relative_to(m)), None)
    if seen is not None:
        return f"{folder} lies inside {seen}, which workers can read (use another --cache)"
    return None


@cache
def notice_cache_off(reason: str) -> None:
    """Say once on stderr why the results cache is not used."""
    print(
        f"gradekit: the results cache is off: {reason}; every submission is graded",
        file=sys.stderr,
    )


def open_cache(folder: str | Path | None, grader: Grader) -> ResultCache | None:
    """The results cache in ``folder``, or None (with a notice) where workers could reach it."""
    if not folder:  # --no-cache
        return None
    try:
        return ResultCache(Path(folder), grader)
    except CacheOff as exc:
        notice_cache_off(str(exc))
        return None


def _read_key(file: Path) -> bytes | None:
    """The key in ``file`` (None when there is none yet), or CacheOff when it is not ours.

    Only a regular file of the grader's user that nobody else may read, of the right size,
    is a key: a link or a looser file could have been put there by someone else.
    """
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CacheOff(f"cannot read its key {file} ({_why(exc)})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
            raise CacheOff(f"{file} is not a key of yours that only you can read (delete it)")
        key = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(key) != KEY_BYTES:
        raise CacheOff(f"{file} is not a cache key (delete it)")
    return key


def _make_key(file: Path) -> None:
    """Create the key, mode 0600, whole or not at all: a parallel shard may race us."""
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(KEY_BYTES))
        with contextlib.suppress(FileExistsError):  # another shard's key: use it
            os.link(tmp, file)
    finally:
        tmp.unlink(missing_ok=True)


def _why(exc: OSError) -> str:
    """An OSError in a few words, for a one-line notice."""
    return exc.strerror or type(exc).__name__


def seal(key: bytes, name: str, body: bytes) -> bytes:
    """An entry as stored: the HMAC-SHA256 of its name and body, a newline, the body.

    The name (the submission's hash) is inside the MAC, so a genuine entry copied under
    another submission's name does not verify either.
    """
    mac = hmac.new(key, name.encode() + b"\0" + body, hashlib.sha256).hexdigest()
    return mac.encode() + b"\n" + body


def unseal(key: bytes, name: str, data: bytes) -> bytes | None:
    """The body of an entry whose MAC verifies under ``key``, else None."""
    body = data.partition(b"\n")[2]
    return body if hmac.compare_digest(seal(key, name, body), data) else None


def _read_entry(file: Path) -> bytes | None:
    """A cache file's bytes, never through a link; None when there is none."""
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as f:
        try:
            return f.read()
        except OSError:
            return None


class ResultCache:
    """One signed JSON file per (submission files, assignment spec, secret, gradekit code) hash.

    The course secret changes every hidden check's inputs, so it is part of the key, as a
    hash of its own: neither the secret nor its hash appears in a file name or a file.
    Every entry carries an HMAC under a random key kept in the folder (``KEY_FILE``, mode
    0600) and is used only when it verifies; the cache opens only under bubblewrap and
    outside every folder a worker sees, so no worker can read the key or write an entry.
    """

    def __init__(self, folder: Path, grader: Grader) -> None:
        """Raise CacheOff, saying why, where a worker could reach the cache."""
        reason = off_reason(folder, grader.backend)
        if reason is not None:
            raise CacheOff(reason)
        self.folder = folder.resolve()
        self._key = _read_key(self.folder / KEY_FILE)
        self._lock = threading.Lock()
        self.hits = 0
        """Results served from the cache so far (for the run's closing line)."""
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
        Nor is one that holds the cache folder or lies in it: its worker would see the
        cache. The hash reads regular files only, never through a link.
        """
        if refusal(path) is not None:
            return None
        real = path.resolve()
        if real.is_relative_to(self.folder) or self.folder.is_relative_to(real):
            return None
        root = path if is_folder(path) else path.parent
        try:
            files = _digest(submission_files(path), root, _cached_read)
        except OSError:  # changed since it was checked, or too large: graded, not cached
            return None
        key = hashlib.sha256((self._context + self._limits + files).encode()).hexdigest()
        return self.folder / f"{key[:32]}.json"

    def _ensure_key(self) -> bytes:
        """The cache's key, made on the first store."""
        with self._lock:
            if self._key is None:
                _make_key(self.folder / KEY_FILE)
                self._key = _read_key(self.folder / KEY_FILE)
            if self._key is None:  # removed as soon as made: store nothing this time
                raise CacheOff(f"{self.folder / KEY_FILE} is gone")
            return self._key

    def get(self, name: str, path: Path) -> SubmissionResult | None:
        """The cached result of an unchanged submission, renamed to ``name``, or None.

        An entry whose MAC does not verify is ignored: the submission is graded again and
        its entry rewritten.
        """
        file = self._path(path)
        if file is None or self._key is None:  # no key yet: nothing was ever stored
            return None
        data = _read_entry(file)
        body = None if data is None else unseal(self._key, file.stem, data)
        if body is None:
            return None
        try:
            result = SubmissionResult.model_validate_json(body)
        except ValueError:
            return None
        with self._lock:
            self.hits += 1
        return result.model_copy(update={"submission": name, "path": str(path)})

    def put(self, path: Path, result: SubmissionResult) -> None:
        """Store a signed result; written to a temporary name first, so no half file shows.

        A cache that cannot be written is skipped: the submission is graded next time too.
        """
        file = self._path(path)
        if file is None:
            return
        tmp = file.with_name(f".{file.stem}.{secrets.token_hex(8)}.tmp")
        try:
            data = seal(self._ensure_key(), file.stem, result.model_dump_json().encode())
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, file)
        except (OSError, CacheOff):
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)


def _cached(cache: ResultCache | None, name: str, path: Path) -> SubmissionResult | None:
    """A submission's result from the cache; a cache that fails to read is a miss."""
    if cache is not None:
        with contextlib.suppress(Exception):
            return cache.get(name, path)
    return None


def _fresh(grader: Grader, cache: ResultCache | None, name: str, path: Path) -> SubmissionResult:
    """A submission graded (``Grader.grade`` turns any failure into that submission's error)
    and stored; a cache that fails to write costs only the reuse: one submission never
    stops the class."""
    result = grader.grade(path, name)
    if cache is not None:
        with contextlib.suppress(Exception):
            cache.put(path, result)
    return result


def grade_all(
    grader: Grader,
    subs: list[Submission],
    *,
    jobs: int = 1,
    cache: ResultCache | None = None,
    done: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade every submission, ``jobs`` at once (each job a process, see ``pool``);
    results in input order, ``done`` called with each as it is ready."""
    results: list[SubmissionResult | None] = [None] * len(subs)

    def finish(i: int, result: SubmissionResult) -> None:
        results[i] = result
        if done:
            done(result)

    def fresh(name: str, path: Path) -> SubmissionResult:
        return _fresh(grader, cache, name, path)

    index: list[int] = []  # where each submission to grade is in ``subs``
    try:
        for i, (name, path) in enumerate(subs):
            hit = _cached(cache, name, Path(path))
            if hit is None:
                index.append(i)
            else:
                finish(i, hit)
        todo = [(subs[i][0], Path(subs[i][1])) for i in index]
        if jobs > 1 and len(todo) > 1:
            grade_in_processes(grader, todo, jobs, fresh, lambda k, r: finish(index[k], r))
        else:
            for k, (name, path) in enumerate(todo):
                finish(index[k], fresh(name, path))
    finally:
        grader.close()  # the class's template and folder: made again if it grades more
    return results  # type: ignore[return-value]
