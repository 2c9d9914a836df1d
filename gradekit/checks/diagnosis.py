"""The diagnoser on a bank of curves and errors generated in the grader from seeds.

Curves come from the six shapes of the lecture's "debugging learning curves" slide, each
with random scale, length, time constants and multiplicative noise:

- ``not_training``: flat within a few percent;
- ``error_increasing``: the training loss grows;
- ``not_converged``: a slow exponential decay, still falling at the end;
- ``slow_start``: a plateau for a third of the epochs or more, then a fast decay;
- ``overfitting``: the training loss falls, the validation loss turns back up;
- ``looks_good``: a fast decay to a plateau, validation a little above training.

Errors come from the four cells of the ML recipe (the lecture's own table, then random
cases with bias and variance far from the threshold ``tol``). Every curve and every row
of errors is a case of its own: the score is the share answered like the reference.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import Field

from ..components.training import CURVE_LABELS, RECIPE_LABELS
from ..hookspecs import hookimpl
from ..results import Figure, Panel, Series
from ..sandbox.plan import Outcome, Plan
from .base import Case, CheckKind, Options, Target
from .compare import describe, failed_call

LECTURE_TABLE = (
    (0.01, 0.11, "high_variance"),
    (0.15, 0.10, "high_bias"),
    (0.15, 0.30, "high_bias_and_variance"),
    (0.005, 0.01, "low_bias_and_variance"),
)
"""The lecture's ML-recipe table: train and test error of each column (base error 0)."""


class DiagnosisOptions(Options):
    per_shape: int = Field(default=8, ge=1, le=100)
    """Curves of each of the six shapes."""
    per_cell: int = Field(default=4, ge=1, le=100)
    """Rows of errors of each recipe cell; the first of each is the lecture's."""
    epochs: tuple[int, int] = (30, 80)
    """The range of curve lengths."""
    noise: tuple[float, float] = (0.01, 0.04)
    """The range of the multiplicative noise's standard deviation (log scale)."""


def _shape(label: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free train and validation curves of one shape, ``n`` epochs."""
    e = np.arange(n) / (n - 1)
    a = rng.uniform(1.0, 3.0)
    f = a * rng.uniform(0.03, 0.25)
    gap = rng.uniform(1.0, 1.3)

    def decay(tau: float, floor: float, delay: float = 0.0) -> np.ndarray:
        return floor + (a - floor) * np.exp(-np.maximum(e - delay, 0.0) / tau)

    if label == "not_training":
        flat = a * (1 + rng.uniform(-0.02, 0.02) * e)
        return flat, flat * rng.uniform(1.0, 1.1)
    if label == "error_increasing":
        up = a * (1 + rng.uniform(0.4, 2.0) * e ** rng.uniform(0.7, 2.0))
        return up, up * gap
    if label == "not_converged":
        tau = rng.uniform(0.5, 1.0)
        return decay(tau, f), decay(tau, f * gap)
    if label == "slow_start":
        delay, tau = rng.uniform(0.3, 0.45), rng.uniform(0.04, 0.08)
        return decay(tau, f, delay), decay(tau, f * gap, delay)
    if label == "overfitting":
        tau, turn = rng.uniform(0.05, 0.2), rng.uniform(0.25, 0.55)
        rise = rng.uniform(0.3, 0.8) * (a - f * gap)
        val = decay(tau, f * gap) + rise * np.maximum(e - turn, 0.0) / (1 - turn)
        return decay(tau, 0.5 * f), val
    tau = rng.uniform(0.05, 0.15)
    return decay(tau, f), decay(tau, f * gap)


def curve_bank(
    seed: int, options: DiagnosisOptions
) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """``per_shape`` noisy curves of every shape, in label order: train, val, labels."""
    rng = np.random.default_rng([seed, 0])
    train, val, labels = [], [], []
    for label in CURVE_LABELS:
        for _ in range(options.per_shape):
            n = int(rng.integers(options.epochs[0], options.epochs[1] + 1))
            tr, va = _shape(label, n, rng)
            s = rng.uniform(*options.noise)
            train.append(tr * np.exp(s * rng.standard_normal(n)))
            val.append(va * np.exp(s * rng.standard_normal(n)))
            labels.append(label)
    return train, val, labels


def recipe_bank(seed: int, options: DiagnosisOptions) -> tuple[np.ndarray, list[str]]:
    """Rows ``(train_err, test_err, base_err, tol)`` of every cell, and their cells."""
    rng = np.random.default_rng([seed, 1])
    rows, labels = [], []
    for train_err, test_err, label in LECTURE_TABLE:
        rows.append((train_err, test_err, 0.0, 0.05))
        labels.append(label)
        for _ in range(options.per_cell - 1):
            tol = float(rng.choice([0.02, 0.05, 0.1]))
            base = float(rng.choice([0.0, rng.uniform(0.0, 0.05)]))
            high_bias = "bias" in label and not label.startswith("low")
            high_var = "variance" in label and not label.startswith("low")
            bias = rng.uniform(2, 5) * tol if high_bias else rng.uniform(0, 0.5) * tol
            train = base + bias
            var = rng.uniform(2, 5) * tol if high_var else rng.uniform(-min(train, tol), 0.5 * tol)
            rows.append((train, train + var, base, tol))
            labels.append(label)
    return np.array(rows, dtype=np.float64), labels


def _answer(code: int, labels: tuple[str, ...]) -> str:
    return repr(labels[code]) if 0 <= code < len(labels) else "an answer that is not a label"


class Diagnosis(CheckKind):
    """The diagnoser names every curve's shape and every recipe cell of a generated bank."""

    name = "diagnosis"
    kinds = ("diagnosers",)
    options = DiagnosisOptions
    summary = "learning curves of the six shapes and the four ML-recipe cells, scored per case"

    def plan(self, target: Target, options: DiagnosisOptions) -> Plan:
        train, val, labels = curve_bank(target.seed, options)
        errors, cells = recipe_bank(target.seed, options)
        plan = Plan()
        plan.make("diagnoser", target.kind, target.name, **target.kwargs)
        plan.routine(
            "diagnose_bank",
            "bank",
            diagnoser={"component": "diagnoser"},
            train=[plan.array(c) for c in train],
            val=[plan.array(c) for c in val],
            errors=plan.array(errors),
        )
        plan.meta = {
            "labels": labels,
            "cells": cells,
            "errors": errors,
            "train": train,
            "val": val,
        }
        return plan

    def judge(
        self,
        target: Target,
        options: DiagnosisOptions,
        plan: Plan,
        outcome: Outcome,
        expected: Outcome,
    ) -> list[Case]:
        labels, cells, errors = plan.meta["labels"], plan.meta["cells"], plan.meta["errors"]
        names = [f"curve {i + 1} ({label})" for i, label in enumerate(labels)]
        names += [f"recipe {i + 1} ({cell})" for i, cell in enumerate(cells)]
        got = _codes(outcome, len(labels), len(cells))
        want = _codes(expected, len(labels), len(cells))
        if isinstance(want, str):
            return [Case("bank", False, f"the reference's run failed: {want}")]
        if isinstance(got, str):
            return [Case(n, False, f"{n}: {got}") for n in names]
        cases = []
        for i, name in enumerate(names[: len(labels)]):
            g, w = int(got[0][i]), int(want[0][i])
            message = (
                ""
                if g == w
                else f"{name}: received {_answer(g, CURVE_LABELS)}, expected "
                f"{_answer(w, CURVE_LABELS)}"
            )
            cases.append(Case(name, g == w, message))
        for i, name in enumerate(names[len(labels) :]):
            g, w = int(got[1][i]), int(want[1][i])
            train, test, base, tol = errors[i]
            message = (
                ""
                if g == w
                else f"{name}: train error {train:.3f}, test error {test:.3f}, base error "
                f"{base:.3f}, tol {tol:g}: received {_answer(g, RECIPE_LABELS)}, expected "
                f"{_answer(w, RECIPE_LABELS)}"
            )
            cases.append(Case(name, g == w, message))
        cases.append(_above_chance(cases, want, len(labels), len(cells)))
        return cases

    def figure(
        self,
        target: Target,
        options: DiagnosisOptions,
        plan: Plan,
        outcome: Outcome,
        expected: Outcome,
    ) -> Figure | None:
        """Up to three curves the diagnoser misread, train and validation loss by epoch."""
        labels = plan.meta["labels"]
        got = _codes(outcome, len(labels), len(plan.meta["cells"]))
        want = _codes(expected, len(labels), len(plan.meta["cells"]))
        if isinstance(got, str) or isinstance(want, str):
            return None
        wrong = [i for i in range(len(labels)) if got[0][i] != want[0][i]][:3]
        if not wrong:
            return None
        panels = [
            Panel(
                kind="line",
                title=f"curve {i + 1}: {_answer(int(got[0][i]), CURVE_LABELS)} "
                f"(expected {_answer(int(want[0][i]), CURVE_LABELS)})",
                xlabel="epoch",
                ylabel="loss",
                log=True,
                series=[
                    Series.of("training", plan.meta["train"][i]),
                    Series.of("validation", plan.meta["val"][i]),
                ],
            )
            for i in wrong
        ]
        return Figure(
            title=f"{target.name}: curves read differently from the reference", panels=panels
        )


def _codes(outcome: Outcome, n_curves: int, n_cells: int) -> tuple[Any, Any] | str:
    """The answers as two integer arrays, or why they are unusable."""
    missing = failed_call(outcome, "bank")
    if missing is not None:
        return missing.message
    value = outcome.values["bank"]
    if not isinstance(value, dict):
        return f"unreadable result {describe(value)}"
    curves, cells = value.get("curves"), value.get("recipe")
    for arr, size in ((curves, n_curves), (cells, n_cells)):
        if not (isinstance(arr, np.ndarray) and arr.dtype.kind in "iu" and arr.shape == (size,)):
            return f"unreadable result {describe(arr)}"
    return curves, cells


def score(cases: list[Case]) -> float:
    """The share of cases passed (every case weighs the same)."""
    return sum(c.passed for c in cases) / len(cases) if cases else 0.0


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The diagnosis check."""
    return [Diagnosis()]


GUESSING = 1e-3
"""A diagnoser earns nothing unless guessing would do as well with at most this chance."""


def _tail(n: int, p: float) -> np.ndarray:
    """The probabilities of 0..n successes in ``n`` trials of chance ``p``."""
    k = np.arange(n + 1)
    return np.array([math.comb(n, int(i)) for i in k]) * p**k * (1 - p) ** (n - k)


def _above_chance(cases: list[Case], want: Any, curves: int, cells: int) -> Case:
    """A gate: the right answers are more than the best constant answer per question
    (its rate: the commonest expected label) would give with probability ``GUESSING``."""
    right = sum(c.passed for c in cases)
    rates = [
        max(np.bincount(np.asarray(w, dtype=np.int64)).max() / max(len(w), 1), 1e-9) for w in want
    ]
    chance = np.convolve(_tail(curves, min(rates[0], 1.0)), _tail(cells, min(rates[1], 1.0)))
    p_value = float(chance[right:].sum())
    name = "better than guessing"
    if p_value <= GUESSING:
        return Case(name, True, weight=0.0, gate=True)
    return Case(
        name,
        False,
        f"{name}: {right} of {curves + cells} right, which guessing the commonest answer"
        f" reaches with probability {p_value:.2g}: the diagnoser earns nothing",
        weight=0.0,
        gate=True,
    )
