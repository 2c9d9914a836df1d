"""Text from a submission, made safe to show: in a terminal, a CSV cell or a web page.

A submission's name, its exception messages, its output and its traceback are written by
the student. Shown raw, they could clear the instructor's terminal, set its title, plant
a hyperlink, reorder a line with bidi overrides, style a table through rich markup, or
run as a formula in the gradebook. Each output cleans them here before showing them.
"""

from __future__ import annotations

import re
import unicodedata
from html import escape

from rich.markup import escape as markup_escape
from rich.text import Text

_CSI = r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
"""Control Sequence Introducer: cursor moves, erasing (``ESC [ 2 J``), colours."""
_STRING = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
"""A string command (OSC titles and hyperlinks, DCS, SOS, PM, APC), to its BEL or ST."""
_ESCAPE = r"\x1b[ -/]*[0-~]?"
"""Any other escape, or a lone ESC."""
_SEQUENCE = re.compile(f"{_CSI}|{_STRING}|{_ESCAPE}")
"""Terminal escape sequences, whole, so that none leaves its parameters behind as text."""

FORMULA_START = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
"""Characters that make a spreadsheet read a cell as a formula (with their full-width
forms), when the cell starts with one, after any spaces."""


def without_controls(text: str, keep: str = "") -> str:
    """``text`` without control or format characters (bidi overrides, lone surrogates),
    except those in ``keep``; other whitespace controls become spaces."""
    return "".join(
        c if c in keep or unicodedata.category(c)[0] != "C" else " " if c.isspace() else ""
        for c in text
    )


def printable(text: str, *, multiline: bool = False) -> str:
    """``text`` without escape sequences, control or format characters, keeping newlines
    and tabs when ``multiline``: what a submission wrote, harmless as plain text."""
    text = _SEQUENCE.sub("", text)
    if multiline:
        return without_controls(text.replace("\r\n", "\n"), keep="\n\t")
    return without_controls(text)


def terminal_text(text: str, *, multiline: bool = False) -> str:
    """``text`` as :func:`printable`, with rich markup escaped: for a markup string."""
    return markup_escape(printable(text, multiline=multiline))


def literal(text: str, *, multiline: bool = False) -> Text:
    """``text`` as :func:`printable`, in a rich ``Text`` (never read as markup)."""
    return Text(printable(text, multiline=multiline))


def csv_cell(value: str | float) -> str | float:
    """A gradebook cell: numbers as they are, text printable and never a formula (a cell
    starting with ``=``, ``+``, ``-`` or ``@`` gets a leading ``'``, as OWASP advises)."""
    if isinstance(value, int | float):
        return value
    text = printable(str(value))
    if text.lstrip()[:1] in FORMULA_START or str(value)[:1] in ("\t", "\r"):
        return "'" + text
    return text


def html_text(text: str, *, multiline: bool = False) -> str:
    """``text`` as :func:`printable`, HTML-escaped (quotes too): for an element or an
    attribute."""
    return escape(printable(text, multiline=multiline), quote=True)
