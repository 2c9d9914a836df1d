"""The diagnoser on a bank of curves and errors generated in the grader from seeds.

The bank (``diagnosis_bank``) draws every curve from one of the lecture's situations with
its true label, close calls included, and every row of errors from a cell of the ML
recipe. The reference is required to read every graded case right: a curve it misreads
is drawn again from that curve's own generator, deterministically from the seed, so the
reference's answers are the true labels and a correct diagnoser gets full marks. A
diagnoser that reads such a curve like the truth, not like the reference, loses nothing:
the curve is not in the bank. A row's cell follows from its errors by the recipe's
formula, kept far from ``tol``. Every curve and every row is a case of its own.
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
from . import diagnosis_bank as bank
from .base import Case, CheckKind, Options, Target
from .compare import describe, failed_call


class DiagnosisOptions(Options):
    per_shape: int = Field(default=8, ge=1, le=100)
    """Curves of each of the six labels, shared between its two situations."""
    per_cell: int = Field(default=4, ge=1, le=100)
    """Rows of errors of each recipe cell; the first of each is the lecture's."""


def curve_bank(
    seed: int, options: DiagnosisOptions, reader: Any = None
) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """The bank's curves, in label order: train, val, true labels. With a ``reader`` (a
    trusted diagnoser), only curves it reads right, as the check grades them."""
    keep = None if reader is None else (lambda c: _reads(reader, c))
    curves = bank.curves(seed, options.per_shape, keep)
    return [c.train for c in curves], [c.val for c in curves], [c.label for c in curves]


def recipe_bank(seed: int, options: DiagnosisOptions) -> tuple[np.ndarray, list[str]]:
    """Rows ``(train_err, test_err, base_err, tol)`` of every cell, and their true cells."""
    rows = bank.rows(seed, options.per_cell)
    return _table(rows), [r.cell for r in rows]


def _table(rows: list[bank.Row]) -> np.ndarray:
    """The rows' errors as the plan sends them: one ``(train, test, base, tol)`` a row."""
    return np.array([r.errors for r in rows], dtype=np.float64)


def _reads(reader: Any, curve: bank.Curve) -> bool:
    """Whether ``reader`` names ``curve``'s true label (on copies: it may write on them)."""
    return reader.diagnose(curve.train.copy(), curve.val.copy()) == curve.label


def answer_label(code: int, labels: tuple[str, ...]) -> str:
    """A diagnoser's answer as its label, for a message."""
    return repr(labels[code]) if 0 <= code < len(labels) else "an answer that is not a label"


class Diagnosis(CheckKind):
    """The diagnoser names every curve's situation and every recipe cell of a generated
    bank, each scored against its true label."""

    name = "diagnosis"
    kinds = ("diagnosers",)
    options = DiagnosisOptions
    summary = (
        "learning curves of the lecture's six situations, close calls included, and the "
        "four ML-recipe cells, each scored against its true label"
    )

    def plan(self, target: Target, options: DiagnosisOptions) -> Plan:
        reference = target.build()
        curves = bank.curves(target.seed, options.per_shape, lambda c: _reads(reference, c))
        rows = bank.rows(target.seed, options.per_cell)
        errors = _table(rows)
        plan = Plan()
        plan.make("diagnoser", target.kind, target.name, **target.kwargs)
        plan.routine(
            "diagnose_bank",
            "bank",
            diagnoser={"component": "diagnoser"},
            train=[plan.array(c.train) for c in curves],
            val=[plan.array(c.val) for c in curves],
            errors=plan.array(errors),
        )
        plan.meta = {
            "labels": [c.label for c in curves],
            "situations": [c.situation for c in curves],
            "facts": [c.fact for c in curves],
            "cells": [r.cell for r in rows],
            "rows": [r.situation for r in rows],
            "errors": errors,
            "train": [c.train for c in curves],
            "val": [c.val for c in curves],
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
        """A case per curve and per row; ``expected`` is the reference's outcome, its true
        labels (or a mutant's, when the grader looks for a misconception)."""
        meta = plan.meta
        curves, cells = len(meta["labels"]), len(meta["cells"])
        names = _names(meta)
        got = _codes(outcome, curves, cells)
        want = _codes(expected, curves, cells)
        if isinstance(want, str):
            return [Case("bank", False, f"the reference's run failed: {want}")]
        if isinstance(got, str):
            return [Case(n, False, f"{n}: {got}") for n in names]
        cases = []
        for i, name in enumerate(names[:curves]):
            g, w = int(got[0][i]), int(want[0][i])
            message = (
                f"{name}: answered {answer_label(g, CURVE_LABELS)}, expected "
                f"{answer_label(w, CURVE_LABELS)}: {meta['facts'][i]}"
            )
            cases.append(Case(name, g == w, "" if g == w else message))
        for i, name in enumerate(names[curves:]):
            g, w = int(got[1][i]), int(want[1][i])
            train, test, base, tol = meta["errors"][i]
            message = (
                f"{name}: train error {train:.3f}, test error {test:.3f}, base error "
                f"{base:.3f}, tol {tol:g} (bias {train - base:.3f}, variance "
                f"{test - train:.3f}): answered {answer_label(g, RECIPE_LABELS)}, expected "
                f"{answer_label(w, RECIPE_LABELS)}"
            )
            cases.append(Case(name, g == w, "" if g == w else message))
        cases.append(_above_chance(cases, want, curves, cells))
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
        meta = plan.meta
        curves, cells = len(meta["labels"]), len(meta["cells"])
        got = _codes(outcome, curves, cells)
        want = _codes(expected, curves, cells)
        if isinstance(got, str) or isinstance(want, str):
            return None
        wrong = [i for i in range(curves) if got[0][i] != want[0][i]][:3]
        if not wrong:
            return None
        panels = [
            Panel(
                kind="line",
                title=f"curve {i + 1} ({meta['situations'][i]}): "
                f"{answer_label(int(got[0][i]), CURVE_LABELS)} "
                f"(expected {answer_label(int(want[0][i]), CURVE_LABELS)})",
                xlabel="epoch",
                ylabel="loss",
                log=True,
                series=[
                    Series.of("training", meta["train"][i]),
                    Series.of("validation", meta["val"][i]),
                ],
            )
            for i in wrong
        ]
        return Figure(title=f"{target.name}: curves misread", panels=panels)


def _names(meta: dict[str, Any]) -> list[str]:
    """The cases' names: each curve's and row's place and situation."""
    names = [f"curve {i + 1} ({s})" for i, s in enumerate(meta["situations"])]
    return names + [
        f"recipe {i + 1} ({cell}, {s})"
        for i, (cell, s) in enumerate(zip(meta["cells"], meta["rows"], strict=True))
    ]


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


def binomial_pmf(n: int, p: float) -> np.ndarray:
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
    chance = np.convolve(
        binomial_pmf(curves, min(rates[0], 1.0)), binomial_pmf(cells, min(rates[1], 1.0))
    )
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
