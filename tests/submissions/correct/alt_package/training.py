"""Search strategies, a trainer and a diagnoser, on a small strategy class hierarchy."""

from __future__ import annotations

import copy
import itertools

import numpy as np


class _Strategy:
    log = False

    def _transform(self, v):
        return np.log10(v) if self.log else np.asarray(v, dtype=float)

    def _inverse(self, v):
        return 10.0**v if self.log else v

    def _sample(self, space, n, rng):
        names = sorted(space)
        lows = self._transform(np.array([space[k][0] for k in names], dtype=float))
        highs = self._transform(np.array([space[k][1] for k in names], dtype=float))
        u = rng.random((n, len(names)))
        values = self._inverse(lows + u * (highs - lows))
        return [{k: float(row[j]) for j, k in enumerate(names)} for row in values]

    def propose(self, space, n, rng):
        return self._sample(space, n, rng)


class GridSearch(_Strategy):
    def __init__(self, log=False):
        self.log = log

    def propose(self, space, n, rng):
        names = sorted(space)
        axes = []
        for k in names:
            lo, hi = self._transform(np.array(space[k], dtype=float))
            axes.append(self._inverse(lo + (hi - lo) * np.arange(n) / (n - 1)))
        return [dict(zip(names, map(float, p), strict=True)) for p in itertools.product(*axes)]


class RandomSearch(_Strategy):
    log = False


class LogUniformSearch(_Strategy):
    log = True


class CoarseToFine(_Strategy):
    log = True

    def __init__(self, keep=0.2, margin=0.05):
        self.keep, self.margin = keep, margin

    def refine(self, space, results, n, rng):
        ranked = sorted(results, key=lambda pair: pair[1])
        count = max(2, -(-len(ranked) * self.keep // 1))
        best = [setting for setting, _ in ranked[: int(count)]]
        narrowed = {}
        for k, (lo, hi) in space.items():
            llo, lhi = np.log10(lo), np.log10(hi)
            logs = np.log10([b[k] for b in best])
            pad = self.margin * (lhi - llo)
            narrowed[k] = (10 ** max(llo, logs.min() - pad), 10 ** min(lhi, logs.max() + pad))
        return self._sample(narrowed, n, rng)


class MiniBatchTrainer:
    def __init__(self, epochs=20, batch_size=16, patience=None, trainable=None):
        self.epochs, self.batch_size, self.patience = epochs, batch_size, patience
        self.trainable = trainable

    def _epoch(self, model, optimizer, states, x, t, rng):
        order = rng.choice(len(x), size=len(x), replace=False)
        total, count = 0.0, 0
        for lo in range(0, len(x), self.batch_size):
            rows = order[lo : lo + self.batch_size]
            y = model.forward(x[rows])
            residual = y - t[rows]
            total += float(np.einsum("ij,ij->", residual, residual)) / len(rows)
            count += 1
            model.backward(residual * (2.0 / len(rows)))
            for name, state in states.items():
                model.params[name], states[name] = optimizer.update(
                    model.params[name], model.grads[name], state
                )
        return total / count

    def fit(self, model, optimizer, data, rng):
        states = {
            name: optimizer.init(value)
            for name, value in model.params.items()
            if self.trainable is None or name in self.trainable
        }
        history = {"train_loss": [], "val_loss": []}
        best = (np.inf, None, 0)  # loss, params, epochs since
        for _ in range(self.epochs):
            history["train_loss"].append(
                self._epoch(model, optimizer, states, data["x"], data["t"], rng)
            )
            diff = model.forward(data["x_val"]) - data["t_val"]
            val = float(np.mean(np.sum(diff**2, axis=1)))
            history["val_loss"].append(val)
            if self.patience is None:
                continue
            if val < best[0]:
                best = (val, copy.deepcopy(model.params), 0)
            else:
                best = (best[0], best[1], best[2] + 1)
                if best[2] >= self.patience:
                    break
        if self.patience is not None and best[1] is not None:
            for name, value in best[1].items():
                model.params[name] = value
        return history


class CurveDiagnoser:
    """Reads when the training loss makes its drop (its cumulative share) on median-filtered
    curves."""

    @staticmethod
    def _filtered(curve, width):
        c = np.asarray(curve, dtype=float)
        pad = width // 2
        padded = np.pad(c, pad, mode="edge")
        return np.median(np.lib.stride_tricks.sliding_window_view(padded, width), axis=1)

    def diagnose(self, train_curve, val_curve):
        n = len(train_curve)
        width = max(5, (n // 8) | 1)
        tr, va = self._filtered(train_curve, width), self._filtered(val_curve, width)
        edge = max(3, n // 10)
        head, tail = tr[edge // 2], tr[-1 - edge // 2]
        if tail > 1.1 * head:
            return "error_increasing"
        if tail > 0.9 * head:
            return "not_training"
        low = int(np.argmin(va))
        v_head, v_tail = va[edge // 2], va[-1 - edge // 2]
        if low < n - 2 * edge and v_tail - va[low] > 0.2 * (v_head - va[low]):
            return "overfitting"
        done = (head - tr) / (head - tail)
        if done[int(0.22 * n)] < 0.15:
            return "slow_start"
        if done[int(0.75 * n)] < 0.94:
            return "not_converged"
        return "looks_good"

    def recipe(self, train_err, test_err, base_err=0.0, tol=0.05):
        bias = "bias" if train_err - base_err > tol else ""
        variance = "variance" if test_err - train_err > tol else ""
        if bias and variance:
            return "high_bias_and_variance"
        if bias or variance:
            return f"high_{bias or variance}"
        return "low_bias_and_variance"

    def advise(self, data_size, similarity):
        if similarity < 0.5:
            return "finetune_many" if data_size >= 1000 else "linear_from_stages"
        return "finetune_few" if data_size >= 1000 else "linear_on_top"
