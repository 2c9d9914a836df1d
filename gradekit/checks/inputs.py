"""Inputs for checks, drawn from the check's own seed and shaped by the reference."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Target

LOSS_TARGETS = {"squared_error": "real", "softmax_cross_entropy": "labels", "hinge": "signs"}
"""The kind of target each bundled loss takes; a check may say otherwise."""


def away_from(x: np.ndarray, point: float, margin: float) -> np.ndarray:
    """Push entries of ``x`` at least ``margin`` away from ``point`` (a kink), keeping sides."""
    d = x - point
    side = np.where(d >= 0, 1.0, -1.0)
    return point + side * (margin + np.abs(d))


def input_shape(target: Target, options: Any) -> tuple[int, int]:
    """``(batch, width)``: the width is ``din`` or ``dim`` when the component fixes it."""
    width = target.kwargs.get("din", target.kwargs.get("dim", options.features))
    return (options.batch, int(width))


def reference_params(target: Target, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random values for every parameter the reference component has, of its shapes."""
    params = target.build().params
    return {k: rng.standard_normal(np.shape(v)) for k, v in params.items()}


def output_shape(
    target: Target, params: dict, x: np.ndarray, training: bool, seed: int | None
) -> tuple[int, ...]:
    """The shape of ``forward(x)``, from the reference with the same parameters."""
    layer = target.build()
    for k, value in params.items():
        layer.params[k] = value.copy()
    if seed is not None:
        layer.rng = np.random.default_rng(seed)
    return np.shape(layer.forward(x.copy(), training=training))


def loss_inputs(target: Target, options: Any, rng: np.random.Generator, scale: float = 1.0):
    """Scores and targets for a loss: real targets, class labels, or signs in {-1, +1}."""
    kind = options.targets or LOSS_TARGETS.get(target.name, "real")
    n, k = options.batch, options.features
    if kind == "labels":
        return scale * rng.standard_normal((n, k)), rng.integers(0, k, n)
    if kind == "signs":
        t = rng.choice([-1.0, 1.0], n)
        margin = away_from(rng.standard_normal(n), 0.0, options.margin)
        return scale * t * (1.0 + margin), t  # t z = 1 + margin: away from the hinge's kink
    return scale * rng.standard_normal((n, k)), rng.standard_normal((n, k))
