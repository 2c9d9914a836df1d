"""The HTML report: a self-contained page per submission and an index page for the class.

Each page has the table of checks (status, score, message, misconception, hidden checks
marked) and the checks' figures as embedded PNG images, so it opens offline and can be
mailed or uploaded as one file. Figures come from ``CheckResult.figure`` (a grader made
with ``figures=True``). Every string is interpolated through :func:`.safe.html_text`:
a submission's name, messages and traceback show as text, never as markup.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from ..errors import GradekitError
from ..results import CheckResult, Figure, GradeReport, Panel, Series, SubmissionResult
from .plots import REFERENCE, png
from .safe import html_text

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
td.why { font-size: 13px; max-width: 640px; overflow-wrap: anywhere; }
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
"""


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html_text(title)}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _image(figure: Figure) -> str:
    data = base64.b64encode(png(figure, title=False)).decode("ascii")
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
    """Every optimizer's own path on the narrow ravine in one plot (SGD's zig-zag against
    momentum's), from the convergence checks' figures; None with fewer than two."""
    series: list[Series] = []
    for check in result.checks:
        if check.figure is None or check.visibility == "hidden":
            continue
        for panel in check.figure.panels:
            if panel.kind == "path" and panel.problem == "ravine":
                mine = [s for s in panel.series if s.label != REFERENCE]
                series += [s.model_copy(update={"label": check.name}) for s in mine]
    if len(series) < 2:
        return None
    panel = Panel(
        kind="path",
        title="the narrow ravine 0.5 (0.1 x² + 10 y²)",
        xlabel="w[0]",
        ylabel="w[1]",
        problem="ravine",
        series=series,
    )
    return Figure(title="Your optimizers' paths on the ravine", panels=[panel])


def submission_page(result: SubmissionResult, assignment: str) -> str:
    """The HTML of one submission's page."""
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
    rows = "\n".join(_row(c) for c in result.checks)
    parts.append(
        '<h2>Checks</h2><table><thead><tr><th>check</th><th>status</th><th class="num">score</th>'
        f"<th>why</th></tr></thead><tbody>\n{rows}\n</tbody></table>"
    )
    figures = []
    overview = ravine_paths(result)
    if overview is not None:
        figures.append(f"<figure><figcaption>{html_text(overview.title)}</figcaption>")
        figures.append(f"{_image(overview)}</figure>")
    for check in result.checks:
        if check.figure is None:
            continue
        hidden = " (hidden)" if check.visibility == "hidden" else ""
        figures.append(
            f'<figure id="{html_text(_anchor(check.name))}"><figcaption>{_badge(check.status)} '
            f"<b>{html_text(check.name)}</b>{hidden}: {html_text(check.figure.title)}</figcaption>"
            f"{_image(check.figure)}</figure>"
        )
    if figures:
        parts.append("<h2>Figures</h2>" + "\n".join(figures))
    return _page(f"{result.submission}: {assignment}", "\n".join(parts))


def index_page(report: GradeReport) -> str:
    """The HTML of the class's index: every submission's score, linked to its page."""
    pages = page_names(report)
    rows = []
    for s in report.submissions:
        percent = 100 * s.score / s.max_score if s.max_score else 0.0
        counts = {st: sum(c.status == st for c in s.checks) for st in ("passed", "failed")}
        others = len(s.checks) - counts["passed"] - counts["failed"]
        note = html_text(f"did not load: {s.load_error}") if s.load_error else ""
        rows.append(
            f'<tr><td class="name"><a href="{html_text(pages[s.submission])}">'
            f"{html_text(s.submission)}</a></td>"
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
    )
    return _page(f"{report.assignment}: the class", body)


def write_html(report: GradeReport, folder: Path, jobs: int = 1) -> Path:
    """Write ``folder/index.html`` and a page per submission (drawn by ``jobs`` processes
    at once); return the index's path."""
    pages = page_names(report)
    subs = report.submissions
    names = [report.assignment] * len(subs)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if jobs > 1 and len(subs) > 1:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(max_workers=min(jobs, len(subs))) as pool:
                html = list(pool.map(submission_page, subs, names))
        else:
            html = [submission_page(s, report.assignment) for s in subs]
        for result, page in zip(subs, html, strict=True):
            (folder / pages[result.submission]).write_text(page, encoding="utf-8")
        index = folder / "index.html"
        index.write_text(index_page(report), encoding="utf-8")
    except OSError as exc:
        raise GradekitError(f"{folder}: cannot write the HTML report: {exc.strerror}") from None
    return index
