"""The HTML report: self-contained pages with the table of checks and the figures, an index
for the class, the ``--html`` option, and the page opened in headless Chromium."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from html import escape
from pathlib import Path

import pytest

from gradekit.cli import main
from gradekit.report.analytics import class_analytics
from gradekit.report.html import index_page, page_names, ravine_paths, write_html
from gradekit.report.similarity import Similarity, SimilarPair
from gradekit.results import GradeReport

IMG = re.compile(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')


def _images(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in IMG.findall(page)]


@pytest.fixture(scope="session")
def written(report, tmp_path_factory) -> Path:
    """The class report written once: the folder of its pages."""
    folder = tmp_path_factory.mktemp("html")
    assert write_html(report, folder) == folder / "index.html"
    return folder


def test_a_page_per_submission_and_an_index(report, written):
    tmp_path = written
    index = tmp_path / "index.html"
    text = index.read_text()
    for s in report.submissions:
        assert f'href="{s.submission}.html"' in text
        assert f"{s.score:.4g} / {s.max_score:g}" in text
        assert (tmp_path / f"{s.submission}.html").is_file()


def test_page_has_every_check_and_every_figure_embedded(report, written):
    buggy = next(s for s in report.submissions if s.submission == "buggy")
    page = (written / "buggy.html").read_text()
    for check in buggy.checks:
        assert f">{escape(check.name)}<" in page
    momentum = next(c for c in buggy.checks if c.name == "momentum.ravine")
    assert momentum.status == "failed" and momentum.misconception
    assert escape(momentum.misconception) in page and 'class="badge failed"' in page
    figures = sum(c.figure is not None for c in buggy.checks) + 1  # + every ravine path
    images = _images(page)
    assert len(images) == figures
    from PIL import Image

    for data in images:
        with Image.open(io.BytesIO(data)) as im:
            assert im.format == "PNG" and im.size[0] > 300 and im.size[1] > 200
    # Self-contained: nothing is fetched from anywhere.
    assert not re.search(r'(src|href)="(https?:)?//', page) and "<link" not in page


def test_hidden_checks_are_marked(grade, tmp_path):
    result = grade("initialization", "buggy")
    report = GradeReport(gradekit_version="t", assignment="init", submissions=[result])
    write_html(report, tmp_path)
    page = (tmp_path / "buggy.html").read_text()
    row = next(r for r in page.split("<tr>") if "experiment.relu-he" in r)
    assert 'class="badge hidden"' in row
    public = next(r for r in page.split("<tr>") if "experiment.tanh-std0.01" in r)
    assert "hidden" not in public


def test_the_ravine_overview_is_a_small_panel_per_optimizer(report):
    buggy = next(s for s in report.submissions if s.submission == "buggy")
    overview = ravine_paths(buggy)
    titles = [p.title for p in overview.panels]
    assert titles == ["sgd.ravine (passed)", "momentum.ravine (failed)"]
    for panel in overview.panels:
        assert panel.problem == "ravine"
        assert [s.label for s in panel.series] == ["yours", "reference"]


def test_pages_drawn_by_several_processes_are_the_same(report, written, tmp_path):
    write_html(report, tmp_path, jobs=2)
    for s in report.submissions:
        name = f"{s.submission}.html"
        assert (tmp_path / name).read_text() == (written / name).read_text()


def test_page_names_are_safe_and_unique(report):
    subs = [report.submissions[0].model_copy(update={"submission": n}) for n in ("a b", "a_b")]
    subs.append(report.submissions[0].model_copy(update={"submission": "index"}))
    names = page_names(report.model_copy(update={"submissions": subs}))
    assert names == {"a b": "a_b.html", "a_b": "a_b-2.html", "index": "index-2.html"}


def test_the_index_shows_the_class_analytics(report, written):
    index = (written / "index.html").read_text()
    analytics = class_analytics(report)
    assert "<h2>Checks across the class</h2>" in index
    for check in analytics.checks:
        row = next(r for r in index.split("<tr>") if f'<td class="name">{check.id}' in r)
        assert f"({check.passed} of {check.submissions})" in row
        assert f"{check.mean_score:.3g} / {check.max_score:g}" in row
        assert row.count("<rect ") == len(check.histogram) + 1  # the bins and the axis
    # Each misconception, most common first, linked to the submissions that show it.
    assert analytics.misconceptions
    table = index.split("<h2>Misconceptions across the class</h2>")[1]
    positions = [table.index(escape(m.text)) for m in analytics.misconceptions]
    assert positions == sorted(positions)
    for m in analytics.misconceptions:
        row = next(r for r in table.split("<tr>") if escape(m.text) in r)
        assert all(f'<a href="{n}.html">{n}</a>' in row for n in m.submissions)
    # The two examples share most of their code: a pair to look at, never a verdict.
    similar = index.split("<h2>Similar submissions</h2>")[1]
    assert "This is not a verdict" in similar
    assert '<a href="buggy.html">buggy</a>' in similar
    assert '<a href="correct.html">correct</a>' in similar


HOSTILE = '"><script>alert(1)</script>'


def test_the_index_escapes_names_and_misconceptions(report):
    subs = []
    for s in report.submissions:
        checks = [
            c.model_copy(update={"misconception": f"{HOSTILE} {c.misconception}"})
            if c.misconception
            else c
            for c in s.checks
        ]
        subs.append(s.model_copy(update={"submission": HOSTILE + s.submission, "checks": checks}))
    hostile = report.model_copy(update={"submissions": subs})
    names = [s.submission for s in subs]
    pair = SimilarPair(first=names[0], second=names[1], score=0.9, shared=40)
    similarity = Similarity(
        compared=2, template=True, not_compared=[], median=0.9, threshold=0.9, pairs=[pair]
    )
    page = index_page(hostile, class_analytics(hostile, similarity))
    assert "<script>" not in page
    assert page.count(escape(HOSTILE)) >= 2 * len(names) + 2
    pages = page_names(hostile)
    for name in names:
        assert f'<a href="{pages[name]}">{escape(name)}</a>' in page
        assert re.fullmatch(r"[A-Za-z0-9_.-]+\.html", pages[name])


def test_a_class_that_did_not_load_is_counted_apart(report):
    broken = report.submissions[1].model_copy(
        update={"submission": "broken", "load_error": "broken.py: invalid syntax"}
    )
    page = index_page(report.model_copy(update={"submissions": [*report.submissions, broken]}))
    assert "1 of 3 submissions did not load" in page
    assert '<a href="broken.html">broken</a>' in page


def test_grade_html_option(assignments, tmp_path, capsys):
    folder = tmp_path / "report"
    sub = Path(__file__).parents[2] / "assignments" / "backprop" / "examples" / "buggy.py"
    argv = ["grade", "-a", str(assignments["backprop"]), str(sub), "--html", str(folder)]
    code = main([*argv, "--cache", str(tmp_path / "cache")])
    assert code == 0
    assert "HTML report" in capsys.readouterr().out
    page = (folder / "buggy.html").read_text()
    assert len(_images(page)) == 2  # linear.gradient and tanh.gradient
    assert 'href="buggy.html"' in (folder / "index.html").read_text()


def test_grade_html_needs_an_assignment(tmp_path, capsys):
    assert main(["grade", "--html", str(tmp_path)]) == 2
    assert "name the assignment" in capsys.readouterr().err


CHECK_IMAGES = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const loaded = images.filter((i) => i.complete && i.naturalWidth > 0).length;
  const out = document.createElement("pre");
  out.id = "image-check";
  out.textContent = `images ${loaded}/${images.length}`;
  document.body.appendChild(out);
});
</script>
</body>"""


def _chromium() -> str | None:
    return next(
        (shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None
    )


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed")
def test_page_opens_in_headless_chromium_with_every_image_loaded(written, tmp_path):
    page = (written / "buggy.html").read_text()
    expected = len(_images(page))
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", CHECK_IMAGES))
    done = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r'<pre id="image-check">images (\d+)/(\d+)</pre>', done.stdout)
    assert found, done.stderr[-2000:]
    assert (int(found[1]), int(found[2])) == (expected, expected)
    assert expected > 3


def test_what_was_left_out_of_a_notebook_is_listed_escaped():
    from gradekit.report.html import submission_page
    from gradekit.results import SubmissionResult

    note = "cell 2, line 1: `%run <script>alert(1)</script>` left out (IPython only)"
    result = SubmissionResult(
        submission="nb", path="nb.ipynb", assignment="a", score=0, max_score=0, checks=[]
    )
    page = submission_page(result.model_copy(update={"notes": [note]}), "a")
    assert "Left out of the submission" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)" in page
    assert "Left out of the submission" not in submission_page(result, "a")
