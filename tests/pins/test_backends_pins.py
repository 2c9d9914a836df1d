"""The confinement of a worker (``sandbox.backends``), pinned: which backend is chosen, each
part of bubblewrap's command line to its effect (the system's folders and their links, the
loader's files, the interpreter, every site-packages and hidden folder inside a mounted one
covered, numpy and pluggy bound back on top, the submission at ``/submission``, plans and
view read-only, the worker's home its only writable place; a template's read-only root and
the class's folder), and the process cap's cgroup (created, filled, emptied, removed), on
stand-in folders, processes and cgroups."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import ClassVar

import pytest

from gradekit.errors import GradekitError
from gradekit.sandbox import backends
from gradekit.sandbox.backends import (
    CLASS_FOLDER,
    NAMESPACES,
    TEMPLATE_NAMESPACES,
    VIEW_FOLDER,
    ProcessCap,
    _children,
    _outermost,
    _python_roots,
    _root_args,
    _site_folders,
    available,
    bwrap_prefix,
    choose,
    inside,
    python_executable,
    template_prefix,
)

# --- which backend


@pytest.fixture
def bwrap(monkeypatch):
    """Whether bubblewrap works here, as the test says."""
    works = {"value": True}
    monkeypatch.setattr(backends, "bwrap_works", lambda: works["value"])
    return works


def test_both_backends_are_available_where_bubblewrap_works(bwrap):
    assert available() == ["bwrap", "rlimits"]
    bwrap["value"] = False
    assert available() == ["rlimits"]


@pytest.mark.parametrize("requested", [None, "auto"])
def test_auto_chooses_bubblewrap_where_it_works(bwrap, requested, capsys):
    assert choose(requested) == "bwrap"
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("requested", [None, "auto"])
def test_auto_falls_back_to_rlimits_and_says_so_once(bwrap, requested, capsys):
    bwrap["value"] = False
    backends._fallback_notice.cache_clear()
    try:
        assert choose(requested) == "rlimits"
        assert choose(requested) == "rlimits"
        err = capsys.readouterr().err
    finally:
        backends._fallback_notice.cache_clear()
    assert err.count("gradekit: bubblewrap is not available here") == 1
    assert "resource limits only (no network or file-system isolation)" in err


@pytest.mark.parametrize("works", [True, False])
def test_rlimits_is_chosen_when_asked_for(bwrap, works):
    bwrap["value"] = works
    assert choose("rlimits") == "rlimits"


def test_bubblewrap_is_chosen_when_asked_for_where_it_works(bwrap):
    assert choose("bwrap") == "bwrap"


def test_bubblewrap_asked_for_where_it_does_not_work_is_an_error(bwrap):
    bwrap["value"] = False
    with pytest.raises(GradekitError) as caught:
        choose("bwrap")
    assert str(caught.value) == (
        "the bwrap backend was asked for, but bubblewrap does not work here"
    )


@pytest.mark.parametrize("requested", ["docker", "BWRAP", ""])
def test_an_unknown_backend_is_an_error(bwrap, requested):
    with pytest.raises(GradekitError) as caught:
        choose(requested)
    assert str(caught.value) == (
        f"unknown sandbox backend {requested!r}; use auto, bwrap or rlimits"
    )


# --- whether bubblewrap works: one run of a worker's namespaces


@pytest.fixture
def probe(monkeypatch):
    """bubblewrap's probe, run by a stand-in: its command line and keywords recorded."""
    runs: list = []
    found = {"exe": "/opt/bin/bwrap", "returncode": 0, "raises": None}

    def run(args, **kwargs):
        runs.append((args, kwargs))
        if found["raises"]:
            raise found["raises"]
        return subprocess.CompletedProcess(args, found["returncode"])

    monkeypatch.setattr(backends.shutil, "which", lambda name: found["exe"])
    monkeypatch.setattr(backends.subprocess, "run", run)
    backends.bwrap_works.cache_clear()
    yield found, runs
    backends.bwrap_works.cache_clear()


def test_bubblewrap_works_when_a_worker_namespaces_start(probe):
    _, runs = probe
    assert backends.bwrap_works() is True
    ((args, kwargs),) = runs
    assert args == ["/opt/bin/bwrap", "--ro-bind", "/", "/", *NAMESPACES, "true"]
    assert kwargs["capture_output"] is True
    assert 0 < kwargs["timeout"] <= 60


def test_bubblewrap_does_not_work_when_its_probe_fails(probe):
    found, _ = probe
    found["returncode"] = 1
    assert backends.bwrap_works() is False


def test_bubblewrap_does_not_work_when_it_is_not_installed(probe):
    found, runs = probe
    found["exe"] = None
    assert backends.bwrap_works() is False
    assert runs == []


@pytest.mark.parametrize(
    "error", [OSError("exec format error"), subprocess.TimeoutExpired("bwrap", 20)]
)
def test_bubblewrap_does_not_work_when_its_probe_cannot_run(probe, error):
    found, _ = probe
    found["raises"] = error
    assert backends.bwrap_works() is False


def test_a_workers_namespaces_hide_the_network_and_every_process():
    """No network, no other process (pid 1 of its own, an empty /proc tmpfs: a container
    refuses a new proc), a private /tmp; the worker dies with the grader."""
    assert {"--unshare-all", "--as-pid-1", "--die-with-parent", "--new-session"} <= set(NAMESPACES)
    pairs = list(itertools.pairwise(NAMESPACES))
    assert ("--tmpfs", "/proc") in pairs and ("--tmpfs", "/tmp") in pairs
    assert ("--dev", "/dev") in pairs and "--proc" not in NAMESPACES
    assert "--unshare-net" in TEMPLATE_NAMESPACES and "--unshare-pid" not in TEMPLATE_NAMESPACES


# --- the interpreter and its folders


def test_the_worker_runs_the_real_interpreter_behind_the_venv():
    assert python_executable() == Path(sys.executable).resolve()


def test_the_python_roots_are_the_install_and_its_standard_library():
    roots = _python_roots()
    assert roots == sorted(roots)
    assert Path(sys.base_prefix).resolve() in roots
    assert python_executable().parent in roots
    assert Path(sysconfig.get_path("stdlib")).resolve() in roots
    assert Path(sysconfig.get_path("platstdlib")).resolve() in roots
    assert all(r.exists() and r == r.resolve() for r in roots)


def test_the_python_roots_leave_out_what_does_not_exist(monkeypatch, tmp_path):
    monkeypatch.setattr(backends.sys, "base_prefix", str(tmp_path / "gone"))
    assert tmp_path / "gone" not in _python_roots()
    assert python_executable().parent in _python_roots()


def test_the_site_folders_are_the_venvs_and_the_base_installs():
    folders = _site_folders()
    base = {"base": sys.base_prefix, "platbase": sys.base_prefix}
    for key in ("purelib", "platlib"):
        for path in (Path(sysconfig.get_path(key)), Path(sysconfig.get_path(key, vars=base))):
            if path.exists():
                assert path.resolve() in folders
    assert folders == sorted(folders)
    assert all(f.exists() and f == f.resolve() for f in folders)


def test_the_base_installs_platform_site_folder_is_found(monkeypatch, tmp_path):
    """purelib and platlib may differ (lib and lib64): both, of both installs."""
    where = {}

    def get_path(key, vars=None):
        folder = tmp_path / ("base" if vars else "venv") / key
        folder.mkdir(parents=True, exist_ok=True)
        where.setdefault(key, []).append(vars)
        return str(folder)

    monkeypatch.setattr(backends.sysconfig, "get_path", get_path)
    folders = _site_folders()
    assert folders == sorted(
        tmp_path / side / key for side in ("base", "venv") for key in ("platlib", "purelib")
    )
    base = {"base": sys.base_prefix, "platbase": sys.base_prefix}
    assert where == {"purelib": [None, base], "platlib": [None, base]}


def test_site_folders_that_do_not_exist_are_left_out(monkeypatch, tmp_path):
    monkeypatch.setattr(
        backends.sysconfig, "get_path", lambda key, vars=None: str(tmp_path / "nowhere" / key)
    )
    assert _site_folders() == []


# --- where the submission is seen, and nesting


def test_a_confined_worker_sees_the_submission_at_submission_by_its_name():
    assert inside(Path("/home/ta/class/alice.py")) == Path("/submission/alice.py")
    assert inside(Path("/home/ta/class/bob")) == Path("/submission/bob")


def test_outermost_drops_the_paths_inside_another_shortest_first():
    paths = [Path("/a/b/c"), Path("/x"), Path("/a"), Path("/a/bc"), Path("/a/b"), Path("/x")]
    assert sorted(_outermost(paths)) == [Path("/a"), Path("/x")]
    assert sorted(_outermost([Path("/a/bc"), Path("/a/b")])) == [Path("/a/b"), Path("/a/bc")]
    assert _outermost([Path("/a/b/c"), Path("/d/e"), Path("/f")]) == [
        Path("/f"),
        Path("/d/e"),
        Path("/a/b/c"),
    ]
    assert _outermost([]) == []


# --- the read-only root


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A stand-in machine under ``tmp_path``: system folders (``usr`` a folder, ``bin`` a
    link to usr/bin, ``lib32`` a folder, ``libx32`` absent), the loader's files (the cache
    and the folder of configuration, not ld.so.conf), Python in ``opt/python`` (its ``lib``
    a second root inside it, and one more root inside ``usr``), its site-packages with numpy
    and pluggy, the system's site-packages in ``usr``, and a course folder holding a venv."""
    (tmp_path / "usr" / "bin").mkdir(parents=True)
    (tmp_path / "bin").symlink_to("usr/bin")
    (tmp_path / "lib32").mkdir()
    (tmp_path / "etc" / "ld.so.conf.d").mkdir(parents=True)
    (tmp_path / "etc" / "ld.so.cache").write_text("")
    python = tmp_path / "opt" / "python"
    site = python / "lib" / "site-packages"
    system_site = tmp_path / "usr" / "dist-packages"
    venv_site = tmp_path / "course" / ".venv" / "site-packages"
    for folder in (site / "numpy", site / "pluggy", system_site, venv_site):
        folder.mkdir(parents=True)
    system = tuple(str(tmp_path / n) for n in ("usr", "bin", "lib32", "libx32"))
    loader = tuple(str(tmp_path / "etc" / n) for n in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d"))
    monkeypatch.setattr(backends, "SYSTEM", system)
    monkeypatch.setattr(backends, "LOADER", loader)
    roots = [python / "lib", python, tmp_path / "usr" / "lib" / "python3"]
    monkeypatch.setattr(backends, "_python_roots", lambda: roots)
    monkeypatch.setattr(backends, "_site_folders", lambda: [site, system_site, venv_site])
    monkeypatch.setattr(backends, "library_roots", lambda: (site / "numpy", site / "pluggy"))
    return tmp_path


def system_args(t: Path) -> list[str]:
    """The stand-in machine's system folders, loader files and interpreter, read-only."""
    python = str(t / "opt" / "python")
    return [
        *("--ro-bind", str(t / "usr"), str(t / "usr")),
        *("--symlink", "usr/bin", str(t / "bin")),
        *("--ro-bind", str(t / "lib32"), str(t / "lib32")),
        *("--ro-bind", str(t / "etc" / "ld.so.cache"), str(t / "etc" / "ld.so.cache")),
        *("--ro-bind", str(t / "etc" / "ld.so.conf.d"), str(t / "etc" / "ld.so.conf.d")),
        *("--ro-bind", python, python),
    ]


def library_args(t: Path) -> list[str]:
    site = t / "opt" / "python" / "lib" / "site-packages"
    return [a for name in ("numpy", "pluggy") for a in ("--ro-bind", *[str(site / name)] * 2)]


def test_the_root_holds_the_system_loader_and_python_site_packages_covered(machine):
    """Each site-packages inside a mounted folder is covered by an empty tmpfs (the
    interpreter's, the system's in /usr), one outside every mounted folder is not; numpy
    and pluggy are bound back after the covers."""
    t = machine
    args, covers = _root_args([])
    site = t / "opt" / "python" / "lib" / "site-packages"
    system_site = t / "usr" / "dist-packages"
    assert covers == [system_site, site]
    assert args == [
        *system_args(t),
        *("--tmpfs", str(system_site), "--tmpfs", str(site)),
        *library_args(t),
    ]


def test_hidden_folders_inside_a_mounted_one_are_covered(machine):
    """The reference installed inside the interpreter's folder is covered (by its real
    path); a hidden folder that merely holds a mounted one's outside (the course folder)
    and one inside a covered folder need no cover, and one that does not exist is left."""
    t = machine
    reference = t / "opt" / "python" / "reference"
    reference.mkdir(parents=True)
    (t / "link").symlink_to(reference)
    inner = t / "opt" / "python" / "lib" / "site-packages" / "gradekit_reference"
    inner.mkdir()
    hidden = [t / "link", t / "course", inner, t / "opt" / "python" / "gone"]
    args, covers = _root_args(hidden)
    site = t / "opt" / "python" / "lib" / "site-packages"
    system_site = t / "usr" / "dist-packages"
    assert covers == [system_site, reference, site]
    assert str(t / "course") not in args and str(t / "opt" / "python" / "gone") not in args
    assert args[args.index(str(reference)) - 1] == "--tmpfs"


def which(name: str) -> str | None:
    """bubblewrap found on the path, by its name."""
    return "/opt/bin/bwrap" if name == "bwrap" else None


def test_a_cold_workers_command_line(machine, monkeypatch):
    """Everything read-only but ``home``: the view, the readable plans, the submission at
    /submission/<name>, the folder of its own plans; it starts in ``home``."""
    t = machine
    monkeypatch.setattr(backends.shutil, "which", which)
    home, plans, view = t / "s" / "home", t / "s" / "plans", t / "s" / "lib"
    submission, book = t / "class" / "alice.py", t / "class-plans.bin"
    args = bwrap_prefix(home, submission, [], plans, view, (book,))
    root, _ = _root_args([])
    assert args == [
        "/opt/bin/bwrap",
        *NAMESPACES,
        *root,
        *("--ro-bind", str(view), str(view)),
        *("--ro-bind", str(book), str(book)),
        *("--ro-bind", str(submission), "/submission/alice.py"),
        *("--ro-bind", str(plans), str(plans)),
        *("--bind", str(home), str(home)),
        *("--chdir", str(home)),
    ]


def test_a_cold_worker_without_readable_plans_and_bwrap_off_the_path(machine, monkeypatch):
    t = machine
    monkeypatch.setattr(backends.shutil, "which", lambda name: None)
    args = bwrap_prefix(t / "h", t / "alice.py", [t / "course"], t / "p", t / "v")
    assert args[0] == "bwrap"
    assert args[-14:] == [
        *("--ro-bind", str(t / "v"), str(t / "v")),
        *("--ro-bind", str(t / "alice.py"), "/submission/alice.py"),
        *("--ro-bind", str(t / "p"), str(t / "p")),
        *("--bind", str(t / "h"), str(t / "h"), "--chdir", str(t / "h")),
    ]


def test_the_hidden_folders_reach_the_cold_workers_covers(machine, monkeypatch):
    t = machine
    reference = t / "usr" / "share" / "reference"
    reference.mkdir(parents=True)
    args = bwrap_prefix(t / "h", t / "alice.py", [reference], t / "p", t / "v")
    assert args[args.index(str(reference)) - 1] == "--tmpfs"


def test_a_templates_command_line(machine, monkeypatch):
    """The root of a cold worker, the view at /view, the class's folder at /class (its only
    writable place), empty mount points for each child, then every tmpfs, /proc, /dev and
    the root remounted read-only; it starts in /."""
    t = machine
    monkeypatch.setattr(backends.shutil, "which", which)
    reference = t / "opt" / "python" / "reference"
    reference.mkdir(parents=True)
    points = (Path("/worker"), Path("/plans"))
    args = template_prefix(t / "class", [reference], t / "lib", points)
    root, covers = _root_args([reference])
    assert covers == [
        t / "usr" / "dist-packages",
        reference,
        t / "opt" / "python" / "lib" / "site-packages",
    ]
    assert args == [
        "/opt/bin/bwrap",
        *TEMPLATE_NAMESPACES,
        *root,
        *("--ro-bind", str(t / "lib"), "/view"),
        *("--bind", str(t / "class"), "/class"),
        *("--dir", "/worker", "--dir", "/plans"),
        *[a for c in covers for a in ("--remount-ro", str(c))],
        *("--remount-ro", "/proc", "--remount-ro", "/dev", "--remount-ro", "/"),
        *("--chdir", "/"),
    ]
    assert Path("/view") == VIEW_FOLDER and Path("/class") == CLASS_FOLDER


def test_a_template_found_off_the_path_is_bwrap(machine, monkeypatch):
    monkeypatch.setattr(backends.shutil, "which", lambda name: None)
    assert template_prefix(machine / "c", [], machine / "v", ())[0] == "bwrap"


def test_the_real_root_never_mounts_the_whole_file_system():
    args, _ = _root_args([])
    pairs = list(itertools.pairwise(args))
    assert ("--ro-bind", "/") not in pairs and ("--bind", "/") not in pairs
    assert all(a != "/etc" and not a.startswith(("/home", "/var", "/run")) for a in args)


# --- the process cap: a pids cgroup, on a stand-in cgroup file system


class Rooted(type(Path())):
    """Paths whose absolute form lies under ``ROOT`` (a stand-in /sys and /proc): writes
    to ``cgroup.procs`` append (as the kernel's file does) and are recorded, and the names
    in ``FAIL`` refuse to be written or made."""

    ROOT: Path = Path("/")
    FAIL: ClassVar[set[str]] = set()
    MOVED: ClassVar[list[int]] = []

    @classmethod
    def at(cls, *parts: str) -> Rooted:
        path = Path(*parts)
        return cls(cls.ROOT / path.relative_to("/")) if path.is_absolute() else cls(path)

    def write_text(self, text, *args, **kwargs):
        where = f"{self.parent.parent.name}/{self.name}"
        if self.name in self.FAIL or text in self.FAIL or where in self.FAIL:
            raise OSError("refused")
        if self.name == "cgroup.procs":
            self.MOVED.append(int(text))
            with Path(self).open("a") as f:
                return f.write(f"{text}\n")
        return super().write_text(text, *args, **kwargs)

    def rmdir(self):
        if "rmdir" in self.FAIL:
            raise OSError("busy")
        return super().rmdir()

    def mkdir(self, *args, **kwargs):
        if self.parent.name in self.FAIL:
            raise OSError("refused")
        return super().mkdir(*args, **kwargs)


@pytest.fixture
def sysfs(tmp_path, monkeypatch):
    """A stand-in root for ``backends``: /sys/fs/cgroup (v1's pids hierarchy, v2's root)
    and /proc, empty; the grader runs as root."""
    monkeypatch.setattr(Rooted, "ROOT", tmp_path)
    monkeypatch.setattr(Rooted, "FAIL", set())
    monkeypatch.setattr(Rooted, "MOVED", [])
    monkeypatch.setattr(backends, "Path", Rooted.at)
    monkeypatch.setattr(backends.os, "geteuid", lambda: 0)
    (tmp_path / "sys" / "fs" / "cgroup").mkdir(parents=True)
    (tmp_path / "proc").mkdir()
    return tmp_path


def v1(root: Path) -> Path:
    (root / "sys" / "fs" / "cgroup" / "pids").mkdir()
    (root / "sys" / "fs" / "cgroup" / "pids" / "cgroup.procs").write_text("")
    return root / "sys" / "fs" / "cgroup" / "pids"


def v2(root: Path, controllers: str = "cpu memory") -> Path:
    (root / "sys" / "fs" / "cgroup" / "cgroup.procs").write_text("")
    (root / "sys" / "fs" / "cgroup" / "cgroup.subtree_control").write_text(controllers)
    return root / "sys" / "fs" / "cgroup"


def test_a_cap_is_a_new_pids_cgroup_of_cgroup_v1(sysfs):
    hierarchy = v1(sysfs)
    v2(sysfs)
    cap = ProcessCap(17)
    assert cap.path is not None and cap.path.parent == hierarchy
    assert cap.path.name.startswith(f"gradekit-{os.getpid()}-")
    assert (cap.path / "pids.max").read_text() == "17"
    other = ProcessCap(3)
    assert other.path != cap.path and other.path.parent == hierarchy


def test_a_cap_under_cgroup_v2_enables_the_pids_controller_for_children(sysfs):
    root = v2(sysfs)
    cap = ProcessCap(9)
    assert cap.path is not None and cap.path.parent == root
    assert (root / "cgroup.subtree_control").read_text() == "+pids"
    assert (cap.path / "pids.max").read_text() == "9"


def test_a_cap_under_cgroup_v2_leaves_an_enabled_pids_controller(sysfs):
    root = v2(sysfs, "cpu pids")
    cap = ProcessCap(9)
    assert cap.path is not None and cap.path.parent == root
    assert (root / "cgroup.subtree_control").read_text() == "cpu pids"


def test_no_cap_without_a_cgroup_hierarchy(sysfs):
    (sysfs / "sys" / "fs" / "cgroup" / "pids").mkdir()
    assert ProcessCap(5).path is None


def test_no_cap_when_not_root(sysfs, monkeypatch):
    """Root ignores RLIMIT_NPROC: only root needs the cgroup, and elsewhere it is not made."""
    v1(sysfs)
    monkeypatch.setattr(backends.os, "geteuid", lambda: 1000)
    cap = ProcessCap(5)
    assert cap.path is None
    assert [p.name for p in (sysfs / "sys" / "fs" / "cgroup" / "pids").iterdir()] == [
        "cgroup.procs"
    ]
    cap.adopt(os.getpid())
    cap.kill_all()
    cap.close()
    assert Rooted.MOVED == []


def test_a_v1_hierarchy_that_refuses_a_cgroup_falls_back_to_v2(sysfs):
    v1(sysfs)
    root = v2(sysfs)
    Rooted.FAIL.add("pids")
    cap = ProcessCap(5)
    assert cap.path is not None and cap.path.parent == root


def test_a_cgroup_without_the_pids_files_is_removed_and_the_next_tried(sysfs):
    hierarchy = v1(sysfs)
    root = v2(sysfs)
    Rooted.FAIL.add("pids.max")
    cap = ProcessCap(5)
    assert cap.path is None
    assert sorted(p.name for p in hierarchy.iterdir()) == ["cgroup.procs"]
    assert not [p for p in root.iterdir() if p.name.startswith("gradekit-")]


def test_a_v1_cgroup_without_the_pids_files_falls_back_to_v2(sysfs):
    hierarchy = v1(sysfs)
    root = v2(sysfs)
    Rooted.FAIL.add("pids/pids.max")
    cap = ProcessCap(6)
    assert cap.path is not None and cap.path.parent == root
    assert (cap.path / "pids.max").read_text() == "6"
    assert sorted(p.name for p in hierarchy.iterdir()) == ["cgroup.procs"]


def test_a_cgroup_that_cannot_be_removed_is_left_without_an_error(sysfs):
    v1(sysfs)
    Rooted.FAIL.update({"pids.max", "rmdir"})
    assert ProcessCap(5).path is None


def test_a_v2_root_whose_controllers_cannot_be_enabled_gives_no_cap(sysfs):
    v2(sysfs)
    Rooted.FAIL.add("+pids")
    assert ProcessCap(5).path is None


def proc(root: Path, pid: int, children: dict[int, list[int]] | None = None) -> None:
    """/proc/PID/task/TID/children of a stand-in process: its children by thread."""
    for tid, kids in (children or {pid: []}).items():
        task = root / "proc" / str(pid) / "task" / str(tid)
        task.mkdir(parents=True)
        (task / "children").write_text(" ".join(map(str, kids)))


def test_the_children_of_a_process_by_every_thread(sysfs):
    proc(sysfs, 100, {100: [101], 105: [102, 103]})
    assert sorted(_children(100)) == [101, 102, 103]


def stat(root: Path, pid: int | str, parent: int, name: str = "python") -> None:
    folder = root / "proc" / str(pid)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stat").write_text(f"{pid} ({name}) S {parent} {pid} {pid} 0 -1 4194560\n")


def test_without_children_files_every_process_is_asked_its_parent(sysfs):
    """The parent is the fourth field of /proc/PID/stat, counted after the name's last
    parenthesis (a name may hold spaces and parentheses)."""
    (sysfs / "proc" / "100" / "task" / "100").mkdir(parents=True)
    stat(sysfs, 100, 1)
    stat(sysfs, 101, 100, name="a) S 7 (b")
    stat(sysfs, 102, 100)
    stat(sysfs, 103, 101)
    stat(sysfs, 104, 7)
    stat(sysfs, "self", 100)
    (sysfs / "proc" / "105").mkdir()  # gone while listed: no stat
    (sysfs / "proc" / "106").mkdir()
    (sysfs / "proc" / "106" / "stat").write_text("106 (x)\n")
    (sysfs / "proc" / "107").mkdir()
    (sysfs / "proc" / "107" / "stat").write_text("107 (x) S ?? 1 1\n")
    assert sorted(_children(100)) == [101, 102]


def test_children_are_asked_of_every_process_if_one_thread_lacks_the_file(sysfs):
    proc(sysfs, 100, {100: [101]})
    (sysfs / "proc" / "100" / "task" / "101").mkdir()
    stat(sysfs, 102, 100)
    assert _children(100) == [102]


def test_a_worker_and_every_process_under_it_are_moved_into_the_cap(sysfs):
    """Each process is moved before its children are listed: the worker first."""
    v1(sysfs)
    cap = ProcessCap(5)
    for pid, kids in {100: [101, 102], 101: [103], 102: [], 103: []}.items():
        proc(sysfs, pid, {pid: kids})
    cap.adopt(100)
    assert Rooted.MOVED[0] == 100
    assert sorted(Rooted.MOVED) == [100, 101, 102, 103]
    assert sorted(map(int, plain(cap.path / "cgroup.procs").read_text().split())) == [
        100,
        101,
        102,
        103,
    ]


def test_a_process_that_cannot_be_moved_is_gone_and_its_children_unlisted(sysfs):
    v1(sysfs)
    cap = ProcessCap(5)
    for pid, kids in {100: [101, 102], 101: [103], 102: [], 103: []}.items():
        proc(sysfs, pid, {pid: kids})
    Rooted.FAIL.add("101")
    cap.adopt(100)
    assert sorted(Rooted.MOVED) == [100, 102]


def test_a_process_gone_before_its_children_are_listed_moves_nothing_more(sysfs):
    v1(sysfs)
    cap = ProcessCap(5)
    proc(sysfs, 100, {100: [101]})
    cap.adopt(100)
    assert sorted(Rooted.MOVED) == [100, 101]


def plain(path: Path) -> Path:
    """A stand-in path as a plain one: its files written as is."""
    return Path(str(path))


@pytest.fixture
def killed(monkeypatch):
    """os.kill recorded: each pid killed leaves the stand-in cgroup (its line removed)."""
    calls: list = []
    state = {"cgroup": None, "gone": set()}

    def kill(pid, sig):
        calls.append((pid, sig))
        if pid in state["gone"]:
            raise ProcessLookupError(pid)
        procs = plain(state["cgroup"] / "cgroup.procs")
        left = [p for p in procs.read_text().split() if int(p) != pid]
        procs.write_text("".join(f"{p}\n" for p in left))

    monkeypatch.setattr(backends.os, "kill", kill)
    return calls, state


def test_kill_all_kills_every_process_in_the_cap_with_sigkill(sysfs, killed):
    calls, state = killed
    v1(sysfs)
    cap = ProcessCap(5)
    state["cgroup"] = cap.path
    plain(cap.path / "cgroup.procs").write_text("300\n301\n")
    state["gone"].add(300)  # died meanwhile: the others are killed all the same
    cap.kill_all()
    assert calls[:2] == [(300, signal.SIGKILL), (301, signal.SIGKILL)]
    assert all(sig == signal.SIGKILL for _, sig in calls)


def test_kill_all_goes_on_while_processes_are_left(sysfs, monkeypatch):
    """A process forked while the cgroup is emptied is killed in the next round; one that
    never leaves is killed again and again, but not forever."""
    v1(sysfs)
    cap = ProcessCap(5)
    procs = plain(cap.path / "cgroup.procs")
    procs.write_text("400\n")
    calls: list = []

    def kill(pid, sig):
        calls.append(pid)
        procs.write_text("401\n" if pid == 400 else "")

    monkeypatch.setattr(backends.os, "kill", kill)
    cap.kill_all()
    assert calls == [400, 401]
    procs.write_text("402\n")
    monkeypatch.setattr(backends.os, "kill", lambda pid, sig: calls.append(pid))
    cap.kill_all()
    assert 3 < calls.count(402) < 100


def test_kill_all_stops_when_the_cgroup_is_gone(sysfs, monkeypatch):
    v1(sysfs)
    cap = ProcessCap(5)
    for f in plain(cap.path).iterdir():
        f.unlink()
    plain(cap.path).rmdir()
    monkeypatch.setattr(backends.os, "kill", lambda pid, sig: pytest.fail("nothing to kill"))
    cap.kill_all()


def test_closing_a_cap_kills_what_is_left_first(sysfs, killed):
    calls, state = killed
    v1(sysfs)
    cap = ProcessCap(5)
    path = state["cgroup"] = plain(cap.path)
    (path / "cgroup.procs").write_text("500\n")
    cap.close()
    assert calls == [(500, signal.SIGKILL)]
    assert cap.path is None
    assert path.exists()  # a folder that cannot be removed is left, without an error
    calls.clear()
    cap.close()
    cap.kill_all()
    assert calls == []


def test_closing_a_cap_removes_its_cgroup(sysfs, killed):
    v1(sysfs)
    cap = ProcessCap(5)
    path = plain(cap.path)
    for f in path.iterdir():  # the kernel's files go with the folder
        f.unlink()
    cap.close()
    assert cap.path is None and not path.exists()


def test_a_real_process_in_a_cap_is_killed(sysfs):
    """kill_all signals the very pids the cgroup lists."""
    v1(sysfs)
    cap = ProcessCap(5)
    child = subprocess.Popen(["sleep", "30"])
    try:
        plain(cap.path / "cgroup.procs").write_text(f"{child.pid}\n")
        cap.kill_all()
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()
