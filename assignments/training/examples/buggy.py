"""A training submission with four typical bugs, each a misconception the grader names:

- the grid steps ``(high - low) / n`` from ``low``, so it never reaches ``high`` (corners);
- "log-uniform" search draws uniformly between the bounds, on the linear scale;
- the trainer walks the training set in the same order every epoch (no shuffling);
- the diagnoser calls a validation loss that turns back up "not converged".
"""

import math

import numpy as np

import gradekit


def _axes(space):
    return sorted(space)


def _as_settings(names, columns):
    return [dict(zip(names, map(float, row), strict=True)) for row in np.column_stack(columns)]


class GridSearch:
    """n values per axis, bounds included, every combination."""

    def __init__(self, log=False):
        self.log = log

    def propose(self, space, n, rng):
        names = _axes(space)
        values = []
        for k in names:
            lo, hi = space[k]
            if self.log:  # BUG: the upper bound is never reached
                values.append(10 ** (np.log10(lo) + np.arange(n) * np.log10(hi / lo) / n))
            else:
                values.append(lo + np.arange(n) * (hi - lo) / n)  # BUG: no corner at high
        mesh = np.meshgrid(*values, indexing="ij")
        return _as_settings(names, [m.ravel() for m in mesh])


class RandomSearch:
    """Uniform draws on every axis."""

    def propose(self, space, n, rng):
        names = _axes(space)
        return _as_settings(
            names, [space[k][0] + (space[k][1] - space[k][0]) * rng.random(n) for k in names]
        )


def _log_uniform(space, n, rng):
    names = _axes(space)
    cols = [np.exp(rng.uniform(math.log(space[k][0]), math.log(space[k][1]), n)) for k in names]
    return _as_settings(names, cols)


class LogUniformSearch:
    """exp(uniform(ln low, ln high)), the same law as 10 ** uniform(log10 low, log10 high)."""

    def propose(self, space, n, rng):
        return RandomSearch().propose(space, n, rng)  # BUG: uniform, not on a log scale


class CoarseToFine:
    """A log-uniform round, then a box around the best quarter of the results."""

    def __init__(self, keep=0.2, margin=0.05):
        self.keep, self.margin = keep, margin

    def propose(self, space, n, rng):
        return _log_uniform(space, n, rng)

    def refine(self, space, results, n, rng):
        losses = np.array([loss for _, loss in results])
        top = np.argsort(losses)[: max(2, math.ceil(self.keep * len(results)))]
        box = {}
        for k in _axes(space):
            lo, hi = math.log(space[k][0]), math.log(space[k][1])
            chosen = np.log([results[i][0][k] for i in top])
            pad = self.margin * (hi - lo)
            box[k] = (math.exp(max(lo, chosen.min() - pad)), math.exp(min(hi, chosen.max() + pad)))
        return _log_uniform(box, n, rng)


class MiniBatchTrainer:
    """Mini-batch SGD with per-epoch validation and early stopping."""

    def __init__(self, epochs=20, batch_size=16, patience=None, trainable=None):
        self.epochs, self.batch_size, self.patience = epochs, batch_size, patience
        self.trainable = trainable

    @staticmethod
    def _mse(y, t):
        err = y - t
        n = t.shape[0]
        return float((err * err).sum() / n), (2.0 / n) * err

    def fit(self, model, optimizer, data, rng):
        x, t = data["x"], data["t"]
        train = [k for k in model.params if self.trainable is None or k in self.trainable]
        states = {name: optimizer.init(model.params[name]) for name in train}
        train_hist, val_hist = [], []
        best, best_params, bad_epochs = float("inf"), None, 0
        epoch = 0
        while epoch < self.epochs:
            perm = np.arange(x.shape[0])  # BUG: the same order every epoch
            batch_losses = []
            for idx in np.array_split(perm, range(self.batch_size, len(perm), self.batch_size)):
                loss, dy = self._mse(model.forward(x[idx]), t[idx])
                model.backward(dy)
                for name in train:
                    new, states[name] = optimizer.update(
                        model.params[name], model.grads[name], states[name]
                    )
                    model.params[name] = new
                batch_losses.append(loss)
            val = self._mse(model.forward(data["x_val"]), data["t_val"])[0]
            train_hist.append(sum(batch_losses) / len(batch_losses))
            val_hist.append(val)
            epoch += 1
            if self.patience is not None:
                if val < best:
                    best, bad_epochs = val, 0
                    best_params = {k: v.copy() for k, v in model.params.items()}
                else:
                    bad_epochs += 1
                    if bad_epochs >= self.patience:
                        break
        if self.patience is not None and best_params is not None:
            model.params.update({k: v.copy() for k, v in best_params.items()})
        return {"train_loss": train_hist, "val_loss": val_hist}


class CurveDiagnoser:
    """Reads the medians of a curve's start, middle and end."""

    def diagnose(self, train_curve, val_curve):
        tr, va = np.asarray(train_curve, float), np.asarray(val_curve, float)
        n = len(tr)
        k = max(4, n // 10)

        def at(curve, frac):
            i = round(frac * (n - 1))
            return float(np.median(curve[max(0, i - k // 2) : i + k // 2 + 1]))

        first, last = float(np.median(tr[:k])), float(np.median(tr[-k:]))
        if last > 1.1 * first:
            return "error_increasing"
        if last > 0.9 * first:
            return "not_training"
        v_first = float(np.median(va[:k]))
        v_smooth = np.array([at(va, i / (n - 1)) for i in range(n)])
        lowest = int(np.argmin(v_smooth))
        v_last = float(np.median(va[-k:]))
        if lowest < n - 2 * k and v_last - v_smooth[lowest] > 0.2 * (v_first - v_smooth[lowest]):
            return "not_converged"  # BUG: a rising validation loss is overfitting
        drop = first - last
        if first - at(tr, 0.22) < 0.15 * drop:
            return "slow_start"
        if at(tr, 0.75) - last > 0.04 * drop:
            return "not_converged"
        return "looks_good"

    def recipe(self, train_err, test_err, base_err=0.0, tol=0.05):
        cell = (train_err - base_err > tol, test_err - train_err > tol)
        return {
            (True, True): "high_bias_and_variance",
            (True, False): "high_bias",
            (False, True): "high_variance",
            (False, False): "low_bias_and_variance",
        }[cell]

    def advise(self, data_size, similarity):
        little, similar = data_size < 1000, similarity >= 0.5
        if little:
            return "linear_on_top" if similar else "linear_from_stages"
        return "finetune_few" if similar else "finetune_many"


@gradekit.hookimpl
def gradekit_register(registry):
    registry.search["grid"] = GridSearch
    registry.search["random"] = RandomSearch
    registry.search["log_uniform"] = LogUniformSearch
    registry.search["coarse_to_fine"] = CoarseToFine
    registry.trainers["minibatch"] = MiniBatchTrainer
    registry.diagnosers["curves"] = CurveDiagnoser
