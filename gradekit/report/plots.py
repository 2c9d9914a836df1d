"""Drawing a ``Figure`` (the data a check or an experiment gives) with matplotlib.

The HTML report and ``gradekit experiment ... --plot FILE`` both draw through here.
matplotlib is imported only when something is drawn, on the Agg canvas (no display).

Every figure is drawn to be read at a glance:

- the legend is measured and laid out (fewer columns, wrapped labels) to fit inside the
  canvas, above the panels; a panel title too long for its column wraps;
- a y axis whose positive values span more than ``LOG_DECADES`` decades is logarithmic
  (more than one decade for a panel that asks for ``log``), with plain tick labels;
- a value off the scale (not finite, or ``OFF_SCALE`` times the reference's largest on a
  log axis) is drawn clipped to the top of the axis and marked with a triangle;
- series that would lie on top of each other become one line with one legend entry
  (``vanilla: E[train] / x = test / x``); the reference is dashed and drawn over the
  others, so it shows where it agrees with yours, and a reference histogram is an
  outline over your filled one;
- path panels of one problem share one view, so small multiples compare.

:func:`png` keeps what it draws in a ``figure_cache.FigureCache``, by a hash of its data.
"""

from __future__ import annotations

import functools
import io
import math
import textwrap
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import GradekitError
from ..results import Figure, Panel, Series
from .figure_cache import FigureCache, figure_key
from .scales import (
    REFERENCE,
    as_values,
    axis_top,
    finite_y,
    log_axes,
    merged,
    off_scale,
    span_decades,
)

DIVERGED = "off the scale (diverged)"
"""The legend entry of the triangles that mark values clipped to the top of an axis."""
LABEL_CHARS = 48
"""Legend labels wrap at this many characters."""

_GRAY = "#374151"
_COLORS = ["#e4572e", "#2e86ab", "#76b041", "#9c6ade", "#f3a712", "#17bebb", "#c2185b"]

Box = tuple[float, float, float, float]


def _new_figure(size: tuple[float, float]) -> Any:
    """A matplotlib figure on the Agg canvas, outside pyplot (no global state, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=size)
    FigureCanvasAgg(fig)
    return fig


_PALETTE: ContextVar[dict[str, int] | None] = ContextVar("palette", default=None)
"""The colour index of each label in the figure being drawn (see ``_palette``)."""


def _palette(panels: list[Panel]) -> dict[str, int]:
    """A colour per label across the whole figure, in order of first appearance: one
    legend serves every panel, so a label keeps its colour and two labels never share
    one, whichever panels they are in."""
    labels = dict.fromkeys(s.label for p in panels for s in p.series if s.label != REFERENCE)
    return {label: i for i, label in enumerate(labels)}


def _style(series: Series, i: int) -> dict[str, Any]:
    if series.label == REFERENCE:  # drawn over the others: visible where they agree
        return {"color": _GRAY, "linestyle": (0, (4, 2)), "zorder": 4}
    index = (_PALETTE.get() or {}).get(series.label, i)
    return {"color": _COLORS[index % len(_COLORS)], "zorder": 3}


def _log_y(ax: Any, panel: Panel) -> None:
    """A log y axis with a few plain-text major ticks (1, 2, 5 per decade over a short
    span): mathtext labels and minor ticks are slow to lay out."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    ax.set_yscale("log")
    subs = (1.0, 2.0, 5.0) if span_decades(finite_y(panel)) < 2.5 else (1.0,)
    ax.yaxis.set_major_locator(LogLocator(subs=subs, numticks=8))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_locator(NullLocator())


def _mark_off_scale(ax: Any, x: np.ndarray, ceiling: float, color: str) -> None:
    """Triangles on the top edge where values leave the scale."""
    ax.plot(
        x,
        np.full(len(x), ceiling),
        linestyle="none",
        marker="^",
        markersize=7,
        color=color,
        markeredgecolor="black",
        markeredgewidth=0.6,
        clip_on=False,
        zorder=6,
        label=DIVERGED,
    )


def _histogram(ax: Any, panel: Panel, log: bool) -> None:
    for i, s in enumerate(panel.series):
        style = _style(s, i)
        counts, edges = as_values(s.y), as_values(s.x)
        if s.label == REFERENCE:  # an outline over yours: both show where they agree
            ax.stairs(counts, edges, linewidth=1.3, label=s.label, **style)
        else:
            ax.stairs(counts, edges, fill=True, alpha=0.35, color=style["color"], label=s.label)
            ax.stairs(counts, edges, color=style["color"], linewidth=1.0)
    ax.set_yticks([])


def _line(ax: Any, panel: Panel, log: bool) -> None:
    panel = merged(panel, log)
    ceiling = axis_top(panel, log)
    for i, s in enumerate(panel.series):
        y = as_values(s.y)
        x = as_values(s.x) if s.x else np.arange(len(y), dtype=np.float64)
        style = _style(s, i)
        off = off_scale(y, ceiling)
        width = 1.1 if s.label == REFERENCE else 2.2
        ax.plot(x, np.where(off, ceiling, y), label=s.label, linewidth=width, **style)
        leaves = off & ~np.r_[False, off[:-1]]
        if leaves.any():
            _mark_off_scale(ax, x[leaves], ceiling, style["color"])
    if ceiling is not None:
        ax.set_ylim(top=ceiling)


def _scatter(ax: Any, panel: Panel, log: bool) -> None:
    ceiling = axis_top(panel, log)
    for i, s in enumerate(panel.series):
        x, y = as_values(s.x), as_values(s.y)
        style = _style(s, i)
        off = off_scale(y, ceiling)
        if len(y) == 1:  # one point: a highlight (the best trial), over the others
            marker = {"marker": "*", "s": 150, "edgecolors": "black", "linewidths": 0.6}
            style["zorder"] = 5
        else:
            marker = {"s": 28, "alpha": 0.8}
        ax.scatter(x[~off], y[~off], label=s.label, **marker, **style)
        if off.any():
            _mark_off_scale(ax, x[off], ceiling, style["color"])
    if ceiling is not None:
        ax.set_ylim(top=ceiling)


def _bar(ax: Any, panel: Panel, log: bool) -> None:
    n = max(len(panel.series), 1)
    width = 0.8 / n
    positions = np.arange(len(panel.categories))
    for i, s in enumerate(panel.series):
        offset = (i - (n - 1) / 2) * width
        ax.bar(positions + offset, as_values(s.y), width, label=s.label, **_style(s, i))
    ax.set_xticks(positions, panel.categories)
    for j, (label, value) in enumerate(panel.marks.items()):
        ax.axhline(value, color="black", linestyle=":" if j else "-.", linewidth=1.0, label=label)


def _view(panel: Panel) -> Box | None:
    """The box a path panel shows: the reference's path when there is one, else every path
    without the points that ran far away (a diverging run leaves the box)."""
    ref = [s for s in panel.series if s.label == REFERENCE]
    pts = [np.c_[as_values(s.x), as_values(s.y)] for s in (ref or panel.series)]
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


def _views(panels: list[Panel]) -> list[Box | None]:
    """Each path panel's box; path panels of the same problem share the union of theirs,
    so small multiples of one problem compare at a glance."""
    views = [_view(p) if p.kind == "path" else None for p in panels]
    boxes: dict[str, list[Box]] = {}
    for panel, box in zip(panels, views, strict=True):
        if box is not None and panel.problem:
            boxes.setdefault(panel.problem, []).append(box)
    union = {
        problem: (
            min(b[0] for b in found),
            max(b[1] for b in found),
            min(b[2] for b in found),
            max(b[3] for b in found),
        )
        for problem, found in boxes.items()
        if len(found) > 1
    }
    return [
        union.get(p.problem or "", box) if box is not None else None
        for p, box in zip(panels, views, strict=True)
    ]


@functools.lru_cache(maxsize=8)
def _contour_grid(problem: str, box: Box) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The problem's loss on a grid over ``box`` (None for an unknown problem)."""
    from ..problems import PROBLEMS

    if problem not in PROBLEMS:
        return None
    spec = PROBLEMS[problem]()
    gx = np.linspace(box[0], box[1], 70)
    gy = np.linspace(box[2], box[3], 70)
    z = np.array([[spec.loss({"w": np.array([a, b])}) for a in gx] for b in gy])
    return gx, gy, z


def _contours(ax: Any, problem: str, box: Box) -> None:
    grid = _contour_grid(problem, box)
    if grid is None:
        return
    gx, gy, z = grid
    top = float(z.max())
    low = max(float(z.min()), 1e-4 * top, 1e-12)
    levels = np.geomspace(low, top, 14) if top > low else [low]
    ax.contour(gx, gy, z, levels=levels, colors="#c7ccd4", linewidths=0.7, zorder=1)


def _path(ax: Any, panel: Panel, box: Box | None) -> None:
    if box is not None:
        if panel.problem:
            _contours(ax, panel.problem, box)
        ax.set_xlim(box[0], box[1])
        ax.set_ylim(box[2], box[3])
    for i, s in enumerate(panel.series):
        x, y = as_values(s.x), as_values(s.y)
        style = _style(s, i)
        marker = {} if s.label == REFERENCE else {"marker": "o", "markersize": 2.2}
        ax.plot(x, y, linewidth=1.1, label=s.label, **marker, **style)
    starts = [(s.x[0], s.y[0]) for s in panel.series if s.x and s.y]
    if starts:
        ax.plot(*starts[0], "s", color="black", markersize=4, zorder=5, label="start")


_DRAW = {"histogram": _histogram, "line": _line, "bar": _bar, "scatter": _scatter}


def _panel(ax: Any, panel: Panel, box: Box | None, log: bool) -> None:
    """Draw one panel: its series, scales, labels and grid (not its title)."""
    if panel.kind == "path":
        _path(ax, panel, box)
    else:
        if log:
            _log_y(ax, panel)
        _DRAW[panel.kind](ax, panel, log)
    if panel.logx:
        ax.set_xscale("log")
    ax.set_xlabel(panel.xlabel, fontsize=8)
    ax.set_ylabel(panel.ylabel, fontsize=8)
    ax.tick_params(labelsize=7.5)
    if panel.kind != "histogram":
        ax.grid(True, alpha=0.25)


def _wrap(text: Any, room: float, renderer: Any) -> int:
    """Wrap a text artist to ``room`` pixels; return its number of lines."""
    width = text.get_window_extent(renderer).width
    if width > room:
        content = text.get_text()
        text.set_text(textwrap.fill(content, max(int(len(content) * room / width), 12)))
    return text.get_text().count("\n") + 1


def _legend(fig: Any, axes: Any, room: float, renderer: Any) -> Any | None:
    """One legend for the figure (an entry per label), as many columns as fit in ``room``
    pixels, or None when nothing is labelled."""
    from matplotlib.lines import Line2D

    handles: dict[str, Any] = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    if not handles:
        return None
    if DIVERGED in handles:  # the triangles take each series' colour: a neutral one, last
        del handles[DIVERGED]
        handles[DIVERGED] = Line2D(
            [], [], linestyle="none", marker="^", color="white", markeredgecolor="black"
        )
    labels = [textwrap.fill(label, LABEL_CHARS) for label in handles]
    for ncol in range(min(len(labels), 4), 0, -1):
        legend = fig.legend(
            list(handles.values()),
            labels,
            loc="upper center",
            ncol=ncol,
            fontsize=8,
            frameon=False,
            borderaxespad=0.2,
        )
        if ncol == 1 or legend.get_window_extent(renderer).width <= room:
            break
        legend.remove()
    return legend


def draw(figure: Figure, *, title: bool = True) -> Any:
    """A matplotlib figure of ``figure``: a grid of panels (three per row at most), one
    legend above them, and the figure's title on top unless ``title`` is False (a page
    captions it itself). Everything lies inside the canvas: the height follows the
    legend's and the titles' measured size."""
    panels = figure.panels
    n = max(len(panels), 1)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    histograms = all(p.kind == "histogram" for p in panels)
    width = 6.4 if cols == 1 else 3.6 * cols
    axes_h = 1.5 if histograms else 2.9 if n == 1 else 2.2
    left, right, bottom, wspace = 0.75, 0.2, 0.55, 0.32
    fig = _new_figure((width, axes_h * rows + 2))
    axes = fig.subplots(rows, cols, squeeze=False)
    palette = _PALETTE.set(_palette(panels))
    try:
        for ax, panel, box, log in zip(
            axes.flat, panels, _views(panels), log_axes(panels), strict=False
        ):
            _panel(ax, panel, box, log)
    finally:
        _PALETTE.reset(palette)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    renderer = fig.canvas.get_renderer()
    dpi = fig.dpi
    axes_w = (width - left - right) / (cols + wspace * (cols - 1))
    lines = max(
        (
            _wrap(ax.set_title(p.title, fontsize=8.5), (axes_w + 0.3) * dpi, renderer)
            for ax, p in zip(axes.flat, panels, strict=False)
            if p.title
        ),
        default=0,
    )
    heading = 0.08
    if title:
        suptitle = fig.suptitle(figure.title, fontsize=10, x=0.01, ha="left", va="top")
        heading += 0.2 * _wrap(suptitle, (width - 0.2) * dpi, renderer)
    legend = _legend(fig, axes, (width - 0.2) * dpi, renderer)
    legend_h = legend.get_window_extent(renderer).height / dpi + 0.06 if legend else 0.0
    title_h = 0.1 + 0.15 * lines
    top = heading + legend_h + title_h
    gap = 0.5 + title_h  # the tick labels and x label of a row, and the next row's title
    height = top + rows * axes_h + (rows - 1) * gap + bottom
    fig.set_size_inches(width, height)
    if title:
        suptitle.set_y(1 - 0.06 / height)
    if legend is not None:
        legend.set_bbox_to_anchor((0.5, 1 - heading / height), transform=fig.transFigure)
    fig.subplots_adjust(  # fixed margins: tight_layout costs a second per figure
        left=left / width,
        right=1 - right / width,
        bottom=bottom / height,
        top=1 - top / height,
        wspace=wspace,
        hspace=gap / axes_h,
    )
    return fig


def _render(figure: Figure, dpi: int, title: bool) -> bytes:
    buffer = io.BytesIO()
    draw(figure, title=title).savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def png(
    figure: Figure, dpi: int = 100, *, title: bool = True, cache: FigureCache | None = None
) -> bytes:
    """``figure`` drawn as PNG bytes: the same bytes for the same data, from ``cache``
    when it holds them (drawn and stored there otherwise)."""
    if cache is None:
        return _render(figure, dpi, title)
    key = figure_key(figure, dpi, title)
    data = cache.get(key)
    if data is None:
        data = _render(figure, dpi, title)
        cache.put(key, data)
    return data


def save(figure: Figure, path: Path) -> None:
    """Save ``figure`` to ``path``; the format follows the suffix (.png, .svg, .pdf)."""
    try:
        draw(figure).savefig(path, dpi=120)
    except (OSError, ValueError) as exc:
        raise GradekitError(f"{path}: cannot save the figure: {exc}") from None
