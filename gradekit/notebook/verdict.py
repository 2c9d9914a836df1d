"""What ``gradekit.check()`` shows: the public checks' verdicts, as a table in Jupyter
(``_repr_html_``) and as text elsewhere (``str``).

What the submission wrote (messages quoting its values, its traceback) is shown only
escaped: printable text, and HTML-escaped in the table (see ``report.safe``).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..report.safe import html_text, printable
from ..results import CheckResult, SubmissionResult

COLOURS = {"passed": "#1a7f37", "failed": "#cf222e", "error": "#8250df", "timeout": "#9a6700"}
PRE = "<pre style='white-space: pre-wrap; margin: 0; text-align: left'>"
"""A detail's block: the message's lines and the traceback's as written, wrapped."""
OFFICIAL = "Hidden checks and the official score come from the course staff's `gradekit grade`."


def where_todo(trace: str) -> str:
    """`` (hw.ipynb, cell 15, line 9, in forward)``: the last frame of a traceback."""
    frames = re.findall(r'File "(.*)", line (\d+), in (\S+)', trace)
    return " ({}, line {}, in {})".format(*frames[-1]) if frames else ""


def picture(check: CheckResult) -> str:
    """A failing check's figure as an embedded PNG (yours beside the reference's), or ""
    when it has none or it cannot be drawn: a picture never hides the verdict."""
    if check.figure is None or check.status == "passed":
        return ""
    try:
        from ..report.plots import png

        data = base64.b64encode(png(check.figure, title=False)).decode("ascii")
    except Exception:  # values too odd to plot
        return ""
    return f'<br><img alt="{html_text(check.figure.title)}" src="data:image/png;base64,{data}">'


@dataclass(repr=False)
class Verdicts:
    """The verdicts of one ``gradekit.check()`` on a saved notebook."""

    result: SubmissionResult
    component: str | None
    unsaved: list[str] = field(default_factory=list)
    """Classes and functions the kernel ran from cells the saved notebook does not hold."""

    @property
    def checks(self) -> list[CheckResult]:
        return self.result.checks

    @property
    def passed(self) -> bool:
        """Whether every checked public check passes."""
        return all(c.status == "passed" for c in self.checks)

    def header(self) -> str:
        what = f"of {self.component!r}" if self.component else "of every component"
        return f"gradekit: the public checks {what} on {Path(self.result.path).name}, as saved"

    def warnings(self) -> list[str]:
        """Why the verdicts may not be what the student expects: unsaved edits, a load error."""
        said = []
        if self.unsaved:
            said.append(
                f"Not saved: this kernel ran {', '.join(self.unsaved)} from cells the saved"
                " notebook does not hold. The check reads the saved file, which is what you"
                " hand in: save the notebook and check again."
            )
        if self.result.load_error:
            said.append(f"The notebook did not load: {self.result.load_error}")
        return said

    def summary(self) -> str:
        passed = sum(c.status == "passed" for c in self.checks)
        score = sum(c.score for c in self.checks)
        total = sum(c.max_score for c in self.checks)
        return (
            f"{passed} of {len(self.checks)} public checks pass: {score:g} / {total:g} points."
            f" {OFFICIAL}"
        )

    def details(self, check: CheckResult) -> list[str]:
        """What a check that did not pass says: its message, the misconception, the
        student's traceback (only where the TODO is, for a TODO left)."""
        if check.status == "passed" or self.result.load_error:
            return []
        if check.message.startswith("not implemented yet"):
            return [check.message.split("; ")[0] + where_todo(check.output)]
        lines = [check.message]
        if check.misconception:
            lines.append(f"misconception: {check.misconception}")
        if check.output:
            lines += ["your code's traceback:", check.output.rstrip()]
        return lines

    def __str__(self) -> str:
        lines = [self.header(), *self.warnings()]
        for check in self.checks:
            score = f"{check.score:g} / {check.max_score:g}"
            lines.append(f"{check.status.upper():8}{check.name}: {score}")
            lines += ["    " + line for d in self.details(check) for line in d.splitlines()]
        lines += [self.summary(), *self.result.notes]
        return printable("\n".join(lines), multiline=True)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        """A table of the checks, for Jupyter."""
        rows = []
        for check in self.checks:
            colour = COLOURS[check.status]
            why = "".join(f"{PRE}{html_text(d, multiline=True)}</pre>" for d in self.details(check))
            rows.append(
                f"<tr><td>{html_text(check.name)}</td>"
                f"<td style='color: {colour}; font-weight: bold'>{check.status}</td>"
                f"<td>{check.score:g}&nbsp;/&nbsp;{check.max_score:g}</td>"
                f"<td style='text-align: left'>{why}{picture(check)}</td></tr>"
            )
        said = [self.header(), *self.warnings()]
        top = "".join(f"<p>{html_text(line)}</p>" for line in said)
        notes = "".join(f"<li>{html_text(n)}</li>" for n in self.result.notes)
        return (
            f"<div>{top}<table><thead><tr><th>check</th><th>status</th><th>score</th>"
            f"<th>what is wrong</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p>{html_text(self.summary())}</p>"
            + (f"<p>Left out of grading:</p><ul>{notes}</ul>" if notes else "")
            + "</div>"
        )
