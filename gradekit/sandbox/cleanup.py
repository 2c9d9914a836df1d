"""Removing what a worker wrote: files, links and folders of any depth, never following a
link out of them, and never raising (what cannot be removed stays, and costs no grade)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path


def remove(path: Path) -> None:
    """Remove a file, link or folder the worker made, never following a link out of it."""
    try:
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)
            return
    except OSError:
        return
    remove_tree(path)


def remove_tree(path: Path) -> None:
    """Remove a folder a worker could write, however deep or odd, and never raise: what
    cannot be removed stays, and costs no grade."""
    try:
        shutil.rmtree(path, ignore_errors=True)
    except Exception:  # e.g. a RecursionError on a tree deeper than the stack
        with contextlib.suppress(Exception):
            _flatten_remove(path)


def _flatten_remove(root: Path) -> None:
    """Remove ``root`` without recursion or long paths: every folder below it is first
    moved up to be a child of ``root``, so each path stays two names long."""
    pending = [root]
    prefix, moved = f".gradekit-{secrets.token_hex(8)}-", 0
    while pending:
        folder = pending.pop()
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in list(entries):
                with contextlib.suppress(OSError):
                    if not entry.is_dir(follow_symlinks=False):
                        os.unlink(entry.path)
                    elif folder == root:
                        pending.append(Path(entry.path))
                    else:
                        moved += 1
                        target = root / f"{prefix}{moved}"
                        os.rename(entry.path, target)
                        pending.append(target)
        if folder != root:
            with contextlib.suppress(OSError):
                os.rmdir(folder)
    with contextlib.suppress(OSError):
        os.rmdir(root)
