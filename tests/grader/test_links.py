"""Submissions are what they look like: links and special files are refused, never followed.

A class folder unpacked from a learning platform restores links, so an entry may link to
the installed reference, to a classmate's file or to ``/proc/self/mem``, or hold a FIFO.
Each such entry gets 0 with a one-line reason, under both sandbox backends, through
``gradekit grade`` (with and without the results cache), ``gradekit gradescope run`` and
the self-check, and an honest classmate graded in the same batch keeps its solo score.
With the intake switched off, the same entries score full marks: the attacks are real.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

import gradekit_reference
from gradekit.assignments import load_assignment
from gradekit.batch import ResultCache
from gradekit.cli import main, submissions_in
from gradekit.grading import Grader
from gradekit.results import GradeReport, SubmissionResult
from gradekit.sandbox import backends, intake

from .conftest import ROOT

CORRECT = ROOT / "assignments" / "backprop" / "examples" / "correct.py"
REFERENCE = Path(gradekit_reference.__file__).resolve().parent
LINK = "links are not graded: upload the file itself"
REGULAR = "only regular files are graded"
FIFO = f"is a special file (FIFO); {REGULAR}"

REASONS = {
    "copycat": f"copycat.py: {LINK}",
    "reference_pkg": f"reference_pkg: {LINK}",
    "ref_module": f"ref_module.py: {LINK}",
    "borrowed": f"borrowed/: borrowed/ref is a link; {LINK}",
    "piped": f"piped/: piped/pipe {FIFO}",
    "memory": f"memory/: memory/mem is a link; {LINK}",
    "fifo": f"fifo.py: a special file (FIFO); {REGULAR}",
}
"""Every attack in the class folder, and the one line it gets."""


def _gradescope_tests() -> ModuleType:
    """tests/scale/test_gradescope.py, for its ``autograde`` and ``bundle``: imported under
    the name pytest gives it (``scale.test_gradescope``), so a session holds one copy."""
    folder = ROOT / "tests" / "scale"
    for name, file, search in (
        ("scale", folder / "__init__.py", [str(folder)]),
        ("scale.test_gradescope", folder / "test_gradescope.py", None),
    ):
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(
                name, file, submodule_search_locations=search
            )
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
    return sys.modules["scale.test_gradescope"]


_scale = _gradescope_tests()
autograde = _scale.autograde
bundle = _scale.bundle  # the session's autograder zip (a fixture)


@pytest.fixture(params=("bwrap", "rlimits"))
def backend(request) -> str:
    """Each sandbox backend; bubblewrap is skipped where it cannot run (CI installs it)."""
    if request.param not in backends.available():
        pytest.skip(f"the {request.param} backend does not work on this machine")
    return request.param


@cache
def grader(backend: str) -> Grader:
    """One backprop grader per backend for the session (reference outcomes cached)."""
    return Grader(load_assignment("backprop"), backend=backend)


@cache
def solo(backend: str) -> SubmissionResult:
    """The honest example graded alone: what it must also get inside the class."""
    return grader(backend).grade(CORRECT, "honest")


def _package(folder: Path, init: str) -> Path:
    folder.mkdir()
    (folder / "__init__.py").write_text(init)
    return folder


@pytest.fixture(scope="module")
def klass(tmp_path_factory) -> Path:
    """A class folder: one honest student and every kind of link and special file."""
    folder = tmp_path_factory.mktemp("links") / "class"
    folder.mkdir()
    shutil.copy(CORRECT, folder / "honest.py")
    (folder / "copycat.py").symlink_to("honest.py")  # a classmate's correct file
    (folder / "reference_pkg").symlink_to(REFERENCE)  # the installed reference package
    (folder / "ref_module.py").symlink_to(REFERENCE / "__init__.py")
    borrowed = _package(folder / "borrowed", "from .ref import gradekit_register  # noqa\n")
    (borrowed / "ref").symlink_to(REFERENCE)
    os.mkfifo(_package(folder / "piped", CORRECT.read_text()) / "pipe")
    (_package(folder / "memory", CORRECT.read_text()) / "mem").symlink_to("/proc/self/mem")
    os.mkfifo(folder / "fifo.py")
    return folder


def assert_refused(result: SubmissionResult, reason: str) -> None:
    """0 points, the reason as the load error and in every check, as for a syntax error."""
    assert result.load_error == reason
    assert result.score == 0 and result.max_score > 0
    assert all(c.status == "error" and c.score == 0 for c in result.checks)
    assert all(c.message == f"the submission did not load: {reason}" for c in result.checks)


# ------------------------------------------------------------------ the intake itself
def test_regular_submissions_pass_and_their_files_are_listed(tmp_path):
    shutil.copy(CORRECT, tmp_path / "alice.py")
    package = _package(tmp_path / "bob", "")
    (package / "sub").mkdir()
    (package / "sub" / "helpers.py").write_text("")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.pyc").write_bytes(b"")
    assert intake.refusal(tmp_path / "alice.py") is None
    assert intake.refusal(package) is None
    assert intake.submission_files(tmp_path / "alice.py") == [tmp_path / "alice.py"]
    assert intake.submission_files(package) == [package / "__init__.py", package / "sub/helpers.py"]


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: (p / "sub").symlink_to("/etc"), f"bob/: bob/sub is a link; {LINK}"),
        (lambda p: (p / "same.py").symlink_to("__init__.py"), "bob/: bob/same.py is a link"),
        (lambda p: (p / "gone.py").symlink_to("/nowhere"), "bob/: bob/gone.py is a link"),
        (lambda p: os.mkfifo(p / "pipe"), f"bob/: bob/pipe {FIFO}"),
        (
            lambda p: ((p / "a" / "b").mkdir(parents=True), (p / "a/b/x.py").symlink_to(CORRECT)),
            "bob/: bob/a/b/x.py is a link",
        ),
        (
            lambda p: ((p / "__pycache__").mkdir(), (p / "__pycache__/m.pyc").symlink_to(CORRECT)),
            "bob/: bob/__pycache__/m.pyc is a link",
        ),
    ],
    ids=["link-to-folder", "link-inside-itself", "dangling", "fifo", "deep", "pycache"],
)
def test_a_package_with_a_link_or_special_file_is_refused_by_name(tmp_path, make, reason):
    package = _package(tmp_path / "bob", CORRECT.read_text())
    make(package)
    assert intake.refusal(package).startswith(reason)
    assert intake.submission_files(package) == [package / "__init__.py"]


def test_a_link_or_special_file_is_refused_without_being_opened(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")  # opening it would block: the test would hang
    (tmp_path / "link.py").symlink_to(CORRECT)
    assert intake.refusal(tmp_path / "pipe.py") == f"pipe.py: a special file (FIFO); {REGULAR}"
    assert intake.refusal(tmp_path / "link.py") == f"link.py: {LINK}"
    assert intake.refusal(tmp_path / "none.py") == "none.py: no such file or folder"
    assert intake.submission_files(tmp_path / "pipe.py") == []
    assert intake.submission_files(tmp_path / "link.py") == []
    for path in (tmp_path / "pipe.py", tmp_path / "link.py"):
        with pytest.raises(OSError):
            intake.read_regular(path)
    assert intake.read_regular(CORRECT) == CORRECT.read_bytes()


def test_a_class_folder_lists_links_as_entries_and_never_expands_them(klass, tmp_path):
    found = dict(submissions_in([str(klass)]))
    assert set(found) == {"honest", *REASONS}
    assert found["reference_pkg"] == klass / "reference_pkg"  # a link to a folder: one entry
    (tmp_path / "to_class").symlink_to(klass)
    (tmp_path / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    direct = submissions_in([str(tmp_path / "to_class"), str(tmp_path / "dangling.py")])
    assert direct == [("to_class", tmp_path / "to_class"), ("dangling", tmp_path / "dangling.py")]


# ------------------------------------------------------------------ gradekit grade
@pytest.mark.parametrize("cached", [False, True], ids=["no-cache", "cache"])
def test_every_attack_gets_zero_and_the_honest_classmate_keeps_its_score(
    klass, backend, cached, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "250")  # one table row per submission, reasons unwrapped
    cache_dir = tmp_path / "cache"
    options = ["--cache", str(cache_dir)] if cached else ["--no-cache"]
    runs = 2 if cached else 1  # the second run reads the cache
    for _ in range(runs):
        out = tmp_path / "report.json"
        argv = ["grade", str(klass), "-a", "backprop", "--jobs", "2", "--backend", backend]
        assert main([*argv, "--json", str(out), "--no-detail", *options]) == 0
        report = GradeReport.model_validate_json(out.read_text())
        results = {s.submission: s for s in report.submissions}
        assert set(results) == {"honest", *REASONS}
        for name, reason in REASONS.items():
            assert_refused(results[name], reason)
        honest = results["honest"]
        assert honest.load_error is None
        assert honest.score == solo(backend).score == honest.max_score
        assert [c.score for c in honest.checks] == [c.score for c in solo(backend).checks]
        printed = capsys.readouterr().out
        for reason in REASONS.values():
            assert reason in printed
        assert "Traceback" not in printed
    if cached:  # only the honest submission is stored, a refused one never is, and
        # nothing at all without bubblewrap, where the cache is off
        assert len(list(cache_dir.glob("*.json"))) == (backend == "bwrap")


def test_the_cache_never_reads_through_a_link(klass, tmp_path, monkeypatch):
    """Were a link to appear after the refusal (a race), hashing would skip it: read, the
    link to /proc/self/mem would raise OSError and stop the whole batch."""
    if "bwrap" not in backends.available():
        pytest.skip("the results cache opens only under bubblewrap, which does not work here")
    monkeypatch.setattr("gradekit.batch.refusal", lambda path: None)
    cache = ResultCache(tmp_path / "cache", grader("bwrap"))
    cache.put(klass / "memory", solo("bwrap"))
    assert cache.get("memory", klass / "memory") is not None


def test_a_link_given_on_the_command_line_is_refused(klass, backend, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    out = tmp_path / "report.json"
    for target in ("copycat.py", "reference_pkg"):
        argv = ["grade", str(klass / target), "-a", "backprop", "--backend", backend]
        assert main([*argv, "--json", str(out), "--cache", str(tmp_path / "cache")]) == 0
        (result,) = GradeReport.model_validate_json(out.read_text()).submissions
        assert_refused(result, REASONS[Path(target).stem])
    printed = capsys.readouterr().out
    assert REASONS["copycat"] in printed and REASONS["reference_pkg"] in printed
    assert not (tmp_path / "cache").exists()


def test_without_the_intake_the_links_score_full_marks(klass, backend, monkeypatch):
    """The attacks are real: were the refusal gone, the worker would follow every link."""
    monkeypatch.setattr(intake, "refusal", lambda path: None)
    monkeypatch.setattr("gradekit.sandbox.runner.refusal", lambda path: None)
    full = solo(backend).max_score
    working = ["copycat.py", "reference_pkg", "piped", "memory"]
    if backend == "rlimits":  # bubblewrap mounts neither the reference nor the class
        working.append("borrowed")
    for name in working:
        result = grader(backend).grade(klass / name)
        assert (result.load_error, result.score) == (None, full), name


# ------------------------------------------------------------------ gradescope run
def test_gradescope_run_refuses_a_link_and_a_package_holding_one(bundle, tmp_path):
    spec = load_assignment("backprop").spec
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(CORRECT, elsewhere / "correct.py")
    cases = {
        "file": ("copycat.py", f"copycat.py: {LINK}"),
        "reference": ("mine", f"mine: {LINK}"),
        "inside": ("mine", f"mine/: mine/helpers.py is a link; {LINK}"),
    }
    for case, (entry, reason) in cases.items():
        submission = tmp_path / case / "submission"
        submission.mkdir(parents=True)
        if case == "file":
            (submission / entry).symlink_to(elsewhere / "correct.py")
        elif case == "reference":
            (submission / entry).symlink_to(REFERENCE)
        else:
            package = _package(submission / entry, "from .helpers import gradekit_register\n")
            (package / "helpers.py").symlink_to(elsewhere / "correct.py")
        results = autograde(bundle, tmp_path / case, {})
        assert results.score == 0, case
        assert results.output == f"The submission did not load: {reason}"
        assert len(results.tests) == len(spec.checks)
        assert all(t.score == 0 and reason in t.output for t in results.tests)
    real = autograde(bundle, tmp_path / "real", {"copycat.py": CORRECT.read_text()})
    assert real.score == sum(c.points for c in spec.checks)  # the same file, uploaded itself


# ------------------------------------------------------------------ the self-check
@pytest.mark.parametrize(
    ("layout", "reason"),
    [("file", f"submission.py: {LINK}"), ("package", f"mine/: mine/helpers.py is a link; {LINK}")],
)
def test_the_self_check_refuses_a_linked_submission_in_one_line(pytester, layout, reason):
    real = pytester.mkdir("real")
    shutil.copy(CORRECT, real / "correct.py")
    ini = "[pytest]\ngradekit_assignment = backprop\n"
    if layout == "file":
        (pytester.path / "submission.py").symlink_to(real / "correct.py")
    else:
        package = _package(pytester.path / "mine", "from .helpers import gradekit_register\n")
        (package / "helpers.py").symlink_to(real / "correct.py")
        ini += "gradekit_submission = mine\n"
    pytester.makefile(".ini", pytest=ini)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert errors == [f"ERROR: gradekit (pytest.ini, gradekit_submission): {reason}"]
