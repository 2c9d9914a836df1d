"""Drawing a ``Figure`` (the data a check or an experiment gives) with matplotlib.

The HTML report and ``gradekit experiment ... --plot FILE`` both draw through here.
matplotlib is imported only when something is drawn, on the Agg canvas (no display).
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GradekitError
from ..results import Figure, Panel, Series

REFERENCE = "reference"
"""The series label drawn in gray and dashed, behind the others."""

_GRAY = "#6b7280"
_COLORS = ["#e4572e", "#2e86ab", "#76b041", "#9c6ade", "#f3a712", "#17bebb", "#c2185b"]


def _new_figure(size: tuple[float, float]) -> Any:
    """A matplotlib figure on the Agg canvas, outside pyplot (no global state, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=size)
    FigureCanvasAgg(fig)
    return fig


def _values(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _style(series: Series, i: int) -> dict[str, Any]:
    if series.label == REFERENCE:  # drawn over the others: visible where they agree
        return {"color": "#374151", "linestyle": (0, (4, 2)), "zorder": 4}
    return {"color": _COLORS[i % len(_COLORS)], "zorder": 3}


def _histogram(ax: Any, panel: Panel) -> None:
    for i, s in enumerate(panel.series):
        style = _style(s, i)
        counts, edges = _values(s.y), _values(s.x)
        ax.stairs(counts, edges, fill=True, alpha=0.35, color=style["color"], label=s.label)
        ax.stairs(counts, edges, color=style["color"], linewidth=1.0)
    ax.set_yticks([])


def _line(ax: Any, panel: Panel) -> None:
    for i, s in enumerate(panel.series):
        y = _values(s.y)
        x = _values(s.x) if s.x else np.arange(len(y))
        width = 1.1 if s.label == REFERENCE else 2.2
        ax.plot(x, y, label=s.label, linewidth=width, **_style(s, i))


def _view(panel: Panel) -> tuple[float, float, float, float] | None:
    """The box a path panel shows: the reference's path when there is one, else every path
    without the points that ran far away (a diverging run leaves the box)."""
    ref = [s for s in panel.series if s.label == REFERENCE]
    pts = [np.c_[_values(s.x), _values(s.y)] for s in (ref or panel.series)]
    pts = [p[np.isfinite(p).all(axis=1)] for p in pts]
    pts = [p for p in pts if len(p)]
    if not pts:
        return None
    start = np.abs(pts[0][0])
    reach = 2 * np.maximum(start, 0.25 * max(float(start.max()), 1e-3))  # per axis
    core = np.concatenate([p[(np.abs(p) <= reach).all(axis=1)] for p in pts] + [pts[0][:1]])
    (x0, y0), (x1, y1) = core.min(axis=0), core.max(axis=0)
    pad_x, pad_y = 0.12 * (x1 - x0 or 1.0), 0.12 * (y1 - y0 or 1.0)
    return x0 - pad_x, x1 + pad_x, y0 - pad_y, y1 + pad_y


def _contours(ax: Any, problem: str, box: tuple[float, float, float, float]) -> None:
    from ..problems import PROBLEMS

    if problem not in PROBLEMS:
        return
    spec = PROBLEMS[problem]()
    gx = np.linspace(box[0], box[1], 70)
    gy = np.linspace(box[2], box[3], 70)
    z = np.array([[spec.loss({"w": np.array([a, b])}) for a in gx] for b in gy])
    top = float(z.max())
    low = max(float(z.min()), 1e-4 * top, 1e-12)
    levels = np.geomspace(low, top, 14) if top > low else [low]
    ax.contour(gx, gy, z, levels=levels, colors="#c7ccd4", linewidths=0.7, zorder=1)


def _path(ax: Any, panel: Panel) -> None:
    box = _view(panel)
    if box is not None:
        if panel.problem:
            _contours(ax, panel.problem, box)
        ax.set_xlim(box[0], box[1])
        ax.set_ylim(box[2], box[3])
    for i, s in enumerate(panel.series):
        x, y = _values(s.x), _values(s.y)
        style = _style(s, i)
        marker = {} if s.label == REFERENCE else {"marker": "o", "markersize": 2.2}
        ax.plot(x, y, linewidth=1.1, label=s.label, **marker, **style)
        if len(x):
            ax.plot(x[:1], y[:1], marker="s", color="black", markersize=4, zorder=5)


def _bar(ax: Any, panel: Panel) -> None:
    n = max(len(panel.series), 1)
    width = 0.8 / n
    positions = np.arange(len(panel.categories))
    for i, s in enumerate(panel.series):
        offset = (i - (n - 1) / 2) * width
        ax.bar(positions + offset, _values(s.y), width, label=s.label, **_style(s, i))
    ax.set_xticks(positions, panel.categories)
    for j, (label, value) in enumerate(panel.marks.items()):
        ax.axhline(value, color="black", linestyle=":" if j else "-.", linewidth=1.0, label=label)


def _scatter(ax: Any, panel: Panel) -> None:
    for i, s in enumerate(panel.series):
        ax.scatter(_values(s.x), _values(s.y), s=28, alpha=0.8, label=s.label, **_style(s, i))


_DRAW = {
    "histogram": _histogram,
    "line": _line,
    "path": _path,
    "bar": _bar,
    "scatter": _scatter,
}


def draw(figure: Figure, *, title: bool = True) -> Any:
    """A matplotlib figure of ``figure``: a grid of panels (three per row at most), with
    the figure's title on top unless ``title`` is False (a page captions it itself)."""
    from matplotlib.ticker import LogFormatter, LogLocator, NullLocator

    n = max(len(figure.panels), 1)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    histograms = all(p.kind == "histogram" for p in figure.panels)
    size = (3.6 * cols if cols > 1 else 6.4, (2.5 if histograms else 3.3) * rows + 0.6)
    if n == 1 and not histograms:
        size = (6.4, 4.4)
    fig = _new_figure(size)
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax, panel in zip(axes.flat, figure.panels, strict=False):
        _DRAW[panel.kind](ax, panel)
        ax.set_title(panel.title, fontsize=8.5)
        ax.set_xlabel(panel.xlabel, fontsize=8)
        ax.set_ylabel(panel.ylabel, fontsize=8)
        ax.tick_params(labelsize=7.5)
        if panel.logx:
            ax.set_xscale("log")
        if panel.log:
            ax.set_yscale("log")
            # Few major ticks in plain text: mathtext labels and minor ticks are slow to lay out.
            ax.yaxis.set_major_locator(LogLocator(numticks=7))
            ax.yaxis.set_major_formatter(LogFormatter(labelOnlyBase=True))
            ax.yaxis.set_minor_locator(NullLocator())
        if panel.kind != "histogram":
            ax.grid(True, alpha=0.25)
    for ax in list(axes.flat)[len(figure.panels) :]:
        ax.axis("off")
    handles: dict[str, Any] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    heading = 0.32 if title else 0.0  # inches of the figure's title
    if title:
        fig.suptitle(figure.title, fontsize=10, x=0.01, y=1 - 0.06 / size[1], ha="left", va="top")
    if handles:
        fig.legend(
            handles.values(),
            handles.keys(),
            loc="upper right",
            bbox_to_anchor=(1, 1 - (heading + 0.02) / size[1]),
            fontsize=8,
            ncol=min(len(handles), 4),
            frameon=False,
        )
    legend_rows = math.ceil(len(handles) / 4) if handles else 0
    top = 1 - (heading + 0.24 * legend_rows + 0.34) / size[1]
    fig.subplots_adjust(  # fixed margins: tight_layout costs a second per figure
        left=0.75 / size[0],
        right=1 - 0.2 / size[0],
        bottom=0.55 / size[1],
        top=top,
        wspace=0.32,
        hspace=0.75 if histograms else 0.55,
    )
    return fig


def png(figure: Figure, dpi: int = 100, *, title: bool = True) -> bytes:
    """``figure`` drawn as PNG bytes."""
    buffer = io.BytesIO()
    draw(figure, title=title).savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def save(figure: Figure, path: Path) -> None:
    """Save ``figure`` to ``path``; the format follows the suffix (.png, .svg, .pdf)."""
    try:
        draw(figure).savefig(path, dpi=120)
    except (OSError, ValueError) as exc:
        raise GradekitError(f"{path}: cannot save the figure: {exc}") from None
