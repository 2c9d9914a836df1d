"""Grading: run each check's plan in the submission's worker, judge it in the parent.

The reference's expected outcomes are computed once per check and reused for every
submission; a mutant's only when a submission fails that check, to name the mistake.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import Any

from . import __version__
from .assignments import BUNDLED, Assignment, CheckSpec
from .checks import Case, CheckKind, Target, check_kinds
from .checks.dtypes import float64_case
from .credit import cap_severe, credit
from .errors import GradekitError
from .misconceptions import across_checks, explaining, named
from .plugins import REFERENCE_MODULE
from .results import CaseResult, CheckResult, Figure, GradeReport, SubmissionResult
from .sandbox.backends import choose
from .sandbox.classroom import Classroom
from .sandbox.plan import Outcome, Plan
from .sandbox.runner import Limits, LocalSession, WorkerSession
from .sandbox.transport import one_line


@dataclass(frozen=True)
class MutantInfo:
    """A known-buggy variant the grader compares failing submissions with."""

    name: str
    kind: str
    target: str
    factory: Callable[..., Any] | None
    """None in a kit, where only the mutant's stored outcomes are known."""
    misconception: str


@dataclass
class PreparedCheck:
    """A check with its plan built and its expected outcome memoised."""

    spec: CheckSpec
    kind: CheckKind
    target: Target
    plan: Plan
    timeout: float

    @classmethod
    def stored(
        cls, spec: CheckSpec, target: Target, plan: Plan, timeout: float, expected: Any
    ) -> PreparedCheck:
        """A check whose plan and expected outcome were computed elsewhere (a kit's)."""
        check = cls(spec, check_kinds()[spec.type], target, plan, timeout)
        check.__dict__["expected"] = expected  # the cached property's value, given
        return check

    def expected_with(self, factory: Callable[..., Any]) -> Any:
        run = LocalSession({(self.target.kind, self.target.name): factory}).run
        return self.kind.expect(self.target, self.spec.parsed_options, self.plan, run)

    @cached_property
    def expected(self) -> Any:
        return self.expected_with(self.target.reference)

    def judge(self, outcome: Outcome, expected: Any) -> list[Case]:
        return self.kind.judge(self.target, self.spec.parsed_options, self.plan, outcome, expected)


NO_REFERENCE = (
    "no reference implementation is installed here: this gradekit is a student's engine"
    " (from a kit), which self-checks with `pytest`; grades come from the course staff's"
    " gradekit"
)


def require_reference() -> ModuleType:
    """The reference plugin (loaded only in the parent), or a GradekitError without it."""
    try:
        return importlib.import_module(REFERENCE_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != REFERENCE_MODULE:
            raise
        raise GradekitError(NO_REFERENCE) from None


def reference_factories() -> dict[tuple[str, str], Callable[..., Any]]:
    """The trusted components, from the reference plugin."""
    components = require_reference().COMPONENTS
    return {(kind, name): f for kind, table in components.items() for name, f in table.items()}


def hidden_paths(assignment: Assignment | None = None) -> tuple[Path, ...]:
    """What a worker must not read: the reference and the bundled assignments (where they
    are installed: not in a student's engine), and this assignment's folder."""
    hidden = []
    for package in (REFERENCE_MODULE, BUNDLED):
        spec = importlib.util.find_spec(package)
        hidden += [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    return (*hidden, assignment.folder) if assignment is not None else tuple(hidden)


NullsFor = Callable[[str, str], list[tuple[str, Callable[..., Any]]]]
"""The components that do nothing for ``(kind, name)``: (label, factory) pairs."""


def reference_nulls() -> NullsFor:
    """The reference's components that do nothing, by kind."""
    require_reference()
    from gradekit_reference.nulls import nulls_for

    return nulls_for


def reference_mutants() -> list[MutantInfo]:
    """The reference's catalogue of known mistakes."""
    require_reference()
    from gradekit_reference.mutants import all_mutants

    return [MutantInfo(m.name, m.kind, m.target, m.factory, m.misconception) for m in all_mutants()]


class Grader:
    """Grades submissions against one assignment; reuse it for a whole class."""

    def __init__(
        self,
        assignment: Assignment,
        *,
        limits: dict[str, Any] | None = None,
        backend: str | None = None,
        factories: dict[tuple[str, str], Callable[..., Any]] | None = None,
        mutants: list[MutantInfo] | None = None,
        figures: bool = False,
        secret: str | None = None,
        checks: list[PreparedCheck] | None = None,
        mutant_outcomes: dict[tuple[str, str], Any] | None = None,
        null_passes: dict[str, list[frozenset[str]]] | None = None,
    ) -> None:
        """Prepare every check of ``assignment`` on the reference, or take ``checks``
        already prepared (a kit's), with the mutants' stored ``mutant_outcomes`` keyed by
        (check id, mutant name) and the stored ``null_passes`` by check id: then no
        reference is loaded and nothing is hidden."""
        self.assignment = assignment
        self.warm = True
        """Whether workers are forked from a warm template (else each starts cold)."""
        self._classroom: Classroom | None = None
        self._classroom_lock = threading.Lock()
        self.secret = secret
        """The course secret that salts hidden checks' seeds (None: the public seeds)."""
        self.figures = figures
        """Whether verdicts carry the data of each check's picture (for the HTML report)."""
        spec_limits = assignment.spec.limits.model_dump(exclude_none=True)
        self.limits = Limits(**{"call": assignment.spec.timeout, **spec_limits, **(limits or {})})
        self.backend = choose(backend)
        self._mutant_expected: dict[tuple[str, str], Any] = dict(mutant_outcomes or {})
        self._null_passes: dict[str, list[frozenset[str]]] = dict(null_passes or {})
        if checks is not None:
            self.hidden: tuple[Path, ...] = ()
            self.factories = factories or {}
            self.mutants = mutants or []
            self.nulls_for: NullsFor | None = None
            self.checks = checks
            return
        self.hidden = hidden_paths(assignment)
        self.factories = factories if factories is not None else reference_factories()
        self.mutants = mutants if mutants is not None else reference_mutants()
        self.nulls_for = reference_nulls()
        self.checks = [self._prepare(spec) for spec in assignment.spec.checks]

    def _prepare(self, spec: CheckSpec) -> PreparedCheck:
        kind = check_kinds()[spec.type]
        factory = self.factories.get((spec.kind, spec.name))
        if factory is None:
            from .assignments import AssignmentError

            raise AssignmentError(
                f"{self.assignment.folder}: check {spec.id}: no reference for {spec.component}"
            )
        target = Target(
            spec.kind,
            spec.name,
            dict(spec.kwargs),
            self.assignment.spec.seed_of(spec, self.secret),
            factory,
        )
        try:
            plan = kind.plan(target, spec.parsed_options)
        except ValueError as exc:  # options this component cannot be checked with
            from .assignments import AssignmentError

            raise AssignmentError(f"{self.assignment.folder}: check {spec.id}: {exc}") from None
        return PreparedCheck(spec, kind, target, plan, spec.timeout or self.limits.call)

    def grade(self, path: str | Path, name: str | None = None) -> SubmissionResult:
        """Grade one submission (a ``.py`` file or a package folder).

        A link or a special file (see ``sandbox.intake``) is refused before any worker
        starts: every check gets 0 with the reason, as a submission that did not load. So
        does a submission whose worker cannot be started or cleaned up: one submission's
        failure is its own, never the class's.
        """
        path = Path(path)
        name = name or path.stem
        try:
            return self._grade(path, name)
        except Exception as exc:
            return self.ungraded(path, name, exc)

    def classroom(self) -> Classroom:
        """The class's shared folder and warm template, made on first use."""
        with self._classroom_lock:
            if self._classroom is None:
                plans = [check.plan for check in self.checks]
                self._classroom = Classroom(plans, self.backend, self.hidden, warm=self.warm)
            return self._classroom

    def close(self) -> None:
        """Stop the class's template and remove its folder (also done when collected)."""
        with self._classroom_lock:
            if self._classroom is not None:
                self._classroom.close()
                self._classroom = None

    def _grade(self, path: Path, name: str) -> SubmissionResult:
        """Run every check's plan in the submission's worker and judge each outcome."""
        room = self.classroom()
        with WorkerSession(path, self.limits, self.backend, self.hidden, room) as worker:
            outcomes = worker.run_many((check.plan, check.timeout) for check in self.checks)
            results = self.judge_all(self.checks, outcomes, name)
            load_error, notes = worker.load_error, list(worker.notes)
        return self._result(path, name, results, load_error, notes)

    def judge_all(
        self, checks: list[PreparedCheck], outcomes: Iterable[Outcome], submission: str
    ) -> list[CheckResult]:
        """Every check's verdict, then each misconception named from every check of its
        component (``misconceptions.across_checks``). ``outcomes`` may still be arriving:
        each is judged as it comes, while the worker runs ahead."""
        graded = [
            (check, outcome, self.verdict(check, outcome, submission, diagnose=False))
            for check, outcome in zip(checks, outcomes, strict=True)
        ]
        try:
            results = across_checks(graded, self.mutants, self.mutant_expected)
        except Exception:  # naming must never cost a grade: name nothing instead
            results = [r.model_copy(update={"misconception": None}) for _, _, r in graded]
        return cap_severe(results)

    def ungraded(self, path: Path, name: str, exc: Exception) -> SubmissionResult:
        """A submission whose grading failed with ``exc``: every check at 0 with one line
        naming it and the problem, shown as a submission that did not load."""
        reason = f"gradekit could not grade {name}: {one_line(exc)}"
        results = [self._error(check, f"not graded: {reason}") for check in self.checks]
        return self._result(path, name, results, reason)

    def _result(
        self,
        path: Path,
        name: str,
        results: list[CheckResult],
        load_error: str | None,
        notes: list[str] | None = None,
    ) -> SubmissionResult:
        """One submission's verdicts with their totals, and what was left out of it."""
        return SubmissionResult(
            submission=name,
            path=str(path),
            assignment=self.assignment.name,
            score=round(sum(r.score for r in results), 6),
            max_score=round(sum(r.max_score for r in results), 6),
            load_error=load_error,
            notes=notes or [],
            checks=results,
        )

    def report(self, results: list[SubmissionResult]) -> GradeReport:
        """Wrap submissions' results with the schema and gradekit versions."""
        return GradeReport(
            gradekit_version=__version__, assignment=self.assignment.name, submissions=results
        )

    def verdict(
        self,
        check: PreparedCheck,
        outcome: Outcome,
        submission: str = "the submission",
        *,
        diagnose: bool = True,
    ) -> CheckResult:
        """Judge one outcome: status, partial credit, message and (with ``diagnose``, from
        this check alone) misconception.

        Whatever the answer, judging it never raises: an exception while judging, crediting,
        diagnosing or drawing it is this check's error, one line naming ``submission`` and
        the problem, and grading goes on with the next check.
        """
        try:
            return self._verdict(check, outcome, diagnose)
        except Exception as exc:
            problem = f"gradekit could not judge the answer of {submission}: {one_line(exc)}"
            return self._error(check, problem)

    def _base(self, check: PreparedCheck) -> dict[str, Any]:
        """The fields of a check's result that do not depend on the answer."""
        spec = check.spec
        return dict(
            name=spec.id,
            title=spec.title or f"{spec.name}: {check.kind.summary}",
            component=spec.component,
            type=spec.type,
            max_score=spec.points,
            visibility=spec.visibility,
        )

    def _error(self, check: PreparedCheck, message: str) -> CheckResult:
        """The check's error with 0 points and ``message``."""
        return CheckResult(**self._base(check), status="error", score=0.0, message=message)

    def _verdict(self, check: PreparedCheck, outcome: Outcome, diagnose: bool) -> CheckResult:
        """``verdict`` without its barrier."""
        spec = check.spec
        base = self._base(check)
        if outcome.status in ("timeout", "crashed") or (
            outcome.status == "error" and outcome.failure is None
        ):
            status = "timeout" if outcome.status == "timeout" else "error"
            message = {
                "timeout": f"timed out: {outcome.detail}",
                "crashed": f"the worker crashed: {outcome.detail}",
            }.get(outcome.status, outcome.detail)
            return CheckResult(**base, status=status, score=0.0, message=message)
        cases = check.judge(outcome, check.expected)
        narrow = float64_case(check.plan, outcome)
        if narrow is not None:  # said first: the numbers below inherit its precision
            cases.insert(0, narrow)
        failed = [c for c in cases if not c.passed]
        score = spec.points * credit(cases, self.null_passes(check) if failed else ())
        if not failed:
            status = "passed"
        elif outcome.failure is not None:
            status = "error"
        else:
            status = "failed"
        message = "; ".join(c.message for c in failed[:3])
        if len(failed) > 3:
            message += f"; and {len(failed) - 3} more"
        output = ""
        if outcome.failure is not None:
            f = outcome.failure
            if f.type == "MissingComponent":  # the check's component is not registered
                message = f"not registered: {f.message}"
            elif f.type == "ContractError":  # found by gradekit's loop: the rule is the news
                message = f"the contract: {f.message}"
            elif f.type == "NotImplementedError":  # a TODO left: the cases only repeat it
                rest = "; ".join(c.message for c in failed if f"raised {f.type}" not in c.message)
                message = f"not implemented yet: {f.message or 'NotImplementedError'}" + (
                    f"; {rest}" if rest else ""
                )
            else:
                message = f"your code raised {f.type}: {f.message}" + (
                    f"; {message}" if message else ""
                )
            output = f.trace
        misconception = self.diagnose(check, outcome, failed) if failed and diagnose else None
        return CheckResult(
            **base,
            status=status,
            score=round(score, 6),
            message=message,
            misconception=misconception,
            cases=[
                CaseResult(
                    name=c.name,
                    passed=c.passed,
                    message=c.message,
                    severe=c.severe and not c.passed,
                )
                for c in cases
            ],
            output=output,
            figure=self.figure(check, outcome) if self.figures else None,
        )

    def figure(self, check: PreparedCheck, outcome: Outcome) -> Figure | None:
        """The check's picture data; a picture that cannot be drawn never changes a grade."""
        try:
            return check.kind.figure(
                check.target, check.spec.parsed_options, check.plan, outcome, check.expected
            )
        except Exception:  # e.g. a plugin's kind, or values too odd to plot
            return None

    def diagnose(self, check: PreparedCheck, outcome: Outcome, failed: list[Case]) -> str | None:
        """The misconception of the mutants whose answers this one matches on every compared
        case of this check, when a compared case failed (see ``misconceptions``)."""
        if not any(c.compared for c in failed):
            return None
        names = explaining(check, outcome, self.mutants, self.mutant_expected)
        return named(names or set(), self.mutants)

    def mutant_expected(self, check: PreparedCheck, mutant: MutantInfo) -> Any:
        """The mutant's outcome on the check's plan, memoised; None when it cannot explain
        anything (it raised, or has no factory and no stored outcome)."""
        key = (check.spec.id, mutant.name)
        if key not in self._mutant_expected:
            expected = None
            if mutant.factory is not None:
                try:
                    expected = check.expected_with(mutant.factory)
                except Exception:  # a mutant that cannot run this plan explains nothing
                    expected = None
            if getattr(expected, "failure", None) is not None:
                expected = None
            self._mutant_expected[key] = expected
        return self._mutant_expected[key]

    def null_passes(self, check: PreparedCheck) -> list[frozenset[str]]:
        """For each component that does nothing and fails this check, the cases it passes
        (memoised): what a submission gets here for doing nothing (see ``credit``).

        A null that passes every compared case does the component's job on this check (a
        ``Constant(0)`` initializer) and is left out.
        """
        key = check.spec.id
        if key not in self._null_passes:
            found = []
            nulls = self.nulls_for(check.target.kind, check.target.name) if self.nulls_for else []
            for _, factory in nulls:
                try:
                    outcome = LocalSession({(check.target.kind, check.target.name): factory}).run(
                        check.plan
                    )
                    cases = check.judge(outcome, check.expected)
                except Exception:  # a null that breaks the judging passes nothing
                    continue
                if not all(c.passed for c in cases if c.compared):
                    found.append(frozenset(c.name for c in cases if c.passed))
            self._null_passes[key] = found
        return self._null_passes[key]
