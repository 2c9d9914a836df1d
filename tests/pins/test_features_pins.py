"""Feature comparisons (``checks.features``), pinned: a missing feature on either side, an
exact value within its rtol, a category, a statistic within its tolerance (standard
errors, degrees of freedom, kurtosis, allowance) and its message, severity, purity."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradekit.checks.estimates import tolerance_factor
from gradekit.checks.features import (
    Category,
    Exact,
    FeatureSet,
    Missing,
    Statistic,
    compare,
    compare_all,
    purity_case,
    watched,
)
from gradekit.sandbox.plan import Outcome


def stat(value, se, df=math.inf, kurtosis=0.0, allowance=0.0, n=50):
    return Statistic(value, se, n, "mean mask", allowance, df, kurtosis)


def test_both_missing_pass_as_a_mutant_failing_the_same_way():
    case = compare("mask", 2.0, Missing("a"), Missing("b"), z=5)
    assert (case.name, case.passed, case.message, case.weight) == ("mask", True, "", 2.0)


def test_a_missing_feature_fails_with_its_reason_named_once():
    case = compare("mask", 2.0, Missing("rate: not computed"), stat(0, 1), z=5)
    assert (case.name, case.passed, case.weight) == ("mask", False, 2.0)
    assert case.message == "mask: rate: not computed"
    case = compare("mask", 1.0, Missing("mask: raised"), stat(0, 1), z=5)
    assert case.message == "mask: raised"


def test_a_feature_the_expected_side_misses_fails():
    case = compare("mask", 1.5, stat(0, 1), Missing("x"), z=5, source="mutant")
    assert (case.passed, case.weight) == (False, 1.5)
    assert case.message == "mask: computed, where the mutant's is not (x)"
    case = compare("mask", 1.5, stat(0, 1), Missing("mask: raised"), z=5)
    assert case.message == "mask: computed, where the reference's is not (mask: raised)"


def test_an_exact_feature_passes_within_its_rtol_and_fails_beyond():
    want = Exact(np.array([1.0, 2.0]), 1e-3, "running_var")
    # close's tolerance: rtol (|e| + max|e|) = 1e-3 * 4 at the second entry
    inside = compare("var", 3.0, Exact(np.array([1.0, 2.0039]), 0, "x"), want, z=5)
    assert (inside.name, inside.passed, inside.message, inside.weight) == ("var", True, "", 3.0)
    outside = compare("var", 3.0, Exact(np.array([1.0, 2.0041]), 0, "x"), want, z=5)
    assert (outside.name, outside.passed, outside.weight) == ("var", False, 3.0)
    assert outside.message.startswith("running_var[1]: received 2.0041, expected 2 from the ")
    assert not outside.severe
    mutant = compare("var", 3.0, Exact(np.array([1.0, 2.0041]), 0, "x"), want, z=5, source="m")
    assert "expected 2 from the m;" in mutant.message


def test_an_exact_number_compares_with_a_python_number():
    want = Exact(2.0, 1e-6, "momentum")
    assert compare("m", 1.0, Exact(2.0, 0, "m"), want, z=5).passed
    assert compare("m", 1.0, Exact(1, 0, "m"), Exact(1, 1e-6, "n"), z=5).passed
    case = compare("m", 1.0, Exact(2.1, 0, "m"), want, z=5)
    assert not case.passed and case.message.startswith("momentum: received 2.1, expected 2 ")
    case = compare("m", 1.0, Exact([2.0], 0, "m"), Exact([2.0], 1e-6, "m"), z=5)
    assert not case.passed and "expected an ndarray, received list" in case.message


def test_a_non_finite_exact_value_fails_severely():
    want = Exact(np.array([1.0, 2.0]), 1e-3, "y")
    case = compare("y", 1.0, Exact(np.array([1.0, np.nan]), 0, "y"), want, z=5)
    assert case.passed is False and case.severe is True


def test_categories_pass_when_equal_and_say_what_the_student_did():
    assert compare("axis", 0.5, Category("ok"), Category("ok"), z=5) == compare(
        "axis", 0.5, Category("ok", "ignored"), Category("ok"), z=5
    )
    case = compare("axis", 0.5, Category("ok"), Category("ok"), z=5)
    assert (case.name, case.passed, case.message, case.weight) == ("axis", True, "", 0.5)
    case = compare("axis", 0.5, Category("swapped", "you swapped"), Category("ok"), z=5)
    assert (case.passed, case.message, case.weight) == (False, "you swapped", 0.5)
    case = compare("axis", 0.5, Category("vertical"), Category("ok"), z=5)
    assert case.message == "axis: behaves as 'vertical', expected 'ok'"


@pytest.mark.parametrize(
    ("diff", "passed"), [(0.0, True), (9.99, True), (10.0, True), (10.01, False)]
)
def test_a_statistic_passes_within_z_standard_errors_of_the_difference(diff, passed):
    # se of the difference sqrt(3^2 + 4^2) = 5; z = 2 with infinite df: tolerance 10
    case = compare("rate", 2.0, stat(1.0 + diff, 3.0), stat(1.0, 4.0), z=2)
    assert (case.name, case.passed, case.weight) == ("rate", passed, 2.0)
    assert case.message == "" if passed else case.message
    below = compare("rate", 2.0, stat(1.0 - diff, 3.0), stat(1.0, 4.0), z=2)
    assert below.passed == passed


def test_the_allowance_adds_to_the_tolerance():
    assert compare("r", 1, stat(11.9, 3.0), stat(1.0, 4.0, allowance=1.0), z=2).passed
    assert not compare("r", 1, stat(12.1, 3.0), stat(1.0, 4.0, allowance=1.0), z=2).passed


def test_a_non_finite_standard_error_counts_as_none_and_a_nan_value_fails():
    # the student's se dropped: 2 x 4 = 8
    assert compare("r", 1, stat(8.9, np.nan, df=2, kurtosis=9), stat(1.0, 4.0), z=2).passed
    assert not compare("r", 1, stat(9.1, np.inf), stat(1.0, 4.0), z=2).passed
    assert not compare("r", 1, stat(np.nan, 1.0), stat(1.0, 4.0), z=2).passed


def test_the_students_degrees_of_freedom_and_kurtosis_widen_the_tolerance():
    # kurtosis 0.5 of the difference (all variance from one side): 3 + 0.5 (27 - 9) / 24
    assert tolerance_factor(3, math.inf, 0.5) == pytest.approx(3.375)
    assert compare("r", 1, stat(14.4, 4.0, kurtosis=0.5), stat(1.0, 0.0), z=3).passed
    assert not compare("r", 1, stat(14.6, 4.0, kurtosis=0.5), stat(1.0, 0.0), z=3).passed
    assert compare("r", 1, stat(14.4, 0.0), stat(1.0, 4.0, kurtosis=0.5), z=3).passed
    # Welch-Satterthwaite: all the variance on the student's side, df 3
    factor = tolerance_factor(3, 3.0, 0.0)
    assert factor > 5
    assert compare("r", 1, stat(1 + 4 * factor - 0.01, 4.0, df=3), stat(1.0, 0.0), z=3).passed
    assert not compare("r", 1, stat(1 + 4 * factor + 0.01, 4.0, df=3), stat(1, 0.0), z=3).passed
    assert compare("r", 1, stat(1 + 4 * factor - 0.01, 0.0), stat(1.0, 4.0, df=3), z=3).passed


def test_a_failing_statistic_says_everything_the_tolerance_is_made_of():
    case = compare("rate", 1, stat(13.0, 3.0), stat(1.0, 4.0, n=80), z=2, source="mutant")
    assert case.message == (
        "mean mask: received 13, expected 1 ± 4 (the mutant's estimate over 80 draws); the "
        "difference 12 exceeds the tolerance 10 (2 standard errors of the difference, which "
        "a correct implementation exceeds with probability 0.05)"
    )
    case = compare("rate", 1, stat(13.0, 3.0), stat(1.0, 4.0, allowance=0.5), z=2)
    assert case.message.endswith(
        "the difference 12 exceeds the tolerance 10.5 (2 standard errors of the difference + "
        "an allowance of 0.5, which a correct implementation exceeds with probability 0.05)"
    )
    assert "(the reference's estimate over 50 draws)" in case.message
    assert not case.severe


def test_compare_all_follows_the_expected_features_and_their_weights():
    got = FeatureSet()
    got.add("b", lambda: Category("ok"))
    got.add("a", lambda: Category("ok"))
    want = {"a": (2.0, Category("ok")), "b": (0.5, Category("ok")), "c": (1.0, Category("ok"))}
    cases = compare_all(got, want, z=5)
    assert [(c.name, c.passed, c.weight) for c in cases] == [
        ("a", True, 2.0),
        ("b", True, 0.5),
        ("c", False, 1.0),
    ]
    assert cases[2].message == "c: not computed"
    assert not any(c.severe for c in cases)


def test_compare_all_marks_a_failing_case_severe_by_the_students_rule():
    got = FeatureSet()
    got.add("frozen", lambda: Category("frozen"), severe=lambda f: f.value == "frozen")
    got.add("other", lambda: Category("bad"), severe=lambda f: False)
    got.add("nan", lambda: Exact(np.array([np.nan]), 0, "y"))
    want = {
        "frozen": (1.0, Category("ok")),
        "other": (1.0, Category("ok")),
        "nan": (1.0, Exact(np.array([1.0]), 1e-6, "y")),
        "missing": (1.0, Category("ok")),
    }
    cases = compare_all(got, want, z=5)
    assert [c.severe for c in cases] == [True, False, True, False]
    assert [c.passed for c in cases] == [False] * 4


def test_the_inputs_unchanged_case_needs_a_watched_call():
    case = purity_case([], Outcome({"y": np.zeros(2)}))
    assert (case.name, case.passed, case.message, case.weight) == (
        "inputs unchanged",
        False,
        "",
        0.5,
    )
    assert case.compared is False
    for values in ({"fit.mutated": []}, {"run": {"mutated": []}}):
        case = purity_case([], Outcome(values))
        assert (case.passed, case.message, case.weight, case.compared) == (True, "", 0.5, False)
    assert not purity_case([], Outcome({"run": {"other": 1}, "x": 2})).passed


def test_the_inputs_unchanged_case_names_three_calls_at_most():
    case = purity_case(["fit", "transform", "a", "b"], Outcome({"fit.mutated": [0]}))
    assert (case.passed, case.weight, case.compared) == (False, 0.5, False)
    assert case.message == (
        "fit modified its input in place; transform modified its input in place; "
        "a modified its input in place"
    )


def test_watched_names_the_calls_that_modified_an_input_by_prefix():
    values = {
        "fit.mutated": [0],
        "train.mutated": [],
        "test.mutated": [1],
        "test": [0],
        "fitted": [1],
    }
    labels = {"fit": "fit", "t": "transform", "x": "other"}
    assert watched(Outcome(values), labels) == ["fit", "transform"]
    assert watched(Outcome({"test.mutated": [0], "fit.mutated": [1]}), labels) == [
        "fit",
        "transform",
    ]
    assert watched(Outcome({"train.mutated": []}), labels) == []


@pytest.mark.parametrize("record", [np.array([0, 1]), np.array([]), "", 0, {"a": 1}, ()])
def test_a_forged_record_of_changes_counts_as_a_modified_input(record):
    """A record that is not the executor's list of positions (an array, a string) says the
    call modified its input, as ``gradient``'s purity reads it; never an exception."""
    assert watched(Outcome({"fit.mutated": record}), {"fit": "fit"}) == ["fit"]
    assert watched(Outcome({"fit.mutated": None}), {"fit": "fit"}) == []


def test_an_exact_python_int_is_judged_as_a_float():
    case = compare("n", 1.0, Exact(3, 0, "n"), Exact(2.0, 1e-6, "count"), z=5)
    assert not case.passed
    assert case.message == (
        "count: received 3, expected 2 from the reference; relative error 2.5e-01 > tolerance "
        "1e-06 (1 of 1 entries wrong)"
    )
    assert compare("n", 1.0, Exact(True, 0, "n"), Exact(1.0, 1e-6, "flag"), z=5).passed


def test_a_failing_category_keeps_its_name():
    case = compare("axis", 0.5, Category("vertical", "you went down"), Category("ok"), z=5)
    assert (case.name, case.passed, case.weight) == ("axis", False, 0.5)


def test_a_statistic_is_compared_with_a_statistic_only():
    with pytest.raises(AssertionError):
        compare("r", 1.0, Category("ok"), stat(1.0, 1.0), z=5)
