"""Penalties, early stopping and batch transforms."""

from __future__ import annotations

import math

import numpy as np

from ._base import Stateless


class L2(Stateless):
    def __init__(self, lam=1e-3):
        super().__init__(lam=lam)

    def penalty(self, w):
        flat = np.ravel(w)
        return float(self.lam / 2.0 * np.dot(flat, flat))

    def grad(self, w):
        return w * self.lam


class L1(Stateless):
    def __init__(self, lam=1e-3):
        super().__init__(lam=lam)

    def penalty(self, w):
        return float(self.lam * np.linalg.norm(np.ravel(w), 1))

    def grad(self, w):
        return self.lam * ((w > 0).astype(float) - (w < 0).astype(float))


class EarlyStopping:
    """Counts the epochs since the last improvement."""

    def __init__(self, patience=5, min_delta=0.0):
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss = float("inf")
        self.best_params = None
        self.history = []
        self.best_epoch = -1

    def step(self, val_loss, params):
        self.history.append(float(val_loss))
        epoch = len(self.history) - 1
        improved = not math.isnan(val_loss) and (self.best_loss - val_loss) > self.min_delta
        if improved:
            self.best_loss = float(val_loss)
            self.best_epoch = epoch
            self.best_params = {name: value.copy() for name, value in params.items()}
        return (epoch - self.best_epoch) >= max(self.patience, 1) if not improved else False


class Mixup(Stateless):
    """The permutation is drawn first, then lam."""

    def __init__(self, alpha=0.2):
        super().__init__(alpha=alpha)

    def __call__(self, x, y, rng):
        perm = rng.permutation(len(x))
        lam = float(rng.beta(self.alpha, self.alpha))
        return x[perm] + lam * (x - x[perm]), y[perm] + lam * (y - y[perm])


class CutMix(Stateless):
    """Box sides floor(sqrt(1 - lam) * size); corners from a uniform centre, clipped."""

    def __init__(self, beta=1.0):
        super().__init__(beta=beta)

    def __call__(self, x, y, rng):
        n, _, H, W = x.shape
        perm = rng.permutation(n)
        lam = rng.beta(self.beta, self.beta)
        side = math.sqrt(1.0 - lam)
        bh, bw = int(side * H), int(side * W)
        cy, cx = rng.integers(0, H), rng.integers(0, W)
        top, bottom = np.clip([cy - bh // 2, cy + bh // 2], 0, H)
        left, right = np.clip([cx - bw // 2, cx + bw // 2], 0, W)
        mask = np.zeros((H, W), dtype=bool)
        mask[top:bottom, left:right] = True
        out = np.where(mask, x[perm], x)
        kept = 1.0 - mask.mean()
        return out, kept * y + (1.0 - kept) * y[perm]


class HorizontalFlip(Stateless):
    def __init__(self, p=0.5):
        super().__init__(p=p)

    def __call__(self, x, y, rng):
        chosen = rng.binomial(1, self.p, size=len(x)).astype(bool)
        return np.where(chosen[:, None, None, None], np.flip(x, axis=-1), x), y.copy()


class RandomCrop(Stateless):
    def __init__(self, padding=4):
        super().__init__(padding=padding)

    def __call__(self, x, y, rng):
        p = self.padding
        n, c, H, W = x.shape
        canvas = np.zeros((n, c, H + 2 * p, W + 2 * p))
        canvas[:, :, p : p + H, p : p + W] = x
        dy = rng.integers(0, 2 * p + 1, size=n)
        dx = rng.integers(0, 2 * p + 1, size=n)
        out = np.stack(
            [canvas[i, :, dy[i] : dy[i] + H, dx[i] : dx[i] + W] for i in range(n)], axis=0
        )
        return out, y.copy()


class GaussianNoise(Stateless):
    def __init__(self, std=0.1):
        super().__init__(std=std)

    def __call__(self, x, y, rng):
        return x + self.std * rng.standard_normal(x.shape), y.copy()


class Cutout(Stateless):
    def __init__(self, size=8):
        super().__init__(size=size)

    def __call__(self, x, y, rng):
        n, _, H, W = x.shape
        rows = np.arange(H)[:, None]
        cols = np.arange(W)[None, :]
        cy = rng.integers(0, H, size=n)
        cx = rng.integers(0, W, size=n)
        half = self.size // 2
        keep = np.ones((n, 1, H, W))
        for i in range(n):
            inside = (
                (rows >= cy[i] - half)
                & (rows < cy[i] - half + self.size)
                & (cols >= cx[i] - half)
                & (cols < cx[i] - half + self.size)
            )
            keep[i, 0][inside] = 0.0
        return x * keep, y.copy()


class RotationPretext(Stateless):
    """A quarter turn k times, k from uniforms: floor(4 u)."""

    def __init__(self):
        super().__init__()

    def __call__(self, x, y, rng):
        ks = np.floor(4 * rng.random(len(x))).astype(int)
        out = np.stack([np.rot90(img, k, axes=(1, 2)) for img, k in zip(x, ks, strict=True)])
        return out.astype(np.float64), np.eye(4)[ks]
