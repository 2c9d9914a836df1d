"""Every figure kind reads at a glance, measured on the drawn canvas from real grading data:
nothing is cut off (the legend lies inside the canvas, clear of the panels), every legend
entry shows in the panels in its own colour, values spanning decades get a log axis,
diverged values are clipped to the top and marked; and a drawn figure is cached by the
hash of its data, so drawing it again returns the same bytes without drawing."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from gradekit.assignments import load_assignment
from gradekit.cli import build_parser
from gradekit.experiments import dropout, hparam_search
from gradekit.experiments.common import implementation
from gradekit.grading import Grader
from gradekit.report import figure_cache, plots, scales
from gradekit.report.html import FIGURE_CACHE, ravine_paths, write_html
from gradekit.results import Figure, SubmissionResult

ROOT = Path(__file__).parents[2]

TRAINING = """schema_version = 1
name = "training-figures"
title = "Figures"
seed = 5

[[checks]]
id = "log_uniform.search"
type = "search"
component = "search/log_uniform"
options = { expect = "log_uniform" }

[[checks]]
id = "minibatch.early-stopping-valley"
type = "training"
component = "trainers/minibatch"
kwargs = { epochs = 40, batch_size = 16, patience = 3 }
options = { curve = "valley" }

[[checks]]
id = "curves.diagnosis"
type = "diagnosis"
component = "diagnosers/curves"
"""


def _figure(result: SubmissionResult, name: str) -> Figure:
    return next(c.figure for c in result.checks if c.name == name)


@pytest.fixture(scope="module")
def training(tmp_path_factory):
    """``training(which)``: the bundled training example graded on a search, a trainer and
    the diagnoser, with figures."""
    folder = tmp_path_factory.mktemp("training")
    (folder / "assignment.toml").write_text(TRAINING)
    grader = Grader(load_assignment(folder), figures=True)
    examples = ROOT / "assignments" / "training" / "examples"
    results = {w: grader.grade(examples / f"{w}.py", w) for w in ("correct", "buggy")}
    return results.__getitem__


def _experiment(*argv: str):
    return build_parser().parse_args(["experiment", *argv])


@pytest.fixture(scope="module")
def dropout_figure() -> Figure:
    """The dropout experiment on the reference: both conventions at four keep rates."""
    with implementation(_experiment("dropout")) as run:
        stats = [
            dropout.measure(run, convention, p, times=20)
            for convention in dropout.LAYERS
            for p in (0.25, 0.5, 0.75, 0.9)
        ]
    return dropout.dropout_figure(stats, "dropout with keep probability p (reference)")


@pytest.fixture(scope="module")
def search_rounds() -> list[list[dict[str, float]]]:
    """A small coarse-to-fine search of momentum's learning rate on the reference."""
    args = _experiment("hparam-search", "--optimizer", "momentum", "--trials", "8", "--steps", "60")
    with implementation(args) as run:
        return hparam_search.search(run, args)


def _hparam_figure(rounds: list[list[dict[str, float]]]) -> Figure:
    finite = [t for trials in rounds for t in trials if np.isfinite(t["val"])]
    best = min(finite, key=lambda t: t["val"])
    return hparam_search.figure(rounds, best, "validation loss against the learning rate")


# ----------------------------------------------------------------------------- measuring


class Drawn:
    """A figure drawn on its canvas, with what a reader sees of it."""

    def __init__(self, figure: Figure, dpi: int = 150) -> None:
        self.mpl = plots.draw(figure)
        self.mpl.set_dpi(dpi)
        self.mpl.canvas.draw()
        self.renderer = self.mpl.canvas.get_renderer()
        self.pixels = np.asarray(self.mpl.canvas.buffer_rgba())[..., :3].astype(int)
        self.axes = [ax for ax in self.mpl.axes if ax.axison]
        (self.legend,) = self.mpl.legends

    @property
    def entries(self) -> list[str]:
        return [t.get_text().replace("\n", " ") for t in self.legend.get_texts()]

    def inside_canvas(self) -> None:
        """The legend, the title and every panel (ticks, labels, title) lie on the canvas,
        and the legend covers no panel."""
        canvas = self.mpl.bbox
        boxes = [self.legend.get_window_extent(self.renderer)]
        boxes += [ax.get_tightbbox(self.renderer) for ax in self.axes]
        if self.mpl._suptitle is not None:
            boxes.append(self.mpl._suptitle.get_window_extent(self.renderer))
        for box in boxes:
            assert box.x0 >= -1 and box.y0 >= -1, box
            assert box.x1 <= canvas.width + 1 and box.y1 <= canvas.height + 1, (box, canvas)
        legend = boxes[0]
        assert not any(legend.overlaps(ax.bbox) for ax in self.axes)

    def shown(self, rgb: np.ndarray, tolerance: int = 24) -> int:
        """How many pixels inside the panels (their frames excluded) have colour ``rgb``."""
        height = self.pixels.shape[0]
        count = 0
        for ax in self.axes:
            box = ax.bbox
            rows = slice(int(height - box.y1) + 3, int(height - box.y0) - 3)
            cols = slice(int(box.x0) + 3, int(box.x1) - 3)
            area = self.pixels[rows, cols]
            count += int((np.abs(area - rgb).max(axis=-1) <= tolerance).sum())
        return count

    def entry_colours(self) -> dict[str, np.ndarray]:
        """The colour of each legend entry as drawn on white (patches with their alpha)."""
        colours = {}
        for handle, label in zip(self.legend.legend_handles, self.entries, strict=True):
            if label == plots.DIVERGED:
                continue
            if hasattr(handle, "get_markerfacecolor") and handle.get_linestyle() == "None":
                rgba = to_rgba(handle.get_markerfacecolor())
            elif hasattr(handle, "get_color"):
                rgba = to_rgba(handle.get_color())
            elif hasattr(handle, "get_facecolors"):  # a scatter's
                rgba = to_rgba(handle.get_facecolors()[0])
            else:
                rgba = to_rgba(handle.get_facecolor())
            alpha = rgba[3] if handle.get_alpha() is None else handle.get_alpha()
            colours[label] = 255 * (alpha * np.array(rgba[:3]) + (1 - alpha))
        return colours

    def every_entry_shows(self, least: int = 15) -> None:
        """Every legend entry's colour is seen in the panels: no entry's line lies hidden
        under another's."""
        for label, rgb in self.entry_colours().items():
            assert self.shown(rgb) >= least, f"{label!r} is not visible"

    def off_scale_marks(self) -> int:
        return sum(
            len(line.get_xdata())
            for ax in self.axes
            for line in ax.get_lines()
            if line.get_marker() == "^"
        )


def _reads(figure: Figure) -> Drawn:
    drawn = Drawn(figure)
    drawn.inside_canvas()
    drawn.every_entry_shows()
    return drawn


# ----------------------------------------------------------------------------- each kind


def test_gradient_check_bars_legend_inside_and_a_log_axis(grade):
    drawn = _reads(_figure(grade("backprop", "buggy"), "linear.gradient"))
    assert sorted(drawn.entries) == [
        "numeric tolerance 1e-06",
        "reference tolerance 1e-07",
        "vs central differences",
        "vs reference",
    ]
    assert drawn.axes[0].get_yscale() == "log"  # errors from 1e-17 to 1


def test_learning_curves_that_agree_both_show(training):
    figure = _figure(training("correct"), "minibatch.early-stopping-valley")
    yours, ref = figure.panels[1].series
    assert yours.y == ref.y  # the correct trainer's validation curve is the reference's
    drawn = _reads(figure)
    assert drawn.entries == ["yours", "reference"]


def test_hparam_search_spans_decades_on_a_log_axis_with_diverged_runs_marked(search_rounds):
    drawn = _reads(_hparam_figure(search_rounds))
    losses = [t["val"] for trials in search_rounds for t in trials if np.isfinite(t["val"])]
    assert max(losses) / min(losses) > 10**scales.LOG_DECADES
    assert drawn.axes[0].get_yscale() == "log"
    # A run that diverged (nan): clipped to the top of the axis and marked.
    diverged = [[dict(t) for t in trials] for trials in search_rounds]
    worst = max(diverged[0], key=lambda t: t["lr"])
    worst["val"] = float("nan")
    drawn = _reads(_with_nan(diverged))
    assert plots.DIVERGED in drawn.entries and drawn.off_scale_marks() == 1
    top = drawn.axes[0].get_ylim()[1]
    assert all(t["val"] < top for trials in diverged for t in trials if t is not worst)


def _with_nan(rounds: list[list[dict[str, float]]]) -> Figure:
    """The search's figure with diverged trials as missing values (not drawn at a height)."""
    figure = _hparam_figure(rounds)
    for series, trials in zip(figure.panels[0].series, rounds, strict=False):
        values = zip(trials, series.y, strict=True)
        series.y = [y if np.isfinite(t["val"]) else None for t, y in values]
    return figure


def test_dropout_one_visible_line_per_legend_entry(dropout_figure):
    assert len(dropout_figure.panels[0].series) == 6
    drawn = _reads(dropout_figure)
    # The series that coincide are one line each: inverted's E[train] and test output at
    # 1, and everything at p (inverted's kept fraction, all three of vanilla).
    assert drawn.entries == [
        "inverted: E[train] / x = test / x",
        "inverted: kept fraction = vanilla: E[train] / x = test / x = kept fraction",
    ]
    assert drawn.axes[0].get_yscale() == "linear"  # 0.25 to 1: no decades


def test_ravine_paths_in_small_multiples_over_one_view(grade):
    overview = ravine_paths(grade("optimization", "buggy"))
    drawn = _reads(overview)
    assert len(drawn.axes) == len(overview.panels) >= 2
    assert len({(ax.get_xlim(), ax.get_ylim()) for ax in drawn.axes}) == 1
    assert drawn.entries == ["yours", "reference", "start"]


def test_a_diverging_loss_is_clipped_and_the_reference_stays_readable(grade):
    figure = _figure(grade("optimization", "buggy"), "momentum.ravine")
    loss = figure.panels[0]
    yours, ref = loss.series
    assert max(y for y in yours.y if y is not None) > 1e10 * max(ref.y)
    drawn = _reads(figure)
    ax = drawn.axes[0]
    assert ax.get_yscale() == "log"
    assert ax.get_ylim()[1] == pytest.approx(scales.OFF_SCALE * max(ref.y))
    assert drawn.off_scale_marks() == 1 and plots.DIVERGED in drawn.entries


def test_init_histograms_yours_filled_the_reference_outlined(grade):
    figure = _figure(grade("initialization", "correct"), "experiment.tanh-std0.01")
    drawn = _reads(figure)
    assert drawn.entries == ["yours", "reference"] and len(drawn.axes) == 6


def test_search_histograms_that_agree_both_show(training):
    drawn = _reads(_figure(training("correct"), "log_uniform.search"))
    assert drawn.entries == ["yours", "reference"]


def test_diagnoser_curves_long_titles_wrap_inside_the_canvas(training):
    figure = _figure(training("buggy"), "curves.diagnosis")
    assert max(len(p.title) for p in figure.panels) > 50
    drawn = _reads(figure)
    assert drawn.entries == ["training", "validation"]
    assert any("\n" in ax.get_title() for ax in drawn.axes)


# ----------------------------------------------------------------------------- the cache


@pytest.fixture
def draws(monkeypatch) -> list[str]:
    """The titles of the figures drawn while a test runs."""
    drawn: list[str] = []
    draw = plots.draw

    def counting(figure: Figure, **kwargs):
        drawn.append(figure.title)
        return draw(figure, **kwargs)

    monkeypatch.setattr(plots, "draw", counting)
    return drawn


def test_the_cache_returns_the_same_bytes_without_drawing(grade, draws, tmp_path):
    figure = _figure(grade("backprop", "buggy"), "linear.gradient")
    cache = figure_cache.FigureCache(tmp_path / "figures")
    first = plots.png(figure, cache=cache)
    again = plots.png(figure, cache=cache)
    assert first == again == plots.png(figure) and first.startswith(b"\x89PNG")
    assert len(draws) == 2  # the first cached call and the uncached one
    (entry,) = (tmp_path / "figures").iterdir()
    assert entry.name == figure_cache.figure_key(figure, 100, True) + ".png"
    assert entry.stat().st_mode & 0o077 == 0
    # Other data, another entry; the options are part of the key too.
    changed = figure.model_copy(update={"title": figure.title + " (again)"})
    assert figure_cache.figure_key(changed, 100, True) != figure_cache.figure_key(figure, 100, True)
    assert figure_cache.figure_key(figure, 100, False) != figure_cache.figure_key(figure, 100, True)


def test_the_cache_reads_only_whole_pngs_of_its_own(grade, draws, tmp_path):
    figure = _figure(grade("backprop", "buggy"), "linear.gradient")
    cache = figure_cache.FigureCache(tmp_path / "figures")
    key = figure_cache.figure_key(figure, 100, True)
    entry = tmp_path / "figures" / f"{key}.png"
    entry.write_bytes(b"<script>not a png</script>")
    assert plots.png(figure, cache=cache).startswith(b"\x89PNG") and len(draws) == 1
    assert entry.read_bytes().startswith(b"\x89PNG")  # replaced by the drawing
    truncated = entry.read_bytes()[:-20]
    entry.write_bytes(truncated)
    assert plots.png(figure, cache=cache) != truncated and len(draws) == 2
    planted = tmp_path / "planted.png"
    planted.write_bytes(entry.read_bytes())
    entry.unlink()
    entry.symlink_to(planted)
    assert cache.get(key) is None  # never through a link
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    assert not figure_cache.FigureCache(shared).usable  # others could write into it


def test_writing_the_report_again_redraws_nothing(report, draws, tmp_path):
    index = write_html(report, tmp_path)
    pages = {p.name: p.read_text() for p in tmp_path.glob("*.html")}
    drawn = len(draws)
    figures = [c.figure for s in report.submissions for c in s.checks if c.figure]
    figures += [ravine_paths(s) for s in report.submissions if ravine_paths(s)]
    assert drawn == len({figure_cache.figure_key(f, 100, False) for f in figures}) > 4
    stale = tmp_path / FIGURE_CACHE / ("0" * 64 + ".png")
    stale.write_bytes(b"\x89PNG old")
    os.utime(stale, (1, 1))
    assert write_html(report, tmp_path) == index
    assert len(draws) == drawn  # nothing drawn the second time
    assert {p.name: p.read_text() for p in tmp_path.glob("*.html")} == pages
    assert not stale.exists()  # a figure no page uses any more is removed
    assert len(list((tmp_path / FIGURE_CACHE).iterdir())) == drawn
    # One changed check redraws that figure only.
    buggy = report.submissions[1]
    checks = [
        c.model_copy(update={"figure": c.figure.model_copy(update={"title": "changed"})})
        if c.name == "adam.mlp"
        else c
        for c in buggy.checks
    ]
    changed = report.model_copy(
        update={"submissions": [report.submissions[0], buggy.model_copy(update={"checks": checks})]}
    )
    write_html(changed, tmp_path)
    assert draws[drawn:] == ["changed"]
