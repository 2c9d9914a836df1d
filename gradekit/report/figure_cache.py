"""Figures already drawn, kept by a hash of their data: regrading a class redraws only the
figures whose data changed, and a cached PNG is one the grader itself drew."""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
import stat
from pathlib import Path

from ..results import Figure

MTIME_SLACK = 2.0
"""Seconds of file-time granularity allowed for when pruning the cache (FAT keeps 2 s)."""
_PNG_START = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"


@functools.cache
def _drawing_code() -> bytes:
    """A digest of what turns data into pixels: the drawing modules, the problems' contours
    and matplotlib's version. A cached PNG drawn by other code is never used."""
    import matplotlib

    from .. import problems

    digest = hashlib.sha256(matplotlib.__version__.encode())
    from . import plots, scales

    for module in (plots.__file__, scales.__file__, problems.__file__):
        digest.update(Path(module).read_bytes())
    return digest.digest()


def figure_key(figure: Figure, dpi: int, title: bool) -> str:
    """The hash a drawn figure is cached under: of its data, the options and the code."""
    digest = hashlib.sha256(_drawing_code())
    digest.update(f"{dpi}|{title}|".encode() + figure.model_dump_json().encode())
    return digest.hexdigest()


class FigureCache:
    """PNGs already drawn, one file per :func:`figure_key` in ``folder``: regrading a class
    redraws only the figures whose data changed.

    Only PNGs the grader drew are read back: the folder must be a real folder of the
    grader's user that nobody else may write (it is made so, mode 0700); an entry must be
    a regular file of that user that nobody else may write, read without following a
    link, and a whole PNG. Otherwise the figure is drawn again. File names are hashes:
    nothing from a submission reaches a path. Writing is best effort (atomic, by rename).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.usable = _private_folder(folder)

    def get(self, key: str) -> bytes | None:
        """The PNG stored under ``key``, or None; a hit is touched (see :meth:`prune`)."""
        if not self.usable:
            return None
        try:
            fd = os.open(self.folder / f"{key}.png", os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        try:
            if not _private(os.fstat(fd)):
                return None
            with os.fdopen(fd, "rb", closefd=False) as file:
                data = file.read()
            os.utime(fd)
        except OSError:
            return None
        finally:
            os.close(fd)
        return data if data.startswith(_PNG_START) and data.endswith(_PNG_END) else None

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, whole or not at all."""
        if not self.usable:
            return
        tmp = self.folder / f".{key}.{secrets.token_hex(6)}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(tmp, self.folder / f"{key}.png")
        except OSError:
            tmp.unlink(missing_ok=True)

    def prune(self, before: float) -> None:
        """Remove the entries neither drawn nor used since ``before`` (a ``time.time()``,
        less ``MTIME_SLACK`` for coarse file times): the cache holds the figures of the
        last report written, not of every report ever written."""
        if not self.usable:
            return
        try:
            entries = list(os.scandir(self.folder))
        except OSError:
            return
        for entry in entries:
            try:
                mtime = entry.stat(follow_symlinks=False).st_mtime
                if entry.name.endswith(".png") and mtime < before - MTIME_SLACK:
                    os.unlink(entry.path)
            except OSError:
                continue


def _private(st: os.stat_result) -> bool:
    """A regular file or folder of this user that nobody else may write."""
    kind = stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)
    return kind and st.st_uid == os.geteuid() and not st.st_mode & 0o022


def _private_folder(folder: Path) -> bool:
    """Make ``folder`` (mode 0700) unless it exists; whether it is a private real folder."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and _private(st)
