"""Each case of the stochastic check judges its own property, whatever else is wrong.

A dropout mask shared by the batch is equal along the examples, a frozen mask along the
forwards: the standard errors count those copies as one draw (``estimates``), so only
the case about the mistake fails, on every seed and keep probability. A batchnorm whose
test time leaves out gamma and beta has exact running statistics, read with gamma = 1
and beta = 0: only the test-time output fails.
"""

from __future__ import annotations

from collections import Counter

import pytest

from gradekit.checks.base import Target
from gradekit.checks.features import compare_all
from gradekit.checks.stochastic import MODELS, Stochastic, StochasticOptions
from gradekit.sandbox.runner import LocalSession
from gradekit_reference import COMPONENTS
from gradekit_reference.mutants import all_mutants

MUTANTS = {m.name: m for m in all_mutants()}
SEEDS = 40
P_VALUES = (0.1, 0.2, 0.65, 0.8, 0.95)


def failures(mutant: str, name: str, kwargs: dict, options: StochasticOptions, seeds: int):
    """How often each case (p left out of its name) fails for ``mutant`` over the seeds."""
    reference = COMPONENTS["layers"][name]
    check, model = Stochastic(), MODELS[name]
    failed: Counter[str] = Counter()
    for seed in range(seeds):
        target = Target("layers", name, kwargs, seed, reference)
        plan = check.plan(target, options)
        expected = check.expect(
            target, options, plan, LocalSession({("layers", name): reference}).run
        )
        outcome = LocalSession({("layers", name): MUTANTS[mutant].factory}).run(plan)
        got = model.features(target, options, plan, outcome)
        for case in compare_all(got, expected.features, z=options.z):
            failed[case.name.split(" (")[0]] += not case.passed
    return {case: count for case, count in failed.items() if count}


@pytest.mark.parametrize(
    ("mutant", "case"),
    [
        ("dropout_one_mask_per_batch", "independent across examples"),
        ("dropout_frozen_mask", "fresh mask each forward"),
    ],
)
def test_a_shared_or_frozen_mask_fails_only_its_own_case(mutant, case):
    options = StochasticOptions(p_values=P_VALUES)
    assert failures(mutant, "dropout", {}, options, SEEDS) == {case: SEEDS * len(P_VALUES)}


@pytest.mark.parametrize("kwargs", [{"dim": 5}, {"dim": 3, "eps": 1e-3, "momentum": 0.2}])
def test_a_test_time_without_gamma_and_beta_fails_only_the_test_time_output(kwargs):
    assert failures("batchnorm_test_no_affine", "batchnorm", kwargs, StochasticOptions(), 3) == {
        "test time": 3
    }
