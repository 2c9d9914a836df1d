"""Known-buggy search strategies, trainers and diagnosers, each naming its misconception."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from gradekit_reference.diagnosis import (
    LITTLE_DATA,
    SIMILAR,
    CurveDiagnoser,
    recipe_cell,
    transfer_cell,
)
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


class FreezeZeroGrad(MiniBatchTrainer):
    """A trainer that freezes a parameter by stepping it with a zero gradient."""

    def init_state(self, model: Any, optimizer: Any) -> dict[str, Any]:
        """A state for every parameter (wrong: none for the frozen ones)."""
        return {k: optimizer.init(v) for k, v in model.params.items()}

    def step(self, model: Any, optimizer: Any, state: dict[str, Any]) -> None:
        """Update every parameter, the frozen ones with a zero gradient (wrong: no update)."""
        trained = self.trained(model.params)
        for k in state:
            g = model.grads[k] if k in trained else np.zeros_like(model.grads[k])
            model.params[k], state[k] = optimizer.update(model.params[k], g, state[k])


class FreezeUndoUpdate(MiniBatchTrainer):
    """A trainer that updates every parameter, then puts the frozen ones back."""

    def init_state(self, model: Any, optimizer: Any) -> dict[str, Any]:
        """A state for every parameter (wrong: none for the frozen ones)."""
        return {k: optimizer.init(v) for k, v in model.params.items()}

    def step(self, model: Any, optimizer: Any, state: dict[str, Any]) -> None:
        """Step everything, then restore what is frozen (its state still advances)."""
        trained = self.trained(model.params)
        kept = {k: v for k, v in model.params.items() if k not in trained}
        super().step(model, optimizer, state)
        model.params.update(kept)


class FreezeInverted(MiniBatchTrainer):
    """A trainer that reads ``trainable`` as the names to freeze."""

    def trained(self, params: dict[str, np.ndarray]) -> list[str]:
        """Every parameter not listed (wrong: the listed ones)."""
        if self.trainable is None:
            return list(params)
        return [k for k in params if k not in self.trainable]


class FreezeWeightsOnly(MiniBatchTrainer):
    """A trainer that freezes the weight matrices of frozen layers but not their biases."""

    def trained(self, params: dict[str, np.ndarray]) -> list[str]:
        """The listed parameters and every bias (wrong: a frozen layer's bias is frozen)."""
        listed = super().trained(params)
        return [k for k in params if k in listed or np.ndim(params[k]) < 2]


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


class AdviceDifferentRowsSwapped(CurveDiagnoser):
    """An advisor whose "different data" column has its two rows the wrong way round."""

    def advise(self, data_size: int, similarity: float) -> str:
        """The reference's cell, with linear_from_stages and finetune_many swapped."""
        cell = super().advise(data_size, similarity)
        swap = {"linear_from_stages": "finetune_many", "finetune_many": "linear_from_stages"}
        return swap.get(cell, cell)


class AdviceLittleInclusive(CurveDiagnoser):
    """An advisor that counts exactly ``LITTLE_DATA`` examples as very little data."""

    def advise(self, data_size: int, similarity: float) -> str:
        """``data_size <= LITTLE_DATA`` is very little (wrong: fewer than)."""
        return transfer_cell(data_size <= LITTLE_DATA, similarity >= SIMILAR)


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
        "freeze_zero_grad",
        "trainers",
        "minibatch",
        FreezeZeroGrad,
        "Freezing a layer by giving it a zero gradient: the optimizer still steps it, and "
        "its momentum and weight decay move it. A frozen parameter gets no optimizer state "
        "and no update at all.",
    ),
    Mutant(
        "freeze_undo_update",
        "trainers",
        "minibatch",
        FreezeUndoUpdate,
        "Freezing a layer by updating it and copying the old values back: the optimizer "
        "still keeps a state for it. A frozen parameter never meets the optimizer.",
    ),
    Mutant(
        "freeze_inverted",
        "trainers",
        "minibatch",
        FreezeInverted,
        "trainable names the parameters to fine-tune: the others are frozen, not the listed "
        "ones.",
        breaks_purpose=True,
    ),
    Mutant(
        "freeze_weights_only",
        "trainers",
        "minibatch",
        FreezeWeightsOnly,
        "Freezing a layer freezes all its parameters, its bias too: only the parameters "
        "named in trainable train.",
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
    Mutant(
        "advice_different_rows_swapped",
        "diagnosers",
        "curves",
        AdviceDifferentRowsSwapped,
        "With data unlike the pre-training data, a lot of it pays for fine-tuning many "
        "layers, and very little of it leaves only linear classifiers on features of "
        "different stages (\"you're in trouble\"): not the other way round.",
    ),
    Mutant(
        "advice_little_inclusive",
        "diagnosers",
        "curves",
        AdviceLittleInclusive,
        "The data-size threshold taken inclusively: very little data is fewer than 1000 "
        "labelled examples, so exactly 1000 is already a lot (data_size < 1000, not <=).",
    ),
)
