"""The command line: `gradekit list`, and clean exits on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gradekit import __version__
from gradekit.cli import main
from gradekit_reference import COMPONENTS


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_every_reference_component_by_kind(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    total = sum(len(t) for t in COMPONENTS.values())
    assert f"{total} components" in out
    for table in COMPONENTS.values():
        for name in table:
            assert name in out


def test_list_of_a_submission_shows_its_source_and_missing_methods(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short path: the table's source column is narrow
    sub = Path("me.py")
    sub.write_text(
        "import gradekit\n"
        "class Adam:\n    '''Half an Adam.'''\n    def init(self, p):\n        return {}\n"
        "@gradekit.hookimpl\ndef gradekit_register(registry):\n"
        "    registry.optimizers['adam'] = Adam\n"
    )
    code, out, _ = run(capsys, "list", str(sub), "--kind", "optimizers")
    assert code == 0
    assert "submission" in out and "me.py" in out
    assert "missing update" in out
    assert f"{len(COMPONENTS['optimizers']) + 1} components" in out


@pytest.mark.parametrize(
    ("source", "needle"),
    [("def broken(:\n", "syntax error"), ("x = 1\n", "no gradekit_register hook")],
)
def test_bad_submission_exits_2_with_one_line_and_no_traceback(capsys, tmp_path, source, needle):
    sub = tmp_path / "bad.py"
    sub.write_text(source)
    code, out, err = run(capsys, "list", str(sub))
    assert code == 2
    assert err.strip().startswith(f"gradekit: error: {sub}: ")
    assert needle in err and "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1


def test_console_script_is_installed():
    exe = Path(sys.executable).with_name("gradekit")
    assert exe.is_file(), "the gradekit console script is not installed beside python"
    done = subprocess.run([str(exe), "list", "--kind", "schedules"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "inverse_time" in done.stdout


def test_version_names_the_installed_gradekit(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"gradekit {__version__}"
