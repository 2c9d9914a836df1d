"""Reference learning-rate schedules: the learning rate as a function of the step count.

``step`` is counted from 0 and may mean an iteration or an epoch: the caller decides.
"""

from __future__ import annotations

import math


def _count(step: int) -> int:
    """Validate a step count: a non-negative integer."""
    n = int(step)
    if n != step or n < 0:
        raise ValueError(f"step must be a non-negative integer, received {step!r}")
    return n


class StepDecay:
    """Step decay: ``lr0 * gamma^floor(step / step_size)``.

    With the defaults the rate is multiplied by 0.1 at steps (epochs) 30, 60, 90, as in the
    lecture.
    """

    def __init__(self, lr0: float = 0.1, gamma: float = 0.1, step_size: int = 30) -> None:
        self.lr0 = lr0
        self.gamma = gamma
        self.step_size = step_size

    def __call__(self, step: int) -> float:
        """Return ``lr0 * gamma ** (step // step_size)``."""
        return float(self.lr0 * self.gamma ** (_count(step) // self.step_size))


class ExponentialDecay:
    """Exponential decay, as in the lecture: ``lr0 * exp(-k step)``."""

    def __init__(self, lr0: float = 0.1, k: float = 0.01) -> None:
        self.lr0 = lr0
        self.k = k

    def __call__(self, step: int) -> float:
        """Return ``lr0 * exp(-k * step)``."""
        return float(self.lr0 * math.exp(-self.k * _count(step)))


class InverseTimeDecay:
    """The lecture's 1/t decay: ``lr0 / (1 + k step)``."""

    def __init__(self, lr0: float = 0.1, k: float = 0.01) -> None:
        self.lr0 = lr0
        self.k = k

    def __call__(self, step: int) -> float:
        """Return ``lr0 / (1 + k * step)``."""
        return float(self.lr0 / (1.0 + self.k * _count(step)))
