"""The lecture's experiment graded at width 1024 instead of 4096, with s^2 x width kept:
a correct initializer passes and He without the factor 2 is still caught, at 1/16 the
draws (benchmarks/RESULTS.md, section b')."""

from __future__ import annotations

from gradekit.assignments import load_assignment
from gradekit.grading import Grader

SPEC = """
schema_version = 1
name = "init-small"
title = "The experiment at width 1024"
seed = 2027

[[checks]]
id = "experiment.relu-he"
type = "init_experiment"
component = "initializers/he"
options = { activation = "relu", width = 1024 }

[[checks]]
id = "experiment.tanh-std0.01"
type = "init_experiment"
component = "initializers/normal"
kwargs = { std = 0.02 }
options = { activation = "tanh", width = 1024 }
"""


def test_width_1024_passes_the_correct_and_catches_the_mutant(tmp_path):
    (tmp_path / "assignment.toml").write_text(SPEC)
    grader = Grader(load_assignment(tmp_path))
    examples = load_assignment("initialization").folder / "examples"
    good = grader.grade(examples / "correct.py")
    assert [c.status for c in good.checks] == ["passed", "passed"]
    collapse = next(c for c in grader.checks if c.spec.id == "experiment.tanh-std0.01")
    assert collapse.expected.std[-1] < 0.1 < collapse.expected.std[0]  # still collapses
    bad = {c.name: c for c in grader.grade(examples / "buggy.py").checks}
    assert bad["experiment.relu-he"].status == "failed"
    assert "factor 2" in (bad["experiment.relu-he"].misconception or "")
