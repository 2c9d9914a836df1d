"""Known-buggy activations: each subclass breaks one step of the reference and names the mistake.

Every mutant but three fails a comparison of values away from x = 0. The kink ones fail
only the backward at exactly x = 0, where the contract fixes the convention; the one that
writes into ``dout`` gives right values and fails only "inputs unchanged".
"""

from __future__ import annotations

import numpy as np

from ..activations import (
    ELU,
    GELU,
    SELU,
    SELU_ALPHA,
    SELU_SCALE,
    LeakyReLU,
    PReLU,
    ReLU,
    Sigmoid,
    Softplus,
    Swish,
    Tanh,
    sigmoid,
)
from . import Mutant


class ReLUGatesOnDout(ReLU):
    """ReLU backward as max(0, dout): the gate is taken from the upstream gradient's sign."""

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return max(0, dout), ignoring where x > 0."""
        dout, _ = self._cached(dout)
        return np.maximum(dout, 0.0)


class ReLUKinkOne(ReLU):
    """ReLU whose mask is x >= 0 (``dx[x < 0] = 0``): f'(0) = 1, not the contract's 0."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return max(0, x), caching the mask x >= 0."""
        y = super().forward(x, training=training)
        self._cache = (np.asarray(x, dtype=np.float64) >= 0,)
        return y


class ReLUWritesIntoDout(ReLU):
    """ReLU backward as ``dx = dout; dx[~mask] = 0``: right values, and the caller's
    ``dout`` zeroed where x <= 0 (dx is the same array)."""

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Zero ``dout`` itself where the mask is off, and return it."""
        dx, (mask,) = self._cached(dout)
        dx[~mask] = 0.0
        return dx


class LeakyReLUKinkOne(LeakyReLU):
    """Leaky ReLU whose mask is x >= 0: f'(0) = 1, not the contract's alpha."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return x where x > 0, else alpha x, caching the mask x >= 0."""
        y = super().forward(x, training=training)
        self._cache = (np.asarray(x, dtype=np.float64) >= 0,)
        return y


class SigmoidBackwardFromInput(Sigmoid):
    """Sigmoid backward as x (1 - x): the derivative evaluated on the input, not the output."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return s(x), caching x as well."""
        y = super().forward(x, training=training)
        self._cache = (y, np.array(x, dtype=np.float64))
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dout * x (1 - x)."""
        dout, (_, x) = self._cached(dout)
        return dout * x * (1.0 - x)


class SigmoidNaive(Sigmoid):
    """Sigmoid as e^x / (1 + e^x): inf / inf = NaN once e^x overflows (x > 709)."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return e^x / (1 + e^x), caching it."""
        ex = np.exp(np.asarray(x, dtype=np.float64))
        y = ex / (1.0 + ex)
        self._cache = (y,)
        return y


class TanhBackwardFromInput(Tanh):
    """Tanh backward as 1 - x^2: the derivative evaluated on the input, not the output."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return tanh x, caching x as well."""
        y = super().forward(x, training=training)
        self._cache = (y, np.array(x, dtype=np.float64))
        return y

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dout * (1 - x^2)."""
        dout, (_, x) = self._cached(dout)
        return dout * (1.0 - x * x)


class LeakyReLUTorchSlope(LeakyReLU):
    """Leaky ReLU with torch's slope 0.01 hard-coded, whatever alpha the course asks for."""

    def __init__(self, alpha: float = 0.1) -> None:
        super().__init__(alpha=0.01)


class PReLUGradMean(PReLU):
    """PReLU whose slope gradient is averaged over the batch instead of summed."""

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dL/dx; ``grads["a"]`` divided by the batch size."""
        dx = super().backward(dout)
        self.grads = {"a": self.grads["a"] / np.shape(dout)[0]}
        return dx


class PReLUGradPositivePart(PReLU):
    """PReLU whose slope gradient is sum(dy * max(0, x)): the wrong side of the kink."""

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dL/dx; ``grads["a"]`` from max(0, x)."""
        dx = super().backward(dout)
        dout, (x, a) = self._cached(dout)
        da = (dout * np.maximum(x, 0.0)).reshape(-1, a.size).sum(axis=0)
        self.grads = {"a": da.reshape(a.shape)}
        return dx


class ELUDerivativeExpEverywhere(ELU):
    """ELU backward as alpha e^x on both sides of 0."""

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dout * alpha e^x."""
        dout, (x,) = self._cached(dout)
        return dout * self.alpha * np.exp(x)


class ELUDerivativeAlphaOnly(ELU):
    """ELU backward as alpha on the negative side, as if ELU were a leaky ReLU."""

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dout where x > 0, else alpha dout."""
        dout, (x,) = self._cached(dout)
        return np.where(x > 0, dout, self.alpha * dout)


class SELUSwappedConstants(SELU):
    """SELU with alpha and lambda swapped."""

    def __init__(self) -> None:
        super().__init__()
        self.alpha, self.scale = SELU_SCALE, SELU_ALPHA


class SELUMissingLambda(SELU):
    """SELU without the outer lambda: a plain ELU with alpha = 1.6733."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = 1.0


class GELUSigmoidApprox(GELU):
    """GELU as x sigmoid(1.702 x), with that function's own (consistent) derivative."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return x sigmoid(1.702 x), caching x."""
        x = np.array(x, dtype=np.float64)
        self._cache = (x,)
        return x * sigmoid(1.702 * x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dout * d/dx [x sigmoid(1.702 x)]."""
        dout, (x,) = self._cached(dout)
        s = sigmoid(1.702 * x)
        return dout * (s + 1.702 * x * s * (1.0 - s))


class GELUTanhWhenExact(GELU):
    """GELU that always uses the tanh approximation, even when the exact form is asked for."""

    def __init__(self, approximate: bool = False) -> None:
        super().__init__(approximate=True)


class SoftplusNaive(Softplus):
    """Softplus as log(1 + e^x): e^x overflows to inf for x > 709."""

    def forward(self, x: np.ndarray, *, training: bool = True) -> np.ndarray:
        """Return log(1 + e^x), caching x."""
        x = np.array(x, dtype=np.float64)
        self._cache = (x,)
        return np.log(1.0 + np.exp(x))


class SwishDerivativeMissingXTerm(Swish):
    """Swish backward as s(beta x) alone: the product rule's x term is dropped."""

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Return dout * s."""
        dout, (_, s) = self._cached(dout)
        return dout * s


def _m(
    name: str, target: str, factory: type, misconception: str, breaks_purpose: bool = False
) -> Mutant:
    return Mutant(name, "activations", target, factory, misconception, breaks_purpose)


MUTANTS: tuple[Mutant, ...] = (
    _m(
        "relu_backward_gates_on_dout",
        "relu",
        ReLUGatesOnDout,
        "ReLU's backward lets the upstream gradient through where x > 0 (the mask cached in "
        "forward), not where dout > 0: max(0, dout) is the wrong gate.",
    ),
    _m(
        "relu_kink_one",
        "relu",
        ReLUKinkOne,
        "At exactly x = 0 the contract fixes ReLU's derivative to 0 (the mask is x > 0); a "
        "mask of x >= 0, or zeroing only where x < 0, lets the gradient through at the kink.",
    ),
    _m(
        "relu_writes_into_dout",
        "relu",
        ReLUWritesIntoDout,
        "dx = dout makes dx another name for the same array, so dx[x <= 0] = 0 also zeroes "
        "the caller's dout (which another branch of the graph may still need): copy it, "
        "dx = dout.copy(), or build a new array, dx = dout * (x > 0).",
    ),
    _m(
        "leaky_relu_kink_one",
        "leaky_relu",
        LeakyReLUKinkOne,
        "At exactly x = 0 the contract fixes Leaky ReLU's derivative to alpha (the mask is "
        "x > 0, as torch's); a mask of x >= 0 gives 1 there.",
    ),
    _m(
        "sigmoid_backward_from_input",
        "sigmoid",
        SigmoidBackwardFromInput,
        "The sigmoid's local gradient is s(1 - s) with s the OUTPUT of forward; x(1 - x) "
        "evaluates it on the input.",
    ),
    _m(
        "sigmoid_overflow",
        "sigmoid",
        SigmoidNaive,
        "e^x / (1 + e^x) overflows to inf / inf = NaN for large x; compute the sigmoid from "
        "e^-|x| (split on the sign of x) so nothing overflows.",
        breaks_purpose=True,
    ),
    _m(
        "tanh_backward_from_input",
        "tanh",
        TanhBackwardFromInput,
        "tanh's local gradient is 1 - y^2 with y = tanh x the output of forward, not 1 - x^2.",
    ),
    _m(
        "leaky_relu_torch_slope",
        "leaky_relu",
        LeakyReLUTorchSlope,
        "The course's Leaky ReLU slope is the lecture's alpha = 0.1; 0.01 is torch's library "
        "default, not the one asked for.",
    ),
    _m(
        "prelu_grad_a_mean",
        "prelu",
        PReLUGradMean,
        "The PReLU slope a is shared by every example, so its gradient SUMS dy * min(0, x) "
        "over the batch (like db = sum(dy)); averaging divides it by N.",
    ),
    _m(
        "prelu_grad_a_positive_part",
        "prelu",
        PReLUGradPositivePart,
        "a multiplies min(0, x), so dL/da = sum(dy * min(0, x)); max(0, x) is the side a "
        "does not touch.",
    ),
    _m(
        "elu_derivative_exp_everywhere",
        "elu",
        ELUDerivativeExpEverywhere,
        "ELU's derivative is alpha e^x only for x <= 0; for x > 0, ELU is the identity and "
        "its derivative is 1.",
    ),
    _m(
        "elu_derivative_alpha_only",
        "elu",
        ELUDerivativeAlphaOnly,
        "For x <= 0, the derivative of alpha (e^x - 1) is alpha e^x, not the constant alpha "
        "(that is Leaky ReLU's).",
    ),
    _m(
        "selu_swapped_constants",
        "selu",
        SELUSwappedConstants,
        "SELU is lambda ELU_alpha with alpha = 1.6733 inside and lambda = 1.0507 outside; "
        "the two constants are swapped.",
    ),
    _m(
        "selu_missing_lambda",
        "selu",
        SELUMissingLambda,
        "SELU scales the whole ELU_alpha by lambda = 1.0507, on both sides of 0; without it "
        "the activations are not self-normalising.",
    ),
    _m(
        "gelu_sigmoid_approximation",
        "gelu",
        GELUSigmoidApprox,
        "x sigmoid(1.702 x) only approximates GELU (errors up to about 0.02); the assignment "
        "asks for the exact x Phi(x) with Phi the standard normal CDF.",
    ),
    _m(
        "gelu_tanh_when_exact",
        "gelu",
        GELUTanhWhenExact,
        "The tanh formula is GELU's approximation (approximate=True); the default asks for "
        "the exact x Phi(x), which differs by up to about 5e-4.",
    ),
    _m(
        "softplus_overflow",
        "softplus",
        SoftplusNaive,
        "log(1 + e^x) overflows to inf for large x; use log(1 + e^x) = max(x, 0) + "
        "log(1 + e^-|x|) (np.logaddexp(0, x)).",
        breaks_purpose=True,
    ),
    _m(
        "swish_derivative_missing_x_term",
        "swish",
        SwishDerivativeMissingXTerm,
        "Swish is a product x s(beta x): its derivative is s + beta x s (1 - s); the second "
        "term of the product rule is missing.",
    ),
)
"""The activation mutants, one misconception each."""
