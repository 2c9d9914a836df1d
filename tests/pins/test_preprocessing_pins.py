"""The preprocessing check's verdicts (``checks.preprocessing``), pinned: training, test
and single-example outputs within rtol, columns matched in sign only where the
transform's columns are defined up to sign, the whitened covariance, purity."""

from __future__ import annotations

import numpy as np

from gradekit.checks.base import Target
from gradekit.checks.preprocessing import Preprocess, PreprocessOptions
from gradekit.sandbox.plan import Failure, Outcome, Plan

CHECK = Preprocess()
TRAIN = np.array([[1.0, 2.0], [1.0, -2.0], [-1.0, 2.0], [-1.0, -2.0]])  # whitened: cov diagonal
TEST = np.array([[2.0, 1.0], [0.0, -1.0]])
REF = Outcome({"train": TRAIN, "test": TEST, "single": TEST[:1]})
PURE = {"fit.mutated": [], "train.mutated": [], "test.mutated": []}


def judged(values, name="standardize", kwargs=None, rtol=1e-6, **options):
    target = Target("preprocessors", name, kwargs or {}, 0, object)
    opts = PreprocessOptions(rtol=rtol, **options)
    return CHECK.judge(target, opts, Plan(), Outcome({**PURE, **values}), REF)


def outputs(signs=(1.0, 1.0), scale=1.0):
    s = np.array(signs) * scale
    return {"train": TRAIN * s, "test": TEST * s, "single": TEST[:1] * s}


def test_outputs_like_the_references_pass():
    cases = judged(outputs())
    assert [c.name for c in cases] == [
        "training data",
        "test data",
        "single test example",
        "inputs unchanged",
    ]
    assert all(c.passed for c in cases)
    assert [c.message for c in cases[:3]] == ["", "", ""]


def test_outputs_pass_within_rtol_and_fail_beyond():
    # close's tolerance rtol (|e| + max|e|): a scale of 1 + 2 rtol at the largest entry
    assert all(c.passed for c in judged(outputs(scale=1 + 1.9e-6)))
    cases = judged(outputs(scale=1 + 2.1e-6))
    assert [c.passed for c in cases[:3]] == [False, False, False]
    assert all(c.passed for c in judged(outputs(scale=1.09), rtol=0.05))
    cases = judged({**outputs(), "test": TEST + 1.0})
    assert [c.passed for c in cases[:3]] == [True, False, True]
    assert cases[1].message.startswith(
        "transform(x_test), with statistics from the training set[1, 0]: received 1, expected 0"
    )


def test_flipped_columns_pass_only_where_signs_are_free():
    flipped = outputs(signs=(-1.0, 1.0))
    cases = judged(flipped)
    assert [c.passed for c in cases[:3]] == [False, False, False]
    assert cases[0].message.startswith("transform(x_train)[")
    cases = judged(flipped, name="pca")
    assert all(c.passed for c in cases)
    assert all(c.passed for c in judged(flipped, name="whitening"))
    cases = judged(flipped, name="whitening", kwargs={"zca": True})
    assert [c.passed for c in cases[:3]] == [False, False, False]
    assert all(c.passed for c in judged(flipped, column_signs=True))
    assert not judged(flipped, name="pca", column_signs=False)[0].passed


def test_the_sign_match_is_named_in_a_failure():
    bad = {**outputs(signs=(-1.0, 1.0)), "test": -TEST}
    cases = judged(bad, name="pca")
    assert cases[0].passed and not cases[1].passed
    assert cases[1].message.startswith(
        "transform(x_test), with statistics from the training set (after matching each "
        "column's sign to the reference's)[0, 1]: received -1, expected 1"
    )
    cases = judged({**outputs(), "test": TEST + 1}, name="pca")
    assert "(after matching each column's sign to the reference's)[" in cases[1].message


def test_signs_are_matched_on_the_training_outputs():
    got = {"train": TRAIN * [-1, 1], "test": TEST, "single": TEST[:1]}
    cases = judged(got, name="pca")
    assert [c.passed for c in cases[:3]] == [True, False, False]
    cases = judged({"test": TEST * [-1, 1], "single": TEST[:1] * [-1, 1]}, name="pca")
    assert [c.passed for c in cases[:3]] == [False, False, False]


def test_unusable_outputs_fail_their_case_with_what_was_asked():
    failure = Failure(2, "ValueError", "not fitted", "")
    outcome = Outcome({**PURE, "train": TRAIN}, failure, "error")
    target = Target("preprocessors", "standardize", {}, 0, object)
    cases = CHECK.judge(target, PreprocessOptions(), Plan(), outcome, REF)
    assert [c.passed for c in cases[:3]] == [True, False, False]
    assert cases[1].message == (
        "test data: transform(x_test), with statistics from the training set: not computed, "
        "your code raised ValueError: not fitted"
    )
    assert cases[2].message.startswith("single test example: transform of one test example:")
    cases = judged({**outputs(), "train": TRAIN[:, :1]})
    assert cases[0].message == (
        "training data: transform(x_train): expected shape (4, 2), received shape (4, 1)"
    )


def test_whitening_compares_the_covariance_of_its_training_outputs():
    cases = judged(outputs(), name="whitening")
    assert [c.name for c in cases] == [
        "training data",
        "test data",
        "single test example",
        "whitened covariance",
        "inputs unchanged",
    ]
    assert all(c.passed for c in cases)
    loose = judged(outputs(scale=1.001), name="whitening", rtol=1e-2)
    assert loose[3].passed
    cases = judged(outputs(scale=1.015), name="whitening", rtol=1e-2)
    assert cases[0].passed and not cases[3].passed
    n = len(TRAIN)
    got, want = (TRAIN * 1.015).T @ (TRAIN * 1.015) / n, TRAIN.T @ TRAIN / n
    err = np.abs(got - want) / (np.abs(want) + np.abs(want).max())
    i = np.unravel_index(int(np.argmax(err)), err.shape)
    assert cases[3].message.startswith(
        "covariance of the whitened training data (diag(S / (S + eps)): the identity up to "
        f"eps)[{i[0]}, {i[1]}]: received {got[i]:.6g}, expected {want[i]:.6g} from the reference"
    )


def test_zca_names_its_rotation_and_unusable_outputs_have_no_covariance():
    cases = judged(outputs(scale=1.015), name="whitening", kwargs={"zca": True}, rtol=1e-2)
    assert cases[3].message.startswith(
        "covariance of the whitened training data (diag(S / (S + eps)): the identity up to "
        "eps, rotated back by U for ZCA)["
    )
    cases = judged({"test": TEST, "single": TEST[:1]}, name="whitening")
    assert (cases[3].name, cases[3].passed) == ("whitened covariance", False)
    assert cases[3].message == "whitened covariance: the whitened training data is not usable"


def test_purity_names_fit_and_transform():
    cases = judged({**outputs(), "fit.mutated": [0], "test.mutated": [0]})
    assert (cases[-1].name, cases[-1].passed) == ("inputs unchanged", False)
    assert cases[-1].message == (
        "fit modified its input in place; transform modified its input in place"
    )
