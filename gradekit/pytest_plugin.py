"""The student's self-check: an assignment's public checks as pytest items.

A folder opts in through its ``pytest.ini``. A student's kit (``gradekit kit``) names
the folder of its public checks, stored as data; an instructor's folder (``gradekit
init``) names an assignment, judged against the installed reference::

    [pytest]
    gradekit_assignment = public-checks
    gradekit_submission = submission.py

Plain ``pytest`` there collects one item per *public* check, with ids
``submission.py::<component>::<check>`` (the check id ``relu.gradient`` becomes
``submission.py::relu::gradient``), sorted. Hidden checks are never collected. Items run
through the same :class:`gradekit.grading.Grader` and worker process as ``gradekit
grade``, so verdicts and messages are the same; a failure prints the grader's data (the
worst entry, expected and received values, the tolerance, the misconception) and the
student's own traceback, not a traceback into gradekit.

Everywhere else (no ``gradekit_assignment`` in the ini file) the plugin only registers
its two ini options and collects nothing. The self-check runs on the student's machine,
in the student's pytest process: it can be fooled only by its user. The grade that
counts is ``gradekit grade``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .assignments import Assignment, CheckSpec
    from .results import CheckResult

ASSIGNMENT_INI = "gradekit_assignment"
SUBMISSION_INI = "gradekit_submission"
DEFAULT_SUBMISSION = "submission.py"
SHOWN_PASSED = 8
"""A failure names at most this many passed cases (a bank of curves has dozens)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ini options a starter folder sets; they do nothing unless set."""
    parser.addini(
        ASSIGNMENT_INI,
        "gradekit self-check: the assignment (a bundled name or a folder) whose public"
        " checks run as test items",
        default="",
    )
    parser.addini(
        SUBMISSION_INI,
        "gradekit self-check: the submission, a .py file or a package folder"
        f" (default {DEFAULT_SUBMISSION})",
        default=DEFAULT_SUBMISSION,
    )


def pytest_configure(config: pytest.Config) -> None:
    """Switch the self-check on when the ini file names an assignment; bad config: one line."""
    name = str(config.getini(ASSIGNMENT_INI)).strip()
    if not name:
        return
    from .assignments import bundled_assignments, is_path, load_assignment
    from .errors import GradekitError
    from .kit.public import is_kit, load_grader
    from .sandbox.intake import refusal

    base = config.inipath.parent if config.inipath else config.rootpath
    where = config.inipath.name if config.inipath else "the ini file"
    local = base / name
    kit = local if is_kit(local) else None
    try:
        if kit is not None:
            assignment = load_grader(kit).assignment
        else:
            bundled = not is_path(name) and name in bundled_assignments()
            assignment = load_assignment(name if bundled or not local.exists() else local)
    except GradekitError as exc:
        raise pytest.UsageError(f"gradekit ({where}, {ASSIGNMENT_INI}): {exc}") from None
    submission = base / str(config.getini(SUBMISSION_INI)).strip()
    there = submission.is_symlink() or submission.exists()
    if there and (reason := refusal(submission)) is not None:  # a link, or one inside
        raise pytest.UsageError(f"gradekit ({where}, {SUBMISSION_INI}): {reason}")
    anchor = submission / "__init__.py" if submission.is_dir() else submission
    if not anchor.is_file():
        raise pytest.UsageError(
            f"gradekit ({where}, {SUBMISSION_INI}): {submission}: no such submission file"
            f" (a .py file or a package folder with __init__.py)"
        )
    config.pluginmanager.register(
        SelfCheck(config, assignment, submission, anchor, kit), "gradekit-selfcheck"
    )


def check_nodes(check_id: str) -> tuple[str, ...]:
    """The names under the submission's node: ``relu.gradient`` -> ``("relu", "gradient")``."""
    group, dot, rest = check_id.partition(".")
    return (group, rest) if dot else (check_id,)


@dataclass(eq=False)
class SelfCheck:
    """The self-check of one submission: its public checks, graded once, on first use."""

    config: pytest.Config
    assignment: Assignment
    submission: Path
    anchor: Path
    kit: Path | None = None
    """A kit's public checks (plans and expected outcomes as data), or None: the
    assignment's own checks, judged against the installed reference."""
    results: dict[str, CheckResult] = field(default_factory=dict)
    broken: str = ""
    """Why gradekit could not grade, once it failed: every later item says the same."""
    notes: list[str] = field(default_factory=list)
    """What grading left out of the submission (a notebook's IPython lines)."""

    @property
    def public(self) -> list[CheckSpec]:
        """The checks a student may see, sorted by id."""
        checks = [c for c in self.assignment.spec.checks if c.visibility == "public"]
        return sorted(checks, key=lambda c: check_nodes(c.id))

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        return [
            f"gradekit self-check: the public checks of {self.assignment.name!r}"
            f" on {self._shown(self.submission)}, judged by gradekit's grader",
            "gradekit: the grade that counts is `gradekit grade`, which may run more checks",
        ]

    @pytest.hookimpl(tryfirst=True)
    def pytest_collect_directory(self, path: Path, parent: pytest.Collector) -> Any:
        """A package submission is a plain folder: a Package would import it in-process."""
        if self.submission.is_dir() and path.resolve() == self.submission.resolve():
            return pytest.Dir.from_parent(parent, path=path)
        return None

    @pytest.hookimpl(wrapper=True)
    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> Any:
        """The submission becomes a SubmissionFile, never a Python test module.

        pytest collects a ``.py`` file named on its command line as a module, importing it
        in pytest's own process; the submission's code must run only in the worker.
        """
        found = yield
        if file_path.resolve() != self.anchor.resolve():
            return found
        mine = SubmissionFile.from_parent(parent, path=file_path, selfcheck=self)
        return [n for n in found if not isinstance(n, pytest.Module)] + [mine]

    def result(self, item: CheckItem) -> CheckResult:
        """The item's verdict; the first call grades every selected item in one worker."""
        if self.broken:
            raise NotGraded(self.broken)
        if item.spec.id not in self.results:
            wanted = [
                i.spec.id
                for i in item.session.items
                if isinstance(i, CheckItem) and i.selfcheck is self
            ]
            self._grade([w for w in wanted if w not in self.results] or [item.spec.id])
        return self.results[item.spec.id]

    def _grade(self, ids: list[str]) -> None:
        """Grade the named checks with gradekit's own grader (a worker process)."""
        from .assignments import Assignment
        from .errors import GradekitError
        from .grading import Grader
        from .kit.public import load_grader

        chosen = set(ids)
        spec = self.assignment.spec
        subset = spec.model_copy(update={"checks": [c for c in spec.checks if c.id in chosen]})
        try:
            if self.kit is not None:
                grader = load_grader(self.kit, only=chosen)
            else:
                grader = Grader(Assignment(subset, self.assignment.folder))
            graded = grader.grade(self.submission)
        except GradekitError as exc:
            self.broken = str(exc)
            raise NotGraded(self.broken) from None
        self.results.update({r.name: r for r in graded.checks})
        self.notes = graded.notes

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.results:
            return
        done = self.results.values()
        passed = sum(r.status == "passed" for r in done)
        score = sum(r.score for r in done)
        total = sum(r.max_score for r in done)
        terminalreporter.write_sep("-", "gradekit self-check")
        terminalreporter.write_line(
            f"{passed} of {len(done)} public checks pass: {score:g} / {total:g} points."
            " Hidden checks and the official score come from `gradekit grade`."
        )
        if self.notes:
            from .report.safe import printable

            terminalreporter.write_line(printable("\n".join(self.notes), multiline=True))

    def _shown(self, path: Path) -> str:
        """A path as the student typed it: relative to where pytest started, if inside."""
        try:
            return str(path.resolve().relative_to(self.config.invocation_params.dir.resolve()))
        except ValueError:
            return str(path)

    def trim(self, trace: str) -> str:
        """The student's traceback, trimmed to the submission (see ``trim_trace``)."""
        return trim_trace(trace, self.submission, self._shown(self.submission))


def trim_trace(trace: str, submission: Path, shown: str) -> str:
    """The student's traceback: only frames in the submission, its paths shown as ``shown``.

    The worker may see the submission at another path (a sandbox mounts it under its
    own name), so a frame is the student's when its file is the submission's real path
    or ends in the submission's name.
    """
    real, name = str(submission.resolve()), submission.name

    def relative(filename: str) -> str | None:
        for base in (real, f"/{name}"):
            at = filename.find(base)
            rest = filename[at + len(base) :] if at >= 0 else None
            if rest is not None and (rest == "" or rest.startswith("/")):
                return shown + rest
        return None

    blocks = re.split(r'(?m)^(?=  File ")', trace)
    head, frames, tail = blocks[0], blocks[1:], ""
    if frames:  # the exception's own lines follow the last frame's source lines
        last = frames[-1].splitlines(keepends=True)
        keep = 1
        while keep < len(last) and last[keep].startswith("    "):
            keep += 1
        frames[-1], tail = "".join(last[:keep]), "".join(last[keep:])
    mine = []
    for frame in frames:
        found = re.match(r'  File "(.*?)"', frame)
        path = relative(found.group(1)) if found else None
        if path is not None:
            mine.append(frame.replace(f'"{found.group(1)}"', f'"{path}"', 1))
    return (head + "".join(mine or frames) + tail).rstrip()


class NotGraded(Exception):
    """gradekit itself could not grade (a broken assignment, no sandbox): one line."""


class CheckFailed(Exception):
    """A check's verdict was not ``passed``; ``repr_failure`` formats the result."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.message)
        self.result = result


class SubmissionFile(pytest.File):
    """The submission file: its public checks, grouped by the part of the id before a dot."""

    def __init__(self, *, selfcheck: SelfCheck, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.selfcheck = selfcheck

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        groups: dict[str, list[CheckSpec]] = {}
        nodes: list[pytest.Item | pytest.Collector] = []
        for spec in self.selfcheck.public:
            parts = check_nodes(spec.id)
            if len(parts) == 1:
                nodes.append(CheckItem.from_parent(self, name=parts[0], spec=spec))
            else:
                groups.setdefault(parts[0], []).append(spec)
        nodes += [CheckGroup.from_parent(self, name=g, specs=s) for g, s in groups.items()]
        return sorted(nodes, key=lambda n: n.name)


class CheckGroup(pytest.Collector):
    """The checks of one component (``relu``), so ``pytest submission.py::relu`` runs them."""

    def __init__(self, *, specs: list[CheckSpec], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.specs = specs

    def collect(self) -> list[pytest.Item]:
        return [CheckItem.from_parent(self, name=check_nodes(s.id)[1], spec=s) for s in self.specs]


class CheckItem(pytest.Item):
    """One public check; its verdict comes from the grader, run on the whole selection."""

    def __init__(self, *, spec: CheckSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.selfcheck: SelfCheck = self.getparent(SubmissionFile).selfcheck

    def runtest(self) -> None:
        result = self.selfcheck.result(self)
        self.user_properties += [("score", result.score), ("max_score", result.max_score)]
        if result.status != "passed":
            raise CheckFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CheckFailed):
            return self.describe(excinfo.value.result)
        if isinstance(excinfo.value, NotGraded):
            from .report.safe import printable

            return f"gradekit could not grade: {printable(str(excinfo.value), multiline=True)}"
        return super().repr_failure(excinfo, style=style)

    def describe(self, result: CheckResult) -> str:
        """The grader's data, a line each: what failed, what passed, the misconception.

        The first line is the main message, so pytest's short summary shows it. What the
        submission wrote (messages, its traceback) is shown without escape sequences or
        control characters: pytest prints the text as it is.
        """
        from .report.safe import printable

        failed = [c for c in result.cases if not c.passed]
        lines = []
        trace = self.selfcheck.trim(result.output) if result.output else ""
        if trace and result.message.startswith("not implemented yet"):
            where = re.findall(r'File "(.*)", line (\d+), in (\S+)', trace)
            at = " ({}, line {}, in {})".format(*where[-1]) if where else ""
            lines.append(result.message.split("; ")[0] + at)
            failed = [c for c in failed if "raised NotImplementedError" not in c.message]
        elif trace:
            lines += [result.message.split("; ")[0], "", "your code's traceback:"]
            lines += ["  " + line for line in trace.splitlines()]
            failed = [c for c in failed if "your code raised" not in c.message]
            lines += [""] if failed else []
        elif not failed:
            lines.append(result.message)
        lines += [c.message for c in failed]
        passed = [c.name for c in result.cases if c.passed]
        if passed:
            more = f", and {len(passed) - SHOWN_PASSED} more" if len(passed) > SHOWN_PASSED else ""
            lines.append(f"passed: {', '.join(passed[:SHOWN_PASSED])}{more}")
        if result.misconception:
            lines.append(f"misconception: {result.misconception}")
        lines.append(f"score: {result.score:g} / {result.max_score:g} points")
        return printable("\n".join(lines), multiline=True)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        from .checks import check_kinds

        summary = self.spec.title or check_kinds()[self.spec.type].summary
        return self.path, None, f"{self.spec.id}: {summary}"
