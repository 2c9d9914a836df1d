"""The lecture's initialization experiment, graded against reference bands.

The worker runs gradekit's ``init_experiment`` routine (``depth`` layers of ``width``
units, by default the lecture's 6 x 4096 with batch 16; gradekit's own tanh or ReLU, no
biases) with the student's initializer and returns every layer's activations. The parent
computes each layer's mean and std and compares them with bands: the center and spread of
the same statistics over many seeds of the trusted initializer. A std more than ``FAR``
times off its band's center (activations that collapse or explode) is severe.

The bands are simulated exactly rather than by redrawing width x width matrices. For weights
with i.i.d. N(mu, s^2) entries and a fixed batch h (N x D), the columns of z = h W are
independent N(mu h 1, s^2 h h^T) vectors, so z has the distribution of
``mu h 1 1^T + C g`` with ``C C^T = s^2 h h^T`` (N x N) and g an N x D standard normal
matrix. One layer then costs N x D normal draws instead of D x D, and 64 seeds take a
fraction of a second at the lecture's full width (the simulated statistics agree with
direct runs of the routine: tests/grader/test_initialization.py). ``mu`` and ``s`` are
measured on one width x width draw of the trusted initializer, so a mutant's bands are what
the mutant really draws (its ``std()`` is the target's); a sample mean within ``k``
standard errors of 0 counts as 0. A trusted initializer that is not Gaussian (kurtosis away
from 3) is run directly with the routine instead, over fewer seeds and with wider bands.

The width is an option. The bundled assignment grades at 1024 units, with a fixed std
doubled to keep ``s^2 x width``: the per-layer statistics are the lecture's (every band's
center within 0.1 of a 4096 half-width, tests/scale/test_smaller_width.py), and every
mutant the 4096 run catches is caught, at 1/16 of the draws. ``gradekit experiment
init-stats`` runs the lecture's 4096.

Costs (2 cores, at 4096): one student run ~1.2-1.5 s in the worker (6 draws of 4096 x
4096); the bands ~1 s per experiment in the parent (0.5 s for the measuring draw, 0.5 s for
128 simulated seeds), computed once per grader and cached per process. At 1024 units,
about 1/16 of that.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import numpy as np
from pydantic import field_validator

from ..hookspecs import hookimpl
from ..results import Figure, Panel, Series
from ..routines import ACTIVATIONS
from ..sandbox.plan import Outcome, Plan
from .base import Case, CheckKind, Options, Run, Target
from .compare import failed_call
from .distribution import float_problem
from .estimates import t_factor

if TYPE_CHECKING:
    from ..assignments import CheckSpec

LECTURE_WIDTH = 4096
"""The lecture's 6 layers of 4096 units, batch 16."""


FAR = 10.0
"""A layer whose activation std is more than this factor from its band's center is far
outside the bands: the initializer fails its purpose (a severe case, see ``credit``)."""


class ExperimentOptions(Options):
    activation: str = "tanh"
    """One of gradekit's own non-linearities: tanh, relu, sigmoid, linear."""
    depth: int = 6
    width: int = LECTURE_WIDTH
    """Units per layer. Fan-in initializers (Xavier, He) keep their statistics at any width;
    a fixed std keeps them when ``std^2 x width`` is kept (docs/grading.md)."""
    batch: int = 16
    band_seeds: int = 128
    """Seeds of the trusted initializer behind each band (exact simulation)."""
    direct_seeds: int = 16
    """Seeds when the trusted initializer is not Gaussian and the routine runs directly."""
    k: float = 6.0
    """A band's false-alarm rate for a correct initializer, as a normal z (6: about 2e-9
    per layer statistic): the half-width is Student's t quantile for the seeds' degrees of
    freedom times the spread over the seeds, times sqrt(1 + 1/seeds) for the student's
    own run (a prediction interval)."""
    reading: str = ""
    """The lecture's reading of the experiment, shown with a failure (default by case)."""

    @field_validator("activation")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in ACTIVATIONS:
            raise ValueError(f"unknown activation {value!r}; known: {', '.join(ACTIVATIONS)}")
        return value


@dataclass(frozen=True)
class Bands:
    """Per-layer expected mean and std of the activations, as center +- half-width."""

    mean: np.ndarray
    mean_width: np.ndarray
    std: np.ndarray
    std_width: np.ndarray
    seeds: int
    method: str
    weight_mean: float
    weight_std: float
    failure: None = None
    reference_run: Callable[[], Outcome] | None = field(default=None, compare=False)
    """The plan run once on the trusted initializer (memoised), for the report's histograms."""


def _stats(acts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = acts.astype(np.float64)
    return a.mean(axis=(1, 2)), a.std(axis=(1, 2))


def _gaussian_layers(
    mu: float, s: float, activation: str, depth: int, width: int, batch: int, seed: int, runs: int
) -> tuple[np.ndarray, np.ndarray]:
    """``runs`` independent runs of the experiment with N(mu, s^2) weights, simulated exactly
    (see above) side by side, in float32 as the routine returns its activations."""
    rng = np.random.default_rng(seed)
    f = ACTIVATIONS[activation]
    f32 = np.float32
    h = rng.standard_normal((runs, batch, width), dtype=f32)
    means, stds = np.empty((runs, depth)), np.empty((runs, depth))
    for layer in range(depth):
        lam, v = np.linalg.eigh((h @ h.transpose(0, 2, 1)).astype(np.float64))
        c = (s * v * np.sqrt(np.clip(lam, 0.0, None))[:, None, :]).astype(f32)
        g = rng.standard_normal((runs, batch, width), dtype=f32)
        z = c @ g  # batched (N x N) @ (N x D): BLAS per run, ~10x faster than einsum
        if mu:
            z += f32(mu) * h.sum(axis=2, keepdims=True, dtype=np.float64).astype(f32)
        h = f(z).astype(f32, copy=False)
        m = h.mean(axis=(1, 2), dtype=np.float64)
        m2 = np.square(h).mean(axis=(1, 2), dtype=np.float64)
        means[:, layer], stds[:, layer] = m, np.sqrt(np.maximum(m2 - m * m, 0.0))
    return means, stds


@lru_cache(maxsize=128)
def gaussian_bands(
    mu: float,
    s: float,
    activation: str,
    depth: int,
    width: int,
    batch: int,
    seed: int,
    seeds: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-run (seeds, depth) layer means and stds for N(mu, s^2) weights; cached per process."""
    chunks = [
        _gaussian_layers(mu, s, activation, depth, width, batch, seed * 1_000_003 + j, n)
        for j, n in enumerate(np.diff(np.r_[0:seeds:16, seeds]))
    ]
    return np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks])


def _experiment_plan(target: Target, options: ExperimentOptions, seed: int) -> Plan:
    plan = Plan()
    plan.make("init", target.kind, target.name, **target.kwargs)
    plan.routine(
        "init_experiment",
        save="run",
        initializer={"component": "init"},
        activation=options.activation,
        depth=options.depth,
        width=options.width,
        batch=options.batch,
        seed=seed,
    )
    return plan


SCALES = ("std", "limit")
"""Initializer arguments that scale the weights: a normal's std, a uniform's limit."""


def at_width(spec: CheckSpec, width: int) -> CheckSpec:
    """The same experiment check at ``width`` units, the same statistics: a fixed scale
    (``SCALES``) rescaled to keep ``std^2 x width`` (fan-in initializers rescale themselves)."""
    factor = math.sqrt(int(spec.options.get("width", LECTURE_WIDTH)) / width)
    kwargs = {k: v * factor if k in SCALES else v for k, v in spec.kwargs.items()}
    return spec.model_copy(update={"kwargs": kwargs, "options": {**spec.options, "width": width}})


def default_reading(target: Target, options: ExperimentOptions) -> str:
    """The lecture's reading of the experiment for the bundled cases.

    For fixed N(0, s^2) weights only the gain ``s * sqrt(width)`` matters (the
    pre-activations are N(0, s^2 width var(h))): below 1 tanh's activations collapse, above
    it they saturate. At another width the reading names the lecture's equivalent std.
    """
    act, name, width = options.activation, target.name, options.width
    if act == "tanh" and name == "normal":
        std = float(target.kwargs.get("std", 0.01))
        fate = "collapse toward 0 with depth" if std * math.sqrt(width) < 1 else "saturate at +-1"
        where = ""
        if width != LECTURE_WIDTH:
            lecture = std * math.sqrt(width / LECTURE_WIDTH)
            where = f" at {width} units (the lecture's N(0, {lecture:.3g}^2) at {LECTURE_WIDTH})"
        return f"tanh with N(0, {std:g}^2) weights{where}: the activations {fate}"
    return {
        ("tanh", "xavier"): "tanh with Xavier weights: the activations stay scaled",
        ("relu", "xavier"): "ReLU with Xavier weights: the std halves every two layers",
        ("relu", "he"): "ReLU with He weights: mean ~0.56, std ~0.83 in every layer",
    }.get((act, name), f"{act} with {name} weights")


class InitExperiment(CheckKind):
    """The lecture's per-layer activation statistics with the student's initializer."""

    name = "init_experiment"
    kinds = ("initializers",)
    options = ExperimentOptions
    summary = "the lecture's experiment: per-layer activation mean and std within reference bands"

    def plan(self, target: Target, options: ExperimentOptions) -> Plan:
        return _experiment_plan(target, options, target.seed % 2**31)

    def expect(self, target: Target, options: ExperimentOptions, plan: Plan, run: Run) -> Bands:
        bands = self._bands(target, options, run)
        return replace(bands, reference_run=cache(lambda: run(plan)))

    def figure(
        self,
        target: Target,
        options: ExperimentOptions,
        plan: Plan,
        outcome: Outcome,
        expected: Bands,
    ) -> Figure | None:
        """Per-layer histograms of the activations, the student's beside the reference's."""
        ref = expected.reference_run() if expected.reference_run else None
        runs = {"yours": outcome, "reference": ref}
        acts = {
            label: out.values["run"]["activations"]
            for label, out in runs.items()
            if out is not None and _activations_ok(out, options)
        }
        if not acts:
            return None
        return activation_figure(acts, options.activation, default_reading(target, options))

    def _bands(self, target: Target, options: ExperimentOptions, run: Run) -> Bands:
        o = options
        measure = Plan()
        measure.make("init", target.kind, target.name, **target.kwargs)
        measure.routine(
            "initializer_draws",
            save="w",
            initializer={"component": "init"},
            shape=[o.width, o.width],
            seeds=[int(target.rng(2).integers(2**31))],
        )
        out = run(measure)
        if out.failure is not None or "w" not in out.values:
            raise RuntimeError(
                f"the trusted {target.name} cannot draw: {out.failure or out.detail}"
            )
        w = np.asarray(out.values["w"]["draws"][0], dtype=np.float64)
        mu, s = float(w.mean()), float(w.std())
        if abs(mu) <= o.k * s / math.sqrt(w.size):
            mu = 0.0  # a sample mean within the noise: the bands simulate that noise themselves
        z2 = np.square(w.ravel()[: 1 << 20] - mu)  # 2^20 entries: the kurtosis to +-0.005
        kurtosis = float(np.mean(np.square(z2)) / s**4) if s > 0 else 0.0
        del w, z2, out
        seed = int(target.rng(3).integers(2**31))
        if s > 0 and abs(kurtosis - 3.0) < 0.05:
            means, stds = gaussian_bands(
                mu, s, o.activation, o.depth, o.width, o.batch, seed, o.band_seeds
            )
            return _bands(means, stds, o.k, "exact Gaussian simulation", mu, s)
        runs = []
        for j in range(o.direct_seeds):
            direct = run(_experiment_plan(target, options, (seed + j) % 2**31))
            if direct.failure is not None:
                raise RuntimeError(f"the trusted {target.name} fails: {direct.failure.message}")
            runs.append(_stats(direct.values["run"]["activations"]))
        means, stds = np.stack([r[0] for r in runs]), np.stack([r[1] for r in runs])
        return _bands(means, stds, o.k, "direct runs", mu, s)

    def judge(
        self,
        target: Target,
        options: ExperimentOptions,
        plan: Plan,
        outcome: Outcome,
        expected: Bands,
    ) -> list[Case]:
        o = options
        missing = failed_call(outcome, "run")
        if missing:
            return [Case("activations", False, missing.message.replace("run", "experiment", 1))]
        got = outcome.values["run"]
        acts = got.get("activations") if isinstance(got, dict) else None
        problem = float_problem(acts, (o.depth, o.batch, o.width))
        if problem:
            return [Case("activations", False, f"activations: {problem}")]
        means, stds = _stats(acts)
        cases = [self._range(acts, o.activation)]
        reading = o.reading or default_reading(target, o)
        centers = ", ".join(f"{c:.2g}" for c in expected.std)
        received = ", ".join(f"{c:.2g}" for c in stds)
        told = False
        for stat, values, center, width in (
            ("std", stds, expected.std, expected.std_width),
            ("mean", means, expected.mean, expected.mean_width),
        ):
            for layer in range(o.depth):
                value, c, hw = values[layer], center[layer], width[layer]
                name = f"layer {layer + 1} {stat}"
                if abs(value - c) <= hw:
                    cases.append(Case(name, True))
                    continue
                message = (
                    f"layer {layer + 1}: received {stat} {value:.3g}, expected {c:.3g} ± {hw:.2g}"
                )
                far = stat == "std" and not c / FAR <= value <= c * FAR
                if far:
                    message += f", more than {FAR:g} x off: the signal collapses or explodes"
                if not told:
                    message += (
                        f" (reference bands over {expected.seeds} seeds); {reading}: the "
                        f"reference's per-layer std is {centers}, yours {received}"
                    )
                    told = True
                cases.append(Case(name, False, message, severe=far))
        return cases

    def _range(self, acts: np.ndarray, activation: str) -> Case:
        bounds = {"tanh": (-1.0, 1.0), "relu": (0.0, math.inf), "sigmoid": (0.0, 1.0)}
        low, high = bounds.get(activation, (-math.inf, math.inf))
        ok = bool(np.all(acts >= low) and np.all(acts <= high))
        message = "" if ok else f"range: activations outside [{low}, {high}] of {activation}"
        return Case("range", ok, message, 0.5, compared=False)


def _bands(
    means: np.ndarray, stds: np.ndarray, k: float, method: str, mu: float, s: float
) -> Bands:
    n = len(means)
    factor = t_factor(k, n - 1) * math.sqrt(1 + 1 / n)

    def width(values: np.ndarray) -> np.ndarray:
        center = values.mean(axis=0)
        spread = values.std(axis=0, ddof=1)
        return np.maximum(factor * spread, 1e-6 + 2e-3 * np.abs(center))

    return Bands(
        means.mean(axis=0),
        width(means),
        stds.mean(axis=0),
        width(stds),
        len(means),
        method,
        mu,
        s,
    )


def _activations_ok(outcome: Outcome, o: ExperimentOptions) -> bool:
    got = outcome.values.get("run")
    acts = got.get("activations") if isinstance(got, dict) else None
    return float_problem(acts, (o.depth, o.batch, o.width)) is None


def activation_figure(acts: dict[str, np.ndarray], activation: str, title: str) -> Figure:
    """One histogram panel per layer over shared bins, a series per run (e.g. yours and the
    reference's), each layer's mean and std in its title: the lecture's figure."""
    every = np.concatenate([a.ravel() for a in acts.values()]).astype(np.float64)
    low, high = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}.get(
        activation, (float(every.min()), float(np.quantile(every, 0.999)))
    )
    if not high > low:
        low, high = low - 0.5, low + 0.5
    edges = np.linspace(low, high, 41)
    panels = []
    for layer in range(len(next(iter(acts.values())))):
        series, stats = [], []
        for label, a in acts.items():
            h = a[layer].astype(np.float64)
            counts, _ = np.histogram(np.clip(h, low, high), bins=edges)
            series.append(Series.of(label, counts, edges))
            mean = round(float(h.mean()), 2) + 0.0  # never "-0.00"
            stats.append(f"{label} {mean:.2f} ± {h.std():.2f}")
        panels.append(
            Panel(
                kind="histogram",
                title=f"layer {layer + 1}: " + ", ".join(stats),
                xlabel="activation",
                series=series,
            )
        )
    return Figure(title=title, panels=panels)


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The initialization-experiment check."""
    return [InitExperiment()]
