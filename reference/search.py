"""Hyperparameter search: grid, random, log-uniform and coarse-to-fine, as in the lecture.

A space maps each hyperparameter to ``(low, high)`` bounds, both included. Learning rates
and regularization strengths act multiplicatively, so they are searched on a log scale:
``lr = 10 ** uniform(-4, 0)`` for the space ``{"lr": (1e-4, 1.0)}``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

Space = dict[str, tuple[float, float]]
Setting = dict[str, float]


def _bounds(space: Space, log: bool) -> dict[str, tuple[float, float]]:
    """The bounds of every axis, as log10 values for a log scale (which needs low > 0)."""
    out = {}
    for name, (low, high) in sorted(space.items()):
        low, high = float(low), float(high)
        if log and (low <= 0 or high <= 0):
            raise ValueError(f"{name}: a log scale needs positive bounds, got ({low}, {high})")
        out[name] = (math.log10(low), math.log10(high)) if log else (low, high)
    return out


def _draw(space: Space, n: int, rng: np.random.Generator, log: bool) -> list[Setting]:
    bounds = _bounds(space, log)
    columns = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in bounds.items()}
    if log:
        columns = {k: 10.0**v for k, v in columns.items()}
    return [{k: float(columns[k][i]) for k in bounds} for i in range(n)]


class GridSearch:
    """Grid search: ``n`` evenly spaced values per axis, bounds included, every combination.

    ``n ** d`` settings for ``d`` hyperparameters: the curse of dimensionality of the
    lecture. With ``log=True`` the values are evenly spaced in log10 (``geomspace``).
    """

    def __init__(self, log: bool = False) -> None:
        self.log = log

    def propose(self, space: Space, n: int, rng: np.random.Generator) -> list[Setting]:
        """Every combination of ``linspace(low, high, n)`` (or ``geomspace``) per axis."""
        axes = {
            k: (np.geomspace if self.log else np.linspace)(lo, hi, int(n))
            for k, (lo, hi) in sorted(space.items())
        }
        names = list(axes)
        return [
            {k: float(v) for k, v in zip(names, values, strict=True)}
            for values in itertools.product(*axes.values())
        ]


class RandomSearch:
    """Random search: ``n`` settings, every axis uniform on ``[low, high]``.

    It tries ``n`` distinct values on every axis, where a grid of as many points tries
    only ``n ** (1/d)``: better when one hyperparameter matters more than the others.
    """

    def propose(self, space: Space, n: int, rng: np.random.Generator) -> list[Setting]:
        """``n`` settings, each value ``rng.uniform(low, high)``."""
        return _draw(space, int(n), rng, log=False)


class LogUniformSearch:
    """Random search on a log scale: every value is ``10 ** uniform(log10 low, log10 high)``.

    Each decade of the range gets the same share of the draws (the lecture's
    ``10 ** uniform(-4, 0)`` for a learning rate between 1e-4 and 1).
    """

    def propose(self, space: Space, n: int, rng: np.random.Generator) -> list[Setting]:
        """``n`` settings drawn uniformly in log10 of every axis."""
        return _draw(space, int(n), rng, log=True)


class CoarseToFine:
    """Coarse-to-fine search: a log-uniform first round, then rounds in a narrowed space.

    ``refine`` keeps the best ``keep`` fraction of the results (the lowest losses, at
    least two), takes their bounding box in log10 on every axis, widens it by ``margin``
    times the original log range on each side, clips it to the space, and draws ``n``
    log-uniform settings inside.
    """

    def __init__(self, keep: float = 0.2, margin: float = 0.05) -> None:
        self.keep = keep
        self.margin = margin

    def propose(self, space: Space, n: int, rng: np.random.Generator) -> list[Setting]:
        """The coarse round: ``n`` log-uniform settings over the whole space."""
        return _draw(space, int(n), rng, log=True)

    def narrowed(self, space: Space, results: list[tuple[Setting, float]]) -> Space:
        """The space around the best results (see the class docstring)."""
        ranked = sorted(results, key=lambda r: float(r[1]))
        best = ranked[: max(2, math.ceil(self.keep * len(ranked)))]
        out = {}
        for name, (lo, hi) in _bounds(space, log=True).items():
            values = [math.log10(float(s[name])) for s, _ in best]
            pad = self.margin * (hi - lo)
            out[name] = (10 ** max(lo, min(values) - pad), 10 ** min(hi, max(values) + pad))
        return out

    def refine(
        self, space: Space, results: list[tuple[Setting, float]], n: int, rng: np.random.Generator
    ) -> list[Setting]:
        """``n`` log-uniform settings in the space narrowed around the best results."""
        return _draw(self.narrowed(space, results), int(n), rng, log=True)
