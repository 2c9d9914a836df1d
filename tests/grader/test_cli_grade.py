"""`gradekit grade` end to end: exit codes, and every output file in its schema."""

from __future__ import annotations

import csv
import json
import re
import shutil

from gradekit.batch import notice_cache_off
from gradekit.cli import main
from gradekit.results import GradeReport
from gradekit.sandbox.backends import bwrap_works

from .conftest import ROOT

EXAMPLES = ROOT / "assignments" / "backprop" / "examples"


def test_grading_a_folder_writes_every_output(tmp_path, capsys):
    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(EXAMPLES / "correct.py", folder / "alice.py")
    shutil.copy(EXAMPLES / "buggy.py", folder / "bob.py")
    (folder / "carol.py").write_text("def broken(:\n")
    out = tmp_path / "out"
    code = main(
        [
            "grade",
            str(folder),
            "-a",
            "backprop",
            "--json",
            str(tmp_path / "r.json"),
            "--csv",
            str(tmp_path / "g.csv"),
            "--gradescope",
            str(out),
            "--no-detail",
            "--no-cache",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "alice" in printed and "bob" in printed and "did not load" in printed

    report = GradeReport.model_validate_json((tmp_path / "r.json").read_text())
    scores = {s.submission: (s.score, s.max_score) for s in report.submissions}
    assert scores["alice"][0] == scores["alice"][1] > 0
    assert 0 < scores["bob"][0] < scores["bob"][1]
    assert scores["carol"][0] == 0
    hidden = [c for c in report.submissions[0].checks if c.visibility == "hidden"]
    assert hidden

    rows = list(csv.DictReader((tmp_path / "g.csv").open()))
    assert [r["submission"] for r in rows] == ["alice", "bob", "carol"]
    assert float(rows[1]["relu.gradient"]) < 2.0 and float(rows[0]["relu.gradient"]) == 2.0
    assert [r["status"] for r in rows] == ["graded", "graded", "load error"]
    assert rows[0]["reason"] == rows[1]["reason"] == "" and "syntax" in rows[2]["reason"]

    bob = json.loads((out / "bob" / "results.json").read_text())
    assert bob["score"] == scores["bob"][0]
    assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(bob["tests"][0])
    statuses = {t["name"].split(":")[0]: t for t in bob["tests"]}
    assert statuses["relu.gradient"]["status"] == "failed"
    assert "Likely misconception" in statuses["relu.gradient"]["output"]
    assert statuses["relu.gradient-hidden"]["visibility"] == "after_published"
    assert "did not load" in json.loads((out / "carol" / "results.json").read_text())["output"]


def test_grading_the_bundled_examples_by_default(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    notice_cache_off.cache_clear()  # said once per process: this run may say it again
    assert main(["grade", "-a", "backprop"]) == 0
    cached = list((tmp_path / ".gradekit-cache").glob("*.json"))
    printed = capsys.readouterr()
    if bwrap_works():
        assert cached, "results were not cached"
    else:  # the cache is off without bubblewrap, and says so
        assert not cached and "the results cache is off" in printed.err
    out = printed.out
    full = re.search(r"correct: (\S+) / (\S+)", out)
    assert full and full.group(1) == full.group(2)
    buggy = re.search(r"buggy: (\S+) / (\S+)", out)
    assert buggy and float(buggy.group(1)) < float(buggy.group(2))


def test_unknown_assignment_exits_2_with_one_line(capsys):
    assert main(["grade", "-a", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradekit: error: no bundled assignment named 'nope'")
    assert len(err.strip().splitlines()) == 1
