"""The comparisons of ``checks.compare``, pinned: each tolerance just inside passes and just
outside fails, and each message says what, where, both values and the tolerance."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gradekit.checks.base import Case
from gradekit.checks.compare import (
    array_problem,
    close,
    describe,
    failed_call,
    nonfinite_where_finite,
    scalar_close,
    severe_if_nonfinite,
)
from gradekit.sandbox.plan import Failure, Outcome, Unsupported

RTOL = 2.0**-10
"""A tolerance that is a power of two, so that errors at exactly the tolerance are exact."""


# --- close: |r - e| <= rtol (|e| + max|e|), entry by entry


@pytest.mark.parametrize("entry", [0, 1, 2])
def test_close_tolerance_per_entry_is_relative_to_the_entry_plus_the_largest(entry):
    """Each entry may be off by rtol (|e| + max|e|): 99% of that passes, 101% fails."""
    expected = np.array([1.0, -2.0, 0.0])
    allowed = 1e-6 * (np.abs(expected) + 2.0)
    inside = expected + 0.99 * allowed * np.array([1.0, -1.0, 1.0])
    assert close("y", inside, expected, rtol=1e-6).passed
    outside = inside.copy()
    outside[entry] = expected[entry] + 1.01 * allowed[entry]
    case = close("y", outside, expected, rtol=1e-6)
    assert not case.passed
    assert case.message.startswith(f"y[{entry}]: received ")
    assert "(1 of 3 entries wrong)" in case.message


def test_close_passes_an_error_of_exactly_the_tolerance():
    expected = np.array([1.0, -1.0])
    at = expected + np.array([2 * RTOL, 0.0])  # |e| + max|e| = 2: exactly the tolerance
    assert close("y", at, expected, rtol=RTOL).passed
    assert not close("y", expected + np.array([2.02 * RTOL, 0.0]), expected, rtol=RTOL).passed


def test_close_with_every_expected_entry_zero_wants_zeros():
    """max|e| = 0 leaves almost no room: 1e-12 is wrong where 0 is expected."""
    zeros = np.zeros(3)
    assert close("y", np.zeros(3), zeros, rtol=1e-6).passed
    case = close("y", np.array([0.0, 1e-12, 0.0]), zeros, rtol=1e-6)
    assert case.passed is False
    assert case.message == (
        "y[1]: received 1e-12, expected 0 from the reference; "
        "relative error 1.0e+18 > tolerance 1e-06 (1 of 3 entries wrong)"
    )


def test_close_counts_an_entry_at_exactly_the_tolerance_as_right():
    expected = np.array([1.0, -1.0])
    case = close("y", expected + np.array([2 * RTOL, -4 * RTOL]), expected, rtol=RTOL)
    assert case.message.startswith("y[1]: received -1.00391, expected -1 from the reference;")
    assert case.message.endswith("(1 of 2 entries wrong)")


def test_close_with_no_tolerance_wants_equal_entries():
    """rtol = 0 asks for exact equality: equal arrays pass (zeros too, where 0 / 0 would
    be nan), and one entry off by one ulp fails, named; quietly, with no numpy warning in
    the grader's output."""
    expected = np.array([1.5, 0.0, -3.0])
    off = expected.copy()
    off[2] = np.nextafter(-3.0, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert close("y", expected.copy(), expected, rtol=0.0).passed
        assert close("y", np.zeros(2), np.zeros(2), rtol=0.0).passed
        case = close("y", off, expected, rtol=0.0)
    assert not case.passed
    assert case.message.startswith("y[2]: received -3, expected -3 from the reference;")
    assert case.message.endswith("> tolerance 0e+00 (1 of 3 entries wrong)")


def test_close_error_of_small_values_is_relative_to_the_largest():
    case = close("y", np.array([0.1, 0.3]), np.array([0.1, 0.2]), rtol=1e-6)
    assert "relative error 2.5e-01 > tolerance" in case.message  # 0.1 / (0.2 + 0.2)


def test_close_message_names_the_worst_entry_both_values_and_the_tolerance():
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    received = np.array([[1.0, 2.1], [3.5, 4.0]])  # errors 0.1/6 and 0.5/7: [1, 0] is worse
    case = close("dx", received, expected, rtol=1e-6, source="mutant", weight=0.25)
    assert case.passed is False
    assert case.message == (
        "dx[1, 0]: received 3.5, expected 3 from the mutant; "
        "relative error 7.1e-02 > tolerance 1e-06 (2 of 4 entries wrong)"
    )
    assert case.weight == 0.25 and case.name == "dx" and not case.severe


def test_close_keeps_name_and_weight_when_it_passes():
    case = close("db", np.ones(2), np.ones(2), rtol=1e-9, weight=3.0)
    assert (case.name, case.passed, case.message, case.weight) == ("db", True, "", 3.0)
    assert close("db", np.ones(2), np.ones(2), rtol=1e-9).weight == 1.0
    assert close("db", np.zeros(2), np.ones(2), rtol=1e-9).weight == 1.0


def test_close_of_a_scalar_array_has_no_index():
    case = close("loss", np.array(2.0), np.array(1.0), rtol=1e-6)
    assert case.message.startswith("loss: received 2, expected 1 from the reference;")


def test_close_accepts_integer_arrays_and_empty_ones():
    assert close("y", np.array([1, 2], dtype=np.int64), np.array([1.0, 2.0]), rtol=1e-9).passed
    assert close("y", np.array([3], dtype=np.uint8), np.array([3.0]), rtol=1e-9).passed
    assert close("y", np.zeros((0, 2)), np.zeros((0, 2)), rtol=1e-9).passed


@pytest.mark.parametrize(
    ("received", "problem"),
    [
        ([1.0, 2.0], "expected an ndarray, received list"),
        (np.array([True, False]), "expected a real array, received dtype bool"),
        (np.array([1j, 2j]), "expected a real array, received dtype complex128"),
        (np.zeros(3), "expected shape (2,), received shape (3,)"),
        (np.array([1.0, np.nan]), "non-finite value nan at index [1]"),
    ],
)
def test_close_says_why_a_value_is_not_comparable(received, problem):
    case = close("y", received, np.array([1.0, 2.0]), rtol=1e-6, weight=0.5)
    assert (case.name, case.passed, case.weight) == ("y", False, 0.5)
    assert case.message == f"y: {problem}"


def test_nan_where_the_expected_value_is_finite_is_severe():
    expected = np.array([1.0, 2.0])
    assert close("y", np.array([np.nan, 2.0]), expected, rtol=1e-6).severe
    assert close("y", np.array([np.inf, 2.0]), expected, rtol=1e-6).severe
    assert not close("y", np.array([5.0, 2.0]), expected, rtol=1e-6).severe


def test_non_finite_expected_values_must_be_matched_exactly_where_they_are():
    """Only a mutant overflows; a received value matches it with the same nan and infs."""
    expected = np.array([np.inf, 1.0, np.nan])
    assert close("y", np.array([np.inf, 1.0, np.nan]), expected, rtol=1e-6).passed
    wrong_finite = close("y", np.array([np.inf, 1.5, np.nan]), expected, rtol=1e-6)
    assert not wrong_finite.passed
    assert wrong_finite.message.startswith("y[1]: received 1.5, expected 1 from the reference")
    sign = close("y", np.array([-np.inf, 1.0, np.nan]), expected, rtol=1e-6, source="mutant")
    assert sign.message == "y[0]: received -inf, expected inf from the mutant"
    assert (sign.name, sign.passed) == ("y", False)
    where = close("y", np.array([np.inf, np.nan, 1.0]), expected, rtol=1e-6, source="mutant")
    assert where.message == "y: non-finite where the mutant is not"
    assert (where.name, where.passed) == ("y", False)
    listed = close("y", [np.inf, 1.0, np.nan], expected, rtol=1e-6)
    assert (listed.name, listed.passed) == ("y", False)
    assert listed.message == "y: expected an ndarray, received list"
    shape = close("y", np.array([np.inf, 1.0]), expected, rtol=1e-6)
    assert shape.message == "y: expected shape (3,), received shape (2,)"
    assert not any(c.severe for c in (wrong_finite, sign, shape))
    assert where.severe  # nan where the expected value is finite
    assert close("y", np.array([np.inf, 1.0, np.nan]), expected, rtol=1e-6, weight=2).weight == 2
    assert close("y", np.array([np.nan, 1.0, np.nan]), expected, rtol=1e-6, weight=2).weight == 2
    assert close("y", np.array([np.inf, 9.0]), expected, rtol=1e-6, weight=2).weight == 2
    assert close("y", np.array([1.0, 1.0, 1.0]), expected, rtol=1e-6, weight=2).weight == 2


def test_non_finite_where_only_the_second_entry_overflows_names_it():
    expected = np.array([[1.0, -np.inf], [2.0, 3.0]])
    case = close("y", np.array([[1.0, np.inf], [2.0, 3.0]]), expected, rtol=1e-6)
    assert case.message == "y[0, 1]: received inf, expected -inf from the reference"


# --- float32 answers: the dtype first when the values agree to its precision

EPS32 = float(np.finfo(np.float32).eps)


@pytest.mark.parametrize(("ulps", "dtype_first"), [(15, True), (16, True), (17, False)])
def test_a_float32_answer_within_8_eps_is_told_its_dtype_first(ulps, dtype_first):
    """The error relative to |e| + max|e| = 2 is ulps/2 eps: up to 8 eps, the dtype is the
    reason; beyond, a note after the numbers."""
    received = np.array([1.0 + ulps * EPS32], dtype=np.float32)
    case = close("dx", received, np.array([1.0]), rtol=1e-12)
    assert not case.passed
    head = "dx: returned float32; return float64 (the values agree only to float32 precision: "
    if dtype_first:
        assert case.message.startswith(head + "relative error ")
        assert case.message.endswith(" > tolerance 1e-12 (1 of 1 entries wrong))")
    else:
        assert case.message.startswith("dx[0]: received 1, expected 1 from the reference;")
        assert case.message.endswith("; it also returned float32, not float64")


def test_an_integer_answer_that_is_wrong_is_noted_after_the_numbers():
    case = close("y", np.array([1, 3]), np.array([1.0, 2.0]), rtol=1e-6)
    assert case.message == (
        "y[1]: received 3, expected 2 from the reference; relative error 2.5e-01 > tolerance "
        "1e-06 (1 of 2 entries wrong); it also returned int64, not float64"
    )


# --- scalars: |r - e| <= rtol max(|e|, 1)


@pytest.mark.parametrize(("expected", "scale"), [(4.0, 4.0), (-4.0, 4.0), (0.25, 1.0)])
def test_scalar_tolerance_is_relative_to_the_value_or_one(expected, scale):
    assert scalar_close("loss", expected + RTOL * scale, expected, rtol=RTOL).passed
    assert scalar_close("loss", expected - RTOL * scale, expected, rtol=RTOL).passed
    assert not scalar_close("loss", expected + 1.01 * RTOL * scale, expected, rtol=RTOL).passed
    assert not scalar_close("loss", expected - 1.01 * RTOL * scale, expected, rtol=RTOL).passed


def test_scalar_message_says_both_values_and_the_tolerance():
    case = scalar_close("loss", 2.5, 2.0, rtol=1e-6, source="mutant")
    assert case.message == (
        "loss: received 2.5, expected 2 from the mutant; relative error 2.5e-01 > tolerance 1e-06"
    )
    assert case.name == "loss" and not case.passed and not case.severe
    default = scalar_close("loss", 2.5, 2.0, rtol=1e-6)
    assert "expected 2 from the reference;" in default.message


def test_scalar_close_takes_an_array_of_one_entry_as_its_number():
    assert scalar_close("loss", np.array([[3.0]]), 3.0, rtol=1e-9).passed
    assert scalar_close("loss", 3, 3.0, rtol=1e-9).passed


@pytest.mark.parametrize(
    ("received", "kind"),
    [
        (np.array([1.0, 2.0]), "ndarray of shape (2,) and dtype float64"),
        (True, "bool"),
        ("3.0", "str"),
        (None, "NoneType"),
        (Unsupported("Tensor"), "Tensor"),
    ],
)
def test_scalar_close_wants_a_number(received, kind):
    case = scalar_close("loss", received, 3.0, rtol=1e-6)
    assert case.passed is False and case.name == "loss"
    assert case.message == f"loss: expected a number, received {kind}"


def test_scalar_non_finite_values_must_be_the_same():
    for same in (float("inf"), float("-inf"), float("nan")):
        case = scalar_close("loss", same, same, rtol=1e-6)
        assert (case.name, case.passed, case.message) == ("loss", True, "")
    case = scalar_close("loss", float("-inf"), float("inf"), rtol=1e-6)
    assert not case.passed and case.message == "loss: received -inf, expected inf"
    assert not case.severe
    finite = scalar_close("loss", 1.0, float("nan"), rtol=1e-6)
    assert not finite.passed and finite.message == "loss: received 1.0, expected nan"
    nan = scalar_close("loss", float("nan"), 1.5, rtol=1e-6)
    assert not nan.passed and nan.severe
    assert nan.message == "loss: received nan, expected 1.5"
    assert scalar_close("loss", float("inf"), 1.5, rtol=1e-6).severe
    assert scalar_close("loss", 1.5, 1.5, rtol=1e-6).message == ""


# --- the helpers


def test_describe_names_the_type_of_a_value():
    assert describe(np.zeros((2, 3), dtype=np.float32)) == (
        "ndarray of shape (2, 3) and dtype float32"
    )
    assert describe(Unsupported("torch.Tensor")) == "torch.Tensor"
    assert describe({"a": 1}) == "dict"


def test_array_problem_checks_the_shape_only_when_given():
    assert array_problem(np.zeros((2, 3))) is None
    assert array_problem(np.zeros((2, 3)), (2, 3)) is None
    assert array_problem(np.zeros((2, 3)), [3, 2]) == "expected shape (3, 2), received shape (2, 3)"
    assert array_problem(np.array([[0.0, 1.0], [np.inf, np.nan]])) == (
        "non-finite value inf at index [1, 0]"
    )


@pytest.mark.parametrize(
    ("received", "expected", "want"),
    [
        (np.array([np.nan, 1.0]), np.array([1.0, 1.0]), True),
        (np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), False),
        (np.array([1.0, 1.0]), np.array([1.0, 1.0]), False),
        (float("inf"), 2.0, True),
        (float("nan"), float("nan"), False),
        (3, 2.0, False),
        (np.array([np.nan]), np.array([1.0, 1.0]), False),
        (np.array([True]), np.array([1.0]), False),
        ("nan", 1.0, False),
        (np.array([np.inf], dtype=np.float32), np.array([1.0]), True),
    ],
)
def test_nonfinite_where_finite(received, expected, want):
    assert nonfinite_where_finite(received, expected) is want


def test_severity_is_added_only_to_a_failed_case():
    assert severe_if_nonfinite(Case("y", False), np.array([np.nan]), np.array([1.0])).severe
    assert not severe_if_nonfinite(Case("y", True), np.array([np.nan]), np.array([1.0])).severe
    assert not severe_if_nonfinite(Case("y", False), np.array([2.0]), np.array([1.0])).severe


def test_failed_call_says_why_a_value_is_missing():
    assert failed_call(Outcome(values={"y": 1.0}), "y") is None
    raised = Outcome(failure=Failure(2, "ValueError", "shapes differ", ""), status="error")
    case = failed_call(raised, "dx")
    assert (case.name, case.passed) == ("dx", False)
    assert case.message == "dx: not computed, your code raised ValueError: shapes differ"
    timed = failed_call(Outcome(status="timeout", detail="after 2.0 s"), "dx")
    assert timed.message == "dx: not computed (after 2.0 s)"
    crashed = failed_call(Outcome(status="crashed"), "dx")
    assert (crashed.name, crashed.passed) == ("dx", False)
    assert crashed.message == "dx: not computed (crashed)"
