"""The result files (``report.files``), pinned: each gradebook column and each field of
Gradescope's ``results.json`` to its meaning, and the JSON record to the schema."""

from __future__ import annotations

import csv
import json

import pytest

from gradekit.report.files import (
    GRADESCOPE_VISIBILITY,
    gradescope_results,
    standing,
    write_csv,
    write_gradescope,
    write_json,
)
from gradekit.results import CheckResult, GradeReport

from . import results
from .results import report, submission

ESC = "\x1b[31m"


def check(name: str, status: str = "passed", score: float = 1.0, **kw) -> CheckResult:
    return results.check(name, status, score, **kw)


def test_the_json_record_is_the_schema_indented_with_every_string_kept(tmp_path):
    rep = report(submission("ann", [check("a", message=f"{ESC}raw")]))
    path = tmp_path / "r.json"
    write_json(rep, path)
    text = path.read_text()
    assert text == rep.model_dump_json(indent=2) + "\n"
    assert GradeReport.model_validate_json(text) == rep
    assert ESC in json.loads(text)["submissions"][0]["checks"][0]["message"]


@pytest.mark.parametrize(
    ("late", "reason"),
    [
        (1, "1 of 6 checks timed out: c0"),
        (3, "3 of 6 checks timed out: c0, c1, c2"),
        (4, "4 of 6 checks timed out: c0, c1, c2 and 1 more"),
        (6, "6 of 6 checks timed out: c0, c1, c2 and 3 more"),
    ],
)
def test_standing_names_the_first_three_checks_that_timed_out(late, reason):
    checks = [check(f"c{i}", "timeout" if i < late else "passed", 0.0) for i in range(6)]
    assert standing(submission("ann", checks)) == ("timed out", reason)


def test_standing_of_a_submission_that_did_not_load_or_was_graded():
    broken = submission("ann", [check("a", "timeout", 0.0)], load_error=f"Syntax{ESC}Error")
    assert standing(broken) == ("load error", "SyntaxError")
    assert standing(submission("bob", [check("a"), check("b", "failed", 0.5)])) == ("graded", "")


def read_csv(path) -> list[list[str]]:
    with path.open(newline="") as f:
        return list(csv.reader(f))


def test_the_gradebook_has_a_row_per_submission_and_a_column_per_check(tmp_path):
    rep = report(
        submission("ann", [check("a", score=2.0), check("b", "failed", 0.5)]),
        submission("=bob", [check("c", "timeout", 0.0), check("a", score=1.5)]),
        submission("cat", [check("b", score=2.0)], load_error="no module"),
    )
    path = tmp_path / "grades.csv"
    write_csv(rep, path)
    assert read_csv(path) == [
        ["submission", "score", "max_score", "status", "reason", "a", "b", "c"],
        ["ann", "2.5", "4.0", "graded", "", "2.0", "0.5", ""],
        ["'=bob", "1.5", "4.0", "timed out", "1 of 2 checks timed out: c", "1.5", "", "0.0"],
        ["cat", "2.0", "2.0", "load error", "no module", "", "2.0", ""],
    ]


def test_gradescope_tests_say_name_score_status_output_and_visibility():
    failed = check(
        "relu.gradient",
        "failed",
        0.5,
        message="dx[0]: wrong",
        misconception="f'(0) = 1",
        output=f"Traceback\n\t{ESC}line",
        visibility="hidden",
    )
    errored = check("relu.values", "error", 0.0, message="boom")
    timed = check("relu.kink", "timeout", 0.0, message="timed out")
    passed = check("relu.purity")
    got = gradescope_results(submission("ann", [failed, errored, timed, passed]))
    assert got == {
        "score": 1.5,
        "tests": [
            {
                "name": "relu.gradient: relu.gradient title",
                "score": 0.5,
                "max_score": 2.0,
                "status": "failed",
                "output": "dx[0]: wrong\nLikely misconception: f'(0) = 1\n\nTraceback\n\tline",
                "visibility": "after_published",
            },
            {
                "name": "relu.values: relu.values title",
                "score": 0.0,
                "max_score": 2.0,
                "status": "failed",
                "output": "boom",
                "visibility": "visible",
            },
            {
                "name": "relu.kink: relu.kink title",
                "score": 0.0,
                "max_score": 2.0,
                "status": "failed",
                "output": "timed out",
                "visibility": "visible",
            },
            {
                "name": "relu.purity: relu.purity title",
                "score": 1.0,
                "max_score": 2.0,
                "status": "passed",
                "output": "passed",
                "visibility": "visible",
            },
        ],
    }
    assert GRADESCOPE_VISIBILITY == {"public": "visible", "hidden": "after_published"}


def test_gradescope_output_of_a_check_with_only_a_trace_or_a_misconception():
    only_trace = check("a", "error", 0.0, output="Traceback")
    only_idea = check("b", "failed", 0.0, misconception="mean not sum")
    tests = gradescope_results(submission("ann", [only_trace, only_idea]))["tests"]
    assert [t["output"] for t in tests] == ["Traceback", "Likely misconception: mean not sum"]


def test_gradescope_top_level_output_says_what_did_not_load_and_what_was_left_out():
    plain = gradescope_results(submission("ann", [check("a")]))
    assert "output" not in plain
    broken = gradescope_results(submission("ann", [check("a")], load_error=f"bad{ESC} file"))
    assert broken["output"] == "The submission did not load: bad file"
    noted = gradescope_results(submission("ann", [check("a")], notes=["x.py: a link", "y"]))
    assert noted["output"] == "Left out of grading:\nx.py: a link\ny"
    both = gradescope_results(submission("ann", [check("a")], load_error="bad", notes=["x"]))
    assert both["output"] == "The submission did not load: bad\nLeft out of grading:\nx"


def test_write_gradescope_writes_one_results_file_per_submission(tmp_path):
    rep = report(submission("ann", [check("a")]), submission("bob", [check("a", "failed", 0.0)]))
    written = write_gradescope(rep, tmp_path / "out")
    assert written == [
        tmp_path / "out" / "ann" / "results.json",
        tmp_path / "out" / "bob" / "results.json",
    ]
    for path, sub in zip(written, rep.submissions, strict=True):
        text = path.read_text()
        assert text == json.dumps(gradescope_results(sub), indent=2) + "\n"
