"""Backpropagation: your linear layer, activations and losses.

Each class keeps what backward needs during forward, and backward returns dL/dx and
fills ``self.grads`` (same keys and shapes as ``self.params``). Never modify an input
array. Run ``pytest`` in this folder, or ``gradekit list submission.py``, to check.
See the contract: every name, constructor and convention.
"""

import numpy as np

import gradekit


class Linear:
    """Affine layer in row form: ``y = x @ W + b`` with ``W`` of shape (din, dout)."""

    def __init__(self, din, dout, weight_init=None, rng=None):
        self.rng = rng if rng is not None else np.random.default_rng()
        W = (
            weight_init((din, dout), self.rng)
            if weight_init
            else self.rng.standard_normal((din, dout)) / np.sqrt(din)
        )
        self.params = {"W": W, "b": np.zeros(dout)}
        self.grads = {}

    def forward(self, x, *, training=True):
        """Lecture: forward pass for multiple inputs (row form)."""
        raise NotImplementedError("TODO: Linear.forward")

    def backward(self, dout):
        """Lecture: backpropagation with matrices: dW, db and dx."""
        raise NotImplementedError("TODO: Linear.backward")


class Activation:
    """An element-wise activation; subclasses give ``f`` and its derivative."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        raise NotImplementedError("TODO: forward")

    def backward(self, dout):
        raise NotImplementedError("TODO: backward (the Jacobian is diagonal: multiply)")


class Sigmoid(Activation):
    """1 / (1 + e^-x), stable for large |x|; backward from the output: s (1 - s)."""


class Tanh(Activation):
    """tanh x; derivative 1 - tanh^2 x."""


class ReLU(Activation):
    """max(0, x); derivative 1 where x > 0, else 0 (so f'(0) = 0)."""


class LeakyReLU(Activation):
    """x if x >= 0 else alpha x, with the lecture's alpha = 0.1."""

    def __init__(self, alpha=0.1):
        super().__init__()
        self.alpha = alpha


class PReLU(Activation):
    """max(0, x) + a min(0, x) with a learned slope ``params["a"]`` of shape (num_parameters,)."""

    def __init__(self, num_parameters=1, init=0.25):
        super().__init__()
        self.params = {"a": np.full(num_parameters, init, dtype=float)}


class ELU(Activation):
    """x if x > 0 else alpha (e^x - 1)."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha


class SELU(Activation):
    """lambda ELU_alpha(x): alpha = 1.6732632423543772, lambda = 1.0507009873554805."""


class GELU(Activation):
    """x Phi(x) with the exact normal CDF (math.erf); approximate=True is the tanh form."""

    def __init__(self, approximate=False):
        super().__init__()
        self.approximate = approximate


class Softplus(Activation):
    """log(1 + e^x), stable for large x; derivative sigmoid(x)."""


class Swish(Activation):
    """x sigmoid(beta x) (SiLU when beta = 1)."""

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = beta


class Loss:
    """A loss averaged over the batch: ``forward(y, t) -> float``, ``backward(dout=1.0)``."""

    def forward(self, y, t):
        raise NotImplementedError("TODO: forward")

    def backward(self, dout=1.0):
        raise NotImplementedError("TODO: backward")


class SquaredError(Loss):
    """(1/N) sum_n ||y_n - t_n||^2 (the lecture's ||y - t||^2 for one example)."""


class SoftmaxCrossEntropy(Loss):
    """Softmax of the scores then cross-entropy; labels (N,) or one-hot (N, K). Stable."""


class Hinge(Loss):
    """mean max(0, 1 - t z) with t in {-1, +1}: the soft-margin loss."""


@gradekit.hookimpl
def gradekit_register(registry):
    registry.layers["linear"] = Linear
    for name, cls in {
        "sigmoid": Sigmoid,
        "tanh": Tanh,
        "relu": ReLU,
        "leaky_relu": LeakyReLU,
        "prelu": PReLU,
        "elu": ELU,
        "selu": SELU,
        "gelu": GELU,
        "softplus": Softplus,
        "swish": Swish,
    }.items():
        registry.activations[name] = cls
    registry.losses["squared_error"] = SquaredError
    registry.losses["softmax_cross_entropy"] = SoftmaxCrossEntropy
    registry.losses["hinge"] = Hinge
