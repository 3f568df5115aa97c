r"""Kernel densities: a weighted sum of kernels of width ``bandwidth`` centred on ``points``.

.. math:: p(x) = \sum_j w_j \, K_b(x - \mu_j), \qquad \sum_j w_j = 1

with the *normalised* kernels (pomegranate 0.x dropped the normalising constants, so its densities were
proper only for ``bandwidth = 1``):

* Gaussian: :math:`K_b(u) = \exp(-u^2 / 2b^2) / (b\sqrt{2\pi})`;
* Uniform: :math:`K_b(u) = 1\{|u| \le b\} / 2b`;
* Triangle: :math:`K_b(u) = \max(b - |u|, 0) / b^2`.

NaN is missing (log density 0; pomegranate's Gaussian kernel gave ``-inf``). Fitting *replaces* the
points by the data, weighted by the sample weights (or, in a mixture, by the responsibilities); with
``inertia`` the old points are kept with their weights times ``inertia`` and the new ones get
``1 − inertia`` (0.x mixed up the counts). The bandwidth is not fitted. The statistics of a kernel
density are the weighted points themselves, so they grow with the data.
"""
import dataclasses

import numpy as np

from .._math import LOG_2PI, logsumexp_rows
from .._validation import POSITIVE as _POS, check_scalar
from ._base import Distribution, register
from ._stats import Stats

_CHUNK = 4096


@dataclasses.dataclass(frozen=True)
class PointStats(Stats):
    """Observed points (m,) shared by the stack and each component's weight on them (k, m)."""

    w: np.ndarray
    points: np.ndarray
    weights: np.ndarray
    _extensive = ("w", "weights")

    def __add__(self, other):
        return PointStats(self.w + other.w, np.concatenate([self.points, other.points]),
                          np.concatenate([self.weights, other.weights], axis=1))

    def take(self, i):
        return PointStats(self.w[i:i + 1], self.points, self.weights[i:i + 1])


def _suffstats(X, R, **_):
    x = X[:, 0]
    valid = ~np.isnan(x)
    return PointStats(R[valid].sum(axis=0), x[valid].copy(), R[valid].T.copy())


class KernelDensity(Distribution):
    """Base class of the kernel densities (not a family of its own).

    Parameters
    ----------
    points : array-like of shape (m,)
        The kernel centres (at least one).
    bandwidth : float > 0, default=1
        The kernel width.
    weights : array-like of shape (m,), default=None
        Non-negative weights of the points, normalised to sum to one (equal if None).
    frozen : bool, default=False
        If True, fitting leaves the parameters unchanged.
    """

    _param_names = ("points", "bandwidth", "weights")
    _maximises_likelihood = False  # a fit places kernels on the data: EM need not increase the likelihood
    _suffstats = staticmethod(_suffstats)

    def _n_free_parameters(self):
        raise NotImplementedError(f"{self.name} is nonparametric (a fit puts its kernels on the data): it has no "
                                  "parameter count for BIC or AIC.")

    def __init__(self, points, bandwidth=1, weights=None, frozen=False):
        super().__init__({"points": points, "bandwidth": bandwidth, "weights": weights}, frozen)

    @classmethod
    def _check_params(cls, points, bandwidth, weights):
        name = cls.__name__
        if np.ndim(points) > 1 and not (np.ndim(points) == 2 and np.shape(points)[1] == 1):
            raise ValueError(f"The 'points' parameter of {name} must be 1-D (univariate kernels); got shape "
                             f"{np.shape(points)}.")
        try:
            mu = np.array(points, dtype=np.float64).reshape(-1)
            w = None if weights is None else np.array(weights, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise TypeError(f"The 'points' and 'weights' parameters of {name} must be numeric.") from None
        if mu.size == 0 or not np.all(np.isfinite(mu)):
            raise ValueError(f"The 'points' parameter of {name} must hold at least one finite number.")
        w = np.ones(mu.size) if w is None else w
        if w.size != mu.size or not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
            raise ValueError(f"The 'weights' parameter of {name} must hold {mu.size} non-negative finite numbers "
                             "that do not all vanish.")
        total = w.sum()
        w = w if abs(total - 1.0) <= 4 * np.finfo(float).eps * w.size else w / total  # keep normalised input exact
        return {"points": mu, "bandwidth": check_scalar(bandwidth, "bandwidth", _POS, name), "weights": w}

    @classmethod
    def _stack_logpdf(cls, X, components):
        x = X[:, 0]
        out = np.zeros((x.size, len(components)))
        valid = ~np.isnan(x)
        xv = x[valid]
        for i, c in enumerate(components):
            p = c._params
            col = np.empty(xv.size)
            for s in range(0, xv.size, _CHUNK):  # (chunk, m) at a time
                col[s:s + _CHUNK] = cls._log_kernel_sum(xv[s:s + _CHUNK], p["points"], p["bandwidth"], p["weights"])
            out[valid, i] = col
        return out

    @staticmethod
    def _log_kernel_sum(x, points, bandwidth, weights):
        raise NotImplementedError

    def _new_params(self, stats, inertia, pseudocount):
        weights = stats.weights[0]
        keep = weights > 0
        if not keep.any():
            return None
        points, weights = stats.points[keep], weights[keep] / weights[keep].sum()
        if inertia > 0.0:
            points = np.concatenate([self._params["points"], points])
            weights = np.concatenate([inertia * self._params["weights"], (1.0 - inertia) * weights])
        return self._check_params(points, self._params["bandwidth"], weights)

    @classmethod
    def _gather(cls, components):
        return {}

    def _mean(self):
        return float(self._params["weights"] @ self._params["points"])

    def _sample_n(self, rng, n):
        p = self._params
        centres = p["points"][rng.choice(p["points"].size, size=n, p=p["weights"])]
        return centres + self._kernel_noise(rng, p["bandwidth"], n)

    def _params_to_list(self):
        p = self._params
        return [p["points"].tolist(), p["bandwidth"], p["weights"].tolist()]

    def __repr__(self):
        return f"{self.name}({self._params['points'].size} points, bandwidth={self._params['bandwidth']!r})"

    @classmethod
    def blank(cls):
        """A single kernel at 0 of width 1.

        Returns
        -------
        distribution : KernelDensity
            The kernel density of the point 0.
        """
        return cls([0.0])


def _shared_doc():
    """The parameter section of ``KernelDensity``'s docstring, shared by the three kernels (empty when
    Python runs with ``-OO``, which drops docstrings)."""
    doc = KernelDensity.__doc__ or "\n"
    return doc[doc.index("\n"):]


@register
class GaussianKernelDensity(KernelDensity):
    __doc__ = "A kernel density with Gaussian kernels (``bandwidth`` is their standard deviation)." + \
        _shared_doc()

    @staticmethod
    def _log_kernel_sum(x, points, bandwidth, weights):
        with np.errstate(divide="ignore", over="ignore"):  # beyond ~1e154 bandwidths: a kernel value of 0
            z = (x[:, None] - points[None, :]) / bandwidth
            return logsumexp_rows(-0.5 * z * z + np.log(weights)) - np.log(bandwidth) - 0.5 * LOG_2PI

    @staticmethod
    def _kernel_noise(rng, bandwidth, n):
        return rng.normal(0.0, bandwidth, n)


@register
class UniformKernelDensity(KernelDensity):
    __doc__ = "A kernel density with uniform kernels on ``[point − bandwidth, point + bandwidth]``." + \
        _shared_doc()

    @staticmethod
    def _log_kernel_sum(x, points, bandwidth, weights):
        mass = (np.abs(x[:, None] - points[None, :]) <= bandwidth) @ weights
        with np.errstate(divide="ignore"):
            return np.log(mass) - np.log(2.0 * bandwidth)

    @staticmethod
    def _kernel_noise(rng, bandwidth, n):
        return rng.uniform(-bandwidth, bandwidth, n)


@register
class TriangleKernelDensity(KernelDensity):
    __doc__ = "A kernel density with triangular kernels of half-width ``bandwidth``." + \
        _shared_doc()

    @staticmethod
    def _log_kernel_sum(x, points, bandwidth, weights):
        mass = np.maximum(bandwidth - np.abs(x[:, None] - points[None, :]), 0.0) @ weights
        with np.errstate(divide="ignore"):
            return np.log(mass) - 2.0 * np.log(bandwidth)

    @staticmethod
    def _kernel_noise(rng, bandwidth, n):
        return rng.triangular(-bandwidth, 0.0, bandwidth, n)
