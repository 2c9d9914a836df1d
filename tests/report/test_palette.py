"""One legend serves every panel of a figure: a label keeps one colour across panels, and
two labels never share one."""

from __future__ import annotations

from gradekit.report.plots import draw
from gradekit.results import Figure, Panel, Series


def _colours(fig) -> dict[str, set[str]]:
    """Each drawn line's label and colour, over every panel."""
    found: dict[str, set[str]] = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            if not line.get_label().startswith("_"):
                found.setdefault(line.get_label(), set()).add(str(line.get_color()))
    return found


def test_labels_of_different_panels_get_different_colours_and_keep_them():
    left = Panel(kind="line", title="a", series=[Series.of("pretext", [1, 2, 3])])
    right = Panel(
        kind="line",
        title="b",
        series=[Series.of("scratch", [1, 2, 3]), Series.of("pretext", [3, 2, 1])],
    )
    colours = _colours(draw(Figure(title="t", panels=[left, right])))
    assert set(colours) == {"pretext", "scratch"}
    assert len(colours["pretext"]) == 1, "a label keeps its colour in every panel"
    assert colours["pretext"] != colours["scratch"], "two labels share a colour"
