"""The conventions at kinks: a backward at exactly the kink, compared with the reference.

Central differences cannot judge a kink (at ReLU(0) they give 0.5), so every other case
of a gradient check stays away from kinks; the contract's convention there is its own case.
"""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.checks.gradient import KINKS
from gradekit.sandbox.runner import LocalSession
from gradekit_reference.mutants import all_mutants

from .conftest import BUNDLED, grader

KINK_MUTANTS = {"relu_kink_one": "f'(0) = 0", "leaky_relu_kink_one": "f'(0) = alpha"}
KINK_MUTANTS["hinge_kink_active"] = "where t z = 1 exactly"


def gradient_checks(kind: str, name: str) -> list:
    return [
        (g, c)
        for g in map(grader, BUNDLED)
        for c in g.checks
        if c.kind.name == "gradient" and (c.target.kind, c.target.name) == (kind, name)
    ]


@pytest.mark.parametrize("component", sorted(KINKS), ids="/".join)
def test_each_fixed_convention_is_probed_at_the_kink(component):
    """Every gradient check of such a component runs one backward with entries exactly at
    the kink (x = 0, or t z = 1), and only such components do."""
    checks = gradient_checks(*component)
    if not checks:
        pytest.skip(f"no bundled assignment checks {'/'.join(component)}'s gradient")
    for _, check in checks:
        saved = [op.get("save") for op in check.plan.ops]
        assert "kink" in saved, check.spec.id
        kink_input = check.plan.ops[saved.index("kink") - 1]["args"][0]
        x = check.plan.arrays[kink_input["array"]]
        at_kink = x == 0 if component[0] == "activations" else np.isin(x, [-1.0, 1.0])
        assert at_kink.any() and not at_kink.all(), check.spec.id


def test_components_without_a_kink_run_no_kink_backward():
    checks = [c for g in map(grader, BUNDLED) for c in g.checks if c.kind.name == "gradient"]
    plain = [c for c in checks if (c.target.kind, c.target.name) not in KINKS]
    assert plain
    for check in plain:
        assert "kink" not in [op.get("save") for op in check.plan.ops], check.spec.id


@pytest.mark.parametrize("name", sorted(KINK_MUTANTS))
def test_a_wrong_convention_fails_only_the_kink_case_and_says_which(name):
    (mutant,) = [m for m in all_mutants() if m.name == name]
    session = LocalSession({(mutant.kind, mutant.target): mutant.factory})
    checks = gradient_checks(mutant.kind, mutant.target)
    assert checks
    for g, check in checks:
        verdict = g.verdict(check, session.run(check.plan))
        failing = [c for c in verdict.cases if not c.passed]
        assert [c.name for c in failing] == ["at the kink"], [(c.name, c.message) for c in failing]
        assert "the contract fixes" in failing[0].message
        assert KINK_MUTANTS[name] in failing[0].message
        assert 0 < verdict.score < verdict.max_score
