"""A warm worker's own namespaces, entered in the child a confined template forks.

The template runs under bubblewrap with what every worker of the class may see, all
read-only. Each child then makes its own: a user namespace, a mount namespace in which
its folders of the class root (``home``, ``plans``, ``submission``) are bound at fixed
paths and the rest of the root is covered, a network, IPC and UTS namespace, and a
pid namespace in which the worker is pid 1. Every capability is dropped before the
worker imports anything, so no mount can be undone; and as its user is mapped to none
in that namespace, it cannot make another user namespace to regain them. See
docs/sandbox.md.
"""

from __future__ import annotations

import ctypes
import os
import signal
from pathlib import Path

WORKER_HOME = Path("/worker")
"""A warm worker's private writable folder (its working directory, HOME and TMPDIR): its
only one. /tmp is the template's, read-only: a folder there may hold the interpreter."""
WORKER_PLANS = Path("/plans")
WORKER_SUBMISSION = Path("/submission")
MOUNT_POINTS = (WORKER_HOME, WORKER_PLANS, WORKER_SUBMISSION)
"""The folders the template's root must hold for its children's mounts."""
COVERED = ("/dev/pts",)
"""Shared by every child of a template: covered in each, as the root of the class is."""

_NEWNS, _NEWUTS, _NEWIPC = 0x00020000, 0x04000000, 0x08000000
_NEWUSER, _NEWPID, _NEWNET = 0x10000000, 0x20000000, 0x40000000
_RDONLY, _NOSUID, _NODEV, _NOEXEC = 1, 2, 4, 8
_NOATIME, _NODIRATIME, _RELATIME = 1024, 2048, 1 << 21
_REMOUNT, _BIND, _REC, _PRIVATE = 32, 4096, 16384, 1 << 18
_PR_SET_PDEATHSIG, _PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS, _PR_CAP_AMBIENT = 1, 24, 38, 47
_AMBIENT_CLEAR_ALL = 4
_CAP_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)


class IsolationError(OSError):
    """A namespace or mount the child could not set up: the class falls back to cold
    workers, each started by bubblewrap."""


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise IsolationError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: Path, fs: str | None, flags: int, data: str = "") -> None:
    encoded = [x.encode() if x else None for x in (source, str(target), fs, data)]
    _check(_libc.mount(encoded[0], encoded[1], encoded[2], flags, encoded[3]), f"mount {target}")


def _kept(target: Path) -> int:
    """The flags of the mount at ``target`` that a remount must keep: the kernel refuses
    to lift, beneath a user namespace, a restriction made above it."""
    flag = os.statvfs(target).f_flag
    kept = flag & (_RDONLY | _NOSUID | _NODEV | _NOEXEC | _NOATIME | _NODIRATIME)
    return kept | (_RELATIME if flag & os.ST_RELATIME else 0)


def _bind(source: Path, target: Path, *, writable: bool) -> None:
    """Bind ``source`` at ``target``, read-only unless ``writable``; never setuid or devices."""
    _mount(str(source), target, None, _BIND | _REC)
    flags = _kept(target) | _BIND | _REMOUNT | _NOSUID | _NODEV
    _mount(None, target, None, flags | (0 if writable else _RDONLY | _NOEXEC))


def _cover(target: Path) -> None:
    """An empty read-only tmpfs over ``target``: what was there cannot be reached."""
    _mount("tmpfs", target, "tmpfs", _RDONLY | _NOSUID | _NODEV | _NOEXEC, "size=4k,mode=0555")


def _drop_capabilities() -> None:
    """No capability in any set, the bounding and ambient ones included, and none
    regained through exec."""
    cap = 0
    while _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    _check(_libc.prctl(_PR_CAP_AMBIENT, _AMBIENT_CLEAR_ALL, 0, 0, 0), "ambient capabilities")
    header = (ctypes.c_uint32 * 2)(_CAP_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(_libc.capset(header, data), "capset")
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def die_with_parent() -> None:
    """Be killed when the process that forked this one dies."""
    _check(_libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")


def confine(folder: Path) -> None:
    """Enter this child's namespaces, with ``folder``'s ``home``, ``plans`` and
    ``submission`` at their fixed paths and the class root holding ``folder`` (every
    other submission's) hidden; return in a grandchild that is pid 1 of its own pid
    namespace.

    The intermediate process only waits for the grandchild and exits with its status,
    so killing the intermediate's process group (as the grader does) ends the worker,
    and with pid 1 gone the kernel ends everything the worker started.
    """
    _check(_libc.unshare(_NEWUSER | _NEWNS | _NEWNET | _NEWIPC | _NEWUTS | _NEWPID), "unshare")
    _mount(None, Path("/"), None, _REC | _PRIVATE)
    _bind(folder / "home", WORKER_HOME, writable=True)
    _bind(folder / "plans", WORKER_PLANS, writable=False)
    _bind(folder / "submission", WORKER_SUBMISSION, writable=False)
    for path in (folder.parent, *map(Path, COVERED)):
        _cover(path)
    pid = os.fork()
    _drop_capabilities()
    if pid:
        os.closerange(0, 1 << 16)  # the worker's pipes close when the worker ends
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    die_with_parent()
