"""The reference preprocessors (``gradekit_reference.preprocessing``), pinned to the spec:
statistics from the training set only, reused on test data; ``(x - mu) / sqrt(var + eps)``
with the population variance and eps 1e-8; PCA of ``Xc.T Xc / N`` (checked against an
eigendecomposition, up to sign); whitening ``Xrot / sqrt(S + eps)`` with eps 1e-5, whose
training covariance is ``diag(S / (S + eps))``, and ZCA's symmetric matrix."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit_reference.preprocessing import PCA, Standardize, Whitening, ZeroCenter

TRAIN = np.array(
    [[2.0, 1.0, 0.5], [4.0, 3.0, 0.25], [6.0, 2.0, 1.0], [8.0, 6.0, 0.75], [0.0, -2.0, 0.5]],
    dtype=np.float32,
)
TEST = np.array([[1.0, 1.0, 1.0], [-3.0, 5.0, 0.0]])
X = TRAIN.astype(np.float64)
MU = X.sum(axis=0) / 5
COV = sum(np.outer(r - MU, r - MU) for r in X) / 5


def eig():
    """Eigenvalues by decreasing size, with their unit eigenvectors as columns."""
    vals, vecs = np.linalg.eigh(COV)
    return vals[::-1], vecs[:, ::-1]


def same_up_to_sign(got, want):
    signs = np.sign(np.sum(got * want, axis=0))
    np.testing.assert_allclose(got * signs, want, rtol=1e-9, atol=1e-12)


def test_zero_center_subtracts_the_training_mean():
    pre = ZeroCenter()
    assert pre.mean_ is None
    assert pre.fit(TRAIN) is pre
    assert pre.mean_.dtype == np.float64
    np.testing.assert_allclose(pre.mean_, MU, rtol=1e-15)
    out = pre.transform(TEST.astype(np.float32))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, TEST - MU, rtol=1e-15)


@pytest.mark.parametrize("factory", [ZeroCenter, Standardize, PCA, Whitening])
def test_transform_needs_a_fit_on_samples_of_the_same_shape(factory):
    pre = factory()
    name = type(pre).__name__
    with pytest.raises(RuntimeError) as error:
        pre.transform(TEST)
    assert str(error.value) == (
        f"{name}.transform called before fit(x): fit the statistics on the training set first, "
        "then transform train and test data with them"
    )
    pre.fit(TRAIN)
    assert pre.transform(TEST.astype(np.longdouble)).dtype == np.float64
    with pytest.raises(
        ValueError, match=rf"{type(pre).__name__} was fit on samples of shape \(3,\)"
    ):
        pre.transform(np.zeros((2, 4)))


def test_standardize_divides_by_the_population_std_with_eps_inside_the_root():
    pre = Standardize()
    assert pre.eps == 1e-8 and (pre.mean_, pre.std_, pre.scale_) == (None, None, None)
    assert pre.fit(TRAIN) is pre
    var = ((X - MU) ** 2).sum(axis=0) / 5  # ddof = 0
    np.testing.assert_allclose(pre.mean_, MU, rtol=1e-15)
    np.testing.assert_allclose(pre.std_, np.sqrt(var), rtol=1e-15)
    np.testing.assert_allclose(pre.scale_, np.sqrt(var + 1e-8), rtol=1e-15)
    np.testing.assert_allclose(pre.transform(TEST), (TEST - MU) / np.sqrt(var + 1e-8), rtol=1e-14)
    wide = Standardize(eps=0.5).fit(TRAIN)
    np.testing.assert_allclose(wide.transform(TEST), (TEST - MU) / np.sqrt(var + 0.5), rtol=1e-14)
    constant = Standardize().fit(np.full((3, 2), 4.0))
    assert constant.transform(np.full((1, 2), 4.0)).tolist() == [[0.0, 0.0]]
    assert constant.std_.tolist() == [0.0, 0.0]
    assert constant.scale_ == pytest.approx([1e-4, 1e-4], rel=1e-12)


def test_pca_rotates_onto_the_eigenvectors_of_the_training_covariance():
    vals, vecs = eig()
    pre = PCA()
    assert (pre.mean_, pre.U_, pre.S_, pre.components_) == (None, None, None, None)
    assert pre.k is None and pre.fit(TRAIN) is pre
    np.testing.assert_allclose(pre.mean_, MU, rtol=1e-15)
    np.testing.assert_allclose(pre.S_, vals, rtol=1e-9)
    same_up_to_sign(pre.U_, vecs)
    assert pre.components_.shape == (3, 3)
    same_up_to_sign(pre.transform(TEST), (TEST - MU) @ vecs)
    top = PCA(k=2).fit(TRAIN)
    assert top.k == 2 and top.components_.shape == (3, 2) and top.U_.shape == (3, 3)
    out = top.transform(TEST)
    assert out.shape == (2, 2)
    same_up_to_sign(out, (TEST - MU) @ vecs[:, :2])


def test_pca_and_whitening_need_two_dimensional_data():
    for pre in (PCA(), Whitening()):
        with pytest.raises(ValueError, match=r"expected data of shape \(N, D\)"):
            pre.fit(np.zeros(4))


def test_whitening_divides_each_direction_by_sqrt_s_plus_eps():
    vals, vecs = eig()
    pre = Whitening()
    assert (pre.eps, pre.zca) == (1e-5, False)
    assert (pre.mean_, pre.U_, pre.S_, pre.W_) == (None, None, None, None)
    assert pre.fit(TRAIN) is pre
    np.testing.assert_allclose(pre.S_, vals, rtol=1e-9)
    same_up_to_sign(pre.W_, vecs / np.sqrt(vals + 1e-5))
    white = pre.transform(TRAIN)
    cov = white.T @ white / 5
    np.testing.assert_allclose(cov, np.diag(vals / (vals + 1e-5)), atol=1e-9)
    same_up_to_sign(pre.transform(TEST), (TEST - MU) @ vecs / np.sqrt(vals + 1e-5))
    big = Whitening(eps=1.0).fit(TRAIN).transform(TRAIN)
    np.testing.assert_allclose(big.T @ big / 5, np.diag(vals / (vals + 1.0)), atol=1e-9)


def test_zca_whitening_rotates_back_with_a_symmetric_matrix():
    vals, vecs = eig()
    pre = Whitening(zca=True).fit(TRAIN)
    want = vecs @ np.diag(1 / np.sqrt(vals + 1e-5)) @ vecs.T
    np.testing.assert_allclose(pre.W_, want, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(pre.transform(TEST), (TEST - MU) @ want, rtol=1e-8, atol=1e-10)
