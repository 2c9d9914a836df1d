"""Known-buggy weight penalties and early stopping, each naming the student's misconception."""

from __future__ import annotations

import numpy as np

from gradekit_reference.regularizers import L1, L2, EarlyStopping

from . import Mutant


class L1GradAbs(L1):
    """L1 whose gradient is ``lam |w|`` instead of ``lam sign(w)``."""

    def grad(self, w: np.ndarray) -> np.ndarray:
        """Return ``lam * |w|`` (wrong)."""
        return self.lam * np.abs(np.asarray(w, dtype=np.float64))


class L1GradLikeL2(L1):
    """L1 whose gradient is ``lam w``, the L2 gradient."""

    def grad(self, w: np.ndarray) -> np.ndarray:
        """Return ``lam * w`` (wrong)."""
        return self.lam * np.asarray(w, dtype=np.float64)


class L2NoLambda(L2):
    """L2 whose gradient forgets the strength: ``w``."""

    def grad(self, w: np.ndarray) -> np.ndarray:
        """Return ``w`` (wrong)."""
        return np.array(w, dtype=np.float64)


class L2GradHalf(L2):
    """L2 whose gradient keeps the 1/2 of the penalty: ``lam w / 2``."""

    def grad(self, w: np.ndarray) -> np.ndarray:
        """Return ``lam * w / 2`` (wrong)."""
        return 0.5 * self.lam * np.asarray(w, dtype=np.float64)


class L2NoHalf(L2):
    """L2 as ``lam ||w||^2`` with gradient ``2 lam w``: consistent, but twice the course's."""

    def penalty(self, w: np.ndarray) -> float:
        """Return ``lam * sum(w ** 2)`` (the course's has a 1/2)."""
        return 2.0 * super().penalty(w)

    def grad(self, w: np.ndarray) -> np.ndarray:
        """Return ``2 * lam * w``."""
        return 2.0 * super().grad(w)


class EarlyStoppingNoRestore(EarlyStopping):
    """Early stopping whose ``best_params`` are the latest parameters, not the best ones."""

    def step(self, val_loss: float, params: dict[str, np.ndarray]) -> bool:
        """Track the best loss but keep the last epoch's parameters (wrong)."""
        stop = super().step(val_loss, params)
        self.best_params = {name: np.array(p, copy=True) for name, p in params.items()}
        return stop


class EarlyStoppingNoCopy(EarlyStopping):
    """Early stopping that stores references to the live parameter arrays."""

    def step(self, val_loss: float, params: dict[str, np.ndarray]) -> bool:
        """Keep the best epoch's arrays themselves, which later in-place updates change."""
        improved = float(val_loss) < self.best_loss - self.min_delta
        stop = super().step(val_loss, params)
        if improved:
            self.best_params = dict(params)
        return stop


class EarlyStoppingIgnoresMinDelta(EarlyStopping):
    """Early stopping that resets its patience on any decrease, however small."""

    def step(self, val_loss: float, params: dict[str, np.ndarray]) -> bool:
        """Count every decrease as an improvement (wrong when min_delta > 0)."""
        min_delta, self.min_delta = self.min_delta, 0.0
        try:
            return super().step(val_loss, params)
        finally:
            self.min_delta = min_delta


class EarlyStoppingOneLate(EarlyStopping):
    """Early stopping that stops after ``patience + 1`` epochs without improvement."""

    def step(self, val_loss: float, params: dict[str, np.ndarray]) -> bool:
        """Return True only once ``wait > patience`` (one epoch late)."""
        super().step(val_loss, params)
        return self.wait > self.patience


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "l1_grad_abs",
        "penalties",
        "l1",
        L1GradAbs,
        "L1 gradient written as lam |w|: the derivative of |w| is sign(w), so negative "
        "weights get pushed further from zero instead of towards it.",
    ),
    Mutant(
        "l1_grad_like_l2",
        "penalties",
        "l1",
        L1GradLikeL2,
        "L1 gradient written as lam w (the L2 gradient): L1 pulls every weight towards zero "
        "with the same force lam sign(w), whatever its size, which is what makes it sparse.",
    ),
    Mutant(
        "l2_no_lambda",
        "penalties",
        "l2",
        L2NoLambda,
        "L2 gradient without the regularization strength: the weight-decay term of the SGD "
        "update is eta lam w, not eta w.",
    ),
    Mutant(
        "l2_grad_half",
        "penalties",
        "l2",
        L2GradHalf,
        "L2 gradient kept the 1/2 of the penalty: d/dw (lam/2) ||w||^2 = lam w, the 1/2 "
        "cancels the 2 of the square.",
    ),
    Mutant(
        "l2_no_half",
        "penalties",
        "l2",
        L2NoHalf,
        "L2 penalty written lam ||w||^2 with gradient 2 lam w: the course's penalty is "
        "(lam/2) ||w||^2 so that the SGD update is w <- w - eta lam w - eta grad.",
    ),
    Mutant(
        "early_stopping_no_restore",
        "early_stopping",
        "early_stopping",
        EarlyStoppingNoRestore,
        "Early stopping that keeps the last epoch's weights: after patience epochs without "
        "improvement they have overfit; the best epoch's weights must be restored.",
    ),
    Mutant(
        "early_stopping_no_copy",
        "early_stopping",
        "early_stopping",
        EarlyStoppingNoCopy,
        "Early stopping that saves references to the weight arrays: the in-place updates "
        "w -= eta dw of later epochs overwrite the 'best' weights; save copies.",
    ),
    Mutant(
        "early_stopping_ignores_min_delta",
        "early_stopping",
        "early_stopping",
        EarlyStoppingIgnoresMinDelta,
        "Early stopping that resets patience on any decrease of the validation loss: an "
        "improvement must be larger than min_delta to count.",
    ),
    Mutant(
        "early_stopping_one_late",
        "early_stopping",
        "early_stopping",
        EarlyStoppingOneLate,
        "Early stopping off by one: it must stop after exactly patience epochs without "
        "improvement, not patience + 1.",
    ),
)
