"""The Gradescope autograder bundle: its layout, setup.sh, and run_autograder run against a
temporary root standing in for /autograder, on a correct, a buggy and a crashing submission.

run_autograder calls the gradekit on PATH of this environment (``GRADEKIT_BIN``) instead of
the one setup.sh installs; setup.sh is checked for syntax and its wheel installed with pip
into a temporary folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gradekit.assignments import load_assignment
from gradekit.commands.gradescope import build_bundle, find_submission
from gradekit.errors import GradekitError
from gradekit.grading import Grader, PreparedCheck
from gradekit.sandbox.backends import bwrap_works
from gradekit.secret import NOTICE, SECRET_ENV

from .gradescope_schema import GradescopeResults

BIN = Path(sys.executable).parent / "gradekit"
EXAMPLES = load_assignment("backprop").folder / "examples"
PIP_INSTALL = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
CRASHING = "raise RuntimeError('this submission crashes at import')\n"


@pytest.fixture(scope="session")
def bundle(tmp_path_factory) -> Path:
    return build_bundle("backprop", tmp_path_factory.mktemp("bundle") / "autograder.zip")


def run_autograder(
    bundle: Path, root: Path, files: dict[str, str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Stage ``root`` as Gradescope does (source, run_autograder, submission), run it.

    The environment is this one without a course secret, plus ``env``.
    """
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    script = root / "run_autograder"
    shutil.copy(root / "source" / "run_autograder", script)
    script.chmod(0o755)
    for name, text in files.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_text(text)
    env = {
        **{k: v for k, v in os.environ.items() if k != SECRET_ENV},
        "GRADEKIT_AUTOGRADER_ROOT": str(root),
        "GRADEKIT_BIN": str(BIN),
        **(env or {}),
    }
    done = subprocess.run(
        [str(script)], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done


def autograde(bundle: Path, root: Path, files: dict[str, str]) -> GradescopeResults:
    """Run the bundle on ``files`` as Gradescope would; the results.json it wrote."""
    run_autograder(bundle, root, files)
    return GradescopeResults.model_validate_json((root / "results" / "results.json").read_text())


def test_bundle_layout_and_setup(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        setup = zf.read("setup.sh").decode()
        zf.extractall(tmp_path / "source")
    assert {"setup.sh", "run_autograder", "assignment/assignment.toml"} <= set(names)
    assert "assignment/starter/submission.py" in names
    assert not [n for n in names if n.startswith("assignment/examples/")]  # no solutions
    for script in ("setup.sh", "run_autograder"):
        assert modes[script] & stat.S_IXUSR, script
        subprocess.run(["bash", "-n", str(tmp_path / "source" / script)], check=True)
    (wheel,) = [n for n in names if n.endswith(".whl") and "/" not in n]
    assert f"./{wheel}" in setup and "bubblewrap" in setup
    target = tmp_path / "site"
    subprocess.run(
        [*PIP_INSTALL, "--target", str(target), str(tmp_path / "source" / wheel)],
        check=True,
        timeout=120,
    )
    assert (target / "gradekit_assignments" / "backprop" / "assignment.toml").is_file()
    assert (target / "gradekit_reference" / "__init__.py").is_file()
    (info,) = target.glob("gradekit-*.dist-info")
    assert "gradekit = gradekit.cli:main" in (info / "entry_points.txt").read_text()
    with zipfile.ZipFile(tmp_path / "source" / wheel) as zf:
        assert not [n for n in zf.namelist() if "__pycache__" in n or n.endswith(".pyc")]


def test_correct_submission_gets_every_point_hidden_checks_after_publishing(bundle, tmp_path):
    spec = load_assignment("backprop").spec
    results = autograde(bundle, tmp_path, {"correct.py": (EXAMPLES / "correct.py").read_text()})
    assert len(results.tests) == len(spec.checks)
    assert results.score == pytest.approx(sum(c.points for c in spec.checks))
    assert all(t.status == "passed" and t.score == t.max_score for t in results.tests)
    hidden = {c.id for c in spec.checks if c.visibility == "hidden"}
    assert hidden
    shown = {t.name.split(":")[0]: t.visibility for t in results.tests}
    assert {n for n, v in shown.items() if v == "after_published"} == hidden
    assert results.execution_time is not None


def test_buggy_submission_gets_its_local_score(bundle, tmp_path):
    local = Grader(load_assignment("backprop")).grade(EXAMPLES / "buggy.py")
    results = autograde(bundle, tmp_path, {"buggy.py": (EXAMPLES / "buggy.py").read_text()})
    assert results.score == pytest.approx(local.score)
    assert results.score < local.max_score
    by_name = {t.name.split(":")[0]: t for t in results.tests}
    for check in local.checks:
        assert by_name[check.name].score == pytest.approx(check.score), check.name
    failed = [t for t in results.tests if t.status == "failed"]
    assert failed and all(t.output for t in failed)


def test_crashing_submission_gets_nothing_and_a_reason(bundle, tmp_path):
    results = autograde(bundle, tmp_path, {"crashes.py": CRASHING})
    assert results.score == 0
    assert results.tests and all(t.score == 0 for t in results.tests)
    assert "this submission crashes at import" in results.output


def test_package_submission_and_missing_submission(bundle, tmp_path):
    package = {"mine/__init__.py": (EXAMPLES / "correct.py").read_text()}
    assert find_submission_of(tmp_path / "a", package).name == "mine"
    results = autograde(bundle, tmp_path / "b", {"notes.txt": "no code here"})
    assert results.score == 0 and not results.tests
    assert "upload one .py file or one package folder" in results.output


def find_submission_of(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return find_submission(root)


def test_two_files_are_ambiguous(tmp_path):
    with pytest.raises(GradekitError, match=r"found a\.py, b\.py"):
        find_submission_of(tmp_path, {"a.py": "", "b.py": ""})


CUSTOM = """
schema_version = 1
name = "relu-only"
title = "Only ReLU"
seed = 5

[[checks]]
id = "relu.values"
type = "values"
component = "activations/relu"
points = 3

[[checks]]
id = "relu.gradient-hidden"
type = "gradient"
component = "activations/relu"
visibility = "hidden"
points = 2
"""


def test_custom_assignment_folder_is_bundled(tmp_path):
    folder = tmp_path / "relu-only"
    folder.mkdir()
    (folder / "assignment.toml").write_text(CUSTOM)
    zipped = build_bundle(folder, tmp_path / "relu.zip")
    with zipfile.ZipFile(zipped) as zf:
        assert zf.read("assignment/assignment.toml").decode() == CUSTOM
    good = autograde(zipped, tmp_path / "good", {"s.py": (EXAMPLES / "correct.py").read_text()})
    assert [t.name.split(":")[0] for t in good.tests] == ["relu.values", "relu.gradient-hidden"]
    assert good.score == 5
    assert [t.visibility for t in good.tests] == ["visible", "after_published"]
    bad = autograde(zipped, tmp_path / "bad", {"s.py": (EXAMPLES / "buggy.py").read_text()})
    assert bad.score < 5


def test_command_line_builds_and_rejects_a_bad_wheel(tmp_path, capsys, monkeypatch):
    from gradekit.cli import main

    monkeypatch.delenv(SECRET_ENV, raising=False)
    out = tmp_path / "a.zip"
    assert main(["gradescope", "build", "backprop", "-o", str(out)]) == 0
    assert zipfile.is_zipfile(out)
    assert capsys.readouterr().err.count(NOTICE) == 1  # built without a secret: said once
    with zipfile.ZipFile(out) as zf:
        assert "course-secret" not in zf.namelist()
        assert "--secret-file" not in zf.read("run_autograder").decode()
    assert main(["gradescope", "build", "backprop", "--wheel", str(tmp_path / "x.txt")]) == 2
    assert "x.txt: not a wheel file" in capsys.readouterr().err


SECRET = "a course secret for the bundle 5d1b"
OTHER = "the shell's own secret 77e0"

LEAKY = """
import hashlib
import os
from pathlib import Path

import numpy as np

import gradekit


def found():  # any course secret within reach: the environment, the bundle's file
    here = Path(__file__).resolve().parents[1] / "source" / "course-secret"
    texts = []
    for place in (Path("/autograder/source/course-secret"), here):
        try:
            texts.append(place.read_text())
        except OSError:
            pass
    return os.environ.get("GRADEKIT_SECRET"), texts


class Leaky:
    def __init__(self, **kwargs):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        digest = hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()[:16]
        raise RuntimeError(f"input {digest}; found {found()}")

    backward = forward


@gradekit.hookimpl
def gradekit_register(registry):
    registry.activations["relu"] = Leaky
"""


def first_input(check: PreparedCheck) -> str:
    """The digest of the first array a check's plan passes to ``forward``."""
    op = next(o for o in check.plan.ops if o["op"] == "call" and o["method"] == "forward")
    x = check.plan.arrays[op["args"][0]["array"]]
    return hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()[:16]


def test_a_bundle_with_a_secret_salts_hidden_checks_and_never_shows_it(
    tmp_path, capsys, monkeypatch
):
    from gradekit.cli import main

    monkeypatch.delenv(SECRET_ENV, raising=False)
    (tmp_path / "secret").write_text(SECRET + "\n")
    out = tmp_path / "a.zip"
    argv = ["gradescope", "build", "backprop", "-o", str(out), "--secret-file"]
    assert main([*argv, str(tmp_path / "secret")]) == 0
    printed = capsys.readouterr()
    assert NOTICE not in printed.err and SECRET not in printed.out + printed.err
    with zipfile.ZipFile(out) as zf:
        assert zf.read("course-secret").decode().strip() == SECRET
        assert zf.getinfo("course-secret").external_attr >> 16 & 0o777 == 0o600
        assert '--secret-file "$ROOT/source/course-secret"' in zf.read("run_autograder").decode()

    done = run_autograder(out, tmp_path / "root", {"leaky.py": LEAKY}, {SECRET_ENV: OTHER})
    written = (tmp_path / "root" / "results" / "results.json").read_text()
    outputs = {t["name"].split(":")[0]: t["output"] for t in json.loads(written)["tests"]}
    assignment = load_assignment("backprop")
    public = {c.spec.id: first_input(c) for c in Grader(assignment).checks}
    salted = {c.spec.id: first_input(c) for c in Grader(assignment, secret=SECRET).checks}
    assert public["relu.gradient"] == salted["relu.gradient"]
    assert f"input {public['relu.gradient']}" in outputs["relu.gradient"]
    assert f"input {salted['relu.gradient-hidden']}" in outputs["relu.gradient-hidden"]
    assert public["relu.gradient-hidden"] not in written
    assert "found (None, " in outputs["relu.gradient"]  # the worker's environment is scrubbed
    for secret in (SECRET, OTHER):
        assert secret not in done.stdout + done.stderr
        if bwrap_works():  # with rlimits only, a submission can read the image's files
            assert secret not in written


def test_a_bundle_build_with_an_unusable_secret_file_is_one_line(tmp_path, capsys):
    from gradekit.cli import main

    out = tmp_path / "a.zip"
    argv = ["gradescope", "build", "backprop", "-o", str(out), "--secret-file"]
    assert main([*argv, str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gradekit: error: {tmp_path / 'nothing'}: ")
    assert len(err.strip().splitlines()) == 1 and not out.exists()
