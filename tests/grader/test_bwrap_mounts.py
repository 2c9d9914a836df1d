"""What the bubblewrap command line mounts: only what a worker needs, hidden data covered."""

from __future__ import annotations

from pathlib import Path

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
    site = grader_folder / ".venv" / "lib" / "site-packages"
    reference = site / "gradekit_reference"
    for folder in (reference, tmp_path / "home", tmp_path / "plans"):
        folder.mkdir(parents=True)
    submission = tmp_path / "class" / "alice.py"
    submission.parent.mkdir()
    submission.write_text("")
    monkeypatch.setattr(backends, "_python_roots", lambda: [grader_folder / ".venv"])
    args = backends.bwrap_prefix(
        tmp_path / "home", submission, [grader_folder, reference], tmp_path / "plans"
    )
    got = mounts(args)
    assert str(grader_folder / ".venv") in got["--ro-bind"]
    assert str(reference.resolve()) in got["--tmpfs"]
    assert str(grader_folder) not in got["--ro-bind"]
    assert "/" not in got["--ro-bind"], "the whole root must never be mounted"
    assert str(backends.inside(submission)) in got["--ro-bind"]
    assert got["--bind"] == [str(tmp_path / "home")]
    assert Path(got["--ro-bind"][-1]) == tmp_path / "plans"
