"""Regularization: weight penalties, batchnorm, dropout, DropConnect, data augmentation,
early stopping and preprocessing.

Fill in every TODO. Never modify an array you are given; return new arrays. Take every
random number from a ``numpy.random.Generator``: the ``rng`` argument of a transform, or
``self.rng`` in a random layer (the grader may replace it). Random components are graded
by their statistics, never by the order of your random calls. Run ``pytest`` in this
folder, or ``gradekit list submission.py``, to check. See the contract for every name,
constructor and convention (p is the KEEP probability, as in the lecture).
"""

import numpy as np

import gradekit

# ----------------------------------------------------------------------- penalties


class L2:
    """L2 penalty (weight decay), lecture "Regularization: L2". The course's penalty has a
    factor 1/2 so that the SGD update reads w <- w - eta lam w - eta grad."""

    def __init__(self, lam=1e-3):
        self.lam = lam

    def penalty(self, w):
        """The course's penalty (lam / 2) sum w^2, lecture "L2 regularization (weight decay)"."""
        raise NotImplementedError("TODO: L2.penalty")

    def grad(self, w):
        """d penalty / dw, an array of the shape of w."""
        raise NotImplementedError("TODO: L2.grad")


class L1:
    """L1 penalty, lecture "Regularization: L1": its (sub)gradient, with sign(0) = 0."""

    def __init__(self, lam=1e-3):
        self.lam = lam

    def penalty(self, w):
        """lam sum |w|, lecture "L1 regularization"."""
        raise NotImplementedError("TODO: L1.penalty")

    def grad(self, w):
        """The subgradient of lam sum |w|, with sign(0) = 0."""
        raise NotImplementedError("TODO: L1.grad")


# -------------------------------------------------------------------------- layers


class BatchNorm:
    """Batch normalization, lecture "Batch normalization": batch statistics (the biased
    variance) in training, running averages ``running = (1 - momentum) running + momentum
    batch`` at test time (``training=False``). Backward: the compact formula."""

    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps, self.momentum = eps, momentum
        self.params = {"gamma": np.ones(dim), "beta": np.zeros(dim)}
        self.grads = {}
        self.running_mean = np.zeros(dim)
        self.running_var = np.ones(dim)

    def forward(self, x, *, training=True):
        """Normalise with the batch statistics and update the running averages in
        training; use the running averages at test time; then scale by gamma and shift
        by beta. Lecture: "Batch normalization" (Algorithm)."""
        raise NotImplementedError("TODO: BatchNorm.forward (training and test time)")

    def backward(self, dout):
        """dgamma, dbeta (into ``self.grads``) and dx through the batch statistics
        (the mean and variance depend on every example)."""
        raise NotImplementedError("TODO: BatchNorm.backward (dgamma, dbeta and dx)")


class Dropout:
    """Inverted dropout, lecture "Dropout": p is the keep probability; test time needs
    no scaling. Draw the mask from ``self.rng``."""

    def __init__(self, p=0.5, rng=None):
        self.p = p
        self.rng = rng if rng is not None else np.random.default_rng()
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        """Training: keep each unit with probability p (mask from ``self.rng``) and
        rescale so that the expectation is unchanged; test time: the identity. Lecture:
        "Dropout Summary"."""
        raise NotImplementedError("TODO: Dropout.forward")

    def backward(self, dout):
        """dx through the mask (and the scale) of the last forward."""
        raise NotImplementedError("TODO: Dropout.backward (through the same mask)")


class VanillaDropout:
    """Vanilla dropout, lecture "Dropout": no rescaling in training, so test time must
    match the training expectation."""

    def __init__(self, p=0.5, rng=None):
        self.p = p
        self.rng = rng if rng is not None else np.random.default_rng()
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        """Training: keep each unit with probability p, no rescaling; test time: match
        the training expectation. Lecture: "Dropout"."""
        raise NotImplementedError("TODO: VanillaDropout.forward")

    def backward(self, dout):
        """dx through the mask of the last forward."""
        raise NotImplementedError("TODO: VanillaDropout.backward")


class DropConnect:
    """DropConnect, lecture "Dropout and DropConnect": a linear layer ``x @ W + b`` whose
    WEIGHTS are masked (a Bernoulli(p) mask of W's shape per forward); test time uses p W."""

    def __init__(self, din, dout, p=0.5, weight_init=None, rng=None):
        self.p = p
        self.rng = rng if rng is not None else np.random.default_rng()
        if weight_init is not None:
            W = weight_init((din, dout), self.rng)
        else:
            W = self.rng.standard_normal((din, dout)) / np.sqrt(din)
        self.params = {"W": W, "b": np.zeros(dout)}
        self.grads = {}

    def forward(self, x, *, training=True):
        """Training: a fresh Bernoulli(p) mask on W, then x @ (mask * W) + b; test
        time: the expected weights. Lecture: "Dropout and DropConnect"."""
        raise NotImplementedError("TODO: DropConnect.forward")

    def backward(self, dout):
        """dW (through the mask), db and dx for the masked weights of the last forward."""
        raise NotImplementedError("TODO: DropConnect.backward (dW, db and dx)")


# ------------------------------------------------------------------ early stopping


class EarlyStopping:
    """Early stopping, lecture "Early stopping": stop after ``patience`` epochs without an
    improvement larger than ``min_delta`` over the best loss; keep COPIES of the best
    epoch's parameters in ``best_params`` (the trainer restores them)."""

    def __init__(self, patience=5, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best_loss = float("inf")
        self.best_params = None

    def step(self, val_loss, params):
        """Record this epoch's validation loss; keep copies of the parameters when it
        improves the best by more than ``min_delta``; return True once ``patience``
        epochs in a row did not. Lecture: "Regularization: Early stopping"."""
        raise NotImplementedError("TODO: EarlyStopping.step (return True to stop)")


# --------------------------------------------------------------- batch transforms
# Each is __call__(x, y, rng) -> (x, y): images (N, C, H, W), labels (N, K).


class Mixup:
    """Mixup, lecture "Data augmentation: mixup": one lam ~ Beta(alpha, alpha) per batch,
    images and labels mixed with a shuffled copy of the batch using the same lam."""

    def __init__(self, alpha=0.2):
        self.alpha = alpha

    def __call__(self, x, y, rng):
        """Mix the batch with a shuffled copy of itself: one lam ~ Beta(alpha, alpha) for
        images and labels alike. Lecture: "Regularization: Mixup"."""
        raise NotImplementedError("TODO: Mixup")


class CutMix:
    """CutMix, lecture "Data augmentation: CutMix": lam ~ Beta(beta, beta), a box of side
    sqrt(1 - lam) of the image at a random centre, clipped to the image; the labels mix by
    the share of pixels each image really contributes (recomputed after clipping)."""

    def __init__(self, beta=1.0):
        self.beta = beta

    def __call__(self, x, y, rng):
        """Paste a box from a shuffled copy of the batch; mix the labels by the pasted
        area after clipping. Lecture: "Regularization: CutMix"."""
        raise NotImplementedError("TODO: CutMix")


class HorizontalFlip:
    """Mirror each image left-right (along W) with probability p; labels unchanged."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, x, y, rng):
        """Flip each image along W with probability p. Lecture: "Regularization: Data
        augmentation"."""
        raise NotImplementedError("TODO: HorizontalFlip")


class RandomCrop:
    """Zero-pad H and W by ``padding``, crop H x W at a random position; labels unchanged."""

    def __init__(self, padding=4):
        self.padding = padding

    def __call__(self, x, y, rng):
        """Pad, then crop back to H x W at a random offset per image. Lecture:
        "Regularization: Data augmentation"."""
        raise NotImplementedError("TODO: RandomCrop")


class GaussianNoise:
    """Add N(0, std^2) noise entry-wise; labels unchanged."""

    def __init__(self, std=0.1):
        self.std = std

    def __call__(self, x, y, rng):
        """x plus N(0, std^2) noise from ``rng``. Lecture: "Regularization: Data
        augmentation"."""
        raise NotImplementedError("TODO: GaussianNoise")


class Cutout:
    """Zero a size x size square at a random centre (clipped to the image), in every
    channel of each image; labels unchanged."""

    def __init__(self, size=8):
        self.size = size

    def __call__(self, x, y, rng):
        """Zero a random square of each image, in every channel. Lecture:
        "Regularization: Data augmentation"."""
        raise NotImplementedError("TODO: Cutout")


class RotationPretext:
    """Rotate each image by k * 90 degrees counter-clockwise, k uniform over {0, 1, 2, 3}
    (one per image); the labels become the one-hot (N, 4) of k, the input labels ignored.
    Non-square images (H != W) raise ValueError."""

    def __call__(self, x, y, rng):
        """np.rot90 over H and W (the last two axes) by a random k per image; return the
        rotated images and one-hot(k). Lecture: "Regularization: self-supervised learning"."""
        raise NotImplementedError("TODO: RotationPretext")


# ------------------------------------------------------------------- preprocessing
# fit(x) learns statistics from the TRAINING set only and returns self; transform(x)
# applies them, unchanged, to any data.


class ZeroCenter:
    """Zero-centering, lecture "Data preprocessing"."""

    def fit(self, x):
        """Learn the per-feature mean of the training data; return self. Lecture: "Zero
        centering"."""
        raise NotImplementedError("TODO: ZeroCenter.fit")

    def transform(self, x):
        """Subtract the training mean."""
        raise NotImplementedError("TODO: ZeroCenter.transform")


class Standardize:
    """Zero-center and scale each feature to unit variance, lecture "Data preprocessing"."""

    def __init__(self, eps=1e-8):
        self.eps = eps

    def fit(self, x):
        """Learn the per-feature mean and std of the training data; return self.
        Lecture: "Scaling"."""
        raise NotImplementedError("TODO: Standardize.fit")

    def transform(self, x):
        """Centre and scale with the training statistics (eps against a zero std)."""
        raise NotImplementedError("TODO: Standardize.transform")


class PCA:
    """PCA, lecture "Data preprocessing: PCA and whitening": the covariance X^T X / N of
    the centred training data, its eigenvectors by decreasing variance, keep k of them."""

    def __init__(self, k=None):
        self.k = k

    def fit(self, x):
        """Centre, take the covariance X^T X / N and its eigenvectors by decreasing
        eigenvalue; keep k (all when None); return self. Lecture: "Data preprocessing"."""
        raise NotImplementedError("TODO: PCA.fit")

    def transform(self, x):
        """Centre with the training mean and project on the kept eigenvectors."""
        raise NotImplementedError("TODO: PCA.transform")


class Whitening:
    """PCA whitening (and ZCA with ``zca=True``), lecture "Data preprocessing: PCA and
    whitening": divide the rotated data by the square root of (eigenvalue + eps)."""

    def __init__(self, eps=1e-5, zca=False):
        self.eps, self.zca = eps, zca

    def fit(self, x):
        """As PCA.fit, keeping the eigenvalues too; return self. Lecture: "Data
        preprocessing"."""
        raise NotImplementedError("TODO: Whitening.fit")

    def transform(self, x):
        """Rotate, divide by sqrt(eigenvalue + eps); with ``zca`` rotate back."""
        raise NotImplementedError("TODO: Whitening.transform")


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
