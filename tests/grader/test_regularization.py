"""The regularization assignment: reference, examples, every mutant, correct alternatives,
deviations that are no mutant, and the statistics' false-alarm rate over seeds.

Graded through the worker as students are, except the mutants (trusted, run in-process
through the same plan executor) and the seed sweep (trusted example, in-process).
"""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.assignments import Assignment
from gradekit.checks.gradient import Gradient, GradientOptions
from gradekit.grading import Grader
from gradekit.plugins import load_catalog
from gradekit.sandbox.plan import Outcome
from gradekit.sandbox.runner import LocalSession
from gradekit_reference.mutants import all_mutants

from .conftest import ROOT, grader

NAME = "regularization"
EXAMPLES = ROOT / "assignments" / NAME / "examples"
ALTERNATIVES = ROOT / "tests" / "submissions" / "correct"


GRADED = {(c.target.kind, c.target.name) for c in grader(NAME).checks}
MUTANTS = [m for m in all_mutants() if (m.kind, m.target) in GRADED]
MISCONCEPTIONS = {m.misconception for m in MUTANTS}


def failed(result) -> dict:
    return {c.name: c for c in result.checks if c.status != "passed"}


def test_every_mutant_of_the_graded_components_is_in_the_table():
    names = {m.name for m in MUTANTS}
    assert {"dropout_no_rescale", "dropconnect_masks_units", "batchnorm_unbiased_variance"} <= names
    assert {m.name for m in all_mutants() if m.kind in ("penalties", "early_stopping")} <= names
    assert {m.name for m in all_mutants() if m.kind in ("transforms", "preprocessors")} <= names
    assert not {n for n in names if n.startswith("linear")}  # backprop grades those
    assert len(MUTANTS) == 40


ALTERNATIVE_EDITS = {
    # (old, new) edits of the correct example that stay correct: each must keep full marks.
    "dropout keeps where u >= 1 - p (other masks from the same seed)": (
        "np.where(self.rng.uniform(size=x.shape) < self.p",
        "np.where(self.rng.uniform(size=x.shape) >= 1 - self.p",
    ),
    "mixup weights the shuffled copy by lam": (
        "return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm]",
        "return (1 - lam) * x + lam * x[perm], (1 - lam) * y + lam * y[perm]",
    ),
    "CutMix box of the paper's code: int() sides, from c - side // 2 to c + side // 2": (
        "h, w = round(cut * H), round(cut * W)",
        "h, w = int(cut * H), int(cut * W)",
    ),
    "CutMix paper's box end (rows)": ("min(top + h, H)", "min(top + 2 * (h // 2), H)"),
    "CutMix paper's box end (cols)": ("min(left + w, W)", "min(left + 2 * (w // 2), W)"),
    "batchnorm running_var starts at 0 (CS231n)": (
        "self.running_var = np.ones(dim)",
        "self.running_var = np.zeros(dim)",
    ),
}


def test_legitimate_alternatives_get_full_marks(tmp_path):
    text = (EXAMPLES / "correct.py").read_text()
    for old, new in ALTERNATIVE_EDITS.values():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "alternative.py"
    path.write_text(text)
    result = grader(NAME).grade(path)
    assert [(c.name, c.message) for c in result.checks if c.status != "passed"] == []


DEVIATIONS = {
    # (old, new) edits of the correct example: mistakes no mutant names, each caught.
    "dropout ignores self.rng": (
        "np.where(self.rng.uniform(size=x.shape) < self.p",
        "np.where(np.random.default_rng().uniform(size=x.shape) < self.p",
    ),
    "vanilla mask shared by the batch": (
        "self.scale = (self.rng.uniform(size=x.shape) < self.p).astype(float)",
        "self.scale = (self.rng.uniform(size=x.shape[1:]) < self.p) * np.ones_like(x)",
    ),
    "mixup lam uniform": (
        "lam = rng.beta(self.alpha, self.alpha)",
        "lam = rng.uniform()",
    ),
    "cutmix box kept inside": (
        "top = int(rng.integers(H)) - h // 2\n        left = int(rng.integers(W)) - w // 2",
        "top = int(rng.integers(H - h + 1))\n        left = int(rng.integers(W - w + 1))",
    ),
    "early stopping against the previous epoch": (
        "        if self.best_loss - val_loss > self.min_delta:",
        "        previous, self.previous = getattr(self, 'previous', np.inf), val_loss\n"
        "        if previous - val_loss > self.min_delta:",
    ),
    "pca ascending eigenvalues": (
        "order = np.argsort(S)[::-1]",
        "order = np.argsort(S)",
    ),
}
CAUGHT_BY = {
    "dropout ignores self.rng": ("dropout.stochastic", "mask from self.rng (p=0.2)"),
    "vanilla mask shared by the batch": (
        "vanilla_dropout.stochastic",
        "independent across examples (p=0.2)",
    ),
    "mixup lam uniform": ("mixup.stochastic", "variance of lam"),
    "cutmix box kept inside": ("cutmix.stochastic", "box area"),
    "early stopping against the previous epoch": ("early_stopping", "stop epoch (slow)"),
    "pca ascending eigenvalues": ("pca.preprocess", "training data"),
}


def test_deviations_that_no_mutant_describes_are_caught(tmp_path):
    text = (EXAMPLES / "correct.py").read_text()
    for old, new in DEVIATIONS.values():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "deviant.py"
    path.write_text(text)
    wrong = failed(grader(NAME).grade(path))
    for deviation, (check, case) in CAUGHT_BY.items():
        assert check in wrong, deviation
        cases = {c.name: c for c in wrong[check].cases}
        assert not cases[case].passed, (deviation, wrong[check].message)
    assert "dropout.gradient" in wrong  # a mask that changes between forwards


def test_inline_submission_storing_the_params_dict_fails_both_restore_checks(tmp_path):
    text = (
        (EXAMPLES / "correct.py")
        .read_text()
        .replace(
            "self.best_params = {name: value.copy() for name, value in params.items()}",
            "self.best_params = params",
        )
    )
    path = tmp_path / "same_dict.py"
    path.write_text(text)
    check = failed(grader(NAME).grade(path))["early_stopping"]
    cases = {c.name: c.passed for c in check.cases}
    assert not cases["best_params are copies (valley)"]
    assert cases["best_params (valley)"]  # a fresh dict every epoch: references are harmless


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_no_false_alarm_on_a_correct_submission_with_other_seeds(seed):
    base = grader(NAME).assignment
    spec = base.spec.model_copy(update={"seed": seed})
    g = Grader(Assignment(spec, base.folder), mutants=[])
    catalog = load_catalog(EXAMPLES / "correct.py", reference=False, installed=False)
    factories = {
        (c.target.kind, c.target.name): catalog.get(c.target.kind, c.target.name).factory
        for c in g.checks
    }
    session = LocalSession(factories)
    wrong = [
        (c.spec.id, case.message)
        for c in g.checks
        for case in c.judge(session.run(c.plan), c.expected)
        if not case.passed
    ]
    assert wrong == []


def test_a_mask_that_misses_the_references_earns_no_masked_case():
    """Compared only where both masks keep an entry, a mask chosen as the complement of the
    reference's would have nothing compared, so any values would pass: it fails instead."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 12))
    keep = rng.random(x.shape) < 0.6
    ref = Outcome(values={"y": np.where(keep, x / 0.6, 0.0)})
    options = GradientOptions(reference=False, masked=("y",))
    judge = Gradient()._masked
    complement = Outcome(values={"y": np.where(keep, 0.0, rng.standard_normal(x.shape))})
    case = judge("y", complement, ref, options)
    assert not case.passed and "no entry is kept by both masks" in case.message
    assert judge("y", ref, ref, options).passed
