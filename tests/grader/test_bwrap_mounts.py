"""What the bubblewrap command line mounts: only what a worker needs, hidden data covered,
and nothing a container refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradekit.assignments import load_assignment
from gradekit.sandbox import backends


def mounts(args: list[str]) -> dict[str, list[str]]:
    """Destination paths by bubblewrap option (--ro-bind, --bind, --tmpfs)."""
    found: dict[str, list[str]] = {}
    for i, arg in enumerate(args):
        if arg in ("--ro-bind", "--bind"):
            found.setdefault(arg, []).append(args[i + 2])
        elif arg == "--tmpfs":
            found.setdefault(arg, []).append(args[i + 1])
    return found


def test_hidden_data_inside_an_installed_python_is_covered(tmp_path, monkeypatch):
    """A non-editable install puts the reference in site-packages, inside the grader's
    folder: that folder is hidden too, yet the reference must still get its own cover."""
    grader_folder = tmp_path / "course"
    reference = grader_folder / ".venv" / "share" / "gradekit_reference"
    for folder in (reference, tmp_path / "home", tmp_path / "plans", tmp_path / "lib"):
        folder.mkdir(parents=True)
    submission = tmp_path / "class" / "alice.py"
    submission.parent.mkdir()
    submission.write_text("")
    monkeypatch.setattr(backends, "_python_roots", lambda: [grader_folder / ".venv"])
    monkeypatch.setattr(backends, "_site_folders", lambda: [])
    args = backends.bwrap_prefix(
        tmp_path / "home",
        submission,
        [grader_folder, reference],
        tmp_path / "plans",
        tmp_path / "lib",
    )
    got = mounts(args)
    assert str(grader_folder / ".venv") in got["--ro-bind"]
    assert str(reference.resolve()) in got["--tmpfs"]
    assert str(grader_folder) not in got["--ro-bind"]
    assert "/" not in got["--ro-bind"], "the whole root must never be mounted"
    assert str(backends.inside(submission)) in got["--ro-bind"]
    assert str(tmp_path / "lib") in got["--ro-bind"]
    assert got["--bind"] == [str(tmp_path / "home")]
    assert Path(got["--ro-bind"][-1]) == tmp_path / "plans"


def test_site_packages_inside_a_mounted_python_are_covered(tmp_path, monkeypatch):
    """Python installed in one folder holds its site-packages (gradekit, the reference):
    the interpreter's folder is mounted, every site-packages inside it covered, and only
    numpy and pluggy bound back on top of the cover."""
    python = tmp_path / "python"
    site = python / "lib" / "python3.11" / "site-packages"
    numpy = site / "numpy"
    for folder in (numpy, site / "gradekit_reference", tmp_path / "home", tmp_path / "plans"):
        folder.mkdir(parents=True)
    submission = tmp_path / "alice.py"
    submission.write_text("")
    monkeypatch.setattr(backends, "_python_roots", lambda: [python])
    monkeypatch.setattr(backends, "_site_folders", lambda: [site])
    monkeypatch.setattr(backends, "library_roots", lambda: (numpy,))
    args = backends.bwrap_prefix(
        tmp_path / "home", submission, [], tmp_path / "plans", tmp_path / "lib"
    )
    got = mounts(args)
    assert str(site) in got["--tmpfs"]
    assert str(numpy) in got["--ro-bind"]
    assert args.index(str(numpy)) > args.index(str(site)), "numpy is bound after the cover"


CONTAINER = [
    "bwrap",
    "--dev-bind",
    "/",
    "/",
    "--proc",
    "/proc",
    "--unshare-pid",
    "--die-with-parent",
]
"""A stand-in for Docker (so Gradescope): run by root, a pid namespace of the host's user
namespace and a /proc with parts masked, as Docker's. The kernel refuses a worker's user
namespace a new proc mount there."""
GRADEKIT = str(Path(sys.executable).with_name("gradekit"))


@pytest.mark.skipif(
    not backends.bwrap_works() or os.geteuid() != 0,
    reason="the stand-in container needs bubblewrap, run by root",
)
def test_bubblewrap_confines_workers_inside_a_container(tmp_path):
    """Inside the container the worker is still confined by bubblewrap, and grades right."""
    refused = subprocess.run(
        [*CONTAINER, "bwrap", "--dev-bind", "/", "/", "--unshare-all", "--proc", "/proc", "true"],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "proc" in refused.stderr  # what the container forbids
    example = load_assignment("backprop").folder / "examples" / "correct.py"
    out = tmp_path / "results.json"
    done = subprocess.run(
        [
            *CONTAINER,
            GRADEKIT,
            "grade",
            str(example),
            "-a",
            "backprop",
            "--backend",
            "bwrap",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (result,) = json.loads(out.read_text())["submissions"]
    assert result["score"] == result["max_score"] > 0, result
