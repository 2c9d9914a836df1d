"""Names as a new user types them: a bundled assignment is never shadowed by a folder of
the same name, and a typo in an assignment or a registered component gets a suggestion,
never a message that blames the student's code."""

from __future__ import annotations

import json
import re

from gradekit.cli import main

from .conftest import ROOT

CORRECT = ROOT / "assignments" / "backprop" / "examples" / "correct.py"


def test_a_kit_folder_named_after_the_assignment_does_not_shadow_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "backprop"]) == 0
    assert "the bundled backprop" in capsys.readouterr().out
    assert main(["init", "backprop"]) == 2
    assert "already exists" in capsys.readouterr().err
    (tmp_path / "backprop" / "submission.py").write_text(CORRECT.read_text())
    code = main(
        ["grade", "-a", "backprop", "backprop/submission.py", "--json", "r.json", "--no-cache"]
    )
    assert code == 0
    assert "Assignment: the bundled backprop." in capsys.readouterr().out
    (result,) = json.loads((tmp_path / "r.json").read_text())["submissions"]
    assert result["score"] == result["max_score"] > 0


def test_a_path_is_taken_only_when_it_looks_like_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "backprop").mkdir()
    assert main(["grade", "-a", "./backprop", str(CORRECT)]) == 2
    assert "backprop/assignment.toml: no such assignment file" in capsys.readouterr().err
    (tmp_path / "course").mkdir()
    assert main(["grade", "-a", "course", str(CORRECT)]) == 2
    err = capsys.readouterr().err
    assert "no bundled assignment named 'course'" in err
    assert "for the folder course, write ./course" in err


def test_a_misspelled_assignment_gets_a_suggestion(capsys):
    assert main(["grade", "-a", "bakprop"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'backprop'" in err
    assert len(err.strip().splitlines()) == 1


def test_a_misspelled_component_is_not_registered_and_gets_a_suggestion(tmp_path, capsys):
    source = CORRECT.read_text()
    assert source.count('"relu":') == 1
    typo = tmp_path / "typo.py"
    typo.write_text(source.replace('"relu":', '"rellu":'))
    assert main(["list", "--mine", str(typo), "--kind", "activations"]) == 0
    listed = re.sub(r"[\s│]+", " ", capsys.readouterr().out)
    assert "no check uses 'rellu': did you mean 'relu'?" in listed
    assert (
        main(
            ["grade", "-a", "backprop", str(typo), "--json", str(tmp_path / "r.json"), "--no-cache"]
        )
        == 0
    )
    (result,) = json.loads((tmp_path / "r.json").read_text())["submissions"]
    relu = [c for c in result["checks"] if c["component"] == "activations/relu"]
    others = [c for c in result["checks"] if c["component"] != "activations/relu"]
    assert relu and all(c["score"] == 0 for c in relu)
    for check in relu:
        assert check["message"].startswith("not registered: the submission registers no")
        assert "it registers 'rellu': did you mean 'relu'?" in check["message"]
        assert "your code raised" not in check["message"]
    assert all(c["status"] == "passed" for c in others)
