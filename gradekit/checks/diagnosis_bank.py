"""The diagnosis check's bank: learning curves drawn from the lecture's situations, each with
its true label, and rows of errors from the cells of the ML recipe.

Each label of the "debugging learning curves" slide has two situations: an ordinary one,
which any reading of the curves gets right, and a close call, which a reading of their
ends gets wrong (``error_increasing``, which is read from its ends, has two ordinary
ones). Close calls are two thirds of a label's curves. Noise is multiplicative, a
log-normal factor per epoch, train and validation apart; runs last 30 to 500 epochs and
start at a loss of 0.3 to 3. Every label stays determined by its situation: over all
the parameters the ranges allow, the noise-free curves keep these margins, and a close
call's noise is kept small enough for a reading over a tenth of the run to see them:

- ``not_training``: the training loss ends within 1% of its start ("flat"; "flat under
  heavy noise": 5 to 6.5% per epoch, over 350 to 500 epochs). Every other situation's
  ends 35% or more below its start, or 40% or more above.
- ``error_increasing``: it ends 1.4 to 3 times its start ("rising"; "a dip before the
  climb": 10 to 20% down over the first 8 to 15% of the run, then up).
- ``not_converged``: the last fifth of the run still makes 7% or more of the drop, the
  first fifth 28% or more ("still falling"; "a decline as small as the noise": 6 to 8%
  per epoch, as large as the fall over the last 3 to 7% of the epochs).
- ``slow_start``: the first 35% of the run makes 5% of the drop at most, then the loss
  falls and levels off, its last fifth making 1% at most ("a slow start"; "a slow start
  that recovers": a slight creep on the plateau, then a level at up to half the start,
  flat for the last 30% of the run).
- ``overfitting``: the validation loss has its minimum between 25% and 65% of the run,
  then climbs back by a third of its drop or more while the training loss keeps falling
  ("overfitting"; "overfitting that starts late": the turn after 55% of the run, from a
  level of half the start or more, so the validation loss ends only 1.2 to 1.6 times the
  training loss). In no other situation with a falling training loss does the
  validation loss turn up.
- ``looks_good``: both losses level off by 60% of the run, the last fifth making 0.4% of
  the drop at most, validation up to 30% above training ("a good run"; "a good run that
  levels off high", at 30 to 45% of its start).

Recipe rows: bias and variance are 2 to 4 ``tol`` when high and at most half of it when
low; after the lecture's own row, each cell alternates a base error of 10 to 30% (a task
people get wrong too) with one of 5% at most.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..components.training import CURVE_LABELS
from ..errors import GradekitError

Shape = Callable[[np.ndarray, float, np.random.Generator], tuple[np.ndarray, np.ndarray, str]]
"""Noise-free train and validation curves on ``e`` (the run's progress, 0 to 1) for a
noise ``s``, and what a reader should see in them, in the lecture's words."""


@dataclass(frozen=True)
class Situation:
    """A situation of the lecture's slide: its name, true label and how its curves look."""

    name: str
    label: str
    close: bool
    """A close call: a reading of the curves' ends alone gets it wrong."""
    epochs: tuple[int, int]
    noise: tuple[float, float]
    shape: Shape


@dataclass(frozen=True)
class Curve:
    """One pair of noisy curves of the bank, with the truth about them."""

    train: np.ndarray
    val: np.ndarray
    label: str
    situation: str
    fact: str


def _start(rng: np.random.Generator) -> float:
    return float(10 ** rng.uniform(-0.5, 0.5))


def _decay(e: np.ndarray, start: float, floor: float, tau: float, delay: float = 0.0):
    return floor + (start - floor) * np.exp(-np.maximum(e - delay, 0.0) / tau)


def _epoch(e: np.ndarray, progress: float) -> int:
    """The epoch (counted from 1) at ``progress`` of the run."""
    return round(min(progress, 1.0) * (len(e) - 1)) + 1


def _flat(e: np.ndarray, s: float, rng: np.random.Generator):
    a, drift = _start(rng), rng.uniform(-0.01, 0.01)
    train = a * (1 + drift * e)
    return (
        train,
        train * rng.uniform(1.0, 1.1),
        f"the training loss is flat under noise of {s:.0%} per epoch: it ends {abs(drift):.1%} "
        f"{'above' if drift > 0 else 'below'} where it started",
    )


def _rising(e: np.ndarray, s: float, rng: np.random.Generator):
    a, r = _start(rng), rng.uniform(0.4, 2.0)
    train = a * (1 + r * e ** rng.uniform(0.7, 2.0))
    return (
        train,
        train * rng.uniform(1.0, 1.3),
        f"the training loss climbs to {1 + r:.1f} times where it started",
    )


def _dip_then_climb(e: np.ndarray, s: float, rng: np.random.Generator):
    a, r, dip, low = (
        _start(rng),
        rng.uniform(0.4, 1.5),
        rng.uniform(0.1, 0.2),
        rng.uniform(0.08, 0.15),
    )
    down = 1 - dip * e / low
    up = 1 - dip + (r + dip) * (e - low) / (1 - low)
    train = a * np.where(e < low, down, up)
    return (
        train,
        train * rng.uniform(1.0, 1.3),
        f"the training loss dips {dip:.0%} until epoch {_epoch(e, low)}, then climbs to "
        f"{1 + r:.1f} times where it started",
    )


def _decaying(e: np.ndarray, tau: tuple[float, float], floor: tuple[float, float], rng):
    """A decay still under way: train, validation and the last fifth's share of the drop."""
    a, t, g = _start(rng), rng.uniform(*tau), rng.uniform(1.0, 1.2)
    low = a * rng.uniform(*floor)
    train = _decay(e, a, low, t)
    last = (train[round(0.8 * (len(e) - 1))] - train[-1]) / (train[0] - train[-1])
    return train, _decay(e, a * g, low * g, t), last


def _falling(e: np.ndarray, s: float, rng: np.random.Generator):
    train, val, last = _decaying(e, (0.65, 0.9), (0.03, 0.25), rng)
    return (
        train,
        val,
        f"the training loss is still falling: the last fifth of the run makes {last:.0%} of "
        "its drop",
    )


def _decline_in_noise(e: np.ndarray, s: float, rng: np.random.Generator):
    train, val, last = _decaying(e, (0.5, 0.7), (0.0, 0.05), rng)
    within = int(np.sum(train < train[-1] * (1 + s)))
    return (
        train,
        val,
        f"the training loss is still falling: the last fifth of the run makes {last:.0%} of "
        f"its drop, though its noise of {s:.0%} per epoch is as large as its fall over the "
        f"last {within} epochs",
    )


def _slow_start(e: np.ndarray, s: float, rng: np.random.Generator):
    a, g = _start(rng), rng.uniform(1.0, 1.3)
    delay, tau = rng.uniform(0.35, 0.45), rng.uniform(0.03, 0.07)
    floor = a * rng.uniform(0.03, 0.25)
    return (
        _decay(e, a, floor, tau, delay),
        _decay(e, a * g, floor * g, tau, delay),
        f"the training loss stays on a plateau until epoch {_epoch(e, delay)}, then falls",
    )


def _slow_start_recovers(e: np.ndarray, s: float, rng: np.random.Generator):
    a, g = _start(rng), rng.uniform(1.0, 1.2)
    delay, tau = rng.uniform(0.35, 0.45), rng.uniform(0.03, 0.06)
    floor = a * rng.uniform(0.05, 0.5)
    top = a - rng.uniform(0.0, 0.05) * (a - floor) * np.minimum(e / delay, 1.0)
    train = floor + (top - floor) * np.exp(-np.maximum(e - delay, 0.0) / tau)
    return (
        train,
        train * g,
        f"the training loss barely moves until epoch {_epoch(e, delay)}, then falls and "
        f"levels off by epoch {_epoch(e, delay + 4 * tau)}",
    )


def _overfitting(e: np.ndarray, s: float, rng: np.random.Generator):
    a, tau, turn = _start(rng), rng.uniform(0.04, 0.1), rng.uniform(0.3, 0.5)
    floor, g = a * rng.uniform(0.03, 0.25), rng.uniform(1.0, 1.3)
    train = _decay(e, a, floor, tau) * (1 - rng.uniform(0.03, 0.1) * e)
    rise = rng.uniform(0.4, 0.8) * (a - floor * g)
    val = _decay(e, a, floor * g, tau) + rise * np.maximum(e - turn, 0.0) / (1 - turn)
    return (
        train,
        val,
        f"the validation loss turns up after epoch {_epoch(e, turn)} while training keeps falling",
    )


def _late_overfitting(e: np.ndarray, s: float, rng: np.random.Generator):
    a, tau, turn = _start(rng), rng.uniform(0.08, 0.15), rng.uniform(0.55, 0.65)
    floor, g = a * rng.uniform(0.5, 0.65), rng.uniform(1.0, 1.1)
    train = _decay(e, a, floor, tau) * (1 - rng.uniform(0.02, 0.05) * e)
    rise = rng.uniform(0.35, 0.5) * (a - floor * g)
    val = _decay(e, a, floor * g, tau) + rise * np.sqrt(np.maximum(e - turn, 0.0) / (1 - turn))
    return (
        train,
        val,
        f"the validation loss turns up after epoch {_epoch(e, turn)} while training keeps "
        f"falling, {val[-1] / val.min() - 1:.0%} above its lowest at the end",
    )


def _good(tau: tuple[float, float], floor: tuple[float, float], gap: float, high: bool):
    def shape(e: np.ndarray, s: float, rng: np.random.Generator):
        a, t, g = _start(rng), rng.uniform(*tau), rng.uniform(1.0, gap)
        low = a * rng.uniform(*floor)
        where = f" at {low / a:.0%} of where they started" if high else ""
        return (
            _decay(e, a, low, t),
            _decay(e, a * g, low * g, t),
            f"both losses level off by epoch {_epoch(e, 4 * t)}{where}, the validation loss "
            "a little above training",
        )

    return shape


ORDINARY = ((30, 150), (0.01, 0.025))
"""The lengths and noise of the ordinary situations."""

SITUATIONS = (
    Situation("flat", "not_training", False, *ORDINARY, _flat),
    Situation("flat under heavy noise", "not_training", True, (350, 500), (0.05, 0.065), _flat),
    Situation("rising", "error_increasing", False, *ORDINARY, _rising),
    Situation("a dip before the climb", "error_increasing", False, *ORDINARY, _dip_then_climb),
    Situation("still falling", "not_converged", False, *ORDINARY, _falling),
    Situation(
        "a decline as small as the noise",
        "not_converged",
        True,
        (300, 500),
        (0.06, 0.08),
        _decline_in_noise,
    ),
    Situation("a slow start", "slow_start", False, *ORDINARY, _slow_start),
    Situation(
        "a slow start that recovers",
        "slow_start",
        True,
        (40, 200),
        (0.01, 0.03),
        _slow_start_recovers,
    ),
    Situation("overfitting", "overfitting", False, *ORDINARY, _overfitting),
    Situation(
        "overfitting that starts late",
        "overfitting",
        True,
        (80, 200),
        (0.01, 0.025),
        _late_overfitting,
    ),
    Situation(
        "a good run", "looks_good", False, *ORDINARY, _good((0.05, 0.15), (0.03, 0.25), 1.3, False)
    ),
    Situation(
        "a good run that levels off high",
        "looks_good",
        True,
        (80, 200),
        (0.005, 0.015),
        _good((0.04, 0.12), (0.3, 0.45), 1.2, True),
    ),
)
"""Two situations per label, in the order of ``CURVE_LABELS``."""

REDRAWS = 20
"""Draws of one curve before a bank that ``keep`` keeps rejecting is an error."""


def draw(situation: Situation, rng: np.random.Generator) -> Curve:
    """One pair of noisy curves of ``situation``."""
    n = int(rng.integers(situation.epochs[0], situation.epochs[1] + 1))
    s = float(rng.uniform(*situation.noise))
    e = np.arange(n) / (n - 1)
    train, val, fact = situation.shape(e, s, rng)
    train = train * np.exp(s * rng.standard_normal(n))
    val = val * np.exp(s * rng.standard_normal(n))
    return Curve(train, val, situation.label, situation.name, fact)


def situations(label: str, count: int) -> list[Situation]:
    """The situations of ``count`` curves of ``label``: a third ordinary (rounded up) and
    the rest close calls, or half and half when the label has no close call."""
    ordinary, second = (s for s in SITUATIONS if s.label == label)
    first = -(-count // 3) if second.close else -(-count // 2)
    return [ordinary] * first + [second] * (count - first)


def curves(seed: int, per_label: int, keep: Callable[[Curve], bool] | None = None) -> list[Curve]:
    """``per_label`` curves of every label in label order (see ``situations``).

    Each curve has a generator of its own, from ``seed`` and its place: a curve ``keep``
    rejects is drawn again from it, and the others stay as they are.
    """
    bank: list[Curve] = []
    for label in CURVE_LABELS:
        for situation in situations(label, per_label):
            rng = np.random.default_rng([seed, 0, len(bank)])
            for _ in range(REDRAWS):
                curve = draw(situation, rng)
                if keep is None or keep(curve):
                    break
            else:
                raise GradekitError(
                    f"the diagnosis bank of seed {seed}: {REDRAWS} draws of "
                    f"{situation.name!r} rejected in a row"
                )
            bank.append(curve)
    return bank


LECTURE_TABLE = (
    (0.01, 0.11, "high_variance"),
    (0.15, 0.10, "high_bias"),
    (0.15, 0.30, "high_bias_and_variance"),
    (0.005, 0.01, "low_bias_and_variance"),
)
"""The lecture's ML-recipe table: train and test error of each column (base error 0)."""


@dataclass(frozen=True)
class Row:
    """One row of errors for ``recipe``, with its true cell."""

    errors: tuple[float, float, float, float]
    """``(train_err, test_err, base_err, tol)``."""
    cell: str
    situation: str


def _errors(
    cell: str, high_base: bool, rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """``(train_err, test_err, base_err, tol)`` of ``cell``, with a high or a low base."""
    tol = float(rng.choice([0.02, 0.05] if high_base else [0.02, 0.05, 0.1]))
    base = rng.uniform(0.1, 0.3) if high_base else float(rng.choice([0.0, rng.uniform(0.0, 0.05)]))
    high_bias = cell in ("high_bias", "high_bias_and_variance")
    high_variance = cell in ("high_variance", "high_bias_and_variance")
    train = base + (rng.uniform(2, 4) if high_bias else rng.uniform(0, 0.5)) * tol
    variance = (
        rng.uniform(2, 4) * tol if high_variance else rng.uniform(-min(train, tol), 0.5 * tol)
    )
    return train, train + variance, base, tol


def rows(seed: int, per_cell: int) -> list[Row]:
    """``per_cell`` rows of every cell in cell order: the lecture's, then a high and a low
    base error in turn, drawn from ``seed``."""
    rng = np.random.default_rng([seed, 1])
    bank = []
    for train, test, cell in LECTURE_TABLE:
        bank.append(Row((train, test, 0.0, 0.05), cell, "the lecture's table"))
        for k in range(per_cell - 1):
            high = k % 2 == 0
            situation = "a high base error" if high else "a low base error"
            bank.append(Row(_errors(cell, high, rng), cell, situation))
    return bank
