"""A regularization submission with seven typical bugs, each a misconception the grader names:

- the L2 gradient keeps the 1/2 of the penalty (lam w / 2);
- inverted dropout reads p as the probability of dropping a unit (torch's convention);
- vanilla dropout forgets to scale by p at test time;
- CutMix mixes the labels with the sampled lam instead of the clipped box's share;
- early stopping stores references to the weight arrays, not copies;
- standardizing refits the mean and std on the data it transforms (a test-set leak);
- the rotation pretext task calls np.rot90 without axes, turning channels and rows.
"""

import math

import numpy as np

import gradekit

# ----------------------------------------------------------------------- penalties


class L2:
    """(lam / 2) ||w||^2, gradient lam w."""

    def __init__(self, lam=1e-3):
        self.lam = lam

    def penalty(self, w):
        return 0.5 * self.lam * float(np.sum(np.square(w)))

    def grad(self, w):
        return 0.5 * self.lam * np.asarray(w, dtype=float)  # BUG: the 1/2 cancels the 2


class L1:
    """lam ||w||_1, gradient lam sign(w) with sign(0) = 0."""

    def __init__(self, lam=1e-3):
        self.lam = lam

    def penalty(self, w):
        return self.lam * float(np.abs(w).sum())

    def grad(self, w):
        return self.lam * np.sign(w).astype(float)


# -------------------------------------------------------------------------- layers


class BatchNorm:
    """Batch statistics in training (biased variance), running averages at test time."""

    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps, self.momentum = eps, momentum
        self.params = {"gamma": np.ones(dim), "beta": np.zeros(dim)}
        self.grads = {}
        self.running_mean = np.zeros(dim)
        self.running_var = np.ones(dim)

    def forward(self, x, *, training=True):
        if training:
            mu = x.mean(axis=0)
            var = ((x - mu) ** 2).mean(axis=0)
            self.running_mean += self.momentum * (mu - self.running_mean)
            self.running_var += self.momentum * (var - self.running_var)
        else:
            mu, var = self.running_mean, self.running_var
        self.training = training
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        self.xhat = (x - mu) * self.inv_std
        return self.params["gamma"] * self.xhat + self.params["beta"]

    def backward(self, dout):
        self.grads = {"gamma": (dout * self.xhat).sum(axis=0), "beta": dout.sum(axis=0)}
        g = dout * self.params["gamma"]
        if not self.training:
            return g * self.inv_std
        centred = g - g.mean(axis=0)
        return self.inv_std * (centred - self.xhat * (g * self.xhat).mean(axis=0))


class Dropout:
    """Inverted dropout: keep with probability p, scale kept units by 1/p."""

    def __init__(self, p=0.5, rng=None):
        self.p = p
        self.rng = rng if rng is not None else np.random.default_rng()
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        if not training:
            self.scale = np.ones_like(x)
        else:
            keep = 1.0 - self.p  # BUG: p is the keep probability, not the drop probability
            self.scale = np.where(self.rng.uniform(size=x.shape) < keep, 1.0 / keep, 0.0)
        return x * self.scale

    def backward(self, dout):
        return dout * self.scale


class VanillaDropout(Dropout):
    """Keep with probability p without rescaling; multiply by p at test time."""

    def forward(self, x, *, training=True):
        if not training:
            self.scale = np.ones_like(x)  # BUG: test time must scale by p
        else:
            self.scale = (self.rng.uniform(size=x.shape) < self.p).astype(float)
        return x * self.scale


class DropConnect:
    """y = x @ (W * M) + b with a Bernoulli(p) mask M on the weights; p W at test time."""

    def __init__(self, din, dout, p=0.5, weight_init=None, rng=None):
        self.p = p
        self.rng = rng if rng is not None else np.random.default_rng()
        if weight_init is None:
            W = self.rng.normal(0.0, 1.0 / math.sqrt(din), (din, dout))
        else:
            W = weight_init((din, dout), self.rng)
        self.params = {"W": W, "b": np.zeros(dout)}
        self.grads = {}

    def forward(self, x, *, training=True):
        W = self.params["W"]
        self.x = x
        if training:
            self.mask = (self.rng.uniform(size=W.shape) < self.p).astype(float)
        else:
            self.mask = np.full(W.shape, float(self.p))
        return x @ (W * self.mask) + self.params["b"]

    def backward(self, dout):
        self.grads = {"W": (self.x.T @ dout) * self.mask, "b": dout.sum(axis=0)}
        return dout @ (self.params["W"] * self.mask).T


# ------------------------------------------------------------------ early stopping


class EarlyStopping:
    """Stop after `patience` epochs without an improvement larger than min_delta."""

    def __init__(self, patience=5, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best_loss = float("inf")
        self.best_params = None
        self.bad_epochs = 0

    def step(self, val_loss, params):
        if self.best_loss - val_loss > self.min_delta:
            self.best_loss = val_loss
            self.best_params = dict(params)  # BUG: references to the live arrays, not copies
            self.bad_epochs = 0
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.patience


# --------------------------------------------------------------- batch transforms


class Mixup:
    """x = lam x + (1 - lam) x[perm]; labels with the same lam; one lam per batch."""

    def __init__(self, alpha=0.2):
        self.alpha = alpha

    def __call__(self, x, y, rng):
        perm = rng.permutation(len(x))
        lam = rng.beta(self.alpha, self.alpha)
        return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm]


class CutMix:
    """Paste a box of a shuffled batch; label weights are the pixel shares."""

    def __init__(self, beta=1.0):
        self.beta = beta

    def __call__(self, x, y, rng):
        n, H, W = len(x), x.shape[-2], x.shape[-1]
        cut = math.sqrt(1.0 - rng.beta(self.beta, self.beta))
        h, w = round(cut * H), round(cut * W)
        top = int(rng.integers(H)) - h // 2
        left = int(rng.integers(W)) - w // 2
        r0, r1 = max(top, 0), min(top + h, H)
        c0, c1 = max(left, 0), min(left + w, W)
        perm = rng.permutation(n)
        out = x.copy()
        out[..., r0:r1, c0:c1] = x[perm][..., r0:r1, c0:c1]
        kept = 1.0 - cut**2  # BUG: the sampled lam, not 1 - area of the clipped box
        return out, kept * y + (1.0 - kept) * y[perm]


class HorizontalFlip:
    """Mirror each image left-right with probability p."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, x, y, rng):
        out = x.copy()
        for i in np.flatnonzero(rng.uniform(size=len(x)) < self.p):
            out[i] = x[i, ..., ::-1]
        return out, y.copy()


class RandomCrop:
    """Zero-pad by `padding` and crop back to H x W at a random position."""

    def __init__(self, padding=4):
        self.padding = padding

    def __call__(self, x, y, rng):
        p, (H, W) = self.padding, x.shape[-2:]
        padded = np.zeros((*x.shape[:-2], H + 2 * p, W + 2 * p))
        padded[..., p : p + H, p : p + W] = x
        out = np.empty_like(x)
        for i in range(len(x)):
            top, left = rng.integers(0, 2 * p + 1, size=2)
            out[i] = padded[i, ..., top : top + H, left : left + W]
        return out, y.copy()


class GaussianNoise:
    """x + N(0, std^2)."""

    def __init__(self, std=0.1):
        self.std = std

    def __call__(self, x, y, rng):
        return x + rng.normal(scale=self.std, size=x.shape), y.copy()


class Cutout:
    """Zero a size x size square (clipped to the image) at a random centre."""

    def __init__(self, size=8):
        self.size = size

    def __call__(self, x, y, rng):
        out = x.copy()
        H, W = x.shape[-2:]
        for i in range(len(x)):
            r, c = int(rng.integers(H)) - self.size // 2, int(rng.integers(W)) - self.size // 2
            out[i, ..., max(r, 0) : max(r + self.size, 0), max(c, 0) : max(c + self.size, 0)] = 0
        return out, y.copy()


class RotationPretext:
    """Rotate each image by k * 90 degrees (k uniform in 0..3); labels one-hot of k."""

    def __call__(self, x, y, rng):
        k = rng.integers(4, size=len(x))
        out = np.stack([np.rot90(x[i], k[i]) for i in range(len(x))])  # BUG: turns C and H
        return out.astype(np.float64), np.eye(4)[k]


# ------------------------------------------------------------------- preprocessing


class ZeroCenter:
    def fit(self, x):
        self.mu = x.mean(axis=0)
        return self

    def transform(self, x):
        return x - self.mu


class Standardize:
    def __init__(self, eps=1e-8):
        self.eps = eps

    def fit(self, x):
        self.mu = x.mean(axis=0)
        self.sigma = x.std(axis=0)
        return self

    def transform(self, x):
        self.fit(x)  # BUG: statistics refit on the data transformed (test data leaks in)
        return (x - self.mu) / (self.sigma + self.eps)


class PCA:
    def __init__(self, k=None):
        self.k = k

    def fit(self, x):
        self.mu = x.mean(axis=0)
        xc = x - self.mu
        S, U = np.linalg.eigh(xc.T @ xc / len(x))
        order = np.argsort(S)[::-1]
        self.S, self.U = S[order], U[:, order]
        return self

    def transform(self, x):
        k = self.k if self.k is not None else self.U.shape[1]
        return (x - self.mu) @ self.U[:, :k]


class Whitening(PCA):
    def __init__(self, eps=1e-5, zca=False):
        super().__init__()
        self.eps, self.zca = eps, zca

    def transform(self, x):
        white = super().transform(x) / np.sqrt(self.S + self.eps)
        return white @ self.U.T if self.zca else white


@gradekit.hookimpl
def gradekit_register(registry):
    registry.penalties["l1"] = L1
    registry.penalties["l2"] = L2
    registry.layers["batchnorm"] = BatchNorm
    registry.layers["dropout"] = Dropout
    registry.layers["vanilla_dropout"] = VanillaDropout
    registry.layers["dropconnect"] = DropConnect
    registry.early_stopping["early_stopping"] = EarlyStopping
    registry.transforms["mixup"] = Mixup
    registry.transforms["cutmix"] = CutMix
    registry.transforms["flip"] = HorizontalFlip
    registry.transforms["crop"] = RandomCrop
    registry.transforms["noise"] = GaussianNoise
    registry.transforms["cutout"] = Cutout
    registry.transforms["rotation_pretext"] = RotationPretext
    registry.preprocessors["zero_center"] = ZeroCenter
    registry.preprocessors["standardize"] = Standardize
    registry.preprocessors["pca"] = PCA
    registry.preprocessors["whitening"] = Whitening
