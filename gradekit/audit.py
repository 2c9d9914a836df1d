"""What an assignment's checks catch, for the instructor who writes it (``gradekit audit``).

The audit grades, against the assignment's spec:

- the reference, in the sandbox: a copy of the reference package (without its mutants)
  graded as a package submission, so the checks run on it exactly as on a student's file.
  It must pass every check; its run gives each check's time;
- the bundled examples, in the sandbox, as ``gradekit grade -a NAME`` does;
- every mutant of the catalogue (``reference/mutants``) of a component the checks grade.
  Mutants are trusted code, so their plans run in this process (``LocalSession``), each
  judged as a submission over the checks of its component (``Grader.judge_all``), as the
  catalogue's credit table does.

What it reports, per component and for the whole assignment:

- **caught**: the mutant loses points on some check of its component; **named**: its
  failing checks name its own misconception (``right``), another one (``wrong``: a student
  would be sent to the wrong line) or none;
- **blind spot**: a mutant of a graded component that passes every check;
- **graded by no check**: a component the starter template registers (read in the
  sandbox: what students are asked to write) that no check targets, with the catalogue's
  mutants of it. Not every component of the assignment's kinds: the catalogue spans the
  whole course, and backprop would list batchnorm, which the regularization assignment
  grades;
- **hidden repeats**: a hidden check with the same type, component, kwargs and options as
  a public one, so that only its seed differs. Not "a hidden check that catches no mutant
  the public ones miss": a hidden check's job is other shapes and secret seeds against
  answers computed at home, and by that test every bundled hidden check would be listed;
  each check's ``catches`` in the JSON shows it for whoever wants it;
- **time**: each check's calls on the reference in the worker (what a submission's time
  budget pays), with the worker's start apart.

The exit status is 1 when there is a blind spot, or the reference loses points (the spec
fails its own answer), for CI; 0 otherwise; 2 when gradekit cannot run.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, computed_field

from . import __version__
from .assignments import Assignment, CheckSpec
from .errors import GradekitError
from .grading import Grader, MutantInfo, PreparedCheck, require_reference
from .results import CheckResult
from .sandbox.runner import LocalSession, WorkerSession

STARTER = Path("starter") / "submission.py"
"""The template students fill in, relative to the assignment's folder."""


class CheckAudit(BaseModel):
    """One check: what it costs on the reference and which mutants lose points on it."""

    id: str
    type: str
    visibility: str
    points: float
    seconds: float
    """The check's calls on the reference, in the worker."""
    reference_score: float
    catches: list[str]
    """The mutants that lose points on this check."""


class MutantAudit(BaseModel):
    """One catalogue mutant, judged as a submission over its component's checks."""

    name: str
    misconception: str
    caught_by: list[str]
    """The checks of its component on which it loses points; none: a blind spot."""
    kept: float
    """The share of the component's points it keeps."""
    named: Literal["right", "wrong", "none"]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def caught(self) -> bool:
        return bool(self.caught_by)


class ComponentAudit(BaseModel):
    """A graded component: its checks and its mutants."""

    component: str
    checks: list[CheckAudit]
    mutants: list[MutantAudit]


class GradedRun(BaseModel):
    """A submission graded in the sandbox: the reference's copy or an example."""

    name: str
    score: float
    max_score: float
    load_error: str | None
    lost_on: list[str]
    """The checks on which it loses points."""


class Ungraded(BaseModel):
    """A component of the starter template that no check grades."""

    component: str
    mutants: list[str]


class HiddenRepeat(BaseModel):
    """A hidden check that repeats a public one but for its seed."""

    hidden: str
    public: str


class AuditReport(BaseModel):
    """Everything the audit prints, as data (``--json``)."""

    schema_version: Literal[1] = 1
    gradekit_version: str = __version__
    assignment: str
    source: str
    reference: GradedRun
    worker_start: float
    """Seconds to start the reference's worker, which every submission pays too."""
    examples: list[GradedRun]
    components: list[ComponentAudit]
    ungraded: list[Ungraded]
    starter_problem: str
    """Why the starter template could not be read ("" when it was): then ``ungraded``
    is empty because nothing was looked for."""
    hidden_repeats: list[HiddenRepeat]
    seconds: float
    """The audit's wall time."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def blind_spots(self) -> list[str]:
        """The mutants of graded components that pass every check."""
        return [m.name for c in self.components for m in c.mutants if not m.caught]

    @property
    def sound(self) -> bool:
        """No blind spot, and the reference passes every check (exit status 0)."""
        return not self.blind_spots and not self.reference.lost_on


def audit(
    assignment: Assignment,
    backend: str | None = None,
    step: Callable[[str], None] = lambda _: None,
) -> AuditReport:
    """Audit ``assignment``; ``step`` hears what is being done, for a progress line."""
    start = time.perf_counter()
    grader = Grader(assignment, backend=backend)
    step("grading the reference in the sandbox")
    reference, seconds, worker_start = reference_run(grader)
    step("grading the examples in the sandbox")
    examples = []
    for path in assignment.examples():
        graded = grader.grade(path)
        examples.append(graded_run(graded.submission, graded.checks, graded.load_error))
    step("reading the starter template in the sandbox")
    starter, starter_problem = starter_components(grader)
    times = {check.spec.id: s for check, s in zip(grader.checks, seconds, strict=True)}
    scores = {r.name: r.score for r in reference}
    components = []
    for component in dict.fromkeys(c.spec.component for c in grader.checks):
        step(f"judging the mutants of {component}")
        checks = [c for c in grader.checks if c.spec.component == component]
        components.append(component_audit(grader, component, checks, times, scores))
    checked = {c.component for c in components}
    return AuditReport(
        assignment=assignment.name,
        source=assignment.source,
        reference=graded_run("reference", reference, None),
        worker_start=worker_start,
        examples=examples,
        components=components,
        ungraded=[
            Ungraded(component=c, mutants=[m.name for m in mutants_of(grader, c)])
            for c in starter
            if c not in checked
        ],
        starter_problem=starter_problem,
        hidden_repeats=hidden_repeats([c.spec for c in grader.checks]),
        seconds=time.perf_counter() - start,
    )


def reference_run(grader: Grader) -> tuple[list[CheckResult], list[float], float]:
    """The reference's verdicts on every check, graded in the sandbox from a copy of its
    package, with each check's seconds in the worker and the worker's start."""
    source = Path(require_reference().__file__).parent
    leave_out = shutil.ignore_patterns("mutants", "nulls.py", "__pycache__", "*.pyc")
    with tempfile.TemporaryDirectory(prefix="gradekit-audit-") as tmp:
        folder = Path(tmp) / "reference"
        shutil.copytree(source, folder, ignore=leave_out)
        with WorkerSession(folder, grader.limits, grader.backend, grader.hidden) as worker:
            begun = time.perf_counter()
            worker.catalog()  # starts the worker, so that no check's time includes it
            started = time.perf_counter() - begun
            outcomes, seconds = [], []
            for check in grader.checks:
                begun = time.perf_counter()
                outcomes.append(worker.run(check.plan, check.timeout))
                seconds.append(time.perf_counter() - begun)
    return grader.judge_all(grader.checks, outcomes, "reference"), seconds, started


def graded_run(name: str, results: Sequence[CheckResult], load_error: str | None) -> GradedRun:
    """A submission's total and the checks on which it loses points."""
    return GradedRun(
        name=name,
        score=round(sum(r.score for r in results), 6),
        max_score=round(sum(r.max_score for r in results), 6),
        load_error=load_error,
        lost_on=[r.name for r in results if loses(r)],
    )


def loses(result: CheckResult) -> bool:
    """Whether a verdict loses points."""
    return result.score < result.max_score - 1e-9


def starter_components(grader: Grader) -> tuple[list[str], str]:
    """What the starter template registers (``kind/name``, read by its sandboxed worker),
    or nothing and why it could not be read."""
    starter = grader.assignment.folder / STARTER
    if not starter.is_file():
        return [], f"no {STARTER.as_posix()}"
    try:
        with WorkerSession(starter, grader.limits, grader.backend, grader.hidden) as worker:
            entries = worker.catalog()
    except GradekitError as exc:
        return [], f"{STARTER.as_posix()} did not load: {exc}"
    return [f"{e['kind']}/{e['name']}" for e in entries], ""


def mutants_of(grader: Grader, component: str) -> list[MutantInfo]:
    """The catalogue's mutants of ``component`` (``kind/name``), in catalogue order."""
    return [m for m in grader.mutants if f"{m.kind}/{m.target}" == component]


def component_audit(
    grader: Grader,
    component: str,
    checks: list[PreparedCheck],
    times: dict[str, float],
    scores: dict[str, float],
) -> ComponentAudit:
    """Judge every mutant of ``component`` over its checks."""
    mutants = []
    for mutant in mutants_of(grader, component):
        session = LocalSession({(mutant.kind, mutant.target): mutant.factory})
        results = grader.judge_all(checks, [session.run(c.plan) for c in checks], mutant.name)
        mutants.append(
            MutantAudit(
                name=mutant.name,
                misconception=mutant.misconception,
                caught_by=[r.name for r in results if loses(r)],
                kept=sum(r.score for r in results) / (sum(r.max_score for r in results) or 1),
                named=naming(mutant, results),
            )
        )
    return ComponentAudit(
        component=component,
        checks=[
            CheckAudit(
                id=c.spec.id,
                type=c.spec.type,
                visibility=c.spec.visibility,
                points=c.spec.points,
                seconds=times[c.spec.id],
                reference_score=scores[c.spec.id],
                catches=[m.name for m in mutants if c.spec.id in m.caught_by],
            )
            for c in checks
        ],
        mutants=mutants,
    )


def naming(mutant: MutantInfo, results: Sequence[CheckResult]) -> Literal["right", "wrong", "none"]:
    """What the mutant's failing checks name: its misconception, another, or none."""
    said = {r.misconception for r in results if r.status != "passed"} - {None}
    if not said:
        return "none"
    return "right" if all(mutant.misconception in s for s in said) else "wrong"


def hidden_repeats(specs: Sequence[CheckSpec]) -> list[HiddenRepeat]:
    """Each hidden check with the type, component, kwargs and options of a public one."""
    public = [s for s in specs if s.visibility == "public"]
    repeats = []
    for hidden in (s for s in specs if s.visibility == "hidden"):
        same = next((p for p in public if _same_check(hidden, p)), None)
        if same is not None:
            repeats.append(HiddenRepeat(hidden=hidden.id, public=same.id))
    return repeats


def _same_check(a: CheckSpec, b: CheckSpec) -> bool:
    """Whether two checks run the same plan but for the seed (options compared as parsed,
    so that an option spelled out at its default is the same)."""
    return (a.type, a.component, a.kwargs, a.parsed_options) == (
        b.type,
        b.component,
        b.kwargs,
        b.parsed_options,
    )
