"""Known-buggy search strategies, trainers and diagnosers, each naming its misconception."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from gradekit_reference.diagnosis import CurveDiagnoser, recipe_cell
from gradekit_reference.search import CoarseToFine, GridSearch, RandomSearch
from gradekit_reference.trainer import MiniBatchTrainer

from . import Mutant


class GridMissingCorners(GridSearch):
    """A grid of ``low + (high - low) i / n`` for ``i < n``: the upper bound never appears."""

    def propose(self, space: dict, n: int, rng: np.random.Generator) -> list[dict]:
        """Every combination of ``n`` values per axis that stop one step short of ``high``."""
        axes = {}
        for k, (lo, hi) in sorted(space.items()):
            if self.log:
                axes[k] = 10 ** (np.log10(lo) + (np.log10(hi) - np.log10(lo)) * np.arange(n) / n)
            else:
                axes[k] = lo + (hi - lo) * np.arange(n) / n
        names = list(axes)
        return [
            {k: float(v) for k, v in zip(names, values, strict=True)}
            for values in itertools.product(*axes.values())
        ]


class LogUniformLinear(RandomSearch):
    """A "log-uniform" search that draws ``uniform(low, high)``, on the linear scale."""


class CoarseToFineNoNarrow(CoarseToFine):
    """Coarse-to-fine whose second round draws from the whole space again."""

    def refine(self, space: dict, results: list, n: int, rng: np.random.Generator) -> list[dict]:
        """Ignore the results: a new coarse round."""
        return self.propose(space, n, rng)


class CoarseToFineWorst(CoarseToFine):
    """Coarse-to-fine that narrows around the highest losses (sorts the wrong way)."""

    def narrowed(self, space: dict, results: list) -> dict:
        """The region of the worst results."""
        return super().narrowed(space, [(s, -float(loss)) for s, loss in results])


class TrainerNoShuffle(MiniBatchTrainer):
    """A trainer that walks the training set in the same order every epoch."""

    def order(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``0, 1, ..., n - 1`` every epoch."""
        return np.arange(n)


class TrainerWrongAxis(MiniBatchTrainer):
    """A trainer whose loss sums over the batch and averages over the outputs."""

    def loss(self, y: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
        """``mean over axis 1 of sum over axis 0``: the step grows with the batch size."""
        diff = np.asarray(y, dtype=np.float64) - t
        return float(np.mean(np.sum(diff**2, axis=0))), 2.0 * diff / t.shape[1]


class TrainerLastBatchLoss(MiniBatchTrainer):
    """A trainer that reports the epoch's last batch loss as its ``train_loss``."""

    def epoch_loss(self, losses: list[float]) -> float:
        """The last batch's loss (wrong: one noisy batch, not the epoch)."""
        return float(losses[-1])


class _Discarded:
    """An optimizer whose updates the trainer throws away: the weights it returns are the
    ones it was given (the state still advances)."""

    def __init__(self, optimizer: Any) -> None:
        self.optimizer = optimizer

    def init(self, param: np.ndarray) -> Any:
        return self.optimizer.init(param)

    def update(self, param: np.ndarray, grad: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        return param, self.optimizer.update(param, grad, state)[1]


class TrainerDiscardsUpdate(MiniBatchTrainer):
    """A trainer that calls ``optimizer.update`` but keeps the old parameters."""

    def fit(
        self, model: Any, optimizer: Any, data: dict[str, np.ndarray], rng: np.random.Generator
    ) -> dict[str, list[float]]:
        """The reference's loop with every new parameter dropped."""
        return super().fit(model, _Discarded(optimizer), data, rng)


class TrainerNoRestore(MiniBatchTrainer):
    """A trainer that stops early but keeps the last epoch's weights."""

    def restore(self, model: Any, best: dict | None) -> None:
        """Leave the model as it is (wrong)."""


class DiagnoserOverfitAsNotConverged(CurveDiagnoser):
    """A diagnoser that reads a validation loss going back up as training not yet done."""

    def diagnose(self, train_curve: np.ndarray, val_curve: np.ndarray) -> str:
        """The reference's answer, with overfitting called not converged."""
        label = super().diagnose(train_curve, val_curve)
        return "not_converged" if label == "overfitting" else label


class DiagnoserVarianceFromBase(CurveDiagnoser):
    """A diagnoser that measures variance as ``test_err - base_err``, not the train-test gap."""

    def recipe(
        self, train_err: float, test_err: float, base_err: float = 0.0, tol: float = 0.05
    ) -> str:
        """Like the reference, with the wrong variance."""
        return recipe_cell(train_err - base_err > tol, test_err - base_err > tol)


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "grid_missing_corners",
        "search",
        "grid",
        GridMissingCorners,
        "A grid of n values per axis spaced (high - low) / n from low never reaches high: "
        "a grid includes both bounds, linspace(low, high, n), so it covers the corners.",
    ),
    Mutant(
        "log_uniform_linear",
        "search",
        "log_uniform",
        LogUniformLinear,
        "Sampling the learning rate uniformly between its bounds puts almost every draw in "
        "the top decade: multiplicative hyperparameters are searched on a log scale, "
        "10 ** uniform(log10 low, log10 high).",
    ),
    Mutant(
        "coarse_to_fine_no_narrow",
        "search",
        "coarse_to_fine",
        CoarseToFineNoNarrow,
        "Coarse-to-fine's second round searches the whole space again: it must narrow the "
        "space to the region where the first round did well.",
    ),
    Mutant(
        "coarse_to_fine_worst",
        "search",
        "coarse_to_fine",
        CoarseToFineWorst,
        "Coarse-to-fine narrows around the highest losses: the best results are the lowest "
        "validation losses.",
    ),
    Mutant(
        "trainer_no_shuffle",
        "trainers",
        "minibatch",
        TrainerNoShuffle,
        "Mini-batches taken in the same order every epoch: SGD samples its batches, so the "
        "training set is reshuffled (a fresh permutation) every epoch.",
    ),
    Mutant(
        "trainer_wrong_axis",
        "trainers",
        "minibatch",
        TrainerWrongAxis,
        "The loss summed over the batch and averaged over the outputs: the mini-batch loss "
        "is averaged over the batch axis (axis 0), so the step does not grow with the batch "
        "size.",
        breaks_purpose=True,
    ),
    Mutant(
        "trainer_last_batch_loss",
        "trainers",
        "minibatch",
        TrainerLastBatchLoss,
        "The epoch's training loss is the mean of all its batch losses; the last batch's "
        "loss alone is one noisy sample of it.",
    ),
    Mutant(
        "trainer_discards_update",
        "trainers",
        "minibatch",
        TrainerDiscardsUpdate,
        "optimizer.update called and its result dropped: it returns the new parameters "
        "(new_param, new_state), which the trainer stores in model.params, or nothing is "
        "learned.",
        breaks_purpose=True,
    ),
    Mutant(
        "trainer_no_restore",
        "trainers",
        "minibatch",
        TrainerNoRestore,
        "Early stopping that stops but keeps the last epoch's weights: after stopping, the "
        "best epoch's weights are restored.",
    ),
    Mutant(
        "diagnoser_overfit_as_not_converged",
        "diagnosers",
        "curves",
        DiagnoserOverfitAsNotConverged,
        "A validation loss that turns back up while the training loss falls read as 'not "
        "converged': that is overfitting, and more training makes it worse.",
    ),
    Mutant(
        "diagnoser_variance_from_base",
        "diagnosers",
        "curves",
        DiagnoserVarianceFromBase,
        "Variance measured as the test error itself: variance is the gap between test and "
        "train error; a high test error with a high train error is bias.",
    ),
)
