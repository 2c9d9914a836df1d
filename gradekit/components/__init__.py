"""The component kinds a plugin can register, one protocol each."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from .initializers import Initializer
from .layers import Layer
from .losses import Loss
from .optimizers import Optimizer, Schedule, State
from .preprocessors import Preprocessor
from .regularizers import BatchTransform, EarlyStopping, Penalty
from .training import Diagnoser, SearchStrategy, Trainer


@dataclass(frozen=True)
class Kind:
    """A registry section: its name, the protocol its instances follow, and what it holds."""

    name: str
    protocol: type
    summary: str

    @property
    def methods(self) -> list[str]:
        """The methods an instance of this kind must have, in protocol order."""
        return [
            n
            for n, v in vars(self.protocol).items()
            if inspect.isfunction(v) and (n == "__call__" or not n.startswith("_"))
        ]


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("layers", Layer, "linear, batchnorm, dropout, dropconnect"),
        Kind("activations", Layer, "element-wise non-linearities, e.g. relu, tanh, prelu"),
        Kind("losses", Loss, "squared error, softmax cross-entropy, hinge"),
        Kind("initializers", Initializer, "weight initializers, e.g. xavier, he"),
        Kind("optimizers", Optimizer, "update rules, e.g. sgd, momentum, adam"),
        Kind("schedules", Schedule, "learning-rate schedules: step, exponential, 1/t"),
        Kind("penalties", Penalty, "weight penalties: l1, l2"),
        Kind("transforms", BatchTransform, "batch transforms: mixup, cutmix, augmentations"),
        Kind("early_stopping", EarlyStopping, "early stopping on the validation loss"),
        Kind("preprocessors", Preprocessor, "zero-centering, scaling, PCA, whitening"),
        Kind("search", SearchStrategy, "hyperparameter search: grid, random, log-uniform"),
        Kind("trainers", Trainer, "mini-batch SGD loops with validation and early stopping"),
        Kind(
            "diagnosers",
            Diagnoser,
            "learning-curve diagnosis, the ML recipe and the transfer-learning table",
        ),
    )
}
"""Every kind, in the order the registry and ``gradekit list`` show them."""

__all__ = [
    "KINDS",
    "BatchTransform",
    "Diagnoser",
    "EarlyStopping",
    "Initializer",
    "Kind",
    "Layer",
    "Loss",
    "Optimizer",
    "Penalty",
    "Preprocessor",
    "Schedule",
    "SearchStrategy",
    "State",
    "Trainer",
]
