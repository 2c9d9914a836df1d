"""The training assignment's checks: the diagnoser's score on the curve bank, and deviations
that are no mutant, each caught by the case that should catch it.

Trusted stand-ins run in-process through the same plan executor as the worker; the
bundled examples, the reference and the alternatives are graded through the worker in
test_examples.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.diagnosis import DiagnosisOptions, curve_bank, score
from gradekit.sandbox.runner import LocalSession
from gradekit_reference.diagnosis import CurveDiagnoser
from gradekit_reference.search import CoarseToFine, LogUniformSearch
from gradekit_reference.trainer import MiniBatchTrainer

from .conftest import grader

NAME = "training"


def _check(check_id: str):
    return next(c for c in grader(NAME).checks if c.spec.id == check_id)


def _cases(check_id: str, factory) -> list:
    check = _check(check_id)
    outcome = LocalSession({(check.target.kind, check.target.name): factory}).run(check.plan)
    return check.judge(outcome, check.expected)


class AlwaysLooksGood:
    """The naive diagnoser: every curve looks good, every model is fine."""

    def diagnose(self, train_curve, val_curve):
        return "looks_good"

    def recipe(self, train_err, test_err, base_err=0.0, tol=0.05):
        return "low_bias_and_variance"


@pytest.mark.parametrize("check_id", ["curves.diagnosis", "curves.diagnosis-hidden"])
def test_the_bank_scores_the_reference_high_and_a_naive_diagnoser_low(check_id):
    assert score(_cases(check_id, CurveDiagnoser)) >= 0.95
    naive = score(_cases(check_id, AlwaysLooksGood))
    assert 0 < naive <= 0.20


def test_the_bank_is_generated_from_the_seed():
    options = DiagnosisOptions()
    a, b = curve_bank(1, options), curve_bank(2, options)
    assert a[2] == b[2] and len(a[2]) == 6 * options.per_shape
    assert not np.array_equal(a[0][0][: len(b[0][0])], b[0][0][: len(a[0][0])])
    again = curve_bank(1, options)
    assert all(np.array_equal(x, y) for x, y in zip(a[0], again[0], strict=True))


class OwnGenerator(LogUniformSearch):
    """Right law, but draws from a generator of its own instead of ``rng``."""

    def propose(self, space, n, rng):
        return super().propose(space, n, np.random.default_rng())


def test_a_strategy_ignoring_rng_is_caught():
    cases = {c.name: c for c in _cases("log_uniform.search", OwnGenerator)}
    assert not cases["draws from rng"].passed
    assert "rng argument" in cases["draws from rng"].message
    assert cases["lr distribution"].passed  # the law itself is right


class NoSettings(CoarseToFine):
    """A strategy still to be written: every call returns an empty list."""

    def propose(self, space, n, rng):
        return []

    def refine(self, space, results, n, rng):
        return []


class NoRefinement(CoarseToFine):
    """Proposes as the reference does; its refine returns an empty list."""

    def refine(self, space, results, n, rng):
        return []


@pytest.mark.parametrize(
    ("check_id", "factory", "said"),
    [
        ("log_uniform.search", NoSettings, "propose: a call returned no settings, expected 100"),
        ("coarse_to_fine.search", NoSettings, "propose: a call returned no settings"),
        ("coarse_to_fine.search", NoRefinement, "refine: a call returned no settings"),
    ],
)
def test_a_strategy_that_returns_no_settings_fails_saying_so(check_id, factory, said):
    check = _check(check_id)
    outcome = LocalSession({(check.target.kind, check.target.name): factory}).run(check.plan)
    result = grader(NAME).verdict(check, outcome, "s")
    assert (result.status, result.score) == ("failed", 0.0)
    assert result.message.startswith(said), result.message


class DropsLastBatch(MiniBatchTrainer):
    """Skips the last, smaller batch of every epoch."""

    def order(self, n, rng):
        perm = super().order(n, rng)
        return perm[: n - n % self.batch_size]


class ValidatesBeforeUpdates(MiniBatchTrainer):
    """Reports a validation loss computed with the previous epoch's weights."""

    def fit(self, model, optimizer, data, rng):
        history = super().fit(model, optimizer, data, rng)
        history["val_loss"] = [history["val_loss"][0], *history["val_loss"][:-1]]
        return history


def test_a_trainer_dropping_the_last_batch_is_caught():
    cases = {c.name: c for c in _cases("minibatch.momentum", DropsLastBatch)}
    assert not cases["epochs"].passed
    assert "batches of 10 (the last one 6)" in cases["epochs"].message
    assert cases["shuffling"].passed


def test_reported_validation_losses_are_recomputed():
    cases = {c.name: c for c in _cases("minibatch.sgd", ValidatesBeforeUpdates)}
    assert not cases["validation"].passed
    assert "history['val_loss'][1]" in cases["validation"].message
    assert cases["updates"].passed and cases["loss curve"].passed


class ReportsAnyTrainingLoss(MiniBatchTrainer):
    """Reports finite numbers of the right length as train_loss: the validation losses."""

    def fit(self, model, optimizer, data, rng):
        history = super().fit(model, optimizer, data, rng)
        history["train_loss"] = list(history["val_loss"])
        return history


@pytest.mark.parametrize("check_id", ["minibatch.sgd", "minibatch.early-stopping-valley"])
def test_reported_training_losses_are_recomputed(check_id):
    cases = {c.name: c for c in _cases(check_id, ReportsAnyTrainingLoss)}
    assert not cases["training loss"].passed
    assert "history['train_loss'][0]" in cases["training loss"].message
    assert "mean of epoch 1's batch losses" in cases["training loss"].message
    assert cases["updates"].passed and cases["validation"].passed
    honest = {c.name: c for c in _cases(check_id, MiniBatchTrainer)}
    assert honest["training loss"].passed


def test_the_replay_catches_a_forged_log():
    check = _check("minibatch.sgd")
    outcome = LocalSession({("trainers", "minibatch"): MiniBatchTrainer}).run(check.plan)
    snaps = outcome.values["run"]["snapshots"]
    snaps["W2"][3] = snaps["W2"][3] + 1e-3  # parameters the logged batches cannot give
    cases = {c.name: c for c in check.judge(outcome, check.expected)}
    assert not cases["updates"].passed
    assert "after epoch 4" in cases["updates"].message


@pytest.mark.parametrize(
    ("stack", "forge"),
    [
        ("first", lambda a: a[:0]),  # no step at all, yet a stack
        ("snapshots", lambda a: a[:0]),
        ("snapshots", lambda a: a[:-1]),  # one parameter with an epoch fewer than the rest
        ("first", lambda a: a[:1]),
    ],
)
def test_stacks_of_parameters_the_routine_cannot_send_are_unusable(stack, forge):
    """The routine stacks at least one copy of each parameter, as many of each; other
    stacks (a forged answer) make the run unusable, said so, never an IndexError."""
    check = _check("minibatch.sgd")
    outcome = LocalSession({("trainers", "minibatch"): MiniBatchTrainer}).run(check.plan)
    outcome.values["run"][stack]["b1"] = forge(outcome.values["run"][stack]["b1"])
    cases = check.judge(outcome, check.expected)
    assert [(c.passed, c.message) for c in cases] == [
        (False, "the parameters became non-finite or lost their shapes during training")
    ]


def test_figures_show_the_learning_curves_and_the_misread_curves():
    from gradekit_reference.mutants.training import (
        DiagnoserOverfitAsNotConverged,
        TrainerNoShuffle,
    )

    g = grader(NAME)
    check = _check("minibatch.sgd")
    outcome = LocalSession({("trainers", "minibatch"): TrainerNoShuffle}).run(check.plan)
    figure = g.figure(check, outcome)
    assert [p.title for p in figure.panels] == ["training loss", "validation loss"]
    assert [s.label for s in figure.panels[1].series] == ["yours", "reference"]
    assert len(figure.panels[1].series[0].y) == 20
    check = _check("curves.diagnosis")
    outcome = LocalSession({("diagnosers", "curves"): DiagnoserOverfitAsNotConverged}).run(
        check.plan
    )
    figure = g.figure(check, outcome)
    assert figure.panels and all("(expected 'overfitting')" in p.title for p in figure.panels)
    reference = LocalSession({("diagnosers", "curves"): CurveDiagnoser}).run(check.plan)
    assert g.figure(check, reference) is None  # nothing misread, nothing to show


def test_the_search_figure_shows_where_the_draws_fall_on_the_log_scale():
    from gradekit_reference.mutants.training import LogUniformLinear

    check = _check("log_uniform.search")
    outcome = LocalSession({("search", "log_uniform"): LogUniformLinear}).run(check.plan)
    figure = grader(NAME).figure(check, outcome)
    lr = figure.panels[0]
    assert lr.kind == "histogram" and lr.xlabel == "log10 lr"
    yours, reference = (np.array(s.y) for s in lr.series)
    top = len(yours) // 4  # the bins of the top decade of four
    assert yours[-top:].sum() > 0.8 * yours.sum()  # uniform draws pile up in the top decade
    assert reference[-top:].sum() < 0.4 * reference.sum()
    assert grader(NAME).figure(_check("grid.search"), outcome) is None


def test_the_starter_kit_runs_the_public_checks_under_pytest(pytester):
    """``gradekit init training``, then ``pytest``: the buggy example fails exactly its
    public bugs, the correct one passes everything."""
    from gradekit.cli import main

    from .test_examples import EXPECTED_BUGS

    public = {c.id for c in grader(NAME).assignment.spec.checks if c.visibility == "public"}
    assert main(["init", NAME, str(pytester.path)]) == 0
    examples = grader(NAME).assignment.folder / "examples"
    (pytester.path / "submission.py").write_text((examples / "buggy.py").read_text())
    result = pytester.runpytest()
    reports = result.reprec.getreports("pytest_runtest_logreport")
    got = {".".join(r.nodeid.split("::")[1:]): r.outcome for r in reports if r.when == "call"}
    assert set(got) == public
    assert {k for k, v in got.items() if v == "failed"} == EXPECTED_BUGS[NAME] & public
    out = result.stdout.str()
    assert "every epoch visits the training examples in the same order" in out
    # the diagnosis bank's failure names a few of its dozens of passed cases, not all
    passed = next(line for line in out.splitlines() if line.startswith("passed: curve 1 "))
    assert passed.count("curve ") == 8 and passed.endswith("more")
    (pytester.path / "submission.py").write_text((examples / "correct.py").read_text())
    pytester.runpytest().assert_outcomes(passed=len(public))
