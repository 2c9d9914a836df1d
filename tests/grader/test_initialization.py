"""The initialization assignment: distributions, the lecture's experiment, the symmetry problem.

The generic tests (reference, examples, alternatives, mutants) are in test_examples.py and
test_mutants.py; here are the checks' own behaviour on hand-made wrong initializers, run
in-process through the same plan executor, and the bands against direct runs.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path

import numpy as np
import pytest

from gradekit.checks.init_experiment import gaussian_bands
from gradekit.routines import init_experiment
from gradekit.sandbox.runner import LocalSession
from gradekit_reference.initializers import He, Normal
from gradekit_reference.mutants import all_mutants

from .conftest import grader

NAME = "initialization"
MUTANTS = [m for m in all_mutants() if m.kind == "initializers"]
ALTERNATIVES = Path(__file__).parents[1] / "submissions" / "correct"


def checks_of(component: str, type_: str | None = None):
    return [
        c
        for c in grader(NAME).checks
        if c.spec.component == component and (type_ is None or c.spec.type == type_)
    ]


def judge_local(check, factory, seed: int | None = None):
    """Run ``check`` on a trusted ``factory`` in-process and judge it as a submission."""
    target = check.target if seed is None else dataclasses.replace(check.target, seed=seed)
    plan = check.kind.plan(target, check.spec.parsed_options)
    outcome = LocalSession({(target.kind, target.name): factory}).run(plan)
    return check.kind.judge(target, check.spec.parsed_options, plan, outcome, check.expected)


def failed(cases) -> dict[str, str]:
    return {c.name: c.message for c in cases if not c.passed}


@functools.cache
def buggy_result():
    """The buggy example graded through the worker, once."""
    g = grader(NAME)
    return g.grade(g.assignment.folder / "examples" / "buggy.py")


def test_every_initializer_mutant_is_listed():
    assert {m.name for m in MUTANTS} >= {
        "he_no_factor_2",
        "xavier_fan_out",
        "glorot_lecture_formula",
        "normal_std_as_variance",
        "he_uniform_normal_std_as_limit",
        "glorot_uniform_normal_std_as_limit",
    }


# ------------------------------------------------------------------ distribution
class GlobalRandom:
    """Ignores the rng it is given."""

    def __call__(self, shape, rng):
        return np.random.standard_normal(shape) * math.sqrt(2.0 / shape[0])


class Transposed:
    def __call__(self, shape, rng):
        return rng.standard_normal(shape[::-1]) * math.sqrt(2.0 / shape[0])


class AsList:
    def __call__(self, shape, rng):
        return (rng.standard_normal(shape) * math.sqrt(2.0 / shape[0])).tolist()


class UniformHe:
    """He's std with a uniform draw: right scale, wrong family."""

    def __call__(self, shape, rng):
        a = math.sqrt(6.0 / shape[0])
        return rng.uniform(-a, a, shape)


class TruncatedHe:
    """Keras' truncated normal (at 2 std, rescaled): the course asks for a plain normal."""

    def __call__(self, shape, rng):
        w = rng.standard_normal(shape)
        while (bad := np.abs(w) > 2).any():
            w[bad] = rng.standard_normal(int(bad.sum()))
        return w * math.sqrt(2.0 / shape[0]) / 0.87962566103423978


class ShiftedHe:
    def __call__(self, shape, rng):
        s = math.sqrt(2.0 / shape[0])
        return s * rng.standard_normal(shape) + 0.05 * s


class FloatThirtyTwoHe:
    """float32 draws in another order: statistics only, so it passes."""

    def __call__(self, shape, rng):
        s = np.float32(math.sqrt(2.0 / shape[0]))
        return rng.standard_normal(shape[::-1], dtype=np.float32).T * s


@pytest.mark.parametrize(
    ("factory", "case", "needle"),
    [
        (GlobalRandom, "rng", "left the generator it was given untouched"),
        (Transposed, "array", "expected shape (512, 128), received shape (128, 512)"),
        (AsList, "array", "expected an ndarray, received list"),
        (UniformHe, "family", "a normal has kurtosis 3, a uniform 1.8"),
        (TruncatedHe, "family", "(a normal distribution"),
        (ShiftedHe, "mean", "the weights must be centred on 0"),
    ],
    ids=lambda v: getattr(v, "__name__", None) if isinstance(v, type) else None,
)
def test_distribution_names_what_is_wrong(factory, case, needle):
    (check,) = checks_of("initializers/he", "distribution")[:1]
    wrong = failed(judge_local(check, factory))
    assert case in wrong, wrong
    assert needle in wrong[case]


def test_distribution_accepts_any_order_of_random_calls():
    check = checks_of("initializers/he", "distribution")[0]
    for seed in range(5):
        assert failed(judge_local(check, FloatThirtyTwoHe, seed=seed)) == {}
        assert failed(judge_local(check, check.target.reference, seed=seed)) == {}


def test_distribution_of_a_constant_compares_values():
    check = next(c for c in checks_of("initializers/constant") if c.target.kwargs)
    wrong = failed(judge_local(check, lambda value=0.0: lambda shape, rng: np.zeros(shape)))
    assert list(wrong) == ["values"]
    assert "received 0, expected 0.3" in wrong["values"]


@pytest.mark.parametrize(
    "draws", [lambda d: d[:-1], lambda d: d + d[:1], lambda d: np.stack(d), lambda d: None]
)
def test_draws_that_are_not_one_per_call_fail_the_array_case_not_the_judge(draws):
    """The routine sends one draw per seed; an answer with more, fewer or none (a forged
    one) fails its shape's ``array`` case, never raises."""
    check = checks_of("initializers/he", "distribution")[0]
    options = check.spec.parsed_options
    plan = check.kind.plan(check.target, options)
    outcome = LocalSession({("initializers", "he"): check.target.reference}).run(plan)
    calls = len(outcome.values["s0"]["draws"])
    outcome.values["s0"]["draws"] = draws(outcome.values["s0"]["draws"])
    wrong = failed(check.kind.judge(check.target, options, plan, outcome, check.expected))
    shape = options.shapes[0]
    assert wrong == {
        "array": f"array: init({shape}, rng): the draws of its {calls} calls are missing"
    }


def test_reproducibility_is_optional():
    check = checks_of("initializers/he", "distribution")[0]
    strict = check.spec.parsed_options.model_copy(update={"require_reproducible": True})
    plan = check.kind.plan(check.target, strict)
    outcome = LocalSession({("initializers", "he"): GlobalRandom}).run(plan)
    cases = check.kind.judge(check.target, strict, plan, outcome, check.expected)
    assert {"rng", "reproducible"} <= set(failed(cases))


# ------------------------------------------------------------------- experiments
def test_bands_read_as_the_lecture_says():
    bands = {c.spec.id: c.expected for c in grader(NAME).checks if c.spec.type == "init_experiment"}
    collapse = bands["experiment.tanh-std0.01"].std
    np.testing.assert_allclose(collapse, [0.49, 0.29, 0.18, 0.11, 0.07, 0.05], atol=0.01)
    np.testing.assert_allclose(bands["experiment.tanh-std0.05"].std[1:], 0.85, atol=0.01)
    scaled = bands["experiment.tanh-xavier"].std
    np.testing.assert_allclose(scaled, [0.63, 0.49, 0.41, 0.36, 0.32, 0.29], atol=0.01)
    relu = bands["experiment.relu-xavier"].std
    np.testing.assert_allclose(relu[2:] / relu[:-2], 0.5, atol=0.02)  # halves every 2 layers
    he = bands["experiment.relu-he"]
    np.testing.assert_allclose(he.mean, 0.564, atol=0.01)
    np.testing.assert_allclose(he.std, 0.826, atol=0.012)
    assert all(b.method == "exact Gaussian simulation" for b in bands.values())


@pytest.mark.parametrize(("activation", "init"), [("relu", He()), ("tanh", Normal(0.05))])
def test_gaussian_simulation_matches_direct_runs(activation, init):
    """The bands' exact simulation and gradekit's routine give the same statistics: at a
    small width (the identity is exact at any width), 40 direct runs against 256 simulated."""
    width, s = 128, init.std((128, 128))
    means, stds = gaussian_bands(0.0, s, activation, 6, width, 16, 11, 256)
    direct = [
        init_experiment(init, activation, 6, width, 16, seed)["activations"].astype(np.float64)
        for seed in range(40)
    ]
    for sim, got in (
        (means, [a.mean(axis=(1, 2)) for a in direct]),
        (stds, [a.std(axis=(1, 2)) for a in direct]),
    ):
        got = np.array(got)
        z = (got.mean(0) - sim.mean(0)) / (sim.std(0) / math.sqrt(len(got)))
        assert np.all(np.abs(z) < 4.5), z
        ratio = got.std(0, ddof=1) / sim.std(0)
        assert np.all((ratio > 0.6) & (ratio < 1.5)), ratio


def test_experiment_messages_name_the_layer_and_the_reading():
    verdict = next(c for c in buggy_result().checks if c.name == "experiment.relu-he")
    assert verdict.message.startswith("layer 1: received std 0.5")
    assert "expected 0.82" in verdict.message
    assert "ReLU with He weights: mean ~0.56, std ~0.83 in every layer" in verdict.message
    assert "He initialization without the factor 2" in verdict.misconception


def test_experiment_rejects_a_wrong_type():
    (check,) = checks_of("initializers/he", "init_experiment")
    bad = failed(judge_local(check, AsList))
    width = check.spec.parsed_options.width
    assert f"expected a float ndarray of shape ({width}, {width})" in bad["activations"]


# ---------------------------------------------------------------------- symmetry
def test_symmetry_control_and_reading():
    for check in checks_of("initializers/constant", "symmetry"):
        cases = judge_local(check, check.target.reference)
        assert failed(cases) == {}
        assert {c.name for c in cases} == {
            "initial weights",
            "training reproduced",
            "hidden units",
            "control",
        }
        assert min(check.expected.controls.values()) > 1e-3
        assert check.expected.symmetric


def test_symmetry_catches_random_and_wrong_constants():
    check = next(c for c in checks_of("initializers/constant", "symmetry") if c.target.kwargs)

    def random(value=0.0):
        return lambda shape, rng: value + 0.1 * rng.standard_normal(shape)

    wrong = failed(judge_local(check, random))
    assert set(wrong) == {"initial weights", "hidden units"}
    assert "the symmetry problem" in wrong["hidden units"]

    def zeros(value=0.0):
        return lambda shape, rng: np.zeros(shape)

    wrong = failed(judge_local(check, zeros))
    assert set(wrong) == {"initial weights"}  # zeros are symmetric too, but not the value
    assert "expected 0.5" in wrong["initial weights"]


def test_symmetry_recomputes_the_training():
    check = next(c for c in checks_of("initializers/constant", "symmetry") if c.target.kwargs)
    outcome = LocalSession({("initializers", "constant"): check.target.reference}).run(check.plan)
    outcome.values["run"]["trained"]["W1"] = outcome.values["run"]["trained"]["W1"] + 1.0
    cases = check.kind.judge(
        check.target, check.spec.parsed_options, check.plan, outcome, check.expected
    )
    assert list(failed(cases)) == ["training reproduced"]
