"""Small assignments with a check of every kind that has a figure, graded with figures on.

Each uses a bundled example (correct or buggy) as the submission; widths and steps are
small, so a session grades them in seconds. Results are built once per session.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from gradekit.assignments import load_assignment
from gradekit.grading import Grader
from gradekit.results import GradeReport, SubmissionResult

ROOT = Path(__file__).parents[2]

SPECS = {
    "initialization": """
[[checks]]
id = "experiment.tanh-std0.01"
type = "init_experiment"
component = "initializers/normal"
kwargs = { std = 0.02 }
options = { activation = "tanh", width = 512, band_seeds = 32 }

[[checks]]
id = "experiment.relu-he"
type = "init_experiment"
component = "initializers/he"
visibility = "hidden"
options = { activation = "relu", width = 512, band_seeds = 32 }
""",
    "optimization": """
[[checks]]
id = "sgd.ravine"
type = "convergence"
component = "optimizers/sgd"
kwargs = { lr = 0.15 }
options = { problem = "ravine", steps = 60 }

[[checks]]
id = "momentum.ravine"
type = "convergence"
component = "optimizers/momentum"
kwargs = { lr = 0.02, mu = 0.9 }
options = { problem = "ravine", steps = 60 }

[[checks]]
id = "adam.mlp"
type = "convergence"
component = "optimizers/adam"
kwargs = { lr = 0.02 }
options = { problem = "mlp", steps = 40 }
""",
    "backprop": """
[[checks]]
id = "linear.gradient"
type = "gradient"
component = "layers/linear"
kwargs = { din = 5, dout = 3 }

[[checks]]
id = "tanh.gradient"
type = "gradient"
component = "activations/tanh"
""",
}


@pytest.fixture(scope="session")
def assignments(tmp_path_factory) -> dict[str, Path]:
    """Folders of the small assignments, by the bundled assignment whose examples they use."""
    root = tmp_path_factory.mktemp("assignments")
    folders = {}
    for name, checks in SPECS.items():
        folder = root / name
        folder.mkdir()
        head = f'schema_version = 1\nname = "{name}-figures"\ntitle = "Figures"\nseed = 5\n'
        (folder / "assignment.toml").write_text(head + checks)
        folders[name] = folder
    return folders


@cache
def _grader(folder: Path, figures: bool) -> Grader:
    return Grader(load_assignment(folder), figures=figures)


def example(name: str, which: str) -> Path:
    """A bundled example submission (``correct`` or ``buggy``) of a bundled assignment."""
    return ROOT / "assignments" / name / "examples" / f"{which}.py"


@pytest.fixture(scope="session")
def grader(assignments):
    """``grader(name, figures=True)``: the session's grader of a small assignment."""
    return lambda name, figures=True: _grader(assignments[name], figures)


@pytest.fixture(scope="session")
def grade(assignments):
    """``grade(name, which, figures=True)``: the example's result, graded once a session."""
    results: dict[tuple[str, str, bool], SubmissionResult] = {}

    def run(name: str, which: str, figures: bool = True) -> SubmissionResult:
        key = (name, which, figures)
        if key not in results:
            results[key] = _grader(assignments[name], figures).grade(example(name, which), which)
        return results[key]

    return run


@pytest.fixture(scope="session")
def report(grade) -> GradeReport:
    """Both examples of the optimization assignment, as one class report."""
    subs = [grade("optimization", "correct"), grade("optimization", "buggy")]
    return GradeReport(gradekit_version="test", assignment="optimization", submissions=subs)
