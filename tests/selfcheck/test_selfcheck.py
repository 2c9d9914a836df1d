"""The student's loop: ``gradekit init``, then plain ``pytest`` in the kit."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from gradekit.assignments import bundled_assignments, load_assignment
from gradekit.cli import main
from gradekit.pytest_plugin import trim_trace

from .conftest import check_id, graded, hidden_ids, outcomes, public_ids, use_example

ALTERNATIVES = Path(__file__).parents[1] / "submissions" / "correct"


def test_init_writes_the_template_readme_and_pytest_ini(kit):
    starter = load_assignment("backprop").folder / "starter" / "submission.py"
    assert (kit / "submission.py").read_text() == starter.read_text()
    assert "gradekit_assignment = backprop" in (kit / "pytest.ini").read_text()
    readme = (kit / "README.md").read_text()
    assert "pytest" in readme and "gradekit grade" in readme and "1e-7" in readme


def test_init_refuses_to_overwrite(kit, capsys):
    (kit / "submission.py").write_text("# my work\n")
    assert main(["init", "backprop", str(kit)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "Traceback" not in err
    assert (kit / "submission.py").read_text() == "# my work\n"


def test_fresh_kit_fails_every_public_check_as_not_implemented(kit, pytester):
    result = pytester.runpytest()
    result.assert_outcomes(failed=len(public_ids()))
    text = result.stdout.str()
    todo = r"not implemented yet: TODO: \w+\.forward \(submission\.py, line \d+, in forward\)"
    assert len(re.findall(rf"(?m)^{todo}$", text)) == len(public_ids())
    assert "Traceback" not in text and "gradekit/" not in text


def test_correct_submission_passes_every_public_check(kit, pytester):
    use_example(kit, "correct")
    result = pytester.runpytest()
    result.assert_outcomes(passed=len(public_ids()))
    assert f"{len(public_ids())} of {len(public_ids())} public checks pass" in result.stdout.str()


def test_buggy_submission_fails_exactly_the_graders_public_failures(kit, pytester):
    use_example(kit, "buggy")
    result = pytester.runpytest()
    seen = outcomes(result)
    official = {c.name: c for c in graded("buggy").checks if c.visibility == "public"}
    assert set(seen) == set(official)
    failing = {name for name, c in official.items() if c.status != "passed"}
    assert failing  # the buggy example has public bugs
    assert {name for name, outcome in seen.items() if outcome == "failed"} == failing
    text = result.stdout.str()
    for name in failing:
        check = official[name]
        assert check.misconception and check.misconception in text, name
        for case in check.cases:
            if not case.passed:
                assert case.message in text, (name, case.name)


def test_hidden_checks_never_appear(kit, pytester):
    use_example(kit, "buggy")
    collected = pytester.runpytest("--collect-only", "-q")
    ids = [line for line in collected.stdout.lines if "::" in line]
    assert [check_id(i) for i in ids] == sorted(public_ids(), key=lambda c: c.split(".", 1))
    run = pytester.runpytest("-v", "-rA")
    text = collected.stdout.str() + run.stdout.str() + run.stderr.str()
    assert hidden_ids()  # backprop has hidden checks, and they fail for the buggy example
    for hidden in hidden_ids():
        assert hidden.split(".", 1)[1] not in text
    assert "-hidden" not in text


def test_gradekit_grade_of_the_kit_gives_the_same_verdicts(kit, pytester):
    use_example(kit, "buggy")
    seen = outcomes(pytester.runpytest())
    out = kit / "grade.json"
    code = main(
        ["grade", "-a", "backprop", str(kit / "submission.py"), "--json", str(out), "--no-cache"]
    )
    assert code == 0
    (submission,) = json.loads(out.read_text())["submissions"]
    public = {c["name"]: c["status"] for c in submission["checks"] if c["visibility"] == "public"}
    assert set(public) == set(seen)
    for name, status in public.items():
        assert (status == "passed") == (seen[name] == "passed"), name


def test_a_crash_shows_the_students_own_traceback(kit, pytester):
    use_example(kit, "correct")
    source = (kit / "submission.py").read_text()
    helper = "\n\ndef _scale(v):\n    raise ValueError('scale went wrong')\n"
    source = source.replace("import gradekit\n", "import gradekit\n" + helper, 1)
    (kit / "submission.py").write_text(source)
    # Make the linear layer's forward call the failing helper.
    text = (kit / "submission.py").read_text()
    marked = re.sub(
        r"(class Linear\b.*?def forward\(self, x, \*, training=True\):\n)",
        r"\1        _scale(x)\n",
        text,
        count=1,
        flags=re.S,
    )
    assert marked != text
    (kit / "submission.py").write_text(marked)
    result = pytester.runpytest("submission.py::linear")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert "your code raised ValueError: scale went wrong" in out
    assert "your code's traceback:" in out
    assert re.search(r'File "submission\.py", line \d+, in _scale', out)
    assert re.search(r'File "submission\.py", line \d+, in forward', out)
    assert "gradekit/" not in out and "site-packages" not in out


def test_selecting_a_component_grades_only_its_checks(kit, pytester):
    use_example(kit, "buggy")
    result = pytester.runpytest("submission.py::relu")
    seen = outcomes(result)
    assert set(seen) == {c for c in public_ids() if c.startswith("relu.")}
    assert seen["relu.gradient"] == "failed" and seen["relu.values"] == "passed"


def test_a_hijacked_submission_cannot_change_the_verdicts(kit, pytester):
    """The submission runs only in the worker: patching gradekit there changes nothing."""
    use_example(kit, "buggy")
    patch = (
        "import gradekit.grading as _grading\n"
        "_grading.Grader.verdict = lambda *a, **k: None\n"
        "import gradekit.pytest_plugin as _plugin\n"
        "_plugin.CheckItem.runtest = lambda self: None\n"
    )
    path = kit / "submission.py"
    path.write_text(patch + path.read_text())
    seen = outcomes(pytester.runpytest())
    assert seen["relu.gradient"] == "failed" and seen["sigmoid.gradient"] == "failed"


def test_a_conftest_can_fool_only_its_own_user(kit, pytester):
    """A conftest that forces every item to pass fools pytest; `gradekit grade` is unmoved."""
    use_example(kit, "buggy")
    pytester.makeconftest(
        """
        import pytest

        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_makereport(item, call):
            report = yield
            report.outcome = "passed"
            return report
        """
    )
    assert pytester.runpytest().ret == 0
    out = kit / "grade.json"
    main(["grade", "-a", "backprop", str(kit / "submission.py"), "--json", str(out), "--no-cache"])
    (submission,) = json.loads(out.read_text())["submissions"]
    status = {c["name"]: c["status"] for c in submission["checks"]}
    assert status["relu.gradient"] == "failed"


def test_the_plugin_is_inert_without_an_assignment(pytester):
    use_example(pytester.path, "buggy")
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert "gradekit" not in result.stdout.str().replace("plugins: gradekit", "")


@pytest.mark.parametrize(
    ("ini", "expected"),
    [
        ("gradekit_assignment = nope\n", "no bundled assignment named 'nope'"),
        (
            "gradekit_assignment = backprop\ngradekit_submission = mine.py\n",
            "mine.py: no such submission file",
        ),
        ("gradekit_assignment = ./nowhere/\n", "no such assignment file"),
    ],
)
def test_bad_config_is_one_clear_line(pytester, ini, expected):
    pytester.makefile(".ini", pytest="[pytest]\n" + ini)
    use_example(pytester.path, "correct")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1, result.stderr.str()
    assert errors[0].startswith("ERROR: gradekit (pytest.ini, gradekit_")
    assert expected in errors[0]


@pytest.mark.parametrize("name", bundled_assignments())
def test_every_bundled_assignment_collects_its_public_checks(pytester, name):
    assert main(["init", name, str(pytester.path)]) == 0
    result = pytester.runpytest("--collect-only", "-q")
    ids = [check_id(line) for line in result.stdout.lines if "::" in line]
    assert ids == sorted(public_ids(name), key=lambda c: c.split(".", 1))
    assert not set(ids) & set(hidden_ids(name))


def test_an_assignment_folder_that_cannot_be_graded_fails_items_in_one_line(pytester):
    spec = (load_assignment("backprop").folder / "assignment.toml").read_text()
    folder = pytester.mkdir("course")
    extra = '[[checks]]\nid = "extra.values"\ntype = "values"\n'
    extra += 'component = "activations/not_in_reference"\n'
    (folder / "assignment.toml").write_text(f"{spec}\n{extra}")
    pytester.makefile(".ini", pytest="[pytest]\ngradekit_assignment = course\n")
    use_example(pytester.path, "correct")
    result = pytester.runpytest()
    result.assert_outcomes(failed=len(public_ids()) + 1)
    lines = [line for line in result.stdout.lines if line.startswith("gradekit could not grade")]
    assert len(lines) == len(public_ids()) + 1
    assert "no reference for activations/not_in_reference" in lines[0]
    assert "Traceback" not in result.stdout.str()


def test_a_package_folder_submission_is_self_checked(pytester):
    shutil.copytree(ALTERNATIVES / "alt_package", pytester.path / "mine")
    pytester.makefile(
        ".ini", pytest="[pytest]\ngradekit_assignment = backprop\ngradekit_submission = mine\n"
    )
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=len(public_ids()))
    assert "mine/__init__.py::relu::gradient PASSED" in result.stdout.str()


GUARD = 'import sys\nif "_pytest" in sys.modules:\n    raise RuntimeError("imported by pytest")\n'
"""Fails the import wherever pytest runs: only the worker (no pytest there) may import it."""


@pytest.mark.parametrize("args", [("submission.py",), ("submission.py::relu",)])
def test_pytest_never_imports_the_submission(kit, pytester, args):
    use_example(kit, "correct")
    path = kit / "submission.py"
    path.write_text(GUARD + path.read_text())
    result = pytester.runpytest(*args)
    assert result.ret == 0, result.stdout.str()
    assert "imported by pytest" not in result.stdout.str()


def test_pytest_never_imports_a_package_submission(pytester):
    shutil.copytree(ALTERNATIVES / "alt_package", pytester.path / "mine")
    init = pytester.path / "mine" / "__init__.py"
    source = init.read_text()
    future = "from __future__ import annotations\n"
    init.write_text(source.replace(future, future + GUARD, 1))
    pytester.makefile(
        ".ini", pytest="[pytest]\ngradekit_assignment = backprop\ngradekit_submission = mine\n"
    )
    result = pytester.runpytest("mine")
    assert result.ret == 0, result.stdout.str()


def test_a_traceback_keeps_only_the_students_frames(tmp_path):
    submission = tmp_path / "submission.py"
    trace = (
        '  File "/submission/submission.py", line 29, in forward\n'
        "    return _scale(x)\n"
        '  File "/usr/lib/python3/site-packages/numpy/core/numeric.py", line 3, in dot\n'
        "    return f(a)\n"
        f'  File "{submission}", line 11, in _scale\n'
        "    raise ValueError('scale went wrong')\n"
        "    ^^^^^^^^^^^^^^^^\n"
        "ValueError: scale went wrong\n"
    )
    assert trim_trace(trace, submission, "submission.py").splitlines() == [
        '  File "submission.py", line 29, in forward',
        "    return _scale(x)",
        '  File "submission.py", line 11, in _scale',
        "    raise ValueError('scale went wrong')",
        "    ^^^^^^^^^^^^^^^^",
        "ValueError: scale went wrong",
    ]


def test_init_from_an_assignment_folder_writes_a_relative_path(pytester, monkeypatch):
    course = pytester.path / "course" / "hw1"
    shutil.copytree(load_assignment("backprop").folder, course)
    monkeypatch.chdir(pytester.path)
    assert main(["init", "course/hw1", "kit"]) == 0
    assert (
        "gradekit_assignment = ../course/hw1\n"
        in (pytester.path / "kit" / "pytest.ini").read_text()
    )
    monkeypatch.chdir(pytester.path / "kit")
    result = pytester.runpytest("--collect-only", "-q", "--rootdir", str(pytester.path / "kit"))
    ids = [check_id(line) for line in result.stdout.lines if "::" in line]
    assert ids == sorted(public_ids(), key=lambda c: c.split(".", 1))
