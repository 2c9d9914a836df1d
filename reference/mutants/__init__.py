"""Known-buggy variants of the reference components, each naming its misconception.

The grader matches a failing submission against these to say *which* mistake it made,
and the same catalogue measures the grader: every mutant must fail some check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Mutant:
    """A buggy stand-in for the reference component ``kind``/``target``."""

    name: str
    """A short unique id, e.g. ``adam_no_bias_correction``."""
    kind: str
    """The registry kind of the component it replaces, e.g. ``optimizers``."""
    target: str
    """The registry name of the component it replaces, e.g. ``adam``."""
    factory: Callable[..., Any]
    """Builds the buggy component with the same constructor arguments as the reference."""
    misconception: str
    """What the student believed, in the lecture's terms: shown in feedback."""
    breaks_purpose: bool = False
    """Whether the bug makes the component fail its purpose (nan on ordinary or large
    inputs, no step, divergence, no learning, no regularization): such a mutant keeps at
    most ``gradekit.credit.SEVERE_CAP`` of its component's points."""


def all_mutants() -> tuple[Mutant, ...]:
    """Every mutant of every kind, in a stable order."""
    from . import (
        activations,
        initializers,
        layers,
        losses,
        optimizers,
        preprocessing,
        regularizers,
        training,
        transforms,
    )

    modules = (
        layers,
        activations,
        losses,
        initializers,
        optimizers,
        regularizers,
        transforms,
        preprocessing,
        training,
    )
    return tuple(m for module in modules for m in module.MUTANTS)
