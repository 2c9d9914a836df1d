"""The reference learning-rate schedules against their formulas, and the schedule mutants.

Expected values are built step by step (a running product), independently of the closed
forms the reference uses.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import pytest

from gradekit_reference import COMPONENTS
from gradekit_reference.mutants.optimizers import MUTANTS

SCHEDULES = COMPONENTS["schedules"]
STEPS = range(121)


def stepwise_step_decay(lr0: float, gamma: float, step_size: int) -> list[float]:
    """Multiply by gamma whenever another step_size steps have passed."""
    lrs, lr = [], lr0
    for step in STEPS:
        if step > 0 and step % step_size == 0:
            lr *= gamma
        lrs.append(lr)
    return lrs


def stepwise_exponential(lr0: float, k: float) -> list[float]:
    """Multiply by exp(-k) at every step."""
    lrs, lr = [], lr0
    for _ in STEPS:
        lrs.append(lr)
        lr *= math.exp(-k)
    return lrs


def inverse_time(lr0: float, k: float) -> list[float]:
    """lr0 / (1 + k t), the lecture's 1/t decay."""
    return [lr0 / (1 + k * t) for t in STEPS]


CASES: list[tuple[str, dict, Callable[..., list[float]]]] = [
    ("step", {}, lambda: stepwise_step_decay(0.1, 0.1, 30)),
    ("step", {"lr0": 0.5, "gamma": 0.5, "step_size": 7}, lambda: stepwise_step_decay(0.5, 0.5, 7)),
    ("exponential", {}, lambda: stepwise_exponential(0.1, 0.01)),
    ("exponential", {"lr0": 1.0, "k": 0.1}, lambda: stepwise_exponential(1.0, 0.1)),
    ("inverse_time", {}, lambda: inverse_time(0.1, 0.01)),
    ("inverse_time", {"lr0": 0.3, "k": 0.5}, lambda: inverse_time(0.3, 0.5)),
]
"""(name, constructor kwargs, expected learning rates over STEPS): defaults first."""


def check_schedule(name: str, factory: Callable, kwargs: dict, expected: list[float]) -> str | None:
    """The schedule returns a float equal to the expected rate (rel. 1e-12) at every step."""
    schedule = factory(**kwargs)
    for step, want in zip(STEPS, expected, strict=True):
        got = schedule(step)
        if not isinstance(got, float) or not math.isclose(got, want, rel_tol=1e-12):
            return f"step {step}: received {got!r}, expected {want!r} ({kwargs})"
    return None


def run_checks(name: str, factory: Callable) -> list[str]:
    """Every case for ``name``: the failures found."""
    found = [check_schedule(name, factory, kw, exp()) for case, kw, exp in CASES if case == name]
    return [f for f in found if f]


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_reference_matches_formula(name):
    assert run_checks(name, SCHEDULES[name]) == []


def test_step_decay_is_lecture_x01_at_30_60_90():
    schedule = SCHEDULES["step"]()
    assert [schedule(e) for e in (0, 29, 30, 59, 60, 89, 90)] == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001, 0.0001], rel=1e-12
    )


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_starts_at_lr0_and_never_increases(name):
    schedule = SCHEDULES[name](lr0=0.25)
    lrs = [schedule(t) for t in STEPS]
    assert lrs[0] == 0.25
    assert all(b <= a for a, b in itertools.pairwise(lrs))


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("step", [-1, 2.5])
def test_rejects_bad_step(name, step):
    with pytest.raises(ValueError, match="step"):
        SCHEDULES[name]()(step)


@pytest.mark.parametrize(
    "mutant", [m for m in MUTANTS if m.kind == "schedules"], ids=lambda m: m.name
)
def test_checks_detect_mutant(mutant):
    assert mutant.target in SCHEDULES
    assert run_checks(mutant.target, mutant.factory), f"{mutant.name} passes every check"
