"""Backpropagation: your linear layer, activations and losses.

Each class keeps what backward needs during forward (a cache on ``self``), and backward
returns dL/dx and fills ``self.grads`` (same keys and shapes as ``self.params``). Every
backward is "downstream gradient = upstream gradient * local gradient" (lecture:
"Backpropagation"); for an element-wise activation the Jacobian is diagonal, so never
build it: multiply entry by entry (lecture: "Backprop for Activation Functions").
Never modify an input array. Replace each ``raise NotImplementedError`` with your code.

Run ``pytest`` in this folder to check, and ``gradekit list submission.py`` to see what
you register. Every name, constructor and convention is in gradekit's student contract.
"""

import numpy as np

import gradekit

# -------------------------------------------------------------------------- layers


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
        """The affine map of a batch x (N, din) -> (N, dout), row form.

        Lecture: "Forward pass for multiple inputs" (the row form h^T = x^T W^T + b^T).
        """
        raise NotImplementedError("TODO: Linear.forward")

    def backward(self, dout):
        """dW, db (into ``self.grads``) and dx from the upstream dout (N, dout).

        Lecture: "Backpropagation with Matrices (Tensors)" and the "Concrete Vectorial
        Example". b is added to every example of the batch: what does that do to db?
        """
        raise NotImplementedError("TODO: Linear.backward")


# --------------------------------------------------------------------- activations


class Sigmoid:
    """The logistic sigmoid 1 / (1 + e^-x). Lecture: "Activations function: Sigmoid"."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        """1 / (1 + e^-x), element-wise, without overflow for large |x| (try x = -1000)."""
        raise NotImplementedError("TODO: Sigmoid.forward")

    def backward(self, dout):
        """dout times the sigmoid's local gradient, written with the forward OUTPUT."""
        raise NotImplementedError("TODO: Sigmoid.backward")


class Tanh:
    """The hyperbolic tangent. Lecture: "Activations function: tanh"."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        """tanh x, element-wise."""
        raise NotImplementedError("TODO: Tanh.forward")

    def backward(self, dout):
        """dout times the derivative of tanh, written with the forward output."""
        raise NotImplementedError("TODO: Tanh.backward")


class ReLU:
    """The rectified linear unit. Lecture: "Activations function: ReLU"."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        """max(0, x), element-wise."""
        raise NotImplementedError("TODO: ReLU.forward")

    def backward(self, dout):
        """Lecture: "Backprop for Activation Functions" (the 4-D example): which entries
        of dout pass? Take f'(0) = 0."""
        raise NotImplementedError("TODO: ReLU.backward")


class LeakyReLU:
    """Leaky ReLU with the lecture's alpha = 0.1. Lecture: "ReLU alternatives"."""

    def __init__(self, alpha=0.1):
        self.params, self.grads = {}, {}
        self.alpha = alpha

    def forward(self, x, *, training=True):
        """x where x >= 0, alpha x elsewhere (max(alpha x, x) for alpha < 1)."""
        raise NotImplementedError("TODO: LeakyReLU.forward")

    def backward(self, dout):
        """dout times the slope on each side of 0."""
        raise NotImplementedError("TODO: LeakyReLU.backward")


class PReLU:
    """Parametric ReLU: a learned slope ``params["a"]`` of shape (num_parameters,), one
    per channel (the last axis of x) or one shared. Lecture: "ReLU alternatives"
    ("Parametric ReLU ... and backprop into alpha")."""

    def __init__(self, num_parameters=1, init=0.25):
        self.params = {"a": np.full(num_parameters, init, dtype=float)}
        self.grads = {}

    def forward(self, x, *, training=True):
        """max(0, x) + a min(0, x), with a broadcast along the last axis of x."""
        raise NotImplementedError("TODO: PReLU.forward")

    def backward(self, dout):
        """dx, and ``self.grads["a"]`` of the shape of a: sum what each slope touched."""
        raise NotImplementedError("TODO: PReLU.backward")


class ELU:
    """Exponential linear unit. Lecture: "ReLU alternatives" (ELU)."""

    def __init__(self, alpha=1.0):
        self.params, self.grads = {}, {}
        self.alpha = alpha

    def forward(self, x, *, training=True):
        """x where x > 0, alpha (e^x - 1) elsewhere (no overflow for large positive x)."""
        raise NotImplementedError("TODO: ELU.forward")

    def backward(self, dout):
        """dout times the derivative on each side of 0."""
        raise NotImplementedError("TODO: ELU.backward")


class SELU:
    """Scaled ELU: lambda ELU_alpha(x) with alpha = 1.6732632423543772 and
    lambda = 1.0507009873554805. Lecture: "ReLU alternatives" (SELU)."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        """lambda times ELU with the constant alpha above."""
        raise NotImplementedError("TODO: SELU.forward")

    def backward(self, dout):
        """dout times lambda times ELU's derivative."""
        raise NotImplementedError("TODO: SELU.backward")


class GELU:
    """Gaussian error linear unit x Phi(x), Phi the standard normal CDF.
    Lecture: "ReLU alternatives" (GELU)."""

    def __init__(self, approximate=False):
        self.params, self.grads = {}, {}
        self.approximate = approximate

    def forward(self, x, *, training=True):
        """x Phi(x) with the exact CDF (through math.erf, or a vectorised erf); with
        ``approximate=True`` the tanh approximation of Hendrycks and Gimpel."""
        raise NotImplementedError("TODO: GELU.forward")

    def backward(self, dout):
        """dout times d/dx [x Phi(x)] (the product rule), for the form forward used."""
        raise NotImplementedError("TODO: GELU.backward")


class Softplus:
    """Softplus log(1 + e^x), a smooth ReLU. Lecture: "ReLU alternatives" (Softplus)."""

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, *, training=True):
        """log(1 + e^x), element-wise, without overflow for large x (try x = 1000)."""
        raise NotImplementedError("TODO: Softplus.forward")

    def backward(self, dout):
        """dout times the derivative of softplus (a function you have met above)."""
        raise NotImplementedError("TODO: Softplus.backward")


class Swish:
    """Swish x sigmoid(beta x); SiLU when beta = 1. Lecture: "ReLU alternatives"."""

    def __init__(self, beta=1.0):
        self.params, self.grads = {}, {}
        self.beta = beta

    def forward(self, x, *, training=True):
        """x sigmoid(beta x), element-wise, stable for large |x|."""
        raise NotImplementedError("TODO: Swish.forward")

    def backward(self, dout):
        """dout times d/dx [x sigmoid(beta x)] (the product rule)."""
        raise NotImplementedError("TODO: Swish.backward")


# -------------------------------------------------------------------------- losses
# forward(y, t) returns the loss AVERAGED over the batch (axis 0) as a float;
# backward(dout=1.0) returns dL/dy for the last forward, times dout.


class SquaredError:
    """Squared error (1/N) sum_n ||y_n - t_n||^2, the lecture's ||y - t||^2 for N = 1.
    Lecture: "Concrete Vectorial Example"."""

    def forward(self, y, t):
        """The mean over the batch of the squared distance (no 1/2 in front)."""
        raise NotImplementedError("TODO: SquaredError.forward")

    def backward(self, dout=1.0):
        """dL/dy (N, K) times dout; the lecture's "Back Propagation" step for y-bar."""
        raise NotImplementedError("TODO: SquaredError.backward")


class SoftmaxCrossEntropy:
    """Softmax of the scores y (N, K), then the cross-entropy with labels t: integer
    classes (N,) or soft labels (N, K)."""

    def forward(self, y, t):
        """The mean cross-entropy, computed with a stable log-sum-exp (subtract the
        largest score of each row first; try scores of 1000)."""
        raise NotImplementedError("TODO: SoftmaxCrossEntropy.forward")

    def backward(self, dout=1.0):
        """dL/dy (N, K): differentiate softmax and cross-entropy together (the result is
        short), and remember the 1/N of the batch mean."""
        raise NotImplementedError("TODO: SoftmaxCrossEntropy.backward")


class Hinge:
    """Hinge loss of the soft-margin SVM, mean max(0, 1 - t z) with t in {-1, +1}.
    Lecture: "'Soft margin' formulation"."""

    def forward(self, y, t):
        """(1/N) sum_n max(0, 1 - t_n y_n): scores y and targets t of the same shape,
        (N,) or (N, 1)."""
        raise NotImplementedError("TODO: Hinge.forward")

    def backward(self, dout=1.0):
        """dL/dy: where is the margin violated? Take the derivative at the kink as 0."""
        raise NotImplementedError("TODO: Hinge.backward")


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
