"""The class's analytics from a hand-built grading run: pass rates, score histograms and
misconceptions counted per submission, with a submission that did not load kept apart."""

from __future__ import annotations

import pytest

from gradekit.report.analytics import ClassAnalytics, class_analytics, histogram
from gradekit.results import CheckResult, GradeReport, SubmissionResult

GATE = "ReLU's backward gates on dout instead of x."
SIGMOID = "The sigmoid's local gradient is evaluated on the input."


def _check(
    name: str, status: str, score: float, misconception: str | None = None, **extra
) -> CheckResult:
    return CheckResult(
        name=name,
        title=f"the {name} check",
        component="activations/" + name.split(".")[0],
        type="gradient",
        status=status,
        score=score,
        max_score=2.0,
        message="",
        misconception=misconception,
        visibility=extra.get("visibility", "public"),
    )


def _submission(name: str, checks: list[CheckResult], load_error: str | None = None):
    return SubmissionResult(
        submission=name,
        path=f"/nowhere/{name}.py",
        assignment="backprop",
        score=sum(c.score for c in checks),
        max_score=2.0 * len(checks),
        load_error=load_error,
        checks=checks,
    )


def _class() -> GradeReport:
    """alice passes everything; bob and carol gate ReLU on dout (carol in two checks),
    bob also misreads the sigmoid; dave did not load (every check an error at 0)."""
    subs = [
        _submission(
            "alice",
            [
                _check("relu.gradient", "passed", 2.0),
                _check("relu.values", "passed", 2.0, visibility="hidden"),
                _check("sigmoid.gradient", "passed", 2.0),
            ],
        ),
        _submission(
            "bob",
            [
                _check("relu.gradient", "failed", 1.0, GATE),
                _check("relu.values", "passed", 2.0, visibility="hidden"),
                _check("sigmoid.gradient", "failed", 0.5, SIGMOID),
            ],
        ),
        _submission(
            "carol",
            [
                _check("relu.gradient", "failed", 0.9, GATE),
                _check("relu.values", "failed", 0.0, GATE, visibility="hidden"),
                _check("sigmoid.gradient", "timeout", 0.0),
            ],
        ),
        _submission(
            "dave",
            [
                _check("relu.gradient", "error", 0.0),
                _check("relu.values", "error", 0.0, visibility="hidden"),
                _check("sigmoid.gradient", "error", 0.0),
            ],
            load_error="dave.py: line 1: invalid syntax",
        ),
    ]
    return GradeReport(gradekit_version="test", assignment="backprop", submissions=subs)


@pytest.fixture(scope="module")
def analytics() -> ClassAnalytics:
    return class_analytics(_class())


def test_a_submission_that_did_not_load_is_counted_apart(analytics):
    assert analytics.submissions == 4
    assert analytics.not_loaded == ["dave"]
    assert all(c.submissions == 3 for c in analytics.checks)


def test_pass_rate_mean_score_and_histogram_per_check(analytics):
    by_id = {c.id: c for c in analytics.checks}
    assert list(by_id) == ["relu.gradient", "relu.values", "sigmoid.gradient"]
    relu = by_id["relu.gradient"]
    assert (relu.passed, relu.submissions) == (1, 3)
    assert relu.pass_rate == pytest.approx(1 / 3)
    assert relu.mean_score == pytest.approx((2.0 + 1.0 + 0.9) / 3)
    # 0.9 / 2 = 45% falls in the fifth bin, 1.0 / 2 = 50% in the sixth, full marks last.
    assert relu.histogram == [0, 0, 0, 0, 1, 1, 0, 0, 0, 1]
    assert by_id["relu.values"].visibility == "hidden"
    assert by_id["relu.values"].histogram == [1, 0, 0, 0, 0, 0, 0, 0, 0, 2]
    sigmoid = by_id["sigmoid.gradient"]
    assert (sigmoid.passed, sigmoid.pass_rate) == (1, pytest.approx(1 / 3))  # a timeout fails
    assert sum(sigmoid.histogram) == 3 and relu.title == "the relu.gradient check"


def test_misconceptions_count_submissions_not_checks_most_common_first(analytics):
    first, second = analytics.misconceptions
    assert (first.text, first.count, first.submissions) == (GATE, 2, ["bob", "carol"])
    assert first.checks == ["relu.gradient", "relu.values"]
    assert (second.text, second.count, second.submissions) == (SIGMOID, 1, ["bob"])
    assert second.checks == ["sigmoid.gradient"]


def test_ties_sort_by_text():
    report = _class()
    bob = report.submissions[1]
    bob.checks[0].misconception = "Z: another mistake"
    misconceptions = class_analytics(report).misconceptions
    assert [m.count for m in misconceptions] == [1, 1, 1]
    assert [m.text for m in misconceptions] == [GATE, SIGMOID, "Z: another mistake"]


def test_histogram_edges():
    assert histogram([0.0, 0.2, 1.99, 2.0, 3.0, -1.0], 2.0, bins=4) == [3, 0, 0, 3]
    assert histogram([0.0], 0.0, bins=2) == [0, 1]  # a check worth nothing: full marks


def test_analytics_round_trip_as_json(analytics):
    assert ClassAnalytics.model_validate_json(analytics.model_dump_json()) == analytics
