"""The protocol of optimizers (pure init/update pairs) and learning-rate schedules."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

State = dict[str, np.ndarray]
"""An optimizer's state: named arrays (a step counter is a 0-d array)."""


@runtime_checkable
class Optimizer(Protocol):
    """An update rule for one parameter array, written as pure functions."""

    def init(self, param: np.ndarray) -> State:
        """Return the initial state for ``param`` (for example zero velocity)."""

    def update(self, param: np.ndarray, grad: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Return ``(new_param, new_state)`` after one step along ``grad``.

        Pure: ``param``, ``grad`` and ``state`` are left unchanged; new arrays come back.
        """


@runtime_checkable
class Schedule(Protocol):
    """A learning rate as a function of the step (or epoch) count."""

    def __call__(self, step: int) -> float:
        """Return the learning rate to use at ``step`` (counted from 0)."""
