"""The HTML report (``report.html``), pinned: each page's and the index's fields, columns
and links to their meaning, every string escaped (quotes too) on hostile text, the
figures embedded (drawing stubbed: which figure goes where is pinned, not its pixels),
page names safe and unique, and what ``write_html`` writes, reuses and removes."""

from __future__ import annotations

import base64
import os
import re
import time
from html import escape, unescape
from html.parser import HTMLParser

import pytest

from gradekit.errors import GradekitError
from gradekit.report import html
from gradekit.report.analytics import (
    CheckStats,
    ClassAnalytics,
    MisconceptionStats,
    class_analytics,
)
from gradekit.report.html import (
    FIGURE_CACHE,
    index_page,
    page_names,
    ravine_paths,
    submission_page,
    write_html,
)
from gradekit.report.similarity import Similarity, SimilarPair
from gradekit.results import CheckResult, Figure, GradeReport, Panel, Series, SubmissionResult

from . import results

HOSTILE = "\"'><script>alert(1)</script>&amp;\x1b[2J\u202e"
"""Closes an attribute (either quote), opens a script, fakes an entity, clears a terminal
and reverses the text: shown as text, never as markup."""
SHOWN = escape("\"'><script>alert(1)</script>&amp;", quote=True)
"""HOSTILE as a page must show it: escaped, quotes included, controls gone."""


def check(name: str, status: str = "passed", score: float = 2.0, **kw) -> CheckResult:
    return results.check(name, status, score, **{"component": "optimizers/sgd", **kw})


def submission(name: str, checks: list[CheckResult], **kw) -> SubmissionResult:
    return results.submission(name, checks, **{"assignment": "optimization", **kw})


def report(*subs: SubmissionResult, assignment: str = "optimization") -> GradeReport:
    return results.report(*subs, assignment=assignment)


def figure(title: str, kind: str = "line", problem: str | None = None) -> Figure:
    series = [Series(label="yours", y=[1.0, 2.0]), Series(label="reference", y=[1.0, 1.5])]
    return Figure(title=title, panels=[Panel(kind=kind, problem=problem, series=series)])


def ravine(title: str) -> Figure:
    """A convergence check's figure: its path on the ravine, and its loss curve."""
    return Figure(
        title=title,
        panels=[
            Panel(kind="path", problem="ravine", title="path", series=figure("").panels[0].series),
            Panel(kind="line", title="loss", series=figure("").panels[0].series),
        ],
    )


@pytest.fixture
def drawn(monkeypatch):
    """PNG drawing stubbed: each figure's bytes name its title; the calls are recorded."""
    calls: list[dict] = []

    def png(fig: Figure, dpi: int = 100, *, title: bool = True, cache=None) -> bytes:
        calls.append({"figure": fig, "dpi": dpi, "title": title, "cache": cache})
        if "unplottable" in fig.title:
            raise ValueError("a value a submission chose")
        return b"\x89PNG" + fig.title.encode()

    monkeypatch.setattr(html, "png", png)
    return calls


IMG = re.compile(r'<img alt="([^"]*)" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')


def images(page: str) -> list[tuple[str, bytes]]:
    return [(unescape(alt), base64.b64decode(data)) for alt, data in IMG.findall(page)]


def rows(page: str, section: str | None = None) -> list[str]:
    """The table rows of a page (or of the section after the heading ``section``)."""
    if section is not None:
        page = page.split(f"<h2>{section}</h2>", 1)[1].split("<h2>", 1)[0]
    return [r.split("</tr>")[0] for r in page.split("<tr>")[1:] if "<th" not in r]


def cells(row: str) -> list[str]:
    return [c.split("</td>")[0] for c in re.split(r"<td[^>]*>", row)[1:]]


class Structure(HTMLParser):
    """A page's elements, each closed where it was opened, and any text where no text
    belongs (directly in the body, a table, a row, a list, a figure or a picture)."""

    VOID = frozenset({"meta", "br", "img"})
    CONTAINERS = frozenset({"html", "head", "body", "table", "thead", "tbody", "tr", "ul"})
    CONTAINERS |= frozenset({"svg", "figure"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.stray: list[str] = []
        self.misnested: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open.pop() != tag:
            self.misnested.append(tag)

    def handle_data(self, data):
        if data.strip() and (not self.open or self.open[-1] in self.CONTAINERS):
            self.stray.append(data)


def well_formed(page: str) -> None:
    parser = Structure()
    parser.feed(page)
    parser.close()
    assert (parser.stray, parser.misnested, parser.open) == ([], [], [])


# ------------------------------------------------------------------ a submission's page
def test_a_page_is_a_whole_utf8_document_titled_submission_and_assignment(drawn):
    page = submission_page(submission("alice", [check("a")]), "optimization")
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')
    assert "<title>alice: optimization</title>" in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert page.endswith("</body>\n</html>\n")
    style = page.split("<style>")[1].split("</style>")[0]
    for selector in (".badge", ".passed", ".failed", ".hidden", ".misconception", "td.why"):
        assert selector in style  # every class the page uses is styled
    assert '<p><a href="index.html">&larr; the class</a></p>' in page


def test_a_page_heads_with_name_assignment_path_and_score_with_percent(drawn):
    alice = submission("alice", [check("a", score=1.0), check("b", score=0.125)])
    page = submission_page(alice, "optimization")
    body = page.split("<body>\n")[1]
    assert body.startswith(
        '<p><a href="index.html">&larr; the class</a></p>\n'
        "<h1>alice</h1>\n"
        '<div class="meta">assignment <b>optimization</b> &middot; /subs/alice.py</div>\n'
        '<div class="score">1.125 / 4 <small style="color:#52606d">(28%)</small></div>\n'
        '<h2>Checks</h2><table><thead><tr><th>check</th><th>status</th><th class="num">score</th>'
        "<th>why</th></tr></thead><tbody>\n<tr>"
    )
    assert body.endswith("</tr>\n</tbody></table>\n</body>\n</html>\n")
    tbody = body.split("<tbody>\n")[1].split("\n</tbody>")[0]
    starts = [row[:24] for row in tbody.split("\n")]
    assert starts == ['<tr><td class="name">a</', '<tr><td class="name">b</']
    three = submission("bob", [check("a", score=1.5)])
    assert '<small style="color:#52606d">(75%)</small>' in submission_page(three, "x")


def test_the_score_keeps_four_digits_and_a_zero_max_is_zero_percent(drawn):
    third = submission("alice", [check("a", score=2 / 3)], max_score=3.0)
    assert "0.6667 / 3 <small" in submission_page(third, "x")
    assert "(22%)" in submission_page(third, "x")
    empty = submission("alice", [], max_score=0.0)
    assert "0 / 0 <small" in submission_page(empty, "x") and "(0%)" in submission_page(empty, "x")


def test_each_check_is_a_row_of_name_status_score_and_why(drawn):
    checks = [
        check("ok", "passed", 2.0),
        check("bad", "failed", 0.1234, message="dx wrong\nat [0]", misconception="sum\nnot mean"),
        check("err", "error", 0.0, message="raised", output="Traceback\n  line 3"),
        check("slow", "timeout", 0.0, message="too long", visibility="hidden"),
    ]
    page = submission_page(submission("alice", checks), "optimization")
    header = page.split("<h2>Checks</h2>")[1].split("</thead>")[0]
    assert re.findall(r"<th[^>]*>([^<]*)</th>", header) == ["check", "status", "score", "why"]
    assert [cells(r) for r in rows(page, "Checks")] == [
        ["ok", '<span class="badge passed">passed</span>', "2 / 2", ""],
        [
            "bad",
            '<span class="badge failed">failed</span>',
            "0.123 / 2",
            'dx wrong\nat [0]<div class="misconception"><b>Misconception:</b> sum\nnot mean</div>',
        ],
        [
            "err",
            '<span class="badge error">error</span>',
            "0 / 2",
            "raised<pre>Traceback\n  line 3</pre>",
        ],
        [
            'slow<span class="badge hidden">hidden</span>',
            '<span class="badge timeout">timeout</span>',
            "0 / 2",
            "too long",
        ],
    ]
    first = rows(page, "Checks")[0]
    assert '<td class="name">' in first and '<td class="num">' in first
    assert '<td class="why">' in first


def test_a_load_error_and_what_was_left_out_are_sections_of_their_own(drawn):
    broken = submission("alice", [], load_error=f"line 1\n\t{HOSTILE}", notes=["%magic", HOSTILE])
    page = submission_page(broken, "optimization")
    assert f"<h2>The submission did not load</h2><pre>line 1\n\t{SHOWN}</pre>" in page
    assert f"<h2>Left out of the submission</h2><ul><li>%magic</li><li>{SHOWN}</li></ul>" in page
    plain = submission_page(submission("bob", [check("a")]), "optimization")
    assert "did not load" not in plain and "Left out" not in plain


def test_every_string_of_a_page_is_escaped_quotes_too(drawn):
    bad = check(
        HOSTILE,
        "failed",
        0.0,
        message=HOSTILE,
        misconception=HOSTILE,
        output=HOSTILE,
        figure=figure(HOSTILE),
    )
    hostile = submission(HOSTILE, [bad], path=HOSTILE, load_error=HOSTILE, notes=[HOSTILE])
    page = submission_page(hostile, HOSTILE)
    assert "<script>" not in page and "\x1b" not in page and "\u202e" not in page
    assert "\"'>" not in page
    # name (title, h1, row, caption, figure alt), assignment (title, meta), path, load
    # error, note, message, misconception, output, figure title (alt, caption)
    assert page.count(SHOWN) >= 14
    assert f"<title>{SHOWN}: {SHOWN}</title>" in page


def test_a_check_with_a_figure_links_to_it_and_the_figure_is_embedded(drawn):
    checks = [
        check("sgd.ravine/1 x", "failed", 1.0, figure=figure("loss curves")),
        check("plain"),
        check("h", visibility="hidden", figure=figure("hidden curves")),
    ]
    page = submission_page(submission("alice", checks), "optimization")
    row = rows(page, "Checks")[0]
    assert cells(row)[0] == '<a href="#fig-sgd.ravine-1-x">sgd.ravine/1 x</a>'
    assert "<a " not in rows(page, "Checks")[1]
    figures = page.split("<h2>Figures</h2>")[1]
    assert (
        '<figure id="fig-sgd.ravine-1-x"><figcaption><span class="badge failed">failed</span> '
        "<b>sgd.ravine/1 x</b>: loss curves</figcaption><img " in figures
    )
    assert (
        '<figure id="fig-h"><figcaption><span class="badge passed">passed</span> '
        "<b>h</b> (hidden): hidden curves</figcaption>" in figures
    )
    assert images(page) == [
        ("loss curves", b"\x89PNGloss curves"),
        ("hidden curves", b"\x89PNGhidden curves"),
    ]
    assert all(call["title"] is False for call in drawn)  # the caption carries the title


def test_no_figure_no_figures_section(drawn):
    page = submission_page(submission("alice", [check("a")]), "optimization")
    assert "Figures" not in page and "<figure" not in page and not drawn


def test_a_figure_that_cannot_be_drawn_is_a_line_saying_so(drawn):
    bad = check("a", figure=figure(f"unplottable {HOSTILE}"))
    page = submission_page(submission("alice", [bad, check("b", figure=figure("fine"))]), "x")
    assert f'<p class="note">unplottable {SHOWN}: this figure could not be drawn.</p>' in page
    assert images(page) == [("fine", b"\x89PNGfine")]


def test_figures_come_from_the_cache_given(drawn):
    sentinel = object()
    checks = [check(f"{n}.ravine", figure=ravine(n)) for n in ("sgd", "momentum")]
    submission_page(submission("alice", checks), "x", sentinel)
    assert [call["cache"] for call in drawn] == [sentinel] * 3  # the overview and each check
    drawn.clear()
    submission_page(submission("alice", [check("a", figure=figure("f"))]), "x")
    assert [call["cache"] for call in drawn] == [None]


def test_anchors_replace_every_unsafe_character():
    page_ids = html._anchor("a b/c\"d'e<f>g&h:i")
    assert page_ids == "fig-a-b-c-d-e-f-g-h-i"
    assert html._anchor("Az09_.-") == "fig-Az09_.-"


# ------------------------------------------------------------------ the ravine overview
def test_the_ravine_overview_gathers_every_public_path_on_the_ravine(drawn):
    checks = [
        check("sgd.ravine", "passed", figure=ravine("sgd")),
        check("nofig"),
        check("adam.mlp", figure=figure("mlp", kind="path", problem="mlp")),
        check("loss", figure=figure("loss", kind="line", problem="ravine")),
        check("secret.ravine", visibility="hidden", figure=ravine("secret")),
        check("momentum.ravine", "failed", 0.5, figure=ravine("momentum")),
    ]
    result = submission("alice", checks)
    overview = ravine_paths(result)
    assert overview is not None
    assert overview.title == "Your optimizers' paths on the ravine 0.5 (0.1 x² + 10 y²)"
    assert [p.title for p in overview.panels] == ["sgd.ravine (passed)", "momentum.ravine (failed)"]
    assert all(p.kind == "path" and p.problem == "ravine" for p in overview.panels)
    assert overview.panels[0].series == ravine("sgd").panels[0].series
    assert checks[0].figure.panels[0].title == "path"  # the check's own figure is unchanged
    page = submission_page(result, "optimization")
    figures = page.split("<h2>Figures</h2>")[1]
    assert figures.startswith(f"<figure><figcaption>{escape(overview.title)}</figcaption>\n<img ")
    assert images(page)[0][0] == overview.title


def test_one_path_on_the_ravine_is_no_overview(drawn):
    one = submission("alice", [check("sgd.ravine", figure=ravine("sgd")), check("b")])
    assert ravine_paths(one) is None
    assert "paths on the ravine" not in submission_page(one, "x")


# ------------------------------------------------------------------ page names
def test_page_names_are_safe_unique_whatever_the_case_and_never_the_index():
    names = ["a b", "a_b", "A_B", "index", "INDEX", "", "ok.v2-x", "a/../b"]
    got = page_names(report(*(submission(n, []) for n in names)))
    assert got == {
        "a b": "a_b.html",
        "a_b": "a_b-2.html",
        "A_B": "A_B-3.html",
        "index": "index-2.html",
        "INDEX": "INDEX-3.html",
        "": "submission.html",
        "ok.v2-x": "ok.v2-x.html",
        "a/../b": "a_.._b.html",
    }


def test_a_name_taken_by_a_suffixed_page_moves_on():
    got = page_names(report(*(submission(n, []) for n in ["a-2", "a", "a b", "a_b"])))
    assert got == {"a-2": "a-2.html", "a": "a.html", "a b": "a_b.html", "a_b": "a_b-2.html"}
    got = page_names(report(*(submission(n, []) for n in ["a", "a?", "a!"])))
    assert got == {"a": "a.html", "a?": "a_.html", "a!": "a_-2.html"}


# ------------------------------------------------------------------ the index
def test_the_index_has_a_row_per_submission_with_score_bar_and_counts():
    rep = report(
        submission(
            "ann",
            [
                check("a"),
                check("b", "failed", 0.5),
                check("c", "error", 0),
                check("d", "timeout", 0),
            ],
        ),
        submission("bob", [check("a", score=2 / 3)]),
        submission("cat", [], load_error=f"bad {HOSTILE}", max_score=0.0),
    )
    page = index_page(rep)
    assert page.startswith("<!DOCTYPE html>") and "<title>optimization: the class</title>" in page
    assert "<h1>optimization</h1>" in page
    assert '<div class="meta">3 submissions &middot; gradekit 9.9</div>' in page
    head = page.split("<thead>")[1].split("</thead>")[0]
    assert re.findall(r"<th[^>]*>([^<]*)</th>", head) == [
        "submission",
        "score",
        "",
        "passed",
        "failed",
        "error or timeout",
        "",
    ]
    table = page.split("<tbody>")[1].split("</tbody>")[0]
    got = [cells(r) for r in rows(table)]
    assert got == [
        [
            '<a href="ann.html">ann</a>',
            "2.5 / 8",
            '<div class="bar"><span style="width:31.2%"></span></div>',
            "1",
            "1",
            "2",
            "",
        ],
        [
            '<a href="bob.html">bob</a>',
            "0.6667 / 2",
            '<div class="bar"><span style="width:33.3%"></span></div>',
            "1",
            "0",
            "0",
            "",
        ],
        [
            '<a href="cat.html">cat</a>',
            "0 / 0",
            '<div class="bar"><span style="width:0.0%"></span></div>',
            "0",
            "0",
            "0",
            f"did not load: bad {SHOWN}",
        ],
    ]


def test_the_index_escapes_every_name_and_the_assignment():
    rep = report(
        submission(HOSTILE, [check(HOSTILE, "failed", 0, misconception=HOSTILE)]),
        assignment=HOSTILE,
    )
    rep.submissions[0].checks[0].title = HOSTILE
    page = index_page(rep)
    assert "<script>" not in page and "\x1b" not in page and "\u202e" not in page
    assert f"<h1>{SHOWN}</h1>" in page and f"<title>{SHOWN}: the class</title>" in page
    pages = page_names(rep)
    assert re.fullmatch(r"[A-Za-z0-9_.-]+\.html", pages[HOSTILE])
    assert f'<a href="{pages[HOSTILE]}">{SHOWN}</a>' in page


def stats(**kw) -> CheckStats:
    fields = dict(
        id="sgd.ravine",
        title="SGD on the ravine",
        visibility="public",
        max_score=2.0,
        submissions=8,
        passed=3,
        pass_rate=3 / 8,
        mean_score=1.23456,
        histogram=[1, 0, 0, 0, 0, 0, 0, 0, 2, 5],
    )
    return CheckStats(**{**fields, **kw})


def analytics(**kw) -> ClassAnalytics:
    fields = dict(
        assignment="optimization", submissions=10, not_loaded=[], checks=[], misconceptions=[]
    )
    return ClassAnalytics(**{**fields, **kw})


def test_each_check_across_the_class_shows_pass_rate_mean_and_histogram():
    a = analytics(checks=[stats(), stats(id=HOSTILE, title=HOSTILE, visibility="hidden")])
    page = index_page(report(), a)
    section = page.split("<h2>Checks across the class</h2>")[1]
    head = section.split("</thead>")[0]
    assert re.findall(r"<th[^>]*>([^<]*)</th>", head) == [
        "check",
        "title",
        "pass rate",
        "passed",
        "mean score",
        "scores (0 to full marks)",
    ]
    assert section.startswith(
        '<table><thead><tr><th>check</th><th>title</th><th>pass rate</th><th class="num">passed'
        '</th><th class="num">mean score</th><th>scores (0 to full marks)</th></tr></thead>'
        "<tbody>\n<tr>"
    )
    first, second = (cells(r) for r in rows(page, "Checks across the class"))
    assert first[:5] == [
        "sgd.ravine",
        "SGD on the ravine",
        '<div class="bar"><span style="width:37.5%"></span></div>',
        "38% (3 of 8)",
        "1.23 / 2",
    ]
    assert first[5].startswith('<svg class="hist"')
    assert second[0] == f'{SHOWN}<span class="badge hidden">hidden</span>' and second[1] == SHOWN
    assert "left out of these numbers" not in page
    assert section.split("<h2>")[0].endswith("</tr>\n</tbody></table>")
    assert section.split("<h2>")[0].count("</tr>\n<tr>") == 1
    assert page.count("</table><h2>Misconceptions across the class</h2>") == 1
    most = index_page(report(), analytics(checks=[stats(passed=6, pass_rate=0.75)]))
    assert "76%" not in most and "75% (6 of 8)" in most


def test_submissions_that_did_not_load_are_named_apart_from_the_numbers():
    rep = report(submission("a b", []), submission(HOSTILE, []))
    a = analytics(submissions=7, not_loaded=["a b", HOSTILE], checks=[stats()])
    page = index_page(rep, a)
    pages = page_names(rep)
    note = (
        '<p class="note">2 of 7 submissions did not load and are left out of these numbers: '
        f'<a href="a_b.html">a b</a>, <a href="{pages[HOSTILE]}">{SHOWN}</a>.</p>'
    )
    assert f"<h2>Checks across the class</h2>{note}<table>" in page


def rects(svg: str) -> list[dict[str, str]]:
    found = re.findall(r"<rect ([^>]*)>(?:<title>([^<]*)</title>)?</rect>", svg)
    return [dict(re.findall(r'(\w+)="([^"]*)"', attrs), tip=unescape(tip)) for attrs, tip in found]


def test_the_histogram_has_a_bar_per_bin_as_tall_as_its_count_on_an_axis():
    svg = html._histogram_svg([1, 0, 4, 2], 2.0)
    assert svg.startswith(
        '<svg class="hist" width="120" height="26" viewBox="0 0 120 26" role="img" '
        'aria-label="scores from 0 to 2">'
    )
    assert re.fullmatch(r"<svg [^>]*>(<rect [^>]*>(<title>[^<]*</title>)?</rect>)+</svg>", svg)
    *bars, axis = rects(svg)
    assert axis == {"class": "axis", "x": "0", "y": "24", "width": "120", "height": "1", "tip": ""}
    heights = [float(b["height"]) for b in bars]
    assert heights == [6.0, 0.0, 24.0, 12.0]  # in proportion, the tallest the full 24
    assert all(float(b["y"]) + float(b["height"]) == 24.0 for b in bars)  # standing on the axis
    xs = [float(b["x"]) for b in bars]
    assert xs == [0.5, 30.5, 60.5, 90.5] and all(float(b["width"]) == 29.0 for b in bars)
    assert [b["tip"] for b in bars] == [
        "1 with a score in [0, 0.5)",
        "0 with a score in [0.5, 1)",
        "4 with a score in [1, 1.5)",
        "2 with a score in [1.5, 2]",
    ]


def test_every_bar_is_its_count_to_a_tenth_and_stands_on_the_axis():
    for count in range(161):
        bar, top, _ = rects(html._histogram_svg([count, 160], 1.0))
        assert abs(float(bar["height"]) - 24 * count / 160) <= 0.05 + 1e-9
        assert float(bar["y"]) + float(bar["height"]) == 24.0
        assert top["height"] == "24.0" and top["y"] == "0.0"


def test_a_histogram_of_no_score_is_flat():
    *bars, _ = rects(html._histogram_svg([0, 0, 0], 3.0))
    assert [b["height"] for b in bars] == ["0.0"] * 3
    assert [b["tip"] for b in bars][-1] == "0 with a score in [2, 3]"
    (single, _) = rects(html._histogram_svg([7], 1.0))
    assert single["height"] == "24.0" and single["tip"] == "7 with a score in [0, 1]"


def test_misconceptions_show_text_count_of_the_graded_checks_and_who():
    names = ["ann", "b b", HOSTILE, "x", "y"]
    rep = report(*(submission(n, []) for n in names))
    many = MisconceptionStats(
        text=f"sum\n{HOSTILE}", count=2, submissions=["ann", HOSTILE], checks=["a.x", HOSTILE]
    )
    one = MisconceptionStats(text="mean", count=1, submissions=["b b"], checks=["c"])
    a = analytics(submissions=9, not_loaded=["x", "y"], misconceptions=[many, one])
    page = index_page(rep, a)
    section = page.split("<h2>Misconceptions across the class</h2>")[1].split("<h2>")[0]
    assert section.startswith(
        '<p class="note">Each named only when a known mistake explains every answer of the '
        "component (docs/grading.md); most common first.</p>"
    )
    head = section.split("</thead>")[0]
    assert re.findall(r"<th[^>]*>([^<]*)</th>", head) == [
        "misconception",
        "submissions",
        "checks",
        "who",
    ]
    pages = page_names(rep)
    assert [cells(r) for r in rows(section)] == [
        [
            f"sum\n{SHOWN}",
            "2 of 7",
            f"a.x<br>{SHOWN}",
            f'<a href="ann.html">ann</a>, <a href="{pages[HOSTILE]}">{SHOWN}</a>',
        ],
        ["mean", "1 of 7", "c", '<a href="b_b.html">b b</a>'],
    ]


def test_no_misconception_named_says_so():
    page = index_page(report(), analytics())
    assert '<h2>Misconceptions across the class</h2><p class="note">None was named.</p>' in page
    assert "<th>misconception</th>" not in page


def similarity(**kw) -> Similarity:
    fields = dict(
        compared=12, template=True, not_compared=[], median=0.214, threshold=0.6049, pairs=[]
    )
    return Similarity(**{**fields, **kw})


def test_similar_pairs_show_both_names_linked_share_and_fingerprints():
    rep = report(submission("ann", []), submission("b b", []), submission(HOSTILE, []))
    pairs = [
        SimilarPair(first="ann", second=HOSTILE, score=0.876, shared=41),
        SimilarPair(first="b b", second="ann", score=0.6, shared=7),
    ]
    page = index_page(rep, analytics(similarity=similarity(pairs=pairs)))
    section = page.split("<h2>Similar submissions</h2>")[1]
    assert page.endswith(f"<h2>Similar submissions</h2>{section}")
    note = section.split("<table>")[0]
    assert note == (
        '<p class="note">Fingerprints of each submission\'s code (winnowing, as MOSS computes '
        "them: comments, docstrings, layout and the names chosen do not count, nor does the "
        "starter template). Of 12 submissions compared, a pair shows here when it shares far "
        "more of its fingerprints than the class's pairs do (median 21%, shown from 60%). "
        "<b>This is not a verdict</b>: shared lecture code, a study group or a common hint "
        "make code alike. Read both before drawing any conclusion.</p>"
    )
    table = section.removeprefix(note).split("</body>")[0]
    assert table.startswith(
        "<table><thead><tr><th>submission</th><th>submission</th>"
        '<th class="num">shared</th><th class="num">fingerprints</th></tr></thead><tbody>\n<tr>'
    )
    assert table.endswith("</tr>\n</tbody></table>\n")
    assert table.count("</tr>\n<tr>") == 1
    head = section.split("</thead>")[0]
    assert re.findall(r"<th[^>]*>([^<]*)</th>", head) == [
        "submission",
        "submission",
        "shared",
        "fingerprints",
    ]
    pages = page_names(rep)
    assert [cells(r) for r in rows(section)] == [
        ['<a href="ann.html">ann</a>', f'<a href="{pages[HOSTILE]}">{SHOWN}</a>', "88%", "41"],
        ['<a href="b_b.html">b b</a>', '<a href="ann.html">ann</a>', "60%", "7"],
    ]


def test_similarity_says_what_was_not_compared_and_when_no_pair_stands_out():
    rep = report(submission("ann", []), submission("b b", []))
    sim = similarity(template=False, not_compared=["ann", "b b"])
    page = index_page(rep, analytics(similarity=sim))
    section = page.split("<h2>Similar submissions</h2>")[1]
    assert (
        "but the starter template was not given, so the code every student was handed counts)"
        in section
    )
    assert (
        '<p class="note">Not compared (no code of their own to read): '
        '<a href="ann.html">ann</a>, <a href="b_b.html">b b</a>.</p>'
        '<p class="note">No pair stands out.</p>'
    ) in section
    assert "<table>" not in section
    assert page.endswith('<p class="note">No pair stands out.</p>\n</body>\n</html>\n')
    assert '<p class="note">None was named.</p><h2>Similar submissions</h2><p class=' in page


def test_no_similarity_no_section():
    assert "Similar submissions" not in index_page(report(), analytics())


def test_the_index_computes_the_class_analytics_when_not_given():
    rep = report(
        submission("ann", [check("a", "failed", 0.0, misconception="sum")]),
        submission("bob", [check("a")]),
    )
    assert index_page(rep) == index_page(rep, class_analytics(rep))
    assert "1 of 2" in index_page(rep)


# ------------------------------------------------------------------ writing the report
def klass() -> GradeReport:
    return report(
        submission("ann", [check("a", figure=figure("ann's curve"))]),
        submission("index", [check("a", "failed", 0.0, misconception="sum")]),
        submission("b b", [check("a")], load_error="bad"),
    )


def test_write_html_writes_the_index_and_a_page_per_submission(drawn, tmp_path):
    rep = klass()
    folder = tmp_path / "deep" / "report"
    assert write_html(rep, folder) == folder / "index.html"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [".figures", "index.html", "ann.html", "index-2.html", "b_b.html"]
    )
    sims = class_analytics(rep, html.report_similarity(rep))
    assert (folder / "index.html").read_text(encoding="utf-8") == index_page(rep, sims)
    for s in rep.submissions:
        page = (folder / page_names(rep)[s.submission]).read_text(encoding="utf-8")
        assert page == submission_page(s, "optimization", drawn[0]["cache"])
    assert drawn[0]["cache"].folder == folder / FIGURE_CACHE


def test_write_html_uses_the_analytics_given(drawn, tmp_path):
    a = analytics(checks=[stats(id="given-check")])
    write_html(klass(), tmp_path, analytics=a)
    assert "given-check" in (tmp_path / "index.html").read_text()


def test_without_the_cache_figures_are_drawn_afresh_and_nothing_is_kept(drawn, tmp_path):
    write_html(klass(), tmp_path, cache=False)
    assert not (tmp_path / FIGURE_CACHE).exists()
    assert [call["cache"] for call in drawn] == [None]


def test_figures_no_page_uses_any_more_are_removed(drawn, tmp_path):
    stale = tmp_path / FIGURE_CACHE / ("0" * 64 + ".png")
    write_html(klass(), tmp_path)
    stale.write_bytes(b"old")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    write_html(klass(), tmp_path)
    assert not stale.exists()


def pid_page(result: SubmissionResult, assignment: str, cache=None) -> str:
    """A page that names the process that drew it."""
    return f"{result.submission} {assignment} {cache is not None} {os.getpid()}"


def test_pages_drawn_by_several_processes_are_the_same_and_drawn_there(monkeypatch, tmp_path):
    rep = klass()
    monkeypatch.setattr(html, "submission_page", pid_page)
    write_html(rep, tmp_path / "one", jobs=1)
    write_html(rep, tmp_path / "two", jobs=2)
    write_html(
        rep.model_copy(update={"submissions": rep.submissions[:1]}), tmp_path / "alone", jobs=4
    )
    for s in rep.submissions:
        name = page_names(rep)[s.submission]
        one = (tmp_path / "one" / name).read_text().split()
        two = (tmp_path / "two" / name).read_text().split()
        assert one[:-1] == two[:-1] == [*s.submission.split(), "optimization", "True"]
        assert int(one[-1]) == os.getpid() != int(two[-1])
    assert (tmp_path / "alone" / "ann.html").read_text().split()[-1] == str(os.getpid())
    pair = rep.model_copy(update={"submissions": rep.submissions[:2]})
    write_html(pair, tmp_path / "pair", jobs=2)
    assert all(
        int((tmp_path / "pair" / name).read_text().split()[-1]) != os.getpid()
        for name in ("ann.html", "index-2.html")
    )


def test_a_folder_that_cannot_be_written_is_one_clear_error(drawn, tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(GradekitError) as info:
        write_html(klass(), tmp_path / "file" / "report")
    assert (
        str(info.value)
        == f"{tmp_path / 'file' / 'report'}: cannot write the HTML report: Not a directory"
    )


@pytest.fixture
def ascii_locale():
    """The C locale, whose encoding is ASCII: what ``open`` uses when given no encoding."""
    import locale

    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        with pytest.raises(UnicodeEncodeError), open(os.devnull, "w") as f:
            f.write("\u00e9")
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, before)


def test_pages_are_utf8_whatever_the_locale(drawn, tmp_path, ascii_locale):
    """The page says charset utf-8: it is written so under an ASCII locale too."""
    rep = report(submission("Jos\u00e9", [check("a")]), assignment="optimizaci\u00f3n")
    write_html(rep, tmp_path, analytics=analytics())
    assert "<h1>Jos\u00e9</h1>" in (tmp_path / "Jos_.html").read_text(encoding="utf-8")
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<h1>optimizaci\u00f3n</h1>" in index


def test_every_page_is_well_formed_with_no_stray_text(drawn):
    checks = [
        check("sgd.ravine", "failed", 1.0, message="m\n2", misconception="x", figure=ravine("s")),
        check("momentum.ravine", figure=ravine("m")),
        check("e", "error", 0.0, output="Traceback", visibility="hidden"),
        check("u", figure=figure("unplottable")),
    ]
    full = submission("ann", checks, load_error="bad\nline", notes=["%magic"])
    well_formed(submission_page(full, "optimization"))
    well_formed(submission_page(submission("bob", []), "optimization"))
    rep = report(full, submission("b b", [check("a")]), submission("cat", [], load_error="x"))
    pair = SimilarPair(first="ann", second="b b", score=0.9, shared=4)
    idea = MisconceptionStats(text="sum", count=1, submissions=["ann"], checks=["a", "b"])
    rich = analytics(
        submissions=3,
        not_loaded=["cat"],
        checks=[stats(), stats(id="h", visibility="hidden")],
        misconceptions=[idea, idea],
        similarity=similarity(pairs=[pair, pair], not_compared=["cat"]),
    )
    page = index_page(rep, rich)
    well_formed(page)
    order = ["<h1>", "Checks across the class", "Misconceptions across", "Similar submissions"]
    assert [page.index(h) for h in order] == sorted(page.index(h) for h in order)
    well_formed(index_page(rep, analytics(similarity=similarity())))
    well_formed(index_page(report(), analytics()))
