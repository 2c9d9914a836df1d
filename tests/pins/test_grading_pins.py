"""The verdicts of ``grading.Grader``, pinned: each field of a check's result to its meaning,
each kind of failure to its status and message, and what the grader hides and memoises."""

from __future__ import annotations

from pathlib import Path

import gradekit_assignments
import numpy as np
import pytest

import gradekit
import gradekit_reference
from gradekit import grading
from gradekit.assignments import AssignmentError, load_assignment
from gradekit.credit import credit
from gradekit.errors import GradekitError
from gradekit.grading import NO_REFERENCE, Grader, MutantInfo, PreparedCheck, hidden_paths
from gradekit.results import CheckResult, Figure, Panel, Series
from gradekit.sandbox.plan import Failure, Outcome
from gradekit.sandbox.runner import Limits, LocalSession
from gradekit_reference import COMPONENTS
from gradekit_reference.mutants import all_mutants

ASSIGNMENT = """schema_version = 1
name = "pins"
title = "Pins"
seed = 3
timeout = 12.0

[limits]
cpu_seconds = 77

[[checks]]
id = "relu.values"
type = "values"
component = "activations/relu"
points = 2

[[checks]]
id = "relu.gradient"
type = "gradient"
component = "activations/relu"
points = 3
visibility = "hidden"
title = "ReLU's backward"
timeout = 4.0
"""

RELU = COMPONENTS["activations"]["relu"]


class Doubled(RELU):
    """A backward twice too large."""

    def backward(self, dout):
        return 2 * super().backward(dout)


class Tripled(RELU):
    """A forward three times too large."""

    def forward(self, x, *, training=True):
        return 3 * super().forward(x, training=training)


def raising(exc: Exception):
    class Raises(RELU):
        def forward(self, x, *, training=True):
            raise exc

    return Raises


@pytest.fixture(scope="module")
def assignment(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pins")
    (folder / "assignment.toml").write_text(ASSIGNMENT)
    return load_assignment(folder)


@pytest.fixture(scope="module")
def grader(assignment) -> Grader:
    return Grader(assignment)


def check(grader: Grader, id: str):
    (found,) = [c for c in grader.checks if c.spec.id == id]
    return found


def answer(check, factory) -> Outcome:
    return LocalSession({(check.target.kind, check.target.name): factory}).run(check.plan)


def test_a_correct_answer_earns_every_point_and_says_what_was_checked(grader):
    values, gradient = check(grader, "relu.values"), check(grader, "relu.gradient")
    got = grader.verdict(values, answer(values, RELU))
    assert got.model_dump(exclude={"cases"}) == {
        "name": "relu.values",
        "title": f"relu: {values.kind.summary}",
        "component": "activations/relu",
        "type": "values",
        "status": "passed",
        "score": 2.0,
        "max_score": 2.0,
        "message": "",
        "misconception": None,
        "visibility": "public",
        "output": "",
        "figure": None,
    }
    assert got.cases and all(c.passed and not c.severe and c.message == "" for c in got.cases)
    hidden = grader.verdict(gradient, answer(gradient, RELU))
    assert (hidden.title, hidden.visibility, hidden.score) == ("ReLU's backward", "hidden", 3.0)
    assert [c.name for c in hidden.cases] == [
        c.name for c in gradient.judge(answer(gradient, RELU), gradient.expected)
    ]


def test_partial_credit_is_the_points_times_the_passed_share(grader):
    gradient = check(grader, "relu.gradient")
    outcome = answer(gradient, Doubled)
    got = grader.verdict(gradient, outcome, diagnose=False)
    cases = gradient.judge(outcome, gradient.expected)
    assert got.status == "failed"
    assert 0 < got.score < 3
    assert got.score == round(3 * credit(cases, grader.null_passes(gradient)), 6)
    failed = [c for c in got.cases if not c.passed]
    assert failed
    shown = "; ".join(c.message for c in failed[:3])
    assert got.message == (shown + f"; and {len(failed) - 3} more" if len(failed) > 3 else shown)


def test_more_than_three_failures_are_counted_not_listed(grader):
    values = check(grader, "relu.values")
    got = grader.verdict(values, answer(values, Tripled), diagnose=False)
    failed = [c for c in got.cases if not c.passed]
    assert len(failed) > 3, [c.name for c in got.cases]
    assert got.message == "; ".join(c.message for c in failed[:3]) + (
        f"; and {len(failed) - 3} more"
    )
    assert got.status == "failed" and got.score == 0.0


@pytest.mark.parametrize(
    ("outcome", "status", "message"),
    [
        (Outcome(status="timeout", detail="after 4.0 s"), "timeout", "timed out: after 4.0 s"),
        (Outcome(status="crashed", detail="signal 9"), "error", "the worker crashed: signal 9"),
        (
            Outcome(status="error", detail="the worker sent garbage"),
            "error",
            "the worker sent garbage",
        ),
    ],
)
def test_a_check_that_compared_nothing_earns_nothing_and_says_why(grader, outcome, status, message):
    got = grader.verdict(check(grader, "relu.gradient"), outcome)
    assert (got.status, got.score, got.message, got.cases) == (status, 0.0, message, [])
    assert (got.max_score, got.visibility, got.name) == (3.0, "hidden", "relu.gradient")


def test_the_students_exception_comes_first_with_its_trace(grader):
    values = check(grader, "relu.values")
    outcome = answer(values, raising(ValueError("boom")))
    got = grader.verdict(values, outcome)
    assert got.status == "error" and got.score == 0.0
    failed = [c.message for c in got.cases if not c.passed]
    assert got.message == "your code raised ValueError: boom; " + "; ".join(failed[:3]) + (
        f"; and {len(failed) - 3} more" if len(failed) > 3 else ""
    )
    assert got.output == outcome.failure.trace != ""
    assert got.misconception is None


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (NotImplementedError("write relu"), "not implemented yet: write relu"),
        (NotImplementedError(), "not implemented yet: NotImplementedError"),
    ],
)
def test_a_todo_left_is_said_once(grader, exc, message):
    values = check(grader, "relu.values")
    got = grader.verdict(values, answer(values, raising(exc)))
    assert got.message == message
    assert got.status == "error"


def test_a_todo_left_in_backward_keeps_the_other_failures(grader):
    class TodoBackward(RELU):
        def backward(self, dout):
            raise NotImplementedError("backward")

    gradient = check(grader, "relu.gradient")
    got = grader.verdict(gradient, answer(gradient, TodoBackward), diagnose=False)
    rest = [
        c.message
        for c in got.cases
        if not c.passed and "raised NotImplementedError" not in c.message
    ]
    assert got.message == "not implemented yet: backward" + (f"; {'; '.join(rest)}" if rest else "")


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("MissingComponent", "not registered: activations/relu"),
        ("ContractError", "the contract: activations/relu"),
    ],
)
def test_failures_found_by_gradekit_say_the_rule(grader, kind, message):
    outcome = Outcome(failure=Failure(0, kind, "activations/relu", "trace"), status="error")
    got = grader.verdict(check(grader, "relu.values"), outcome)
    assert (got.status, got.message, got.output, got.score) == ("error", message, "trace", 0.0)


def test_a_float32_answer_is_told_its_dtype_first(grader):
    class Relu32(RELU):
        def forward(self, x, *, training=True):
            return super().forward(x, training=training).astype(np.float32)

    values = check(grader, "relu.values")
    got = grader.verdict(values, answer(values, Relu32))
    assert got.cases[0].name == "float64 outputs" and not got.cases[0].passed
    assert got.message.startswith("forward returned float32")


def test_the_misconception_is_named_from_a_known_mistake(grader):
    (mutant,) = [m for m in all_mutants() if m.name == "relu_kink_one"]
    gradient = check(grader, "relu.gradient")
    outcome = answer(gradient, mutant.factory)
    assert grader.verdict(gradient, outcome).misconception == mutant.misconception
    assert grader.verdict(gradient, outcome, diagnose=False).misconception is None
    assert grader.verdict(gradient, answer(gradient, RELU)).misconception is None


def test_judging_that_raises_is_the_checks_error_not_the_class(grader, monkeypatch):
    values = check(grader, "relu.values")

    def broken(outcome, expected):
        raise RuntimeError("judge\nbroke")

    monkeypatch.setattr(values, "judge", broken)
    got = grader.verdict(values, answer(values, RELU), "ann")
    assert (got.status, got.score) == ("error", 0.0)
    assert got.message == "gradekit could not judge the answer of ann: RuntimeError: judge broke"
    assert got.max_score == 2.0 and got.name == "relu.values"
    default = grader.verdict(values, answer(values, RELU))
    assert default.message.startswith("gradekit could not judge the answer of the submission:")


FIGURE = Figure(title="t", panels=[Panel(kind="line", series=[Series.of("y", [1.0])])])


def test_a_figure_only_when_asked_and_never_at_the_cost_of_a_grade(assignment, monkeypatch):
    g = Grader(assignment, figures=True)
    values = check(g, "relu.values")
    calls = []

    def draws(target, options, plan, outcome, expected):
        calls.append((target, options, plan, outcome, expected))
        return FIGURE

    monkeypatch.setattr(values.kind, "figure", draws)
    outcome = answer(values, RELU)
    assert g.verdict(values, outcome).figure == FIGURE
    assert len(calls) == 1
    target, options, plan, seen, expected = calls[0]
    assert (target, plan, seen, expected) == (values.target, values.plan, outcome, values.expected)
    assert options is values.spec.parsed_options
    g.figures = False
    assert g.verdict(values, outcome).figure is None
    assert Grader(assignment).verdict(values, outcome).figure is None  # not asked by default

    def fails(*args):
        raise ValueError("cannot draw")

    g.figures = True
    monkeypatch.setattr(values.kind, "figure", fails)
    got = g.verdict(values, outcome)
    assert (got.figure, got.status, got.score) == (None, "passed", 2.0)


def test_judge_all_names_nothing_when_naming_fails(grader, monkeypatch):
    checks = grader.checks
    outcomes = [answer(c, Doubled) for c in checks]
    named = grader.judge_all(checks, outcomes, "ann")
    assert [r.name for r in named] == ["relu.values", "relu.gradient"]

    def broken(*args):
        raise RuntimeError("naming broke")

    monkeypatch.setattr(grading, "across_checks", broken)
    unnamed = grader.judge_all(checks, outcomes, "ann")
    assert [r.misconception for r in unnamed] == [None, None]
    assert [(r.status, r.score) for r in unnamed] == [(r.status, r.score) for r in named]


def test_an_ungraded_submission_gets_nothing_with_one_reason(grader, monkeypatch):
    got = grader.ungraded(Path("class/ann.py"), "ann", ValueError("disk\nfull"))
    reason = "gradekit could not grade ann: ValueError: disk full"
    assert (got.submission, got.path, got.assignment) == ("ann", "class/ann.py", "pins")
    assert (got.score, got.max_score, got.load_error, got.notes) == (0.0, 5.0, reason, [])
    assert [(r.status, r.score, r.message) for r in got.checks] == [
        ("error", 0.0, f"not graded: {reason}")
    ] * 2

    def broken(path, name):
        raise OSError("no worker")

    monkeypatch.setattr(grader, "_grade", broken)
    failed = grader.grade("class/bob.py")
    assert failed.submission == "bob"
    assert failed.load_error == "gradekit could not grade bob: OSError: no worker"
    assert grader.grade("class/bob.py", "Bob").submission == "Bob"


def test_a_submissions_totals_are_the_sums_of_its_checks(grader):
    results = [
        CheckResult(**grader._base(c), status="passed", score=s, message="")
        for c, s in zip(grader.checks, [0.1, 0.2], strict=True)
    ]
    got = grader._result(Path("a.py"), "a", results, None, ["left out: b.py"])
    assert (got.score, got.max_score, got.notes, got.load_error) == (
        0.3,
        5.0,
        ["left out: b.py"],
        None,
    )
    report = grader.report([got])
    assert (report.gradekit_version, report.assignment) == (gradekit.__version__, "pins")
    assert report.submissions == [got]


def test_a_mutants_outcome_is_memoised_and_explains_nothing_when_it_fails(grader):
    values = check(grader, "relu.values")
    made = []

    class Counted(RELU):
        def __init__(self, **kwargs):
            made.append(1)
            super().__init__(**kwargs)

    mutant = MutantInfo("counted", "activations", "relu", Counted, "counting")
    first = grader.mutant_expected(values, mutant)
    assert first is not None and first.failure is None
    built = len(made)
    assert built > 0
    assert grader.mutant_expected(values, mutant) is first
    assert len(made) == built
    raising_mutant = MutantInfo("raises", "activations", "relu", raising(ValueError("x")), "r")
    assert grader.mutant_expected(values, raising_mutant) is None

    def broken_factory(**kwargs):
        raise TypeError("cannot build")

    assert (
        grader.mutant_expected(values, MutantInfo("b", "activations", "relu", broken_factory, "b"))
        is None
    )
    assert (
        grader.mutant_expected(values, MutantInfo("kit", "activations", "relu", None, "k")) is None
    )


def test_null_passes_are_what_a_component_that_does_nothing_passes(grader):
    class Zero(RELU):
        def forward(self, x, *, training=True):
            return np.zeros_like(x)

    g = grader
    gradient = check(g, "relu.gradient")
    saved = g.nulls_for
    try:
        g._null_passes.clear()
        g.nulls_for = lambda kind, name: [("same", RELU), ("zero", Zero), ("unbuildable", None)]
        found = g.null_passes(gradient)
        cases = gradient.judge(answer(gradient, Zero), gradient.expected)
        assert found == [frozenset(c.name for c in cases if c.passed), frozenset()]
        g.nulls_for = lambda kind, name: pytest.fail("not memoised")
        assert g.null_passes(gradient) is found
        g._null_passes.clear()
        g.nulls_for = None
        assert g.null_passes(gradient) == []
    finally:
        g.nulls_for = saved
        g._null_passes.clear()


def test_the_worker_must_not_see_the_reference_the_assignments_or_this_assignment(assignment):
    reference = Path(gradekit_reference.__file__).parent
    bundled = Path(gradekit_assignments.__file__).parent
    assert hidden_paths() == (reference, bundled)
    assert hidden_paths(assignment) == (reference, bundled, assignment.folder)
    assert Grader(assignment).hidden == (reference, bundled, assignment.folder)


def test_without_the_reference_grading_says_so(monkeypatch):
    monkeypatch.setattr(grading, "REFERENCE_MODULE", "gradekit_reference_not_installed")
    with pytest.raises(GradekitError) as err:
        grading.reference_factories()
    assert str(err.value) == NO_REFERENCE
    monkeypatch.setattr(grading, "REFERENCE_MODULE", "not_a_package_at_all.reference")
    with pytest.raises(ModuleNotFoundError):
        grading.require_reference()


def test_reference_factories_are_every_reference_component():
    got = grading.reference_factories()
    assert got == {(k, n): f for k, table in COMPONENTS.items() for n, f in table.items()}
    assert got[("activations", "relu")] is RELU


def test_a_kits_grader_loads_and_hides_nothing(grader, assignment):
    kit = Grader(assignment, checks=grader.checks)
    assert (kit.hidden, kit.factories, kit.mutants, kit.nulls_for) == ((), {}, [], None)
    assert kit.checks is grader.checks


def test_time_limits_come_from_the_assignment_unless_overridden(assignment):
    g = Grader(assignment)
    assert g.limits.call == 12.0
    assert g.limits.cpu_seconds == 77
    assert g.limits.startup == Limits().startup and g.limits.memory_mb == Limits().memory_mb
    assert [c.timeout for c in g.checks] == [12.0, 4.0]
    faster = Grader(assignment, limits={"call": 7.0})
    assert faster.limits.call == 7.0
    assert [c.timeout for c in faster.checks] == [7.0, 4.0]


def test_each_check_is_seeded_from_the_spec_and_the_secret(assignment):
    public = Grader(assignment)
    salted = Grader(assignment, secret="course secret")
    for g, secret in ((public, None), (salted, "course secret")):
        for c in g.checks:
            assert c.target.seed == assignment.spec.seed_of(c.spec, secret)
            assert (c.target.kind, c.target.name, c.target.reference) == (
                "activations",
                "relu",
                RELU,
            )
    assert salted.checks[1].target.seed != public.checks[1].target.seed


def test_a_check_without_a_reference_is_an_assignment_error(assignment):
    with pytest.raises(AssignmentError) as err:
        Grader(assignment, factories={}, mutants=[])
    assert str(err.value) == (
        f"{assignment.folder}: check relu.values: no reference for activations/relu"
    )


SUBMISSION = """import numpy as np

import gradekit


class ReLU:
    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        self.mask = x > 0
        return np.where(self.mask, x, 0.0)

    def backward(self, dout):
        return FACTOR * np.where(self.mask, dout, 0.0)


@gradekit.hookimpl
def gradekit_register(registry):
    registry.activations["relu"] = ReLU
"""


def test_a_submission_is_graded_in_its_worker(assignment, tmp_path):
    grader = Grader(assignment)
    (tmp_path / "ann.py").write_text("FACTOR = 1.0\n" + SUBMISSION)
    (tmp_path / "bob.py").write_text("FACTOR = 2.0\n" + SUBMISSION)
    (tmp_path / "cat.py").write_text("def broken(:\n")
    ann = grader.grade(tmp_path / "ann.py")
    assert (ann.submission, ann.path, ann.assignment) == ("ann", str(tmp_path / "ann.py"), "pins")
    assert (ann.score, ann.max_score, ann.load_error) == (5.0, 5.0, None)
    assert [(r.name, r.status) for r in ann.checks] == [
        ("relu.values", "passed"),
        ("relu.gradient", "passed"),
    ]
    bob = grader.grade(tmp_path / "bob.py")
    assert [r.status for r in bob.checks] == ["passed", "failed"]
    assert 2.0 < bob.score < 5.0 and bob.score == round(sum(r.score for r in bob.checks), 6)
    cat = grader.grade(tmp_path / "cat.py", "Cat")
    assert cat.submission == "Cat" and cat.score == 0.0 and cat.load_error
    assert "syntax" in cat.load_error.lower()
    assert all(r.score == 0.0 for r in cat.checks)
    grader.close()  # the class's workers stop, and start again when needed
    grader.close()
    assert grader.grade(tmp_path / "ann.py").score == 5.0
    grader.close()
    Grader(assignment).close()


def test_a_stored_check_keeps_what_was_computed_elsewhere(grader):
    values = check(grader, "relu.values")
    stored = PreparedCheck.stored(values.spec, values.target, values.plan, 9.0, "the outcome")
    assert (stored.spec, stored.target, stored.plan, stored.timeout) == (
        values.spec,
        values.target,
        values.plan,
        9.0,
    )
    assert stored.kind is values.kind
    assert stored.expected == "the outcome"


def test_the_reference_catalogue_of_mistakes_is_kept_field_by_field():
    got = grading.reference_mutants()
    want = all_mutants()
    assert [(m.name, m.kind, m.target, m.factory, m.misconception) for m in got] == [
        (m.name, m.kind, m.target, m.factory, m.misconception) for m in want
    ]


def test_a_package_that_is_not_installed_is_not_hidden(monkeypatch):
    monkeypatch.setattr(grading, "BUNDLED", "gradekit_assignments_not_installed")
    assert hidden_paths() == (Path(gradekit_reference.__file__).parent,)


def test_the_sandbox_backend_is_the_one_asked_for(assignment):
    assert Grader(assignment, backend="rlimits").backend == "rlimits"
    assert Grader(assignment).backend in ("bwrap", "rlimits")


def test_a_component_that_does_nothing_earns_nothing_for_what_it_gets_right(assignment):
    """Zeros for ReLU pass the zeros input, as the reference's null does: no credit."""

    class Zeros(RELU):
        def forward(self, x, *, training=True):
            return np.zeros_like(x)

    grader = Grader(assignment)
    values = check(grader, "relu.values")
    got = grader.verdict(values, answer(values, Zeros))
    assert [c.name for c in got.cases if c.passed] == ["zeros input"]
    assert got.score == 0.0 and got.status == "failed"


def test_the_mistakes_named_are_the_ones_given(assignment):
    (mutant,) = [m for m in all_mutants() if m.name == "relu_kink_one"]
    bare = Grader(assignment, mutants=[])
    gradient = check(bare, "relu.gradient")
    assert bare.mutants == []
    assert bare.verdict(gradient, answer(gradient, mutant.factory)).misconception is None
