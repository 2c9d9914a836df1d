"""Notebook submissions: a Jupyter notebook's code cells joined into one module.

A notebook is data the student wrote, read here without running any of it: its JSON is
parsed and validated by nbformat, and its code cells are joined in order into the source
of one module, which the worker imports exactly as it imports a ``.py`` submission.
Lines only IPython understands (line magics ``%...``, shell escapes ``!...``, cells of a
cell magic ``%%...``) are left out, each said once in the notes, and so are cells tagged
``gradekit: skip`` (plots, exploration), silently. A line map leads every line of the
module back to its cell, so load errors and tracebacks say "cell 7, line 3", never the
joined module's line numbers.

Cells are counted from the top of the notebook, 1 for the first, markdown cells
included: the number a student finds by counting down the notebook.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SubmissionError
from ..sandbox.intake import TooLarge, read_regular

SUFFIX = ".ipynb"
SKIP_TAG = "gradekit: skip"
"""The cell tag that leaves a cell out of grading (plotting, exploration)."""
MODULE_NAME = "notebook.py"
"""The joined module's file name, in a folder of the grader's: never a name of the student's."""
HEADER = (
    "# gradekit: the notebook's code cells, joined in order into one module,",
    "# each line where its cell put it (see gradekit.notebook.convert).",
)
"""The module's first lines: two, so that no coding line in the first cell is honoured
(the module is UTF-8)."""
DISPLAY = "def display(*objects, **options): pass  # Jupyter's display: nothing to show here"
"""Defines ``display``, which Jupyter provides, so that a cell may call it; placed after
the notebook's ``from __future__`` imports, which must come first."""

_MAGIC = re.compile(r"\s*(%%?[A-Za-z_]|!(?!=)|[A-Za-z_]\w*\s*=\s*[%!](?!=))")
"""A line only IPython runs: ``%magic``, ``!shell``, or ``x = !shell`` / ``x = %magic``."""
_NEWLINE = re.compile(r"\r\n|\r|\n")
"""The line ends Python reads a source file with (``str.splitlines`` knows more)."""
_SHOWN = 60
"""The longest left-out line quoted in a note, in characters."""


def is_notebook(path: str | Path) -> bool:
    """Whether ``path`` names a notebook submission (by its suffix; nothing is read)."""
    return Path(path).suffix == SUFFIX


def skipped(cell: Any) -> bool:
    """Whether ``cell`` carries the skip tag, spaces in it or not (some editors refuse them)."""
    tags = cell.get("metadata", {}).get("tags", [])
    return any("".join(str(t).split()) == "gradekit:skip" for t in tags)


@dataclass(frozen=True)
class Module:
    """A notebook's code cells as the source of one module, and the way back to the cells."""

    source: str
    origins: tuple[tuple[int, int] | None, ...]
    """For each line of ``source`` (line n at index n - 1), its cell and line in the cell;
    None for the header."""
    notes: tuple[str, ...]
    """The IPython lines left out, once each: "cell 2, line 1: `%matplotlib inline` left
    out (IPython only)". Cells skipped by their tag go unsaid: the student chose so."""

    def origin(self, lineno: int) -> tuple[int, int] | None:
        """The cell and the line in it of a line of the module; a line past the end (a
        syntax error at the end of the file) is the last one. None for the header."""
        if lineno < 1 or not self.origins:
            return None
        return self.origins[min(lineno, len(self.origins)) - 1]

    def where(self, lineno: int) -> str | None:
        """``"cell C, line L"`` for a line of the module, or None (see ``origin``)."""
        origin = self.origin(lineno)
        return None if origin is None else f"cell {origin[0]}, line {origin[1]}"

    def locate(self, problem: str) -> str:
        """A load error of the module with its place in the notebook first: ``"syntax
        error (notebook.py, line 40): ..."`` becomes ``"cell 4, line 2: syntax error:
        ..."``; every other module line it names (``detected at line 52``) is mapped too."""
        found = re.search(rf" ?\({re.escape(MODULE_NAME)}, line (\d+)\)", problem)
        where = self.where(int(found[1])) if found else None
        if found and where:
            problem = f"{where}: {problem[: found.start()]}{problem[found.end() :]}"

        def mapped(match: re.Match[str]) -> str:
            where = self.where(int(match[2]))
            return f"{match[1]} {where}" if where else match[0]

        return re.sub(r"\b(at|on) line (\d+)\b", mapped, problem)

    def retrace(self, trace: str, seen_as: str, shown: str) -> str:
        """A traceback of the worker with each frame in the module (at ``seen_as``, the path
        the worker imported) shown as ``File "hw.ipynb, cell 7", line 3``."""
        frame = re.compile(rf'File "{re.escape(seen_as)}", line (\d+)')

        def mapped(match: re.Match[str]) -> str:
            origin = self.origin(int(match[1]))
            if origin is None:
                return match[0]
            return f'File "{shown}, cell {origin[0]}", line {origin[1]}'

        return frame.sub(mapped, trace)


MAX_BYTES = 64 << 20
"""The largest notebook read (64 MiB, outputs included): the grader's parent parses it, so
a bigger file is refused unread; clearing a notebook's outputs makes it small."""


def read(path: Path) -> Any:
    """The notebook at ``path``, parsed and validated as nbformat 4, or a SubmissionError
    with one line that says what is wrong (never the file's contents)."""
    import nbformat  # not at import: only a grader's parent reads notebooks

    try:
        text = read_regular(path, MAX_BYTES).decode("utf-8")
    except UnicodeDecodeError:
        raise SubmissionError(str(path), "not a notebook: the file is not UTF-8 text") from None
    except TooLarge:
        problem = f"too large to grade (over {MAX_BYTES >> 20} MiB): clear its outputs and save"
        raise SubmissionError(str(path), problem) from None
    except OSError as exc:
        raise SubmissionError(str(path), f"cannot be read ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        problem = f"not a notebook: not valid JSON ({where}: {exc.msg})"
        raise SubmissionError(str(path), problem) from None
    except RecursionError:
        raise SubmissionError(str(path), "not a notebook: its JSON is nested too deep") from None
    if not isinstance(data, dict) or ("cells" not in data and "worksheets" not in data):
        raise SubmissionError(str(path), "not a notebook: the JSON has no cells") from None
    try:
        with warnings.catch_warnings():  # a missing cell id is fixed, not worth a word
            warnings.simplefilter("ignore")
            return nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat's ValidationError, NBFormatError, and odd shapes
        message = " ".join(str(getattr(exc, "message", None) or exc).split())[:160]
        raise SubmissionError(str(path), f"not a valid notebook: {message}") from None


def _statement_starts(source: str) -> set[int] | None:
    """The lines of ``source`` where a statement starts (not inside brackets or a string),
    or None when it does not tokenize: then every line counts as a start."""
    starts: set[int] = set()
    fresh = True
    skip = (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.NEWLINE:
                fresh = True
            elif token.type not in skip and fresh:
                starts.add(token.start[0])
                fresh = False
    except (tokenize.TokenError, SyntaxError):
        return None
    return starts


def _quoted(line: str) -> str:
    """A left-out line for a note: stripped, and shortened past ``_SHOWN`` characters."""
    text = line.strip()
    return f"`{text}`" if len(text) <= _SHOWN else f"`{text[: _SHOWN - 3]}...`"


def _cell_lines(number: int, source: str, notes: list[str]) -> list[str]:
    """One code cell's lines, IPython-only lines blanked (or ``pass`` where indented, so a
    block stays a block), each one noted; no line at all for a cell magic's cell."""
    lines = _NEWLINE.split(source)
    if lines[-1] == "":
        lines.pop()
    first = next((line for line in lines if line.strip()), "")
    if first.startswith("%%"):
        magic = first.split()[0]
        notes.append(f"cell {number}: a {magic} cell, left out (IPython only)")
        return []
    starts = _statement_starts(source)
    kept = []
    for lineno, line in enumerate(lines, start=1):
        if _MAGIC.match(line) and (starts is None or lineno in starts):
            notes.append(f"cell {number}, line {lineno}: {_quoted(line)} left out (IPython only)")
            indent = line[: len(line) - len(line.lstrip())]
            line = f"{indent}pass" if indent else ""
        kept.append(line)
    return kept


def _parsed(number: int, lines: list[str]) -> ast.Module:
    """A cell's lines parsed (never compiled or run), as Jupyter takes each cell alone: a
    bracket or string left open stays that cell's error. ValueError says where it is."""
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError as exc:
        where = f"cell {number}, line {exc.lineno}" if exc.lineno else f"cell {number}"
        raise ValueError(f"{where}: syntax error: {exc.msg}") from None
    except (ValueError, MemoryError, RecursionError) as exc:  # null bytes, nesting too deep
        detail = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise ValueError(f"cell {number}: syntax error: {detail}") from None


def _display_at(tree: ast.Module) -> int:
    """How many lines of a cell go before ``DISPLAY``: its docstring and future imports."""
    end = 0
    for index, node in enumerate(tree.body):
        text = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if not (future or (index == 0 and text)):
            break
        end = node.end_lineno or node.lineno
    return end


def join(notebook: Any) -> Module:
    """The module of ``notebook``'s code cells, in order, with its line map and notes.

    Raises ValueError with one line when the notebook has no code cell at all, or a cell
    does not parse (naming the cell and the line).
    """
    lines = list(HEADER)
    origins: list[tuple[int, int] | None] = [None] * len(HEADER)
    notes: list[str] = []
    code = [(n, c) for n, c in enumerate(notebook.cells, start=1) if c.cell_type == "code"]
    if not code:
        raise ValueError("the notebook has no code cell: nothing to grade")
    placed = False  # DISPLAY goes into the first cell with a statement, after its head
    for number, cell in code:
        if skipped(cell):
            continue
        kept = _cell_lines(number, cell.source, notes)
        tree = _parsed(number, kept)
        cut = None
        if not placed and tree.body:
            cut = _display_at(tree)
            placed = cut < len(kept)  # else the next cell may hold more future imports
        for lineno, line in enumerate(kept, start=1):
            if lineno - 1 == cut:
                lines.append(DISPLAY)
                origins.append(None)
            lines.append(line)
            origins.append((number, lineno))
    return Module("\n".join(lines) + "\n", tuple(origins), tuple(notes))


def convert(path: Path) -> Module:
    """The module of the notebook at ``path``, or a one-line SubmissionError."""
    notebook = read(path)
    try:
        return join(notebook)
    except ValueError as exc:
        raise SubmissionError(str(path), str(exc)) from None
