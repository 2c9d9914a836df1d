"""Search strategies judged by statistics: grids by their points, random draws by their
distribution, coarse-to-fine by where its second round goes.

- ``grid``: ``n`` values per axis and every combination: the number of settings, the
  corners of the space (both bounds of every axis), and the points themselves against the
  reference's, in any order;
- ``uniform`` and ``log_uniform``: many draws (one fresh generator per seed) inside the
  bounds, with a two-sample Kolmogorov-Smirnov test against the reference's draws on the
  axis's scale; the message reads the share of draws in the lowest decade, which a
  log-uniform draw gives every decade alike;
- ``coarse_to_fine``: the first round as ``log_uniform``; then ``refine`` on constructed
  first-round results (losses of a bowl centred off the middle of the space, in log10)
  must stay in the space, span at most ``shrink`` of each axis's log range, and centre on
  the best result.

The draws must come from the generator passed in: the same seed gives the same settings,
other seeds other ones.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Literal

import numpy as np
from pydantic import Field

from ..hookspecs import hookimpl
from ..results import Figure, Panel, Series
from ..sandbox.plan import Outcome, Plan
from .base import Case, CheckKind, Options, Run, Target
from .compare import describe, failed_call


class SearchOptions(Options):
    expect: Literal["grid", "uniform", "log_uniform", "coarse_to_fine"]
    """What the strategy should do: a grid, uniform or log-uniform draws, or coarse-to-fine."""
    space: dict[str, tuple[float, float]] = Field(
        default_factory=lambda: {"lr": (1e-4, 1.0), "reg": (1e-5, 1e-1)}
    )
    """The search space: name -> (low, high)."""
    n: int = Field(default=100, ge=2, le=10_000)
    """Values per axis for a grid, settings per call for random strategies."""
    seeds: int = Field(default=20, ge=2, le=200)
    """Calls of ``propose`` (and of ``refine``), one fresh generator each."""
    alpha: float = Field(default=1e-6, gt=0, lt=0.1)
    """Significance of the two-sample Kolmogorov-Smirnov test: the chance that a correct
    strategy's draws fail it (the asymptotic limit is conservative at these sizes)."""
    first_round: int = Field(default=40, ge=5)
    """Constructed first-round results handed to ``refine``."""
    shrink: float = Field(default=0.6, gt=0, lt=1)
    """The refined draws may span at most this share of each axis's log range."""
    centre: float = Field(default=0.15, gt=0, lt=0.5)
    """Their median may be at most this share of the log range from the best result."""


def _log(space: dict[str, tuple[float, float]], log: bool) -> dict[str, tuple[float, float]]:
    return {
        k: (math.log10(lo), math.log10(hi)) if log else (lo, hi)
        for k, (lo, hi) in sorted(space.items())
    }


def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap between two ECDFs."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


def ks_limit(n: int, m: int, alpha: float) -> float:
    """The asymptotic critical distance of the two-sample test at level ``alpha``."""
    return math.sqrt(-0.5 * math.log(alpha / 2)) * math.sqrt((n + m) / (n * m))


def first_round(
    space: dict[str, tuple[float, float]], count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-uniform settings, their losses on a log10 bowl, and the bowl's centre (log10).

    The centre sits in the outer quarter of each axis, so the middle of the space is not
    the best region.
    """
    bounds = list(_log(space, True).values())
    lo, hi = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])
    side = np.where(rng.random(len(bounds)) < 0.5, 0.15, 0.85)
    centre = lo + (side + rng.uniform(-0.05, 0.05, len(bounds))) * (hi - lo)
    logs = rng.uniform(lo, hi, (count, len(bounds)))
    losses = np.sum(((logs - centre) / (hi - lo)) ** 2, axis=1)
    return 10.0**logs, losses, centre


class Search(CheckKind):
    """A strategy proposes the settings the lecture's search would: grid, random, log scale."""

    name = "search"
    kinds = ("search",)
    options = SearchOptions
    summary = "grids cover their corners; random draws follow their scale; refinement narrows"

    def plan(self, target: Target, options: SearchOptions) -> Plan:
        rng = target.rng()
        seeds = [int(s) for s in rng.integers(0, 2**31, options.seeds)]
        plan = Plan()
        plan.make("strategy", target.kind, target.name, **target.kwargs)
        n = options.n
        plan.routine(
            "search_draws",
            "propose",
            strategy={"component": "strategy"},
            space=dict(options.space),
            n=n,
            seeds=seeds[:2] if options.expect == "grid" else seeds,
        )
        plan.meta = {"seeds": seeds}
        if options.expect == "coarse_to_fine":
            settings, losses, centre = first_round(options.space, options.first_round, rng)
            plan.routine(
                "refine_run",
                "refine",
                strategy={"component": "strategy"},
                space=dict(options.space),
                settings=plan.array(settings),
                losses=plan.array(losses),
                n=n,
                seeds=seeds[: max(2, options.seeds // 4)],
            )
            plan.meta.update(settings=settings, losses=losses, centre=centre)
        return plan

    def expect(self, target: Target, options: SearchOptions, plan: Plan, run: Run) -> Any:
        return _draws(run(plan), options)

    def judge(
        self, target: Target, options: SearchOptions, plan: Plan, outcome: Outcome, expected: Any
    ) -> list[Case]:
        if isinstance(expected, str):
            return [Case("propose", False, f"the reference's run failed: {expected}")]
        got = _draws(outcome, options)
        if isinstance(got, str):
            return [Case("propose", False, got)]
        cases = [_rng_case(got, options)]
        if options.expect == "grid":
            first, want = got["propose"]["draws"][0], expected["propose"]["draws"][0]
            cases += _grid_cases(first, want, options)
            return cases
        cases += _draw_cases(got, expected, options)
        if options.expect == "coarse_to_fine":
            cases += _refine_cases(got, expected, options, plan.meta)
        return cases

    def figure(
        self, target: Target, options: SearchOptions, plan: Plan, outcome: Outcome, expected: Any
    ) -> Figure | None:
        """Histograms of the draws on each axis's scale (log10 for a log scale), beside the
        reference's; None for a grid."""
        got = _draws(outcome, options)
        if options.expect == "grid" or isinstance(got, str) or isinstance(expected, str):
            return None
        log = options.expect != "uniform"
        panels = []
        for i, (name, (lo, hi)) in enumerate(_log(options.space, log).items()):
            edges = np.linspace(lo, hi, 21)
            series = []
            for label, draws in (("yours", got), ("reference", expected)):
                v = np.concatenate(draws["propose"]["draws"])[:, i]
                if log:
                    v = np.log10(np.clip(v, 1e-300, None))
                series.append(Series.of(label, np.histogram(v, edges)[0], edges))
            panels.append(
                Panel(
                    kind="histogram",
                    title=name,
                    xlabel=f"log10 {name}" if log else name,
                    series=series,
                )
            )
        return Figure(title=f"{target.name}: the draws of propose", panels=panels)


def _draws(outcome: Outcome, options: SearchOptions) -> dict | str:
    """The outcome's draws, checked to be finite arrays of the space's width, with settings
    to judge (a grid's size is a case of its own)."""
    keys = ["propose"] + (["refine"] if options.expect == "coarse_to_fine" else [])
    width = len(options.space)
    out = {}
    for key in keys:
        missing = failed_call(outcome, key)
        if missing is not None:
            return missing.message
        value = outcome.values[key]
        draws = value.get("draws") if isinstance(value, dict) else None
        repeated = key == "propose"  # propose is called once more with the first seed
        if not isinstance(draws, list) or not draws or (repeated and "repeat" not in value):
            return f"{key}: unreadable result {describe(value)}"
        for d in [*draws, value["repeat"]] if repeated else draws:
            if not (isinstance(d, np.ndarray) and d.ndim == 2 and d.shape[1] == width):
                return f"{key}: unreadable settings {describe(d)}"
            if not np.all(np.isfinite(d)):
                return f"{key}: returned a setting that is not finite"
            if not len(d) and (key == "refine" or options.expect != "grid"):  # a grid's own cases
                return f"{key}: a call returned no settings, expected {options.n}"
        out[key] = value
    return out


def _rng_case(got: dict, options: SearchOptions) -> Case:
    value = got["propose"]
    draws, repeat = value["draws"], value["repeat"]
    name = "draws from rng"
    if not (repeat.shape == draws[0].shape and np.array_equal(repeat, draws[0])):
        return Case(
            name,
            False,
            f"{name}: two calls with generators of the same seed gave different "
            "settings; draw every random number from the rng argument",
            compared=False,
        )
    if options.expect != "grid" and all(np.array_equal(d, draws[0]) for d in draws[1:]):
        return Case(
            name,
            False,
            f"{name}: generators of different seeds gave the same settings; "
            "draw from the rng argument, not a generator of your own",
            compared=False,
        )
    counts = {len(d) for d in draws}
    if options.expect != "grid" and counts != {options.n}:
        return Case(
            name,
            False,
            f"{name}: expected {options.n} settings per call, received {sorted(counts)}",
            compared=False,
        )
    return Case(name, True, compared=False)


def _grid_cases(got: np.ndarray, want: np.ndarray, options: SearchOptions) -> list[Case]:
    names = sorted(options.space)
    cases = []
    n_axes = len(names)
    cases.append(
        Case(
            "grid size",
            len(got) == len(want),
            ""
            if len(got) == len(want)
            else f"grid size: received {len(got)} settings, expected {len(want)} "
            f"({options.n} values per axis, every combination of {n_axes} axes)",
        )
    )
    corners = np.array(list(itertools.product(*[options.space[k] for k in names])), dtype=float)

    def missing(points: np.ndarray) -> list[np.ndarray]:
        return [
            c
            for c in corners
            if not np.any(np.all(np.isclose(points, c, rtol=1e-9, atol=0), axis=1))
        ]

    lost, lost_want = missing(got), missing(want)
    ok = (len(lost) == 0) == (len(lost_want) == 0)
    message = ""
    if not ok:
        c = lost[0] if lost else corners[0]
        shown = ", ".join(f"{k}={v:g}" for k, v in zip(names, c, strict=True))
        message = (
            f"corners: {len(lost)} of the {len(corners)} corners of the space are missing, "
            f"e.g. ({shown}); a grid includes both bounds of every axis"
            if lost
            else "corners: every corner is present, expected some missing"
        )
    cases.append(Case("corners", ok, message))
    g = got[np.lexsort(got.T[::-1])] if len(got) else got
    w = want[np.lexsort(want.T[::-1])]
    same = g.shape == w.shape and bool(np.allclose(g, w, rtol=1e-9, atol=0))
    message = ""
    if not same:
        axis_got = {k: np.unique(got[:, i]) for i, k in enumerate(names)}
        axis_want = {k: np.unique(want[:, i]) for i, k in enumerate(names)}
        k = next(
            (
                k
                for k in names
                if axis_got[k].shape != axis_want[k].shape
                or not np.allclose(axis_got[k], axis_want[k], rtol=1e-9)
            ),
            names[0],
        )
        show = lambda v: ", ".join(f"{x:.4g}" for x in v[:8])  # noqa: E731
        message = (
            f"grid points: the values of {k} are [{show(axis_got[k])}], expected "
            f"[{show(axis_want[k])}] from the reference"
        )
    cases.append(Case("grid points", same, message))
    return cases


def _draw_cases(got: dict, want: dict, options: SearchOptions) -> list[Case]:
    log = options.expect != "uniform"
    bounds = _log(options.space, False)
    g_all = np.concatenate(got["propose"]["draws"])
    w_all = np.concatenate(want["propose"]["draws"])
    cases = []
    for i, (name, (lo, hi)) in enumerate(bounds.items()):
        g, w = g_all[:, i], w_all[:, i]
        slack = 1e-12 * max(abs(lo), abs(hi))  # rounding at a bound of either sign
        outside = ~((g >= lo - slack) & (g <= hi + slack))  # nan is outside too
        inside = not outside.any()
        cases.append(
            Case(
                f"{name} in bounds",
                inside,
                ""
                if inside
                else f"{name}: {int(np.sum(outside))} of {len(g)} draws outside "
                f"[{lo:g}, {hi:g}], e.g. {g[outside][0]:.4g}",
            )
        )
        if not inside or (log and np.any(g <= 0)):
            cases.append(Case(f"{name} distribution", False, f"{name}: draws outside the space"))
            continue
        scale = np.log10 if log else (lambda v: v)
        d = ks_distance(scale(g), scale(w))
        limit = ks_limit(len(g), len(w), options.alpha)
        if d <= limit:
            cases.append(Case(f"{name} distribution", True))
            continue
        top = lo * 10 if log else lo + (hi - lo) / 4
        part = "lowest decade" if log else "lowest quarter"
        rule = "10 ** uniform(log10 low, log10 high)" if log else "uniform(low, high)"
        cases.append(
            Case(
                f"{name} distribution",
                False,
                f"{name}: {100 * np.mean(g < top):.1f}% of the draws fall in the {part} "
                f"[{lo:g}, {top:.3g}), expected {100 * np.mean(w < top):.1f}% from the "
                f"reference ({rule}); "
                f"Kolmogorov-Smirnov distance {d:.3f} > {limit:.3f}",
            )
        )
    return cases


def _refine_stats(draws: list[np.ndarray], options: SearchOptions, meta: dict) -> list[dict]:
    """Per axis: in the space, share of the log range spanned, distance of the median."""
    bounds = _log(options.space, True)
    allv = np.concatenate(draws)
    best = np.log10(meta["settings"][int(np.argmin(meta["losses"]))])
    stats = []
    for i, (name, (lo, hi)) in enumerate(bounds.items()):
        v = allv[:, i]
        raw = _log(options.space, False)[name]
        inside = bool(np.all((v >= raw[0] * (1 - 1e-12)) & (v <= raw[1] * (1 + 1e-12))))
        logs = np.log10(np.clip(v, 1e-300, None))
        span = float(np.mean([np.ptp(np.log10(np.clip(d[:, i], 1e-300, None))) for d in draws]))
        stats.append(
            {
                "name": name,
                "inside": inside,
                "span": span / (hi - lo),
                "off": abs(float(np.median(logs)) - best[i]) / (hi - lo),
                "median": float(np.median(logs)),
                "best": float(best[i]),
                "decades": hi - lo,
            }
        )
    return stats


def _refine_cases(got: dict, want: dict, options: SearchOptions, meta: dict) -> list[Case]:
    g = _refine_stats(got["refine"]["draws"], options, meta)
    w = _refine_stats(want["refine"]["draws"], options, meta)
    cases = []
    for s, e in zip(g, w, strict=True):
        name = s["name"]
        ok = s["inside"] == e["inside"]
        cases.append(
            Case(
                f"refine {name} in the space",
                ok,
                "" if ok else f"refine: {name} has draws outside the original space",
            )
        )
        narrow, narrow_want = s["span"] <= options.shrink, e["span"] <= options.shrink
        cases.append(
            Case(
                f"refine {name} narrows",
                narrow == narrow_want,
                ""
                if narrow == narrow_want
                else f"refine: the settings of one call span {s['span'] * s['decades']:.2f} of "
                f"the {s['decades']:.3g} decades of {name} ({100 * s['span']:.0f}%), expected at "
                f"most {100 * options.shrink:.0f}% (the reference's span "
                f"{100 * e['span']:.0f}%): the second round searches a narrowed region",
            )
        )
        near, near_want = s["off"] <= options.centre, e["off"] <= options.centre
        cases.append(
            Case(
                f"refine {name} around the best",
                near == near_want,
                ""
                if near == near_want
                else f"refine: the median {name} is 10^{s['median']:.2f}, "
                f"{s['off'] * s['decades']:.2f} decades from the best first-round result "
                f"10^{s['best']:.2f} (at most {options.centre * s['decades']:.2f} expected): "
                "narrow around the lowest losses",
            )
        )
    return cases


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The search-strategy check."""
    return [Search()]
