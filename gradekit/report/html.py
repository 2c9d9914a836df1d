"""The HTML report: a self-contained page per submission and an index page for the class.

Each page has the table of checks (status, score, message, misconception, hidden checks
marked) and the checks' figures as embedded PNG images, so it opens offline and can be
mailed or uploaded as one file. Figures come from ``CheckResult.figure`` (a grader made
with ``figures=True``) and are cached by the hash of their data in ``.figures/`` beside
the pages, so writing the report again redraws only what changed. The index adds the
class's analytics (:mod:`.analytics`): each check's pass rate and score histogram, the
misconceptions named across the class, and the pairs of submissions far more alike than
the rest (:mod:`.similarity`), for a person to look at. Every string is interpolated
through :func:`.safe.html_text`: a submission's name, messages and traceback show as
text, never as markup.
"""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

from ..errors import GradekitError
from ..results import CheckResult, Figure, GradeReport, Panel, SubmissionResult
from .analytics import ClassAnalytics, class_analytics
from .figure_cache import FigureCache
from .plots import png
from .safe import html_text
from .similarity import Similarity, report_similarity

FIGURE_CACHE = ".figures"
"""The folder, beside the pages, of the figures already drawn (``figure_cache``)."""

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2933;
       margin: 0 auto; max-width: 1150px; padding: 24px 28px 60px; background: #fafbfc; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 30px 0 10px; }
.meta { color: #52606d; margin-bottom: 18px; }
.score { font-size: 28px; font-weight: 650; }
table { border-collapse: collapse; width: 100%; background: white;
        box-shadow: 0 1px 2px rgba(0,0,0,.06); }
th, td { text-align: left; vertical-align: top; padding: 6px 10px;
         border-bottom: 1px solid #e4e7eb; }
th { background: #f0f2f5; font-weight: 600; font-size: 13px; }
th.num { text-align: right; }
td.num { white-space: nowrap; text-align: right; font-variant-numeric: tabular-nums; }
td.name { white-space: nowrap; font-family: ui-monospace, Menlo, monospace; font-size: 12.5px; }
td.why { font-size: 13px; max-width: 640px; overflow-wrap: anywhere; white-space: pre-wrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
         font-weight: 600; color: white; }
.passed { background: #2f9e44; } .failed { background: #d9480f; }
.error { background: #ae3ec9; } .timeout { background: #e8a33d; }
.hidden { background: #868e96; margin-left: 6px; }
.misconception { margin-top: 4px; color: #8a2c0d; }
pre { background: #f6f7f9; padding: 6px 8px; font-size: 12px; overflow-x: auto; }
figure { margin: 0 0 26px; background: white; padding: 10px 12px;
         box-shadow: 0 1px 2px rgba(0,0,0,.06); }
figcaption { font-size: 13px; margin-bottom: 6px; }
figure img { max-width: 100%; height: auto; display: block; }
a { color: #1c6fb5; text-decoration: none; } a:hover { text-decoration: underline; }
.bar { height: 8px; background: #e4e7eb; border-radius: 4px; min-width: 120px; }
.bar span { display: block; height: 8px; border-radius: 4px; background: #2f9e44; }
.note { color: #52606d; font-size: 13px; margin: 0 0 10px; max-width: 900px; }
svg.hist rect { fill: #2e86ab; } svg.hist rect.axis { fill: #c7ccd4; }
td.links { font-size: 12.5px; overflow-wrap: anywhere; }
"""


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html_text(title)}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _image(figure: Figure, cache: FigureCache | None) -> str:
    """The figure as an embedded PNG; a figure whose data cannot be drawn (values a
    submission chose) is a line saying so, never a page or a class report lost."""
    try:
        drawn = png(figure, title=False, cache=cache)
    except Exception:
        return f'<p class="note">{html_text(figure.title)}: this figure could not be drawn.</p>'
    data = base64.b64encode(drawn).decode("ascii")
    return f'<img alt="{html_text(figure.title)}" src="data:image/png;base64,{data}">'


def _anchor(name: str) -> str:
    return "fig-" + re.sub(r"[^A-Za-z0-9_.-]", "-", name)


def page_names(report: GradeReport) -> dict[str, str]:
    """Each submission's page file: its name with unsafe characters replaced, made unique
    (and never ``index.html``)."""
    names: dict[str, str] = {}
    taken = {"index"}
    for s in report.submissions:
        stem = base = re.sub(r"[^A-Za-z0-9_.-]", "_", s.submission) or "submission"
        n = 1
        while stem.lower() in taken:
            n += 1
            stem = f"{base}-{n}"
        taken.add(stem.lower())
        names[s.submission] = stem + ".html"
    return names


def _badge(status: str) -> str:
    return f'<span class="badge {html_text(status)}">{html_text(status)}</span>'


def _row(check: CheckResult) -> str:
    name = html_text(check.name)
    if check.figure is not None:
        name = f'<a href="#{html_text(_anchor(check.name))}">{name}</a>'
    hidden = '<span class="badge hidden">hidden</span>' if check.visibility == "hidden" else ""
    why = html_text(check.message, multiline=True)
    if check.misconception:
        misconception = html_text(check.misconception, multiline=True)
        why += f'<div class="misconception"><b>Misconception:</b> {misconception}</div>'
    if check.output:
        why += f"<pre>{html_text(check.output, multiline=True)}</pre>"
    return (
        f'<tr><td class="name">{name}{hidden}</td><td>{_badge(check.status)}</td>'
        f'<td class="num">{check.score:.3g} / {check.max_score:g}</td>'
        f'<td class="why">{why}</td></tr>'
    )


def ravine_paths(result: SubmissionResult) -> Figure | None:
    """Every optimizer's path on the narrow ravine beside the reference's, one small panel
    each over the same view (SGD's zig-zag beside momentum's), from the convergence
    checks' figures; None with fewer than two."""
    panels: list[Panel] = []
    for check in result.checks:
        if check.figure is None or check.visibility == "hidden":
            continue
        for panel in check.figure.panels:
            if panel.kind == "path" and panel.problem == "ravine":
                title = f"{check.name} ({check.status})"
                panels.append(panel.model_copy(update={"title": title}))
    if len(panels) < 2:
        return None
    return Figure(title="Your optimizers' paths on the ravine 0.5 (0.1 x² + 10 y²)", panels=panels)


def submission_page(
    result: SubmissionResult, assignment: str, cache: FigureCache | None = None
) -> str:
    """The HTML of one submission's page; its figures come from ``cache`` when drawn before."""
    percent = 100 * result.score / result.max_score if result.max_score else 0.0
    parts = [
        '<p><a href="index.html">&larr; the class</a></p>',
        f"<h1>{html_text(result.submission)}</h1>",
        f'<div class="meta">assignment <b>{html_text(assignment)}</b> &middot; '
        f"{html_text(result.path)}</div>",
        f'<div class="score">{result.score:.4g} / {result.max_score:g} '
        f'<small style="color:#52606d">({percent:.0f}%)</small></div>',
    ]
    if result.load_error:
        load_error = html_text(result.load_error, multiline=True)
        parts.append(f"<h2>The submission did not load</h2><pre>{load_error}</pre>")
    if result.notes:  # what the grader left out, e.g. a notebook's IPython lines
        items = "".join(f"<li>{html_text(note)}</li>" for note in result.notes)
        parts.append(f"<h2>Left out of the submission</h2><ul>{items}</ul>")
    rows = "\n".join(_row(c) for c in result.checks)
    parts.append(
        '<h2>Checks</h2><table><thead><tr><th>check</th><th>status</th><th class="num">score</th>'
        f"<th>why</th></tr></thead><tbody>\n{rows}\n</tbody></table>"
    )
    figures = []
    overview = ravine_paths(result)
    if overview is not None:
        figures.append(f"<figure><figcaption>{html_text(overview.title)}</figcaption>")
        figures.append(f"{_image(overview, cache)}</figure>")
    for check in result.checks:
        if check.figure is None:
            continue
        hidden = " (hidden)" if check.visibility == "hidden" else ""
        figures.append(
            f'<figure id="{html_text(_anchor(check.name))}"><figcaption>{_badge(check.status)} '
            f"<b>{html_text(check.name)}</b>{hidden}: {html_text(check.figure.title)}</figcaption>"
            f"{_image(check.figure, cache)}</figure>"
        )
    if figures:
        parts.append("<h2>Figures</h2>" + "\n".join(figures))
    return _page(f"{result.submission}: {assignment}", "\n".join(parts))


def _link(name: str, pages: dict[str, str]) -> str:
    """A link to a submission's page, its name as text."""
    return f'<a href="{html_text(pages[name])}">{html_text(name)}</a>'


def _histogram_svg(counts: list[int], max_score: float) -> str:
    """A small inline histogram of a check's scores (0 on the left, full marks right)."""
    top = max(counts) or 1
    width, height, bar = 120, 26, 120 / len(counts)
    rects = []
    for i, count in enumerate(counts):
        h = round(24 * count / top, 1)
        low, high = i * max_score / len(counts), (i + 1) * max_score / len(counts)
        tip = (
            f"{count} with a score in [{low:.3g}, {high:.3g}{']' if i == len(counts) - 1 else ')'}"
        )
        rects.append(
            f'<rect x="{i * bar + 0.5:.1f}" y="{24 - h:.1f}" width="{bar - 1:.1f}" '
            f'height="{h:.1f}"><title>{html_text(tip)}</title></rect>'
        )
    return (
        f'<svg class="hist" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="scores from 0 to {max_score:g}">'
        + "".join(rects)
        + f'<rect class="axis" x="0" y="24" width="{width}" height="1"></rect></svg>'
    )


def _checks_section(analytics: ClassAnalytics, pages: dict[str, str]) -> str:
    """Per check: pass rate, mean score and the histogram of scores."""
    rows = []
    for c in analytics.checks:
        hidden = '<span class="badge hidden">hidden</span>' if c.visibility == "hidden" else ""
        rows.append(
            f'<tr><td class="name">{html_text(c.id)}{hidden}</td><td>{html_text(c.title)}</td>'
            f'<td><div class="bar"><span style="width:{100 * c.pass_rate:.1f}%"></span></div></td>'
            f'<td class="num">{100 * c.pass_rate:.0f}% ({c.passed} of {c.submissions})</td>'
            f'<td class="num">{c.mean_score:.3g} / {c.max_score:g}</td>'
            f"<td>{_histogram_svg(c.histogram, c.max_score)}</td></tr>"
        )
    unloaded = ""
    if analytics.not_loaded:
        names = ", ".join(_link(n, pages) for n in analytics.not_loaded)
        unloaded = (
            f'<p class="note">{len(analytics.not_loaded)} of {analytics.submissions} '
            f"submissions did not load and are left out of these numbers: {names}.</p>"
        )
    return (
        "<h2>Checks across the class</h2>" + unloaded + "<table><thead><tr><th>check</th>"
        '<th>title</th><th>pass rate</th><th class="num">passed</th>'
        '<th class="num">mean score</th><th>scores (0 to full marks)</th></tr></thead>'
        "<tbody>\n" + "\n".join(rows) + "\n</tbody></table>"
    )


def _misconceptions_section(analytics: ClassAnalytics, pages: dict[str, str]) -> str:
    """The misconceptions named across the class, most common first, with who shows each."""
    if not analytics.misconceptions:
        return '<h2>Misconceptions across the class</h2><p class="note">None was named.</p>'
    graded = analytics.submissions - len(analytics.not_loaded)
    rows = [
        f'<tr><td class="why">{html_text(m.text, multiline=True)}</td>'
        f'<td class="num">{m.count} of {graded}</td>'
        f'<td class="name">{"<br>".join(html_text(c) for c in m.checks)}</td>'
        f'<td class="links">{", ".join(_link(n, pages) for n in m.submissions)}</td></tr>'
        for m in analytics.misconceptions
    ]
    return (
        "<h2>Misconceptions across the class</h2>"
        '<p class="note">Each named only when a known mistake explains every answer of the '
        "component (docs/grading.md); most common first.</p>"
        '<table><thead><tr><th>misconception</th><th class="num">submissions</th>'
        "<th>checks</th><th>who</th></tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>"
    )


def _similarity_section(similarity: Similarity, pages: dict[str, str]) -> str:
    """The pairs far more alike than the rest of the class, with what that does not mean."""
    template = (
        "nor does the starter template"
        if similarity.template
        else "but the starter template was not given, so the code every student was handed counts"
    )
    note = (
        '<p class="note">Fingerprints of each submission\'s code (winnowing, as MOSS computes '
        "them: comments, docstrings, layout and the names chosen do not count, "
        f"{template}). Of {similarity.compared} submissions compared, a pair shows here when "
        "it shares far more of its fingerprints than the class's pairs do (median "
        f"{100 * similarity.median:.0f}%, shown from {100 * similarity.threshold:.0f}%). "
        "<b>This is not a verdict</b>: shared lecture code, a study group or a common hint "
        "make code alike. Read both before drawing any conclusion.</p>"
    )
    if similarity.not_compared:
        names = ", ".join(_link(n, pages) for n in similarity.not_compared)
        note += f'<p class="note">Not compared (no code of their own to read): {names}.</p>'
    if not similarity.pairs:
        return "<h2>Similar submissions</h2>" + note + '<p class="note">No pair stands out.</p>'
    rows = [
        f'<tr><td class="name">{_link(p.first, pages)}</td>'
        f'<td class="name">{_link(p.second, pages)}</td>'
        f'<td class="num">{100 * p.score:.0f}%</td><td class="num">{p.shared}</td></tr>'
        for p in similarity.pairs
    ]
    return (
        "<h2>Similar submissions</h2>" + note + "<table><thead><tr><th>submission</th>"
        '<th>submission</th><th class="num">shared</th><th class="num">fingerprints</th>'
        "</tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>"
    )


def index_page(report: GradeReport, analytics: ClassAnalytics | None = None) -> str:
    """The HTML of the class's index: every submission's score, linked to its page, then
    the class's analytics (computed from ``report`` when not given)."""
    if analytics is None:
        analytics = class_analytics(report)
    pages = page_names(report)
    rows = []
    for s in report.submissions:
        percent = 100 * s.score / s.max_score if s.max_score else 0.0
        counts = {st: sum(c.status == st for c in s.checks) for st in ("passed", "failed")}
        others = len(s.checks) - counts["passed"] - counts["failed"]
        note = html_text(f"did not load: {s.load_error}") if s.load_error else ""
        rows.append(
            f'<tr><td class="name">{_link(s.submission, pages)}</td>'
            f'<td class="num">{s.score:.4g} / {s.max_score:g}</td>'
            f'<td><div class="bar"><span style="width:{percent:.1f}%"></span></div></td>'
            f'<td class="num">{counts["passed"]}</td><td class="num">{counts["failed"]}</td>'
            f'<td class="num">{others}</td><td class="why">{note}</td></tr>'
        )
    body = (
        f"<h1>{html_text(report.assignment)}</h1>"
        f'<div class="meta">{len(report.submissions)} submissions &middot; gradekit '
        f"{html_text(report.gradekit_version)}</div>"
        '<table><thead><tr><th>submission</th><th class="num">score</th><th></th>'
        '<th class="num">passed</th><th class="num">failed</th>'
        '<th class="num">error or timeout</th><th></th></tr></thead><tbody>\n'
        + "\n".join(rows)
        + "\n</tbody></table>"
        + _checks_section(analytics, pages)
        + _misconceptions_section(analytics, pages)
    )
    if analytics.similarity is not None:
        body += _similarity_section(analytics.similarity, pages)
    return _page(f"{report.assignment}: the class", body)


def write_html(
    report: GradeReport,
    folder: Path,
    jobs: int = 1,
    *,
    analytics: ClassAnalytics | None = None,
    cache: bool = True,
) -> Path:
    """Write ``folder/index.html`` and a page per submission (drawn by ``jobs`` processes
    at once); return the index's path.

    ``analytics`` defaults to the report's, with the similar pairs read from the
    submissions' paths (no template left out). With ``cache``, figures drawn before are
    reused from ``folder/.figures`` and the figures no page uses any more are removed.
    """
    if analytics is None:
        analytics = class_analytics(report, report_similarity(report))
    pages = page_names(report)
    subs = report.submissions
    names = [report.assignment] * len(subs)
    started = time.time()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        figures = FigureCache(folder / FIGURE_CACHE) if cache else None
        caches = [figures] * len(subs)
        if jobs > 1 and len(subs) > 1:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(max_workers=min(jobs, len(subs))) as pool:
                html = list(pool.map(submission_page, subs, names, caches))
        else:
            html = [submission_page(s, report.assignment, figures) for s in subs]
        for result, page in zip(subs, html, strict=True):
            (folder / pages[result.submission]).write_text(page, encoding="utf-8")
        index = folder / "index.html"
        index.write_text(index_page(report, analytics), encoding="utf-8")
    except OSError as exc:
        raise GradekitError(f"{folder}: cannot write the HTML report: {exc.strerror}") from None
    if figures is not None:
        figures.prune(started)
    return index
