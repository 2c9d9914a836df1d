"""The scale decisions of a figure, from its data alone: when a y axis is logarithmic,
where the top of an axis is and which values are off it, and which series coincide."""

from __future__ import annotations

import math

import numpy as np

from ..results import Panel, Series

REFERENCE = "reference"
"""The series label drawn in gray and dashed, over the others."""
LOG_DECADES = 1.5
"""Positive values spanning more decades than this get a logarithmic y axis."""
OFF_SCALE = 1e3
"""On a log axis with a reference, values this many times its largest are off the scale."""
COINCIDE = 0.01
"""Series closer than this fraction of the axis everywhere are drawn as one."""


def as_values(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def finite_y(panel: Panel, *, marks: bool = True) -> np.ndarray:
    """Every finite y value of the panel's series (and of its marks)."""
    ys = [as_values(s.y) for s in panel.series]
    if marks:
        ys.append(np.array(list(panel.marks.values()), dtype=np.float64))
    y = np.concatenate(ys) if ys else np.empty(0)
    return y[np.isfinite(y)]


def span_decades(y: np.ndarray) -> float:
    """How many decades positive values span (0 unless all are positive)."""
    if not y.size or y.min() <= 0:
        return 0.0
    return float(np.log10(y.max() / y.min()))


def wants_log(panel: Panel) -> bool:
    """Whether the panel's y axis is logarithmic: its values are positive and span
    decades (one is enough when the panel asks for ``log``)."""
    if panel.kind not in ("line", "scatter", "bar"):
        return False
    return span_decades(finite_y(panel)) > (1.0 if panel.log else LOG_DECADES)


def log_axes(panels: list[Panel]) -> list[bool]:
    """Which panels get a log y axis: each by :func:`wants_log`, and panels of one kind
    and y label (small multiples) all alike when their values are all positive."""
    logs = [wants_log(p) for p in panels]
    for i, panel in enumerate(panels):
        alike = [
            j for j, p in enumerate(panels) if (p.kind, p.ylabel) == (panel.kind, panel.ylabel)
        ]
        positive = all(finite_y(panels[j]).min(initial=1.0) > 0 for j in alike)
        if positive and panel.kind in ("line", "scatter", "bar") and any(logs[j] for j in alike):
            logs[i] = True
    return logs


def axis_top(panel: Panel, log: bool) -> float | None:
    """Where values off the scale are drawn (the top of the axis), or None when none is.

    Off the scale: not finite, or on a log axis more than ``OFF_SCALE`` times the
    reference's largest value (a diverging run would squash the reference flat).
    """
    y = finite_y(panel, marks=False)
    ref = [as_values(s.y) for s in panel.series if s.label == REFERENCE]
    ref_y = np.concatenate(ref) if ref else np.empty(0)
    ref_y = ref_y[np.isfinite(ref_y)]
    cap = OFF_SCALE * float(ref_y.max()) if log and ref_y.size and ref_y.max() > 0 else math.inf
    if y.size and y.max() > cap:
        return cap
    if not y.size or all(np.isfinite(as_values(s.y)).all() for s in panel.series):
        return None
    high, low = float(y.max()), float(y.min())
    return (
        high * 10 ** (0.08 * max(span_decades(y), 1.0)) if log else high + 0.08 * (high - low or 1)
    )


def off_scale(y: np.ndarray, ceiling: float | None) -> np.ndarray:
    """Which values are off the scale under ``ceiling``."""
    if ceiling is None:
        return np.zeros(len(y), dtype=bool)
    with np.errstate(invalid="ignore"):
        return ~np.isfinite(y) | (y > ceiling)


def coincide(a: Series, b: Series, log: bool, tolerance: float) -> bool:
    """Whether two series would be drawn on top of each other."""
    if a.x != b.x or len(a.y) != len(b.y):
        return False
    ya, yb = as_values(a.y), as_values(b.y)
    if not np.array_equal(np.isfinite(ya), np.isfinite(yb)):
        return False
    keep = np.isfinite(ya)
    if log:
        ya, yb = np.log10(ya[keep]), np.log10(yb[keep])
    else:
        ya, yb = ya[keep], yb[keep]
    return bool(np.all(np.abs(ya - yb) <= tolerance))


def joined(labels: list[str]) -> str:
    """Labels of series drawn as one: ``vanilla: E[train] / x = test / x``."""
    parts, prefix = [], None
    for label in labels:
        head, sep, tail = label.partition(": ")
        if sep and head == prefix:
            parts.append(tail)
        else:
            parts.append(label)
            prefix = head if sep else None
    return " = ".join(parts)


def merged(panel: Panel, log: bool) -> Panel:
    """The panel with the series that coincide on screen (other than the reference)
    merged into one, labelled with all their names: one visible line per legend entry."""
    y = finite_y(panel, marks=False)
    if not y.size:
        return panel
    span = float(np.ptp(np.log10(y)) if log else np.ptp(y)) or 1.0
    groups: list[list[Series]] = []
    for s in panel.series:
        group = next(
            (
                g
                for g in groups
                if s.label != REFERENCE
                and g[0].label != REFERENCE
                and coincide(g[0], s, log, COINCIDE * span)
            ),
            None,
        )
        if group is None:
            groups.append([s])
        else:
            group.append(s)
    series = [g[0].model_copy(update={"label": joined([s.label for s in g])}) for g in groups]
    return panel.model_copy(update={"series": series})
