"""Intake: whether a path is a gradable submission, and its files, never following a link.

A submission is what it looks like: a regular ``.py`` file or notebook (``.ipynb``), or a
folder of regular files and folders. A link (to anything, even inside the submission)
would hand in someone else's file, the installed reference or ``/proc/self/mem``; a
special file (a FIFO, a socket, a device) blocks or misleads whoever opens it. Such a
submission is refused with a one-line reason before any worker starts or any file of it
is read, and nothing here opens a special file or reads through a link.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

LINK = "links are not graded: upload the file itself"
"""Why a link is refused, in every message about one."""
REGULAR_ONLY = "only regular files are graded"
OWN_FILES = "only the folder's own files are graded"
SKIPPED = "__pycache__"
"""Folders that :func:`submission_files` leaves out: bytecode is not part of a submission."""
FILE_SUFFIXES = (".py", ".ipynb")
"""The files that are a submission on their own: a module, or a notebook of code cells."""

_SPECIAL = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)


def _printable(text: str) -> str:
    """``text`` with unprintable characters as ``?``: a reason stays on one line."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _special(mode: int) -> str:
    """The kind of a file that is neither regular, a folder nor a link, for the reason."""
    return next((name for test, name in _SPECIAL if test(mode)), "special file")


def is_folder(path: Path) -> bool:
    """Whether ``path`` is a real folder: a link to one is not (the link is not followed)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except (OSError, ValueError):
        return False


def _entry_refusal(entry: os.DirEntry[str], rel: str, root: str) -> str | None:
    """Why one entry of a package folder is refused (``rel``: its shown name), or None."""
    if entry.is_symlink():
        return f"{rel} is a link; {LINK}"
    if entry.is_dir(follow_symlinks=False):
        return None
    if not entry.is_file(follow_symlinks=False):
        kind = _special(entry.stat(follow_symlinks=False).st_mode)
        return f"{rel} is a special file ({kind}); {REGULAR_ONLY}"
    if os.path.commonpath([os.path.realpath(entry.path), root]) != root:
        return f"{rel} lies outside the folder; {OWN_FILES}"
    return None


def _folder_refusal(folder: Path) -> str | None:
    """Why a package folder is refused: its first link, special file or outside entry."""
    root = os.path.realpath(folder)
    pending = [(folder, _printable(folder.name or str(folder)))]
    while pending:
        current, rel = pending.pop()
        try:
            with os.scandir(current) as entries:
                ordered = sorted(entries, key=lambda e: e.name)
            for entry in ordered:
                name = f"{rel}/{_printable(entry.name)}"
                reason = _entry_refusal(entry, name, root)
                if reason is not None:
                    return reason
                if entry.is_dir(follow_symlinks=False):
                    pending.append((Path(entry.path), name))
        except OSError as exc:
            return f"{rel} cannot be read ({exc.strerror or exc})"
    return None


def refusal(path: str | Path) -> str | None:
    """The one-line reason ``path`` is not graded (a link, a special file), or None.

    Only ``lstat`` and directory listings are used: no link is followed and no file opened.
    """
    path = Path(path)
    name = _printable(path.name or str(path))
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return f"{name}: no such file or folder"
    except (OSError, ValueError) as exc:
        return f"{name}: cannot be read ({getattr(exc, 'strerror', None) or exc})"
    if stat.S_ISLNK(mode):
        return f"{name}: {LINK}"
    if stat.S_ISDIR(mode):
        reason = _folder_refusal(path)
        return f"{name}/: {reason}" if reason else None
    if not stat.S_ISREG(mode):
        return f"{name}: a special file ({_special(mode)}); {REGULAR_ONLY}"
    return None


def submission_files(path: str | Path) -> list[Path]:
    """The regular files of a submission, sorted, for hashing; links and special files are
    skipped, never followed, and so is ``__pycache__``. A listing error raises OSError."""
    path = Path(path)
    mode = os.lstat(path).st_mode
    if stat.S_ISREG(mode):
        return [path]
    if not stat.S_ISDIR(mode):
        return []
    found: list[Path] = []
    pending = [path]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and entry.name != SKIPPED:
                    pending.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    found.append(Path(entry.path))
    return sorted(found)


class TooLarge(OSError):
    """A file longer than the bytes a reader allows itself."""


def read_regular(path: Path, limit: int | None = None) -> bytes:
    """The bytes of a regular file, opened without following a link and without blocking;
    anything else (a link or a FIFO put there since it was listed) raises OSError, and a
    file longer than ``limit`` bytes TooLarge (read no further: a huge file costs the
    grader no memory)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path.name}: not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read() if limit is None else file.read(limit + 1)
    finally:
        os.close(fd)
    if limit is not None and len(data) > limit:
        raise TooLarge(f"{path.name}: larger than {limit} bytes")
    return data
