"""Training: hyperparameter search, the mini-batch SGD loop, and reading learning curves.

Fill in every TODO. A search space is a dict ``{name: (low, high)}``, both bounds
included; a setting is a dict ``{name: value}``. Take every random number from the
``rng`` argument (a ``numpy.random.Generator``): random strategies are graded by the
statistics of their draws, never by the order of your random calls. Run ``pytest`` in
this folder, or ``gradekit list submission.py``, to check. See the contract for every
name, constructor and convention.
"""

import gradekit

# ------------------------------------------------------------------ search strategies


class GridSearch:
    """Grid search, lecture "Hyperparameter search": n values per axis, BOTH bounds
    included (np.linspace; np.geomspace with log=True), and every combination
    (itertools.product): n ** len(space) settings."""

    def __init__(self, log=False):
        self.log = log

    def propose(self, space, n, rng):
        raise NotImplementedError("TODO: GridSearch.propose")


class RandomSearch:
    """Random search: n settings, each value rng.uniform(low, high)."""

    def propose(self, space, n, rng):
        raise NotImplementedError("TODO: RandomSearch.propose")


class LogUniformSearch:
    """Log-scale search, lecture "Log scale search": each value is
    10 ** uniform(log10 low, log10 high), e.g. lr = 10 ** uniform(-4, 0)."""

    def propose(self, space, n, rng):
        raise NotImplementedError("TODO: LogUniformSearch.propose")


class CoarseToFine:
    """Coarse-to-fine, lecture "Coarse to fine search": a log-uniform first round, then
    refine(space, results, n, rng), with results a list of (setting, loss) pairs: narrow
    the space (on a log scale) around the results with the LOWEST losses and draw n
    log-uniform settings there, inside the original space."""

    def __init__(self, keep=0.2, margin=0.05):
        self.keep, self.margin = keep, margin

    def propose(self, space, n, rng):
        raise NotImplementedError("TODO: CoarseToFine.propose")

    def refine(self, space, results, n, rng):
        raise NotImplementedError("TODO: CoarseToFine.refine")


# ------------------------------------------------------------------------ the trainer


class MiniBatchTrainer:
    """Mini-batch SGD. ``fit(model, optimizer, data, rng)`` trains ``model`` in place:

    - every epoch, a fresh permutation of the training set from ``rng``, walked in
      batches of ``batch_size`` (the last one smaller);
    - per batch: y = model.forward(xb); the loss (1/N) sum_n ||y_n - t_n||^2 and its
      gradient dy = 2 (y - t) / N; model.backward(dy) fills model.grads; then
      model.params[k], state[k] = optimizer.update(model.params[k], model.grads[k], state[k])
      for every k (state[k] = optimizer.init(param) at the start);
    - after the epoch's updates, ONE model.forward(data["x_val"]) gives the validation loss;
    - with patience: stop after ``patience`` epochs without a lower validation loss, then
      put COPIES of the best epoch's parameters back into model.params;
    - with trainable (names of parameters, e.g. ("W2", "b2")): train only those. Every
      other parameter is frozen: no optimizer.init, no optimizer.update, never written,
      so it stays bit-for-bit as it was. None trains every parameter. Lecture: "Transfer
      Learning" (freeze the lower layers, retrain the last ones).

    Return {"train_loss": [...], "val_loss": [...]}, one float per epoch run (train_loss:
    the mean of the epoch's batch losses).
    """

    def __init__(self, epochs=20, batch_size=16, patience=None, trainable=None):
        self.epochs, self.batch_size, self.patience = epochs, batch_size, patience
        self.trainable = trainable

    def fit(self, model, optimizer, data, rng):
        raise NotImplementedError("TODO: MiniBatchTrainer.fit")


# ---------------------------------------------------------------------- the diagnoser


class CurveDiagnoser:
    """Lecture "Debugging learning curve", "The ML recipe" and "Transfer Learning"."""

    def diagnose(self, train_curve, val_curve):
        """Return one of "not_training", "error_increasing", "not_converged",
        "slow_start", "overfitting", "looks_good" for two loss curves (one value per
        epoch, noisy)."""
        raise NotImplementedError("TODO: CurveDiagnoser.diagnose")

    def recipe(self, train_err, test_err, base_err=0.0, tol=0.05):
        """Return one of "high_variance", "high_bias", "high_bias_and_variance",
        "low_bias_and_variance": bias = train_err - base_err and variance =
        test_err - train_err, each high above tol."""
        raise NotImplementedError("TODO: CurveDiagnoser.recipe")

    def advise(self, data_size, similarity):
        """Return the lecture's transfer-learning cell: "linear_on_top" (very little data,
        similar), "linear_from_stages" (very little, different: "you're in trouble"),
        "finetune_few" (a lot, similar) or "finetune_many" (a lot, different). Very
        little data is FEWER than 1000 labelled examples; similar data has a similarity
        (0 to 1) of 0.5 OR MORE."""
        raise NotImplementedError("TODO: CurveDiagnoser.advise")


@gradekit.hookimpl
def gradekit_register(registry):
    registry.search["grid"] = GridSearch
    registry.search["random"] = RandomSearch
    registry.search["log_uniform"] = LogUniformSearch
    registry.search["coarse_to_fine"] = CoarseToFine
    registry.trainers["minibatch"] = MiniBatchTrainer
    registry.diagnosers["curves"] = CurveDiagnoser
