"""A student's install, made as a kit's README says in a fresh virtual environment, holds
no answer, and self-checks with the grader's verdicts on the public checks.

The venv installs the engine's dependencies from the package registry, as a student's
does; every kit carries the same engine wheel (``test_kit``), so one venv serves all.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gradekit_reference
from gradekit.assignments import load_assignment
from gradekit.grading import Grader

ROOT = Path(__file__).parents[2]


def _run(command: list[str] | str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        shell=isinstance(command, str),
        env=env,
    )


@pytest.fixture(scope="module")
def venv(kits) -> Path:
    """The backprop kit's set-up run as its README's first code block says."""
    folder = kits["backprop"]
    block = (folder / "README.md").read_text().split("```bash\n", 1)[1].split("```", 1)[0]
    setup, check = block.strip().splitlines()
    assert check == ".venv/bin/pytest"
    done = _run(setup.replace("python3 ", f"{sys.executable} ", 1), folder)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return folder / ".venv"


def _site_packages(venv: Path) -> Path:
    (site,) = venv.glob("lib/python3*/site-packages")
    return site


def test_the_install_imports_no_reference_and_no_instructors_module(venv):
    python = venv / "bin" / "python"
    for module in (
        "gradekit_reference",
        "gradekit_assignments",
        "gradekit.batch",
        "gradekit.experiments",
        "gradekit.kit.build",
        "gradekit.commands.gradescope",
    ):
        done = _run([str(python), "-c", f"import {module}"], venv.parent)
        assert done.returncode != 0 and "ModuleNotFoundError" in done.stderr, module
    done = _run([str(python), "-c", "import gradekit.pytest_plugin, gradekit.kit.public"], venv)
    assert done.returncode == 0, done.stderr


def _reference_sources() -> list[str]:
    """The source of every function and class of the reference and its mutants."""
    modules = [gradekit_reference.__name__]
    modules += [
        m.name for m in pkgutil.walk_packages(gradekit_reference.__path__, "gradekit_reference.")
    ]
    sources = []
    for name in modules:
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__ == name:
                sources.append(inspect.getsource(obj))
    return sources


def test_the_installed_files_hold_no_reference_hidden_check_or_hidden_seed(venv, kits):
    installed = [
        p
        for p in _site_packages(venv).rglob("*")
        if p.is_file()
        and p.suffix in (".py", ".txt", ".json", ".toml", "")
        and "gradekit" in str(p)
    ]
    texts = {p: p.read_text(errors="replace") for p in installed}
    texts |= {p: p.read_text() for k in kits.values() for p in k.rglob("*.json")}
    texts |= {p: p.read_text() for k in kits.values() for p in k.glob("*.md")}
    assert any("gradekit/pytest_plugin.py" in str(p) for p in texts)
    sources = _reference_sources()
    assert len(sources) > 50
    for source in sources:
        for path, text in texts.items():
            assert source not in text, (path, source[:80])
    for name in kits:
        spec = load_assignment(name).spec
        for check in spec.checks:
            if check.visibility != "hidden":
                continue
            seed = spec.seed_of(check)
            for path, text in texts.items():
                assert check.id not in text, (path, check.id)
                if check.seed is None:  # derived seeds are 32-bit numbers; small explicit
                    assert not re.search(rf"\b{seed}\b", text), (path, check.id, seed)


def _items(output: str) -> dict[str, str]:
    """``check id -> PASSED/FAILED`` from pytest's ``-rA`` summary."""
    found = re.findall(r"^(PASSED|FAILED) submission\.py::(\S+)", output, re.M)
    return {item.replace("::", ".", 1): outcome for outcome, item in found}


@pytest.mark.parametrize(
    "name", ["backprop", "initialization", "optimization", "regularization", "training"]
)
def test_the_self_check_gives_the_graders_verdicts(venv, kits, name, tmp_path):
    """In the fresh install, pytest in each kit passes and fails exactly the public checks
    the grader passes and fails, for the bundled correct and buggy examples."""
    assignment = load_assignment(name)
    grader = Grader(assignment)
    pytest_bin = str(venv / "bin" / "pytest")
    for example in assignment.examples():
        folder = tmp_path / example.stem
        shutil.copytree(kits[name], folder, ignore=shutil.ignore_patterns(".venv"))
        shutil.copy(example, folder / "submission.py")
        done = _run([pytest_bin, "-rA", "-p", "no:cacheprovider"], folder)
        want = {
            c.name: "PASSED" if c.status == "passed" else "FAILED"
            for c in grader.grade(example).checks
            if c.visibility == "public"
        }
        assert _items(done.stdout) == want, done.stdout[-3000:]


def test_the_student_commands_say_what_they_can_do(venv, kits):
    folder = kits["backprop"]
    gradekit = str(venv / "bin" / "gradekit")
    listed = _run([gradekit, "list", "--mine", "submission.py"], folder)
    assert listed.returncode == 0 and "TODO" in listed.stdout, listed.stdout + listed.stderr
    graded = _run([gradekit, "grade"], folder)
    assert graded.returncode == 2 and "Traceback" not in graded.stderr
    assert "student's engine" in graded.stderr
    assert graded.stderr.count("\n") == 1
    fresh = _run([str(venv / "bin" / "pytest"), "-q", "-p", "no:cacheprovider"], folder)
    assert "not implemented yet" in fresh.stdout and fresh.returncode == 1
