"""The reference and the bundled examples, graded through the worker as students are."""

from __future__ import annotations

import json

import pytest

from gradekit_reference.mutants import all_mutants

from .conftest import BUNDLED, REFERENCE, grader

MISCONCEPTIONS = {m.misconception for m in all_mutants()}
"""A buggy example's failures each name exactly one known misconception."""

EXPECTED_BUGS = {
    "backprop": {
        "relu.gradient",
        "relu.gradient-hidden",
        "sigmoid.gradient",
        "sigmoid.gradient-hidden",
        "linear.gradient",
        "linear.gradient-hidden",
        "squared_error.gradient",
        "softmax_cross_entropy.values",
    },
    "optimization": {
        # sgd in place: only the purity case
        "sgd.update",
        "sgd.update-hidden",
        # momentum sign error: every momentum check
        "momentum.update",
        "momentum.update-hidden",
        "momentum.update-hidden-mu",
        "momentum.ravine",
        "momentum.ravine-hidden",
        "momentum.rosenbrock",
        "momentum.mlp",
        # RMSProp eps inside the root: the update checks (invisible in convergence)
        "rmsprop.update",
        "rmsprop.update-large-eps",
        "rmsprop.update-hidden",
        # Adam without bias correction: every check with bias_correction=True
        "adam.update",
        "adam.update-large-eps",
        "adam.update-hidden",
        "adam.update-hidden-betas",
        "adam.ravine",
        "adam.rosenbrock",
        "adam.mlp",
        # step decay one epoch early
        "step.schedule",
        "step.schedule-hidden",
    },
    "initialization": {
        "normal.distribution",
        "normal.distribution-std0.05",
        "normal.distribution-hidden",
        "xavier.distribution",
        "xavier.distribution-hidden",
        "glorot.distribution",
        "glorot.distribution-hidden",
        "he.distribution",
        "he.distribution-hidden",
        "he_uniform.distribution",
        "he_uniform.distribution-hidden",
        "experiment.tanh-std0.01",
        "experiment.tanh-std0.05",
        "experiment.relu-he",
    },
    "regularization": {
        "l2.penalty",
        "l2.penalty-hidden",
        "dropout.gradient",
        "dropout.stochastic",
        "dropout.stochastic-hidden",
        "vanilla_dropout.stochastic",
        "vanilla_dropout.stochastic-hidden",
        "cutmix.stochastic",
        "cutmix.stochastic-hidden",
        "early_stopping",
        "early_stopping-hidden",
        "early_stopping-hidden-wide",
        "standardize.preprocess",
        "standardize.preprocess-hidden",
        "rotation_pretext.stochastic",
    },
    "training": {
        # the grid stops short of the upper bounds: every grid check
        "grid.search",
        "grid.search-log",
        "grid.search-hidden",
        # "log-uniform" drawn on the linear scale
        "log_uniform.search",
        "log_uniform.search-hidden-lr",
        # no shuffling: every trainer check
        "minibatch.sgd",
        "minibatch.momentum",
        "minibatch.early-stopping-valley",
        "minibatch.early-stopping-plateau",
        "minibatch.early-stopping-hidden",
        "minibatch.freeze",
        "minibatch.freeze-hidden",
        # overfitting read as not converged
        "curves.diagnosis",
        "curves.diagnosis-hidden",
    },
}


@pytest.mark.parametrize("name", BUNDLED)
def test_reference_gets_full_marks(name):
    result = grader(name).grade(REFERENCE)
    assert result.load_error is None
    failed = [(c.name, c.message) for c in result.checks if c.status != "passed"]
    assert not failed
    assert result.score == result.max_score > 0


@pytest.mark.parametrize("name", BUNDLED)
def test_correct_example_gets_full_marks(name):
    g = grader(name)
    result = g.grade(g.assignment.folder / "examples" / "correct.py")
    assert [c.name for c in result.checks if c.status != "passed"] == []
    assert result.score == result.max_score


@pytest.mark.parametrize("name", BUNDLED)
def test_buggy_example_loses_points_exactly_where_its_bugs_are(name):
    g = grader(name)
    result = g.grade(g.assignment.folder / "examples" / "buggy.py")
    failed = {c.name for c in result.checks if c.status != "passed"}
    assert failed == EXPECTED_BUGS[name]
    for check in result.checks:
        if check.name in failed:
            assert check.score < check.max_score
            assert check.misconception in MISCONCEPTIONS, f"{check.name}: {check.misconception}"
            assert "expected" in check.message or "modified" in check.message


@pytest.mark.parametrize("name", BUNDLED)
def test_starter_registers_everything_and_scores_zero_with_todos(name):
    g = grader(name)
    result = g.grade(g.assignment.folder / "starter" / "submission.py")
    assert result.load_error is None and result.score == 0
    assert [(c.name, c.message) for c in result.checks if "TODO" not in c.message] == []


def test_results_are_identical_across_runs():
    g = grader("backprop")
    path = g.assignment.folder / "examples" / "buggy.py"
    first = g.report([g.grade(path)]).model_dump_json()
    fresh = type(g)(g.assignment)
    second = fresh.report([fresh.grade(path)]).model_dump_json()
    assert json.loads(first) == json.loads(second)


ALTERNATIVES = sorted(
    p
    for p in (REFERENCE.parent / "tests" / "submissions" / "correct").iterdir()
    if p.suffix == ".py" or (p / "__init__.py").is_file()
)


@pytest.mark.parametrize("name", BUNDLED)
@pytest.mark.parametrize("path", ALTERNATIVES, ids=lambda p: p.stem)
def test_independent_correct_submissions_get_full_marks(name, path):
    """Other random-call orders, torch's momentum, eigh for PCA, functions for classes..."""
    result = grader(name).grade(path)
    assert [(c.name, c.message) for c in result.checks if c.status != "passed"] == []
