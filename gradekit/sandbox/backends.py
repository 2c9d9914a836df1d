"""How a worker is confined: bubblewrap where it works, else plain resource limits.

Both backends give every worker rlimits (memory, CPU time, file size, open files), a
scrubbed environment, a private temporary folder and a process cap. Under both, the worker's
interpreter imports only the standard library, numpy, pluggy and gradekit's contract
(``view``). bubblewrap adds no network and a read-only root holding nothing else: not the
reference, the bundled assignments, the grader's working folder or other submissions.
See docs/sandbox.md.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import sysconfig
from functools import cache
from pathlib import Path

from ..errors import GradekitError
from .view import library_roots

BACKENDS = ("bwrap", "rlimits")

NAMESPACES = (
    "--die-with-parent",
    "--new-session",
    "--unshare-all",
    "--as-pid-1",
    "--tmpfs",
    "/tmp",
    "--dev",
    "/dev",
    "--tmpfs",
    "/proc",
)
"""Every worker's namespaces and special mounts. /proc is an empty tmpfs, not a new proc:
the worker sees no process, and a container that masks parts of its own /proc (Docker,
so Gradescope) makes the kernel refuse a new proc mount, while a tmpfs still works."""


@cache
def bwrap_works() -> bool:
    """Whether bubblewrap is installed and can set up a worker's namespaces here."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False
    try:
        done = subprocess.run(
            [exe, "--ro-bind", "/", "/", *NAMESPACES, "true"],
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def available() -> list[str]:
    """The backends that work here, strongest first."""
    return [b for b in BACKENDS if b != "bwrap" or bwrap_works()]


@cache
def _fallback_notice() -> None:
    print(
        "gradekit: bubblewrap is not available here; workers run with resource limits only"
        " (no network or file-system isolation). Install the bubblewrap package for both.",
        file=sys.stderr,
    )


def choose(requested: str | None) -> str:
    """The backend to use: ``bwrap``, ``rlimits``, or ``None``/``auto`` for the strongest."""
    if requested in (None, "auto"):
        if bwrap_works():
            return "bwrap"
        _fallback_notice()
        return "rlimits"
    if requested not in BACKENDS:
        raise GradekitError(f"unknown sandbox backend {requested!r}; use auto, bwrap or rlimits")
    if requested == "bwrap" and not bwrap_works():
        raise GradekitError("the bwrap backend was asked for, but bubblewrap does not work here")
    return requested


def python_executable() -> Path:
    """The real interpreter behind ``sys.executable``: a worker runs it without a venv."""
    return Path(sys.executable).resolve()


def _python_roots() -> list[Path]:
    """The folders the worker's interpreter needs: its install and standard library."""
    roots = {Path(sys.base_prefix), python_executable().parent}
    roots |= {Path(sysconfig.get_path(k)) for k in ("stdlib", "platstdlib")}
    return sorted(r.resolve() for r in roots if r.exists())


def _site_folders() -> list[Path]:
    """Every site-packages folder of this Python, the venv's and the base install's."""
    base = {"base": sys.base_prefix, "platbase": sys.base_prefix}
    found = {Path(sysconfig.get_path(k)) for k in ("purelib", "platlib")}
    found |= {Path(sysconfig.get_path(k, vars=base)) for k in ("purelib", "platlib")}
    return sorted(p.resolve() for p in found if p.exists())


SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
"""The system folders a worker sees (read-only): programs and shared libraries only."""
LOADER = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d")
"""What the dynamic loader reads from /etc; nothing else of /etc is mounted."""


SUBMISSION_FOLDER = Path("/submission")
"""Where a confined worker sees the submission: its real path names the class folder."""


def inside(submission: Path) -> Path:
    """The submission's path as a confined worker sees it."""
    return SUBMISSION_FOLDER / submission.name


def _outermost(paths: list[Path]) -> list[Path]:
    """``paths`` without those inside another one, shortest first."""
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return kept


def _root_args(hidden: list[Path]) -> tuple[list[str], list[Path]]:
    """The read-only root every worker sees, and the empty folders covering what it must
    not: every site-packages and ``hidden`` folder that lies inside a mounted one."""
    args: list[str] = []
    for name in SYSTEM:
        path = Path(name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    args += [a for name in LOADER if Path(name).exists() for a in ("--ro-bind", name, name)]
    visible = _outermost(_python_roots())
    for path in visible:
        if not any(path.is_relative_to(s) for s in SYSTEM):
            args += ["--ro-bind", str(path), str(path)]
    mounted = [*visible, *(Path(name) for name in SYSTEM)]
    secret = [*_site_folders(), *(p.resolve() for p in hidden if p.exists())]
    # Only what lies inside a mounted folder needs covering; a hidden folder that merely
    # contains one (the grader's folder holding its venv) is never mounted at all.
    covers = _outermost([p for p in secret if any(p.is_relative_to(m) for m in mounted)])
    for path in covers:
        args += ["--tmpfs", str(path)]
    for path in library_roots():  # after the covers: numpy may live in a covered folder
        args += ["--ro-bind", str(path), str(path)]
    return args, covers


def bwrap_prefix(
    home: Path,
    submission: Path,
    hidden: list[Path],
    plans: Path,
    view: Path,
    readable: tuple[Path, ...] = (),
) -> list[str]:
    """The bubblewrap command line that confines a cold worker (one started for one
    submission).

    The worker's root is empty but for what it needs, all read-only: the system's
    programs and libraries, the Python install's interpreter and standard library, numpy
    and pluggy, the worker's ``view`` of gradekit, the ``readable`` paths (the class's
    plans), the submission (at ``inside``) and the folder of its own plans; ``home`` (its
    private folder) is the only writable place. No /var,
    /run, /home or /etc: no sockets to connect to, no other files to read. Every
    site-packages folder and ``hidden`` folder (the reference, the assignments) that lies
    inside a mounted folder is covered by an empty tmpfs. The worker runs as pid 1 of its
    own pid namespace with an empty /proc, so it sees no other process.
    """
    root, _ = _root_args(hidden)
    args = [shutil.which("bwrap") or "bwrap", *NAMESPACES, *root]
    args += [a for path in (view, *readable) for a in ("--ro-bind", str(path), str(path))]
    args += ["--ro-bind", str(submission), str(inside(submission))]
    args += ["--ro-bind", str(plans), str(plans)]
    args += ["--bind", str(home), str(home), "--chdir", str(home)]
    return args


TEMPLATE_NAMESPACES = (
    "--die-with-parent",
    "--new-session",
    "--unshare-user-try",
    "--unshare-ipc",
    "--unshare-net",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--dev",
    "/dev",
    "--tmpfs",
    "/proc",
)
"""A template's namespaces: those of a cold worker but the pid namespace, so that the
pids it reports are the grader's; each child makes its own (``isolate``)."""
CLASS_FOLDER = Path("/class")
"""Where a template sees the class's folder: one folder per submission, and the plans."""
VIEW_FOLDER = Path("/view")
"""Where a template sees the worker's view of gradekit (outside the class's folder, which
each child covers)."""


def template_prefix(
    root: Path, hidden: list[Path], view: Path, mount_points: tuple[Path, ...]
) -> list[str]:
    """The bubblewrap command line of a warm template: the root of a cold worker, the
    class's folder ``root`` at ``CLASS_FOLDER`` and empty ``mount_points`` for each
    child's own folders. Everything but the class's folder is read-only, the root and
    every tmpfs included: a place two children could both write would be a channel
    between two submissions."""
    system, covers = _root_args(hidden)
    args = [shutil.which("bwrap") or "bwrap", *TEMPLATE_NAMESPACES, *system]
    args += ["--ro-bind", str(view), str(VIEW_FOLDER), "--bind", str(root), str(CLASS_FOLDER)]
    for point in mount_points:
        args += ["--dir", str(point)]
    for path in [*covers, Path("/proc"), Path("/dev"), Path("/")]:
        args += ["--remount-ro", str(path)]
    return [*args, "--chdir", "/"]


class ProcessCap:
    """A ``pids`` cgroup that caps a worker's processes and lets them all be killed.

    Root ignores RLIMIT_NPROC, so where gradekit runs as root it uses a cgroup when one can
    be created (cgroup v1 or v2); elsewhere the rlimit applies. Without either, a fork bomb
    is stopped only by the worker's time limit (and, under bubblewrap, its pid namespace).
    """

    def __init__(self, limit: int) -> None:
        self.path: Path | None = None
        if os.geteuid() != 0:
            return
        name = f"gradekit-{os.getpid()}-{id(self):x}"
        for root in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
            if not (root / "cgroup.procs").is_file():
                continue
            try:
                if root.name == "cgroup":  # v2: the controller must be enabled for children
                    controllers = (root / "cgroup.subtree_control").read_text().split()
                    if "pids" not in controllers:
                        (root / "cgroup.subtree_control").write_text("+pids")
                path = root / name
                path.mkdir()
            except OSError:
                continue
            try:
                (path / "pids.max").write_text(str(limit))
            except OSError:  # a pids hierarchy without the controller's files
                with contextlib.suppress(OSError):
                    path.rmdir()
                continue
            self.path = path
            return

    def adopt(self, pid: int) -> None:
        """Move a just-started worker and every process under it into the cgroup.

        Called before the worker is told its limits, so before any submitted code runs:
        each process is moved before its children are listed, so a child forked meanwhile
        is born inside. ``pid`` is bubblewrap, or the worker itself under rlimits.
        """
        if self.path is None:
            return
        todo = [pid]
        while todo:
            moving = todo.pop()
            with contextlib.suppress(OSError):  # gone already: nothing to move
                (self.path / "cgroup.procs").write_text(str(moving))
                todo += _children(moving)

    def kill_all(self) -> None:
        """SIGKILL every process left in the cgroup, however it detached itself."""
        if self.path is None:
            return
        for _ in range(20):
            try:
                pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
            except OSError:
                return
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)

    def close(self) -> None:
        """Kill what is left and remove the cgroup."""
        self.kill_all()
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.rmdir()
            self.path = None


def _children(pid: int) -> list[int]:
    """The pids of ``pid``'s children: from /proc/PID/task/*/children where the kernel has
    it, else by the parent pid of every process."""
    tasks = list(Path(f"/proc/{pid}/task").iterdir())
    if all((task / "children").exists() for task in tasks):
        return [int(c) for task in tasks for c in (task / "children").read_text().split()]
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            if entry.name.isdigit():
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found
