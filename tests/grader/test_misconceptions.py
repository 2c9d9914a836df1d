"""A misconception is named right or not at all: mistakes the catalogue does not hold,
some of which look like one that it does on a single check, are caught and named none.

Each is a trusted stand-in run in-process through the same plan executor as the worker,
judged by ``judge_all`` (every check of the component), as a submission would be.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.sandbox.runner import LocalSession
from gradekit_reference.initializers import Normal
from gradekit_reference.optimizers import RMSProp
from gradekit_reference.transforms import Mixup

from .conftest import BUNDLED, grader


class MixupTwoLambdas(Mixup):
    """Mixes the labels with a second lam, drawn apart from the inputs'."""

    def __call__(self, x, y, rng):
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        lam_x, lam_y = rng.beta(self.alpha, self.alpha), rng.beta(self.alpha, self.alpha)
        perm = rng.permutation(x.shape[0])
        return lam_x * x + (1 - lam_x) * x[perm], lam_y * y + (1 - lam_y) * y[perm]


class RMSPropAbsolute(RMSProp):
    """Averages |g| instead of g^2."""

    def update(self, param, grad, state):
        s = self.beta * state["s"] + (1.0 - self.beta) * np.abs(grad)
        return param - self.lr * grad / (np.sqrt(s) + self.eps), {"s": s}


class NormalIgnoresStd(Normal):
    """Draws N(0, 1) whatever std it is given."""

    def std(self, shape):
        return 1.0


DEVIANTS = {
    "mixup with two lambdas": ("transforms", "mixup", MixupTwoLambdas),
    "rmsprop on |g|": ("optimizers", "rmsprop", RMSPropAbsolute),
    "normal ignoring its std": ("initializers", "normal", NormalIgnoresStd),
}


def graded(kind: str, name: str, factory) -> list:
    """The deviant's verdicts on every check of its component, in every assignment."""
    found = []
    for assignment in BUNDLED:
        g = grader(assignment)
        checks = [c for c in g.checks if (c.target.kind, c.target.name) == (kind, name)]
        if checks:
            session = LocalSession({(kind, name): factory})
            found += g.judge_all(checks, [session.run(c.plan) for c in checks], name)
    return found


@pytest.mark.parametrize("deviant", sorted(DEVIANTS))
def test_a_mistake_the_catalogue_lacks_is_caught_and_named_none(deviant):
    verdicts = graded(*DEVIANTS[deviant])
    failing = [v for v in verdicts if v.status != "passed"]
    assert failing, f"{deviant} passes every check"
    named = [(v.name, v.misconception) for v in failing if v.misconception]
    assert named == [], named


def test_judged_one_check_at_a_time_a_lookalike_would_be_named():
    """The control: the same answers judged check by check (``verdict``) do name a
    catalogue entry for at least one deviant, so naming across checks is what keeps it out."""
    named = []
    for kind, name, factory in DEVIANTS.values():
        for assignment in BUNDLED:
            g = grader(assignment)
            session = LocalSession({(kind, name): factory})
            for check in g.checks:
                if (check.target.kind, check.target.name) == (kind, name):
                    v = g.verdict(check, session.run(check.plan))
                    named += [v.misconception] if v.misconception else []
    assert named


def test_a_check_that_compared_nothing_names_nothing():
    """A timed-out check is no evidence: it names no misconception, while the component's
    other failing checks still name the one that explains them."""
    from gradekit.sandbox.plan import Outcome
    from gradekit_reference.mutants import all_mutants

    (mutant,) = [m for m in all_mutants() if m.name == "relu_backward_gates_on_dout"]
    g = grader("backprop")
    checks = [c for c in g.checks if c.spec.component == "activations/relu"]
    session = LocalSession({("activations", "relu"): mutant.factory})
    outcomes = [session.run(c.plan) for c in checks]
    timed_out = next(i for i, c in enumerate(checks) if c.spec.id == "relu.gradient")
    outcomes[timed_out] = Outcome(status="timeout", detail="no answer within 2 s")
    verdicts = g.judge_all(checks, outcomes, "student")
    assert verdicts[timed_out].status == "timeout"
    assert verdicts[timed_out].misconception is None
    others = [v for i, v in enumerate(verdicts) if i != timed_out and v.status != "passed"]
    assert others and all(mutant.misconception == v.misconception for v in others)
