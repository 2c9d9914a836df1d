"""A component that fails its purpose keeps at most half its points, whatever share of its
cases it gets right: nan on large scores, a generator ignored, a trainer that stops
learning after its first batch."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.credit import SEVERE_CAP
from gradekit.sandbox.runner import LocalSession
from gradekit_reference import COMPONENTS
from gradekit_reference.initializers import He
from gradekit_reference.mutants import all_mutants
from gradekit_reference.trainer import MiniBatchTrainer

from .conftest import grader


class HeOwnGenerator(He):
    """He's distribution, drawn from a generator of its own instead of the one given."""

    def __call__(self, shape, rng):
        return super().__call__(shape, np.random.default_rng())


class FirstStepOnly:
    """An optimizer whose updates after the first one of each parameter are dropped."""

    def __init__(self, optimizer):
        self.optimizer, self.stepped = optimizer, set()

    def init(self, param):
        return self.optimizer.init(param)

    def update(self, param, grad, state):
        new, after = self.optimizer.update(param, grad, state)
        if id(state) in self.stepped:
            return param, state
        self.stepped.add(id(after))
        return new, after


class TrainerFirstBatchOnly(MiniBatchTrainer):
    """The first batch's update is right; every later one is thrown away."""

    def fit(self, model, optimizer, data, rng):
        return super().fit(model, FirstStepOnly(optimizer), data, rng)


(NO_MAX_SHIFT,) = [m.factory for m in all_mutants() if m.name == "softmax_no_max_subtraction"]
BROKEN = {
    "nan on large scores": ("backprop", "losses", "softmax_cross_entropy", NO_MAX_SHIFT),
    "generator ignored": ("initialization", "initializers", "he", HeOwnGenerator),
    "no learning after the first batch": (
        "training",
        "trainers",
        "minibatch",
        TrainerFirstBatchOnly,
    ),
}


def both_ways(assignment: str, kind: str, name: str, factory):
    """The component's verdicts one check at a time, and through ``judge_all``."""
    g = grader(assignment)
    checks = [c for c in g.checks if (c.target.kind, c.target.name) == (kind, name)]
    session = LocalSession({(kind, name): factory})
    outcomes = [session.run(c.plan) for c in checks]
    alone = [g.verdict(c, o) for c, o in zip(checks, outcomes, strict=True)]
    return alone, g.judge_all(checks, outcomes, name)


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_failing_the_purpose_caps_the_component_at_half(broken):
    alone, capped = both_ways(*BROKEN[broken])
    most = sum(v.max_score for v in capped)
    assert sum(v.score for v in alone) > SEVERE_CAP * most  # the cap is what bites
    assert sum(v.score for v in capped) <= SEVERE_CAP * most + 1e-9
    assert any(c.severe for v in capped for c in v.cases)
    assert all("credit capped at 50%" in v.message for v in capped)


def test_the_reference_is_never_capped():
    name = "softmax_cross_entropy"
    _, verdicts = both_ways("backprop", "losses", name, COMPONENTS["losses"][name])
    assert all(v.score == v.max_score for v in verdicts)
    assert not any(c.severe for v in verdicts for c in v.cases)
