"""The terminal view (``report.terminal``), pinned: each table's title, columns and cells to
their meaning, the narrow list and the wide table on either side of ``WIDE``, every
status in its colour, hostile text shown literally, and each count of the closing line."""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from gradekit.report.terminal import WIDE, print_report, summary_line
from gradekit.results import GradeReport

from .results import check, report, submission

ESC = "\x1b[2J\x1b]0;pwned\x07"
"""Clears the screen and sets the terminal's title: must never reach the terminal."""
MARKUP = "[bold red]loud[/]"
"""Rich markup: must show as the text it is."""


def console(width: int, color: bool = False) -> Console:
    return Console(
        width=width,
        record=True,
        force_terminal=color,
        color_system="standard" if color else None,
        legacy_windows=False,
    )


def text(rep: GradeReport, width: int = 160, **kw) -> str:
    out = console(width)
    print_report(rep, out, **kw)
    return out.export_text()


def ansi(rep: GradeReport, width: int = 160, **kw) -> str:
    out = console(width, color=True)
    print_report(rep, out, **kw)
    return out.export_text(styles=True)


def lines(rep: GradeReport, width: int = 160, **kw) -> list[str]:
    return [line.rstrip() for line in text(rep, width, **kw).splitlines()]


def squeezed(value: str) -> str:
    """Rendered text with the table's borders and line breaks gone."""
    return re.sub(r"[\s│┃┏┓┗┛━─┡┩└┘┌┐╇╈┳┻┼╀╁]+", " ", value)


# ------------------------------------------------------------------ one submission: table
def test_the_wide_table_titles_the_submission_with_its_score():
    rep = report(submission("alice", [check("a", score=1.5), check("b", score=1)]))
    out = lines(rep, detail=True)
    assert out[0].strip() == "alice: 2.5 / 4"


def test_the_wide_table_has_check_status_score_and_why_columns():
    rep = report(submission("alice", [check("relu.values", "failed", 0.5, message="dx wrong")]))
    out = lines(rep, detail=True)
    header = next(line for line in out if "check" in line and "status" in line)
    assert [c.strip() for c in header.split("┃")[1:5]] == ["check", "status", "score", "why"]
    row = next(line for line in out if "relu.values" in line)
    cells = [c.strip() for c in row.split("│")[1:5]]
    assert cells == ["relu.values", "failed", "0.5/2", "dx wrong"]


def test_a_hidden_check_is_named_hidden_in_both_views():
    rep = report(submission("alice", [check("h", visibility="hidden"), check("p")]))
    for width in (160, 80):
        out = lines(rep, width, detail=True)
        assert any("h (hidden)" in line for line in out)
        assert not any("p (hidden)" in line for line in out)


def test_the_why_column_holds_the_message_and_then_the_misconception():
    failed = check("a", "failed", 0.0, message="first\nsecond", misconception="mean\nnot sum")
    rep = report(submission("alice", [failed]))
    out = lines(rep, detail=True)
    why = [line.split("│")[4].strip() for line in out if line.count("│") >= 5]
    assert why == ["first", "second", "Misconception: mean", "not sum"]
    styled = ansi(rep, detail=True)
    assert "\x1b[1mMisconception:\x1b[0m" in styled
    assert "\x1b[1mMisconception: " not in styled  # the bold is the label alone


def test_a_check_without_misconception_has_only_its_message():
    rep = report(submission("alice", [check("a", "failed", 0.0, message="wrong")]))
    assert "Misconception" not in text(rep, detail=True)
    assert "Misconception" not in text(rep, 80, detail=True)


def test_what_was_left_out_is_the_caption_a_line_each_at_the_left():
    rep = report(submission("alice", [check("a")], notes=["cell 3: %magic", "cell 5: !ls"]))
    out = lines(rep, detail=True)
    assert out[-2:] == ["cell 3: %magic", "cell 5: !ls"]
    narrow = lines(rep, 80, detail=True)
    assert narrow[-2:] == ["cell 3: %magic", "cell 5: !ls"]


def test_the_caption_is_as_wide_as_the_table_its_text_at_the_left():
    rep = report(submission("alice", [check("a", message="m" * 30)], notes=["cell 3: %magic"]))
    out = text(rep, detail=True).splitlines()
    assert out[-1] == "cell 3: %magic".ljust(len(out[-2])) and out[-2].startswith("└")


def test_no_notes_no_caption():
    rep = report(submission("alice", [check("a")]))
    assert lines(rep, detail=True)[-1].startswith("└")
    assert "a" in lines(rep, 80, detail=True)[-1]


def test_a_long_message_or_name_is_folded_never_cut():
    long = report(submission("alice", [check("a", "failed", 0.0, message="x" * 400)]))
    named = report(submission("alice", [check("n" * 300)]))  # no x or n in anything else
    for width in (160, 80):
        assert text(long, width, detail=True).count("x") == 400
        assert text(named, width, detail=True).count("n") == 300


def test_in_the_list_a_message_has_the_whole_width_but_its_indent():
    fits = report(submission("alice", [check("a", "failed", 0.0, message="m" * 76)]))
    assert lines(fits, 80, detail=True)[2:] == ["    " + "m" * 76]
    wraps = report(submission("alice", [check("a", "failed", 0.0, message="m" * 77)]))
    assert lines(wraps, 80, detail=True)[2:] == ["    " + "m" * 76, "    m"]


@pytest.mark.parametrize(
    ("status", "colour"), [("passed", 32), ("failed", 31), ("error", 35), ("timeout", 33)]
)
def test_each_status_has_its_colour(status, colour):
    rep = report(submission("alice", [check("a", status, 0.0)]))
    for width in (160, 80):
        assert re.search(f"\x1b\\[{colour}m{status} *\x1b\\[0m", ansi(rep, width, detail=True))


# ------------------------------------------------------------------ one submission: list
def test_a_terminal_of_wide_columns_shows_the_table_one_fewer_the_list():
    rep = report(submission("alice", [check("a", "failed", 0.0, message="wrong")]))
    assert WIDE == 120  # the module's documented width: 'at least this wide' shows the table
    assert any("┃" in line for line in lines(rep, 120, detail=True))
    assert not any("┃" in line for line in lines(rep, 119, detail=True))


def test_the_list_has_a_row_per_check_then_the_message_of_each_that_did_not_pass_indented():
    checks = [
        check("ok", "passed", 2, message="fine"),
        check("bad", "failed", 0.5, message="dx wrong", misconception="sum"),
        check("err", "error", 0, message="raised"),
        check("slow", "timeout", 0, message="too long"),
    ]
    out = lines(report(submission("alice", checks)), 80, detail=True)
    assert out[0] == "alice: 2.5 / 8"
    assert [line.split()[:3] for line in out[1:]] == [
        ["ok", "passed", "2/2"],
        ["bad", "failed", "0.5/2"],
        ["dx", "wrong"],
        ["Misconception:", "sum"],
        ["err", "error", "0/2"],
        ["raised"],
        ["slow", "timeout", "0/2"],
        ["too", "long"],
    ]
    assert out[3] == "    dx wrong" and out[4] == "    Misconception: sum"
    assert "fine" not in text(report(submission("alice", checks)), 80, detail=True)


def test_the_list_lines_up_status_and_score_at_the_right():
    checks = [check("a", "passed", 2), check("a-much-longer-name", "timeout", 0.25)]
    out = lines(report(submission("alice", checks)), 80, detail=True)
    rows = out[1:3]
    assert all(len(line) == 80 for line in rows)  # the row spans the terminal
    assert rows[0].endswith("     2/2") and rows[1].endswith("  0.25/2")  # right-aligned score
    starts = {line.index(status) for line, status in zip(rows, ("passed", "timeout"), strict=True)}
    assert len(starts) == 1  # one status column
    (start,) = starts
    assert start == 80 - 9 - 2 - 7 - 2 + 2  # 9-wide score, 7-wide status, 2 between columns
    assert rows[1][:start].rstrip() == "a-much-longer-name"


def test_hostile_text_is_shown_literally_in_the_table_and_the_list():
    bad = check(
        f"c{ESC}{MARKUP}",
        "failed",
        0.0,
        message=f"got {MARKUP}{ESC}\u202eevil",
        misconception=f"idea{ESC}{MARKUP}",
    )
    rep = report(submission(f"ev{ESC}il{MARKUP}", [bad], notes=[f"note{ESC}{MARKUP}"]))
    for width in (160, 80):
        raw = ansi(rep, width, detail=True)
        assert "\x1b[2J" not in raw and "\x1b]" not in raw and "\u202e" not in raw
        shown = text(rep, width, detail=True)
        for piece in (f"evil{MARKUP}: 0 / 2", f"c{MARKUP}", f"got {MARKUP}evil"):
            assert piece in shown
        assert f"Misconception: idea{MARKUP}" in shown and f"note{MARKUP}" in shown
    unloaded = submission(f"ev{ESC}il{MARKUP}", [bad], load_error=f"x{ESC}{MARKUP}")
    many = report(*(submission(f"s{i}", [check("a")]) for i in range(3)), unloaded)
    assert "\x1b[2J" not in ansi(many)
    row = next(line for line in lines(many) if "evil" in line)
    assert [c.strip() for c in row.split("│")[1:4]] == [
        f"evil{MARKUP}",
        "0/2",
        f"did not load: x{MARKUP}",
    ]


def test_the_title_of_a_hostile_name_keeps_the_text_without_the_controls():
    rep = report(submission(f"al\tice{ESC}\n", [check("a")]))
    for width in (160, 80):
        assert lines(rep, width, detail=True)[0].strip() == "al ice : 2 / 2"


# ------------------------------------------------------------------ many submissions
def test_up_to_three_submissions_get_their_tables_four_the_class_table():
    three = report(*(submission(f"s{i}", [check("a")]) for i in range(3)))
    four = report(*(submission(f"s{i}", [check("a")]) for i in range(4)))
    assert sum(line.strip().endswith(": 2 / 2") for line in lines(three)) == 3
    assert lines(four)[0].strip() == "backprop: 4 submissions"
    assert lines(three, detail=False)[0].strip() == "backprop: 3 submissions"
    assert sum(": 2 / 2" in line for line in lines(four, detail=True)) == 4


def test_the_class_table_has_a_row_per_submission_with_score_and_failed_checks():
    rep = report(
        submission("ann", [check("a"), check("b", "failed", 0.5), check("c", "timeout", 0)]),
        submission("bob", [check("a"), check("b", "error", 0)]),
        submission("cat", [check("a", "error", 0)], load_error="SyntaxError: line 3"),
        submission("dan", [check("a")]),
        assignment=f"back{ESC}prop{MARKUP}",
    )
    out = lines(rep)
    assert out[0].strip() == f"backprop{MARKUP}: 4 submissions"
    header = next(line for line in out if "submission" in line and "score" in line)
    assert [c.strip() for c in header.split("┃")[1:4]] == ["submission", "score", "failed checks"]
    rows = [[c.strip() for c in line.split("│")[1:4]] for line in out if line.startswith("│")]
    assert rows == [
        ["ann", "2.5/6", "b, c"],
        ["bob", "2/4", "b"],
        ["cat", "0/2", "did not load: SyntaxError: line 3"],
        ["dan", "2/2", ""],
    ]


def test_the_class_table_folds_long_text_never_cuts_it():
    rep = report(
        *(submission(f"s{i}", [check("a")]) for i in range(3)),
        submission("w" * 200, [check("q" * 300, "failed", 0)]),
        submission("cat", [check("a", "error", 0)], load_error="z" * 200),
    )
    shown = text(rep, 80)  # no q, w or z anywhere else
    assert (shown.count("q"), shown.count("w"), shown.count("z")) == (300, 200, 200)


def test_the_class_table_keeps_a_load_error_of_several_lines():
    rep = report(
        *(submission(f"s{i}", [check("a")]) for i in range(3)),
        submission("cat", [check("a", "error", 0)], load_error=f"line one\nline{ESC} two"),
    )
    rows = [[c.strip() for c in line.split("│")[1:4]] for line in lines(rep) if "│" in line]
    assert rows[-2:] == [["cat", "0/2", "did not load: line one"], ["", "", "line two"]]


# ------------------------------------------------------------------ the closing line
def test_the_closing_line_counts_graded_cached_unloaded_and_timed_out():
    rep = report(
        submission("ann", [check("a", score=2), check("b", score=2)]),
        submission("bob", [check("a", "timeout", 0), check("b", "timeout", 0)]),
        submission("cat", [check("a", "timeout", 0)], load_error="bad", max_score=6.0),
        submission("dan", [check("a", score=1), check("b", "failed", 0)]),
        assignment=f"back{ESC}prop",
    )
    line = summary_line(rep, cached=2, seconds=12.345).plain
    assert line == (
        "backprop: 4 graded (2 from the cache, 1 did not load, 2 timed out); "
        "mean 1.25, median 0.5 of 6; 12.3 s"
    )


def test_the_closing_line_rounds_mean_and_median_to_four_digits():
    scores = [1 / 3, 2 / 3, 5.0]
    rep = report(*(submission(f"s{i}", [check("a", score=s)]) for i, s in enumerate(scores)))
    assert summary_line(rep, cached=0, seconds=0.04).plain == (
        "backprop: 3 graded (0 from the cache, 0 did not load, 0 timed out); "
        "mean 2, median 0.6667 of 2; 0.0 s"
    )


def test_the_closing_line_of_no_submission():
    rep = report(assignment=f"back{ESC}prop")
    assert summary_line(rep, cached=0, seconds=1.25).plain == (
        "backprop: no submission graded (1.2 s)"
    )
