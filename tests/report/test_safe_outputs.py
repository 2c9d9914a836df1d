"""What a submission wrote reaches every output cleaned: the terminal tables, the CSV
gradebook, Gradescope's ``results.json``, the HTML report and the pytest self-check.

Three submissions of a one-activation assignment carry the payload: a package folder
named as a spreadsheet formula whose ReLU prints it and raises it, and files named with
rich markup and HTML, and with escape sequences, that print it at import and die. The
versioned JSON keeps it as data (proof that it reached the report); every shown output
must show it harmlessly.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import unicodedata
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from gradekit.cli import main
from gradekit.report.safe import csv_cell, html_text, literal, printable, terminal_text
from gradekit.report.terminal import print_report
from gradekit.results import GradeReport

CLEAR = "\x1b[2J"
HYPERLINK = "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\"
TITLE = "\x1b]0;title\x07"
PAYLOAD = f"{CLEAR}{HYPERLINK}{TITLE}\rback \u202eevil [bold red]x[/] <script>alert(1)</script>"
VISIBLE = "link back evil [bold red]x[/] <script>alert(1)</script>"
"""The payload as every output shows it: no sequence, control or format character."""
FORMULA = '=HYPERLINK("http:evil","x")'
MARKUP = "[link=http:evil]boom<img src=x onerror=alert(1)>"
ESCAPED = f"title{TITLE}\u202ename"
"""A file name with a title sequence and a bidi override in it, shown as ``titlename``."""

ASSIGNMENT = """schema_version = 1
name = "safe-outputs"
title = "Safe outputs"
seed = 3

[[checks]]
id = "relu.gradient"
type = "gradient"
component = "activations/relu"

[[checks]]
id = "relu.values"
type = "values"
component = "activations/relu"
visibility = "hidden"
"""

RAISES = f"""import gradekit

PAYLOAD = {PAYLOAD!r}


class ReLU:
    def __init__(self):
        self.params, self.grads = {{}}, {{}}

    def forward(self, x, *, training=True):
        print(PAYLOAD)
        raise RuntimeError(PAYLOAD)

    def backward(self, dout):
        raise RuntimeError(PAYLOAD)


@gradekit.hookimpl
def gradekit_register(registry):
    registry.activations["relu"] = ReLU
"""

DIES = f"""import os
import sys

print({PAYLOAD!r}, flush=True)
sys.stderr.write({PAYLOAD!r})
sys.stderr.flush()
os._exit(3)
"""


def shown_controls(text: str, allowed: str = "\n") -> set[str]:
    """The control and format characters in ``text`` (bar ``allowed``): what must not show."""
    return {c for c in text if unicodedata.category(c)[0] == "C" and c not in allowed}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, Path | str]:
    """The submissions graded once with every output: the files and the terminal text."""
    root = tmp_path_factory.mktemp("safe")
    (root / "assignment").mkdir()
    (root / "assignment" / "assignment.toml").write_text(ASSIGNMENT)
    package = root / "class" / FORMULA
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(RAISES)
    (root / "class" / f"{MARKUP}.py").write_text(DIES)
    (root / "class" / f"{ESCAPED}.py").write_text(DIES)
    out = {"json": root / "r.json", "csv": root / "g.csv", "html": root / "html"}
    out["gradescope"] = root / "gs"
    argv = ["grade", str(root / "class"), "-a", str(root / "assignment")]
    argv += ["--backend", "rlimits", "--no-cache"]
    argv += [a for key, path in out.items() for a in (f"--{key}", str(path))]
    terminal = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(terminal):
        mp.setenv("COLUMNS", "400")
        for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
            mp.delenv(name, raising=False)
        assert main(argv) == 0
    return {**out, "terminal": terminal.getvalue()}


@pytest.fixture(scope="module")
def report(graded) -> GradeReport:
    return GradeReport.model_validate_json(Path(graded["json"]).read_text())


def test_the_json_record_keeps_what_the_submissions_wrote(report):
    by_name = {s.submission: s for s in report.submissions}
    assert set(by_name) == {FORMULA, MARKUP, ESCAPED}
    raised = by_name[FORMULA].checks[0]
    assert f"your code raised RuntimeError: {PAYLOAD}" in raised.message
    assert PAYLOAD in raised.output
    assert PAYLOAD in (by_name[MARKUP].load_error or "")


def test_the_terminal_shows_names_and_messages_literally_without_controls(graded):
    out = graded["terminal"]
    assert not shown_controls(out)
    assert f"{FORMULA}: 0 / 2" in out and f"{MARKUP}: 0 / 2" in out
    assert "titlename: 0 / 2" in out
    assert f"your code raised RuntimeError: {VISIBLE}" in out
    assert f"its last output: {VISIBLE}" in out


@pytest.mark.parametrize("detail", [True, False])
def test_a_colour_terminal_gets_no_sequence_from_a_submission(report, detail):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="truecolor", width=400)
    print_report(report, console, detail=detail)
    out = buffer.getvalue()
    assert "\x1b[" in out  # the table's own colours: this is a colour terminal
    for sequence in (CLEAR, "\x1b]", "\x07", "\r", "\u202e"):
        assert sequence not in out
    assert MARKUP in out and VISIBLE in out and "titlename" in out


def test_the_gradebook_has_no_formula_and_numbers_stay_numbers(graded):
    with Path(graded["csv"]).open(newline="") as f:
        header, *rows = list(csv.reader(f))
    assert header == [
        "submission",
        "score",
        "max_score",
        "status",
        "reason",
        "relu.gradient",
        "relu.values",
    ]
    assert sorted(row[0] for row in rows) == sorted([f"'{FORMULA}", MARKUP, "titlename"])
    for row in rows:
        assert row[0][:1] not in "=+-@\t\r" and not shown_controls(row[0], "")
        assert [float(cell) for cell in row[1:3] + row[5:]] == [0.0, 2.0, 0.0, 0.0]
        assert row[3] in ("graded", "load error")
        assert not row[4].startswith(tuple("=+-@\t\r")) and not shown_controls(row[4], "")


def test_gradescope_shows_outputs_without_controls(graded):
    outputs = []
    for path in Path(graded["gradescope"]).glob("*/results.json"):
        data = json.loads(path.read_text())
        outputs += [data.get("output", "")] + [t["output"] for t in data["tests"]]
    assert len(outputs) == 9
    for output in outputs:
        assert not shown_controls(output, "\n\t")
    assert any(f"your code raised RuntimeError: {VISIBLE}" in o for o in outputs)
    assert any(f"its last output: {VISIBLE}" in o for o in outputs)


def test_the_html_report_escapes_every_string_of_a_submission(graded):
    pages = {p.name: p.read_text() for p in Path(graded["html"]).glob("*.html")}
    assert len(pages) == 4
    index = pages.pop("index.html")
    for text in (index, *pages.values()):
        assert not shown_controls(text, "\n\t")
        assert "<script>" not in text and "<img src=x" not in text and FORMULA not in text
    name = "=HYPERLINK(&quot;http:evil&quot;,&quot;x&quot;)"
    assert f">{name}</a>" in index
    assert "[link=http:evil]boom&lt;img src=x onerror=alert(1)&gt;</a>" in index
    assert "its last output: link back evil" in index and ">titlename</a>" in index
    escaped = "link back evil [bold red]x[/] &lt;script&gt;alert(1)&lt;/script&gt;"
    for page in pages.values():
        assert escaped in page
    assert any(f"<title>{name}: safe-outputs</title>" in page for page in pages.values())


def test_the_self_check_prints_the_failure_without_controls(pytester):
    (pytester.path / "assignment").mkdir()
    (pytester.path / "assignment" / "assignment.toml").write_text(ASSIGNMENT)
    (pytester.path / "submission.py").write_text(RAISES)
    pytester.makeini("[pytest]\ngradekit_assignment = assignment\n")
    result = pytester.runpytest("-rA")
    result.assert_outcomes(failed=1)  # the hidden check is never collected
    text = result.stdout.str() + result.stderr.str()
    assert not shown_controls(text)
    assert f"your code raised RuntimeError: {VISIBLE}" in text
    assert "your code's traceback:" in text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (CLEAR + "a", "a"),
        (HYPERLINK, "link"),
        (TITLE + "b", "b"),
        ("\x1bP1$r\x1b\\c", "c"),  # DCS, to its string terminator
        ("\x9b31mred\x9b0m", "red"),  # C1 CSI
        ("\x1b7saved\x1b8", "saved"),  # two-character escapes
        ("lone \x1b", "lone "),
        ("over\rwrite", "over write"),
        ("a\u202eb\u2066c\u200bd", "abcd"),  # bidi overrides and isolates, zero width
        ("nul\x00 del\x7f bell\x07 \ud800", "nul del bell "),
        ("two\nlines\tand tab", "two lines and tab"),
        ("naïve 日本 [b]x[/b] <i>", "naïve 日本 [b]x[/b] <i>"),
    ],
)
def test_printable_drops_whole_sequences_and_controls(raw, shown):
    assert printable(raw) == shown


def test_printable_keeps_lines_and_tabs_of_a_multi_line_field():
    text = f"Traceback:\r\n  line\t1\n{CLEAR}  line 2\rback"
    assert printable(text, multiline=True) == "Traceback:\n  line\t1\n  line 2 back"


def test_terminal_text_escapes_markup_that_would_style_or_break_a_table():
    for raw in ("[bold red]x[/]", "[/oops] closes nothing", "[link=http://e]x[/link]"):
        assert Text.from_markup(terminal_text(raw)).plain == raw
    assert Text.from_markup(terminal_text(PAYLOAD)).plain == VISIBLE


def test_literal_is_plain_text_without_style():
    text = literal(f"[bold]{TITLE}x[/bold]\n", multiline=True)
    assert text.plain == "[bold]x[/bold]\n" and not text.spans


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "' =1"),
        ("\r=1", "' =1"),
        ("  =1", "'  =1"),
        ("\uff1d1", "'\uff1d1"),  # a full-width equals sign
        ("\u202e=1", "'=1"),  # cleaned first, then checked
        ("alice", "alice"),
        ("a=1", "a=1"),
        ("", ""),
        (3, 3),
        (-2.5, -2.5),
        (0.0, 0.0),
    ],
)
def test_csv_cell_neutralises_formulas_only(value, cell):
    assert csv_cell(value) == cell
    assert type(csv_cell(value)) is type(cell)


def test_html_text_escapes_quotes_for_attributes_and_drops_controls():
    assert html_text('"><script>x</script>' + CLEAR) == "&quot;&gt;&lt;script&gt;x&lt;/script&gt;"
    assert html_text("a'b\n\x1b]0;t\x07c", multiline=True) == "a&#x27;b\nc"
