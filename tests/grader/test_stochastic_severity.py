"""A random component that fails its purpose keeps at most half its points; a parameter
mistake keeps its partial credit.

Dropout and DropConnect fail their purpose when they do not regularize (nothing dropped,
or one mask frozen for every forward) or when test time is wrong (still dropping, or a
scale that does not match training); batchnorm when test time depends on the batch or
changes the running statistics; a batch transform when it draws once for every call or
ignores the generator it is given.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.credit import SEVERE_CAP
from gradekit.sandbox.runner import LocalSession
from gradekit_reference.layers import BatchNorm, Dropout
from gradekit_reference.mutants import all_mutants
from gradekit_reference.transforms import Mixup, RandomCrop

from .conftest import grader

MUTANTS = {m.name: m for m in all_mutants()}
ROUNDING = 1e-5
"""Each capped check's score is rounded to 6 decimals."""


class DropoutDropsNothing(Dropout):
    """Inverted dropout that scales every unit by 1/p in training and drops none."""

    def forward(self, x, *, training=True):
        self._mask = np.full(np.shape(x), 1.0 / self.p if training else 1.0)
        return np.asarray(x, dtype=np.float64) * self._mask


class BatchNormUpdatesAtTest(BatchNorm):
    """Batchnorm whose test-time forward also updates the running statistics first."""

    def forward(self, x, *, training=True):
        if not training:
            x = np.asarray(x, dtype=np.float64)
            m = self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * x.mean(axis=0)
            self.running_var = (1 - m) * self.running_var + m * x.var(axis=0)
        return super().forward(x, training=training)


class MixupDrawnOnce(Mixup):
    """Mixup that draws lam and the permutation at its first call and reuses them."""

    def __call__(self, x, y, rng):
        if not hasattr(self, "drawn"):
            self.drawn = rng.beta(self.alpha, self.alpha), rng.permutation(len(x))
        lam, perm = self.drawn
        return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm]


class CropOwnGenerator(RandomCrop):
    """Random crop drawing from a generator of its own instead of the one it is given."""

    def __call__(self, x, y, rng):
        return super().__call__(x, y, np.random.default_rng())


BROKEN = {
    "frozen dropout mask": ("layers", "dropout", MUTANTS["dropout_frozen_mask"].factory),
    "dropout at test time": ("layers", "dropout", MUTANTS["dropout_active_at_test"].factory),
    "vanilla dropout's test time unscaled": (
        "layers",
        "vanilla_dropout",
        MUTANTS["vanilla_dropout_no_test_scale"].factory,
    ),
    "DropConnect's test time unscaled": (
        "layers",
        "dropconnect",
        MUTANTS["dropconnect_no_test_scale"].factory,
    ),
    "nothing dropped": ("layers", "dropout", DropoutDropsNothing),
    "batch statistics at test time": (
        "layers",
        "batchnorm",
        MUTANTS["batchnorm_batch_stats_at_test"].factory,
    ),
    "running statistics updated at test time": ("layers", "batchnorm", BatchNormUpdatesAtTest),
    "mixup drawn once": ("transforms", "mixup", MixupDrawnOnce),
    "crop ignores its generator": ("transforms", "crop", CropOwnGenerator),
}
PARAMETER_MISTAKES = [
    "dropout_p_is_drop",
    "dropout_no_rescale",
    "dropout_one_mask_per_batch",
    "dropconnect_masks_units",
    "batchnorm_test_no_affine",
]


def both_ways(kind: str, name: str, factory) -> tuple[list, list]:
    """The component's verdicts one check at a time, and through ``judge_all`` (capped)."""
    g = grader("regularization")
    checks = [c for c in g.checks if (c.target.kind, c.target.name) == (kind, name)]
    session = LocalSession({(kind, name): factory})
    outcomes = [session.run(c.plan) for c in checks]
    alone = [g.verdict(c, o, diagnose=False) for c, o in zip(checks, outcomes, strict=True)]
    return alone, g.judge_all(checks, outcomes, name)


def share(verdicts: list) -> float:
    return sum(v.score for v in verdicts) / sum(v.max_score for v in verdicts)


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_failing_the_purpose_keeps_at_most_half(broken):
    alone, capped = both_ways(*BROKEN[broken])
    assert any(c.severe for v in capped for c in v.cases)
    assert share(capped) <= SEVERE_CAP + ROUNDING
    if share(alone) > SEVERE_CAP:  # the cap is what bites: every check says why
        assert all("credit capped at 50%" in v.message for v in capped)


@pytest.mark.parametrize("mutant", PARAMETER_MISTAKES)
def test_a_parameter_mistake_is_not_severe(mutant):
    m = MUTANTS[mutant]
    _, verdicts = both_ways(m.kind, m.target, m.factory)
    assert share(verdicts) < 1
    assert not any(c.severe for v in verdicts for c in v.cases)
    assert not any("credit capped" in v.message for v in verdicts)


def test_the_catalogue_marks_the_severe_layer_mutants():
    broken = {m.name for m in all_mutants() if m.breaks_purpose}
    assert {"dropout_frozen_mask", "dropout_active_at_test", "batchnorm_batch_stats_at_test"} <= (
        broken
    )
    assert not broken & set(PARAMETER_MISTAKES)
