"""The transfer-learning advice: the lecture's table of what to retrain, asked cell by cell.

The diagnoser's ``advise(data_size, similarity)`` names a cell of the table (rows: very
little data or a lot; columns: similar or different data). The grid asks every cell away
from the thresholds and at their edges: ``LITTLE_DATA - 1``, ``LITTLE_DATA`` and
``LITTLE_DATA + 1`` examples, and similarities just below, at and just above
``SIMILAR``, where a ``<`` written as ``<=`` shows. Every question is a case; a
diagnoser that does no better than guessing the commonest cell (``diagnosis.GUESSING``)
earns nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from ..components.training import LITTLE_DATA, SIMILAR, TRANSFER_LABELS
from ..hookspecs import hookimpl
from ..sandbox.plan import Outcome, Plan
from .base import Case, CheckKind, Options, Target
from .compare import describe, failed_call
from .diagnosis import GUESSING, answer_label, binomial_pmf

KEY = "advice"


class AdviceOptions(Options):
    random: int = Field(default=0, ge=0, le=200)
    """Questions drawn at random from the check's seed, beside the fixed grid."""


def questions(target: Target, options: AdviceOptions) -> tuple[np.ndarray, np.ndarray]:
    """The grid of data sizes and similarities, edges included, then ``random`` pairs."""
    sizes = [1, 50, LITTLE_DATA - 1, LITTLE_DATA, LITTLE_DATA + 1, 20 * LITTLE_DATA, 10**6]
    sims = [0.0, 0.2, SIMILAR - 1e-9, SIMILAR, SIMILAR + 1e-9, 0.8, 1.0]
    n, s = (a.ravel() for a in np.meshgrid(sizes, sims, indexing="ij"))
    rng = target.rng(3)
    extra_n = np.round(10 ** rng.uniform(0, 6, options.random))
    extra_s = rng.uniform(0, 1, options.random)
    return (
        np.concatenate([n, extra_n]).astype(np.int64),
        np.concatenate([s, extra_s]).astype(np.float64),
    )


def _cells(outcome: Outcome, n: int) -> np.ndarray | str:
    """The answers as label indices, or why they are unusable."""
    missing = failed_call(outcome, KEY)
    if missing is not None:
        return missing.message
    value = outcome.values[KEY]
    cells = value.get("cells") if isinstance(value, dict) else value
    if not (isinstance(cells, np.ndarray) and cells.dtype.kind in "iu" and cells.shape == (n,)):
        return f"unreadable result {describe(cells)}"
    return cells


class Advice(CheckKind):
    """The diagnoser names the lecture's transfer-learning cell for every question."""

    name = "advice"
    kinds = ("diagnosers",)
    options = AdviceOptions
    summary = (
        "the lecture's transfer-learning table (data size x similarity), every cell and "
        "the thresholds' edges"
    )

    def plan(self, target: Target, options: AdviceOptions) -> Plan:
        sizes, sims = questions(target, options)
        plan = Plan()
        plan.make("diagnoser", target.kind, target.name, **target.kwargs)
        plan.routine(
            "advise_table",
            KEY,
            diagnoser={"component": "diagnoser"},
            sizes=plan.array(sizes),
            similarities=plan.array(sims),
        )
        plan.meta = {"sizes": sizes, "similarities": sims}
        return plan

    def judge(
        self, target: Target, options: AdviceOptions, plan: Plan, outcome: Outcome, expected: Any
    ) -> list[Case]:
        sizes, sims = plan.meta["sizes"], plan.meta["similarities"]
        names = [f"advise({int(n)}, {s:.10g})" for n, s in zip(sizes, sims, strict=True)]
        want = _cells(expected, len(sizes))
        if isinstance(want, str):
            return [Case("advice", False, f"the reference's run failed: {want}")]
        got = _cells(outcome, len(sizes))
        if isinstance(got, str):
            return [Case(name, False, f"{name}: {got}") for name in names]
        cases = []
        for name, g, w in zip(names, got.tolist(), want.tolist(), strict=True):
            said, due = (answer_label(c, TRANSFER_LABELS) for c in (g, w))
            message = (
                f"{name}: answered {said}, expected {due} (very little data is "
                f"fewer than {LITTLE_DATA} examples; similar data has a similarity of "
                f"{SIMILAR:g} or more)"
            )
            cases.append(Case(name, g == w, "" if g == w else message))
        cases.append(_above_chance(got, want))
        return cases


def _above_chance(got: np.ndarray, want: np.ndarray) -> Case:
    """A gate: more right answers than the best constant answer (its rate: the commonest
    cell) gives with probability ``GUESSING``."""
    right = int((got == want).sum())
    rate = float(np.bincount(want[want >= 0], minlength=1).max()) / max(len(want), 1)
    p_value = float(binomial_pmf(len(want), min(rate, 1.0))[right:].sum())
    name = "better than guessing"
    if p_value <= GUESSING:
        return Case(name, True, weight=0.0, gate=True)
    return Case(
        name,
        False,
        f"{name}: {right} of {len(want)} right, which guessing the commonest cell reaches "
        f"with probability {p_value:.2g}: the advice earns nothing",
        weight=0.0,
        gate=True,
    )


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The transfer-advice check."""
    return [Advice()]
