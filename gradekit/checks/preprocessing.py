"""Preprocessing checks: fit on a training set, transform training and test data.

The test set comes from a shifted, rescaled distribution, so statistics refit on it (a
test-set leak) give other values than the training statistics. PCA and PCA-whitening
columns are eigenvectors, defined up to sign: each of the student's columns is matched to
the reference's sign (from the training outputs) before comparing; ZCA is unique. The
covariance of whitened training data, ``diag(S / (S + eps))`` (PCA) or ``U diag(S / (S +
eps)) U^T`` (ZCA), is compared too: the identity up to the eps effect, which one
low-variance direction of the data makes visible.
"""

from __future__ import annotations

import numpy as np

from ..hookspecs import hookimpl
from ..sandbox.plan import Outcome, Plan
from .base import Case, CheckKind, Options, Target
from .compare import close
from .features import Unusable, array, purity_case, watched


class PreprocessOptions(Options):
    train: int = 200
    test: int = 50
    features: int = 6
    rtol: float = 1e-6
    """Accepts eps inside or outside the root of a standardizer, and svd or eigh."""
    column_signs: bool | None = None
    """Whether output columns may flip sign (default: PCA, and whitening unless ZCA)."""


def _data(rng: np.random.Generator, options: PreprocessOptions) -> tuple[np.ndarray, np.ndarray]:
    d = options.features
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    spread = np.geomspace(3.0, 0.5, d)
    spread[-1] = 0.004  # variance ~1.6e-5: whitening's eps (1e-5) matters there
    mean = rng.uniform(-5, 5, d)

    def draw(n: int, scale: float, shift: float) -> np.ndarray:
        return scale * (rng.standard_normal((n, d)) * spread) @ rotation.T + mean + shift

    return draw(options.train, 1.0, 0.0), draw(options.test, 1.5, 2.0)


class Preprocess(CheckKind):
    """``fit`` on training data, ``transform`` of training and test data, as the reference."""

    name = "preprocess"
    kinds = ("preprocessors",)
    options = PreprocessOptions
    summary = "training and test data transformed with training statistics only"

    def plan(self, target: Target, options: PreprocessOptions) -> Plan:
        rng = target.rng()
        train, test = _data(rng, options)
        plan = Plan()
        plan.make("c", target.kind, target.name, **target.kwargs)
        plan.call("c", "fit", plan.array(train), save="fit", watch=True)
        plan.call("c", "transform", plan.array(train), save="train", watch=True)
        plan.call("c", "transform", plan.array(test), save="test", watch=True)
        plan.call("c", "transform", plan.array(test[:1]), save="single")
        plan.meta = {"train": train, "test": test}
        return plan

    def _signs_free(self, target: Target, options: PreprocessOptions) -> bool:
        if options.column_signs is not None:
            return options.column_signs
        return target.name == "pca" or (
            target.name == "whitening" and not target.kwargs.get("zca", False)
        )

    def judge(
        self,
        target: Target,
        options: PreprocessOptions,
        plan: Plan,
        outcome: Outcome,
        expected: Outcome,
    ) -> list[Case]:
        ref = {k: np.asarray(expected.values[k], dtype=float) for k in ("train", "test", "single")}
        labels = {"train": "training data", "test": "test data", "single": "single test example"}
        whats = {
            "train": "transform(x_train)",
            "test": "transform(x_test), with statistics from the training set",
            "single": "transform of one test example",
        }
        got: dict[str, np.ndarray] = {}
        cases: dict[str, Case] = {}
        for key, name in labels.items():
            try:
                got[key] = array(outcome, key, ref[key].shape, whats[key])
            except Unusable as exc:
                cases[key] = Case(name, False, f"{name}: {exc}")
        signs, note = np.ones(ref["train"].shape[1]), ""
        if self._signs_free(target, options) and "train" in got:
            signs = np.where(np.sum(got["train"] * ref["train"], axis=0) < 0, -1.0, 1.0)
            note = " (after matching each column's sign to the reference's)"
        for key in got:
            case = close(whats[key] + note, got[key] * signs, ref[key], rtol=options.rtol)
            cases[key] = Case(labels[key], case.passed, case.message)
        result = [cases[key] for key in labels]
        if target.name == "whitening":
            result.append(self._covariance(target, options, got, ref))
        result.append(self._purity(outcome))
        return result

    @staticmethod
    def _covariance(target: Target, options: PreprocessOptions, got: dict, ref: dict) -> Case:
        name = "whitened covariance"
        if "train" not in got:
            return Case(name, False, f"{name}: the whitened training data is not usable")
        n = ref["train"].shape[0]
        cov = got["train"].T @ got["train"] / n
        want = ref["train"].T @ ref["train"] / n
        label = (
            "covariance of the whitened training data (diag(S / (S + eps)): the identity "
            "up to eps" + (", rotated back by U for ZCA)" if target.kwargs.get("zca") else ")")
        )
        case = close(label, cov, want, rtol=options.rtol)
        return Case(name, case.passed, case.message)

    @staticmethod
    def _purity(outcome: Outcome) -> Case:
        return purity_case(watched(outcome, {"fit": "fit", "t": "transform"}), outcome)


@hookimpl
def gradekit_check_kinds() -> list[CheckKind]:
    """The preprocessing check."""
    return [Preprocess()]
