"""Known-buggy initializers: each draws with a wrong scale while ``std`` keeps the target.

``MUTANTS`` lists them with the misconception the grader names when a submission matches.
"""

from __future__ import annotations

import math

import numpy as np

from gradekit_reference.initializers import Glorot, GlorotUniform, He, HeUniform, Normal, Xavier

from . import Mutant


class HeNoFactorTwo(He):
    """He that draws with ``std = 1 / sqrt(fan_in)``: the lecture's Xavier."""

    def __call__(self, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """Draw N(0, 1 / fan_in) entries."""
        return rng.standard_normal(shape) / math.sqrt(shape[0])


class XavierFanOut(Xavier):
    """Xavier that draws with ``std = 1 / sqrt(fan_out)``."""

    def __call__(self, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """Draw N(0, 1 / fan_out) entries."""
        return rng.standard_normal(shape) / math.sqrt(shape[1])


class GlorotLectureFormula(Glorot):
    """Glorot with the lecture's ``std = 2 / sqrt(fan_in + fan_out)`` (sqrt(2) too large)."""

    def __call__(self, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """Draw N(0, 4 / (fan_in + fan_out)) entries."""
        return 2.0 / math.sqrt(shape[0] + shape[1]) * rng.standard_normal(shape)


class NormalStdAsVariance(Normal):
    """The small Gaussian drawn with scale ``std^2``: the variance taken for the std."""

    def __call__(self, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """Draw ``rng.normal(0, std**2, shape)``."""
        return rng.normal(0.0, self.sigma**2, size=shape)


class HeUniformNormalStdAsLimit(HeUniform):
    """He uniform with limit ``sqrt(2 / fan_in)`` (the normal std), not ``sqrt(6 / fan_in)``."""

    def __call__(self, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """Draw U(-sqrt(2 / fan_in), sqrt(2 / fan_in)) entries."""
        limit = math.sqrt(2.0 / shape[0])
        return rng.uniform(-limit, limit, size=shape)


class GlorotUniformNormalStdAsLimit(GlorotUniform):
    """Glorot uniform with limit ``sqrt(2 / (fan_in + fan_out))``, the normal std."""

    def __call__(self, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """Draw U(-sqrt(2 / (fan_in + fan_out)), +sqrt(2 / (fan_in + fan_out))) entries."""
        limit = math.sqrt(2.0 / (shape[0] + shape[1]))
        return rng.uniform(-limit, limit, size=shape)


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "he_no_factor_2",
        "initializers",
        "he",
        HeNoFactorTwo,
        "He initialization without the factor 2 (std 1/sqrt(Din), which is Xavier): ReLU "
        "halves the variance at every layer, so the activations collapse with depth.",
    ),
    Mutant(
        "xavier_fan_out",
        "initializers",
        "xavier",
        XavierFanOut,
        "Xavier scaled by the fan-out (1/sqrt(Dout)): the lecture's Xavier divides by the "
        "number of inputs Din of the layer x @ W.",
    ),
    Mutant(
        "glorot_lecture_formula",
        "initializers",
        "glorot",
        GlorotLectureFormula,
        "Glorot with std 2/sqrt(Din + Dout) as written on the slide: the paper's std is "
        "sqrt(2/(Din + Dout)), sqrt(2) times smaller.",
    ),
    Mutant(
        "normal_std_as_variance",
        "initializers",
        "normal",
        NormalStdAsVariance,
        "Small Gaussian drawn with scale s^2: N(0, s^2) has standard deviation s, and "
        "numpy's normal takes the standard deviation, not the variance.",
        breaks_purpose=True,
    ),
    Mutant(
        "he_uniform_normal_std_as_limit",
        "initializers",
        "he_uniform",
        HeUniformNormalStdAsLimit,
        "He uniform with limit sqrt(2/Din), the normal std: U(-a, a) has std a/sqrt(3), so "
        "the limit must be sqrt(6/Din).",
    ),
    Mutant(
        "glorot_uniform_normal_std_as_limit",
        "initializers",
        "glorot_uniform",
        GlorotUniformNormalStdAsLimit,
        "Glorot uniform with limit sqrt(2/(Din + Dout)), the normal std: U(-a, a) has std "
        "a/sqrt(3), so the limit must be sqrt(6/(Din + Dout)).",
    ),
)
"""The known-buggy initializers, by the misconception each one encodes."""
