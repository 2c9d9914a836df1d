"""`gradekit report`: a class with a broken, an empty and a timed-out submission is graded
to every output once, and the outputs rebuilt from its JSON are the same files."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from gradekit.cli import main

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "assignments" / "backprop" / "examples"
HANGS = """

class Stuck(ReLU):
    def forward(self, x, *, training=True):
        while True:
            pass
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("run")
    klass = root / "class"
    klass.mkdir()
    shutil.copy(EXAMPLES / "correct.py", klass / "alice.py")
    shutil.copy(EXAMPLES / "buggy.py", klass / "bob.py")
    (klass / "carol.py").write_text("def broken(:\n")
    (klass / "dave.py").write_text("")
    correct = (EXAMPLES / "correct.py").read_text()
    assert correct.count('"relu": ReLU,') == 1
    (klass / "erin.py").write_text(correct.replace('"relu": ReLU,', '"relu": Stuck,') + HANGS)
    argv = ["grade", str(klass), "-a", "backprop", "--no-cache", "--timeout", "2"]
    outputs = ["--json", "r.json", "--csv", "g.csv", "--html", "html", "--gradescope", "gs"]
    assert main(argv + [o if o.startswith("--") else str(root / o) for o in outputs]) == 0
    return root


def test_the_gradebook_says_why_a_row_is_not_graded(graded):
    rows = {r["submission"]: r for r in csv.DictReader((graded / "g.csv").open())}
    assert {k: r["status"] for k, r in rows.items()} == {
        "alice": "graded",
        "bob": "graded",
        "carol": "load error",
        "dave": "load error",
        "erin": "timed out",
    }
    assert "syntax" in rows["carol"]["reason"]
    assert "no gradekit_register hook" in rows["dave"]["reason"]
    assert rows["erin"]["reason"].startswith("3 of ")  # every relu check, hidden included
    assert "relu.values" in rows["erin"]["reason"]
    assert float(rows["erin"]["score"]) > 0


def test_report_rebuilds_every_output_from_the_json(graded, tmp_path):
    argv = ["report", str(graded / "r.json"), "--csv", str(tmp_path / "g.csv")]
    argv += ["--html", str(tmp_path / "html"), "--gradescope", str(tmp_path / "gs")]
    assert main(argv) == 0
    assert (tmp_path / "g.csv").read_text() == (graded / "g.csv").read_text()
    for made in sorted((graded / "gs").rglob("*.json")):
        again = tmp_path / "gs" / made.relative_to(graded / "gs")
        assert again.read_text() == made.read_text()
    pages = sorted(p.relative_to(graded / "html") for p in (graded / "html").rglob("*.html"))
    assert pages and pages == sorted(
        p.relative_to(tmp_path / "html") for p in (tmp_path / "html").rglob("*.html")
    )
    for page in pages:
        assert (tmp_path / "html" / page).read_text() == (graded / "html" / page).read_text()


@pytest.mark.parametrize(
    ("content", "needle"),
    [(None, "cannot read the results file"), ("{}", "not a gradekit results file")],
)
def test_a_file_that_is_not_a_results_file_is_one_line(tmp_path, capsys, content, needle):
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    assert main(["report", str(path)]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
