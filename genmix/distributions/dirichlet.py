r"""Dirichlet distribution on the probability simplex.

.. math:: \log p(x \mid \alpha) = \log\Gamma\Big(\sum_j \alpha_j\Big) - \sum_j \log\Gamma(\alpha_j)
          + \sum_j (\alpha_j - 1)\log x_j, \qquad x_j > 0,\ \sum_j x_j = 1

pomegranate 0.x used ``α_j`` instead of ``α_j − 1`` in the last sum and fitted by adding counts; this is
the Dirichlet density, fitted by maximum likelihood (Minka's fixed point from the method-of-moments start,
to 1e-13 relative). A row off the simplex (a non-positive coordinate, or a sum further than 1e-9·d from
one) has log density ``-inf``. Missing coordinates are marginalised exactly through the aggregation
property: ``(x_o, 1 − Σx_o)`` is Dirichlet with parameters ``(α_o, Σα_m)``; a row with nothing observed
has log density 0. Statistics use complete rows only. Data without spread give a concentration capped at
1e12.
"""
import numpy as np
from scipy.special import gammaln

from .._math import dirichlet_mle
from .._validation import POSITIVE as _POS
from ._base import Distribution, register
from ._stats import SumStats

_MAX_CONCENTRATION = 1e12


def _on_simplex(X):
    d = X.shape[1]
    with np.errstate(invalid="ignore"):
        return np.all(X > 0, axis=1) & (np.abs(X.sum(axis=1) - 1.0) <= 1e-9 * d)


def _in_simplex(X):
    """The support, row by row: a complete row on the simplex; an incomplete one whose observed
    coordinates are positive and sum to less than one (a row with nothing observed is inside)."""
    observed = ~np.isnan(X)
    x0 = np.where(observed, X, 0.0)
    partial = np.all(~observed | (x0 > 0), axis=1) & (1.0 - x0.sum(axis=1) > 0)
    return np.where(observed.all(axis=1), _on_simplex(x0), partial)


def _dirichlet_logpdf(X, alphas):
    """Log density of complete rows ``X`` (n, d) on the simplex under each row of ``alphas`` (k, d)."""
    logx = np.log(np.where(X > 0, X, 1.0))
    norm = gammaln(alphas.sum(axis=1)) - gammaln(alphas).sum(axis=1)
    return norm + logx @ (alphas - 1.0).T


def _logpdf(X, alphas):
    n, d = X.shape
    out = np.empty((n, alphas.shape[0]))
    observed = ~np.isnan(X)
    complete = observed.all(axis=1)
    ok = _in_simplex(X)
    out[complete] = np.where(ok[complete, None], _dirichlet_logpdf(X[complete], alphas), -np.inf)
    incomplete = np.nonzero(~complete)[0]
    if incomplete.size:
        patterns, inverse = np.unique(observed[incomplete], axis=0, return_inverse=True)
        for p, pattern in enumerate(patterns):
            rows = incomplete[inverse.reshape(-1) == p]
            if not pattern.any():
                out[rows] = 0.0
                continue
            xo = X[np.ix_(rows, pattern)]
            aggregated = np.column_stack([xo, 1.0 - xo.sum(axis=1)])
            a = np.column_stack([alphas[:, pattern], alphas[:, ~pattern].sum(axis=1)])
            out[rows] = np.where(ok[rows, None], _dirichlet_logpdf(aggregated, a), -np.inf)
    return out


def _suffstats(X, R, **_):
    complete = ~np.isnan(X).any(axis=1)
    X, R = X[complete], R[complete]
    ok = _on_simplex(X)
    X, R = np.where(ok[:, None], X, 0.5), R * ok[:, None]
    T = np.stack([np.log(X), X, X * X], axis=1)  # (n, 3, d)
    return SumStats(R.sum(axis=0), np.einsum("nk,nsd->ksd", R, T))


def _mle(stats):
    w = float(stats.w[0])
    if not w > 0.0:
        return None
    mean_log, mean, mean_sq = stats.sums[0] / w
    var = np.maximum(mean_sq - mean * mean, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimates = mean * (1.0 - mean) / var - 1.0
    good = np.isfinite(estimates) & (estimates > 0)
    if not good.any() or np.median(estimates[good]) >= _MAX_CONCENTRATION:
        return {"alphas": mean / mean.sum() * _MAX_CONCENTRATION}
    concentration = float(np.median(estimates[good]))
    alphas = dirichlet_mle(mean_log, mean / mean.sum() * concentration)
    if alphas.sum() > _MAX_CONCENTRATION:
        alphas = alphas / alphas.sum() * _MAX_CONCENTRATION
    return {"alphas": alphas}


@register
class DirichletDistribution(Distribution):
    """A Dirichlet distribution over probability vectors.

    Parameters
    ----------
    alphas : array-like of shape (d,)
        Positive concentration parameters (``d >= 2``).
    frozen : bool, default=False
        If True, fitting leaves the parameters unchanged.
    """

    _param_names = ("alphas",)
    _support = staticmethod(_in_simplex)
    _multivariate = True
    _logpdf = staticmethod(_logpdf)
    _suffstats = staticmethod(_suffstats)
    _mle = staticmethod(_mle)

    def __init__(self, alphas, frozen=False):
        super().__init__({"alphas": alphas}, frozen)

    @classmethod
    def _check_params(cls, alphas):
        try:
            a = np.array(alphas, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"The 'alphas' parameter of {cls.__name__} must be a 1-D array of numbers.") from None
        if a.ndim != 1 or a.size < 2:
            raise ValueError(f"The 'alphas' parameter of {cls.__name__} must be 1-D with at least 2 entries; "
                             f"got shape {a.shape}.")
        if not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ValueError(f"The 'alphas' parameter of {cls.__name__} must hold floats in the range "
                             f"{_POS}. Got {a.tolist()} instead.")
        return {"alphas": a}

    def _fill(self, X):
        """Missing coordinates get ``E[x_m | x_o] = (1 − Σ x_o) · α_m / Σ α_m`` (aggregation property)."""
        X = np.array(X, dtype=np.float64, copy=True)
        a = self._params["alphas"]
        missing = np.isnan(X)
        remainder = 1.0 - np.where(missing, 0.0, X).sum(axis=1, keepdims=True)
        share = np.where(missing, a, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            filled = remainder * share / share.sum(axis=1, keepdims=True)
        X[missing] = filled[missing]
        return X

    def _sample_n(self, rng, n):
        return rng.dirichlet(self._params["alphas"], size=n)

    @property
    def d(self):
        """The number of coordinates."""
        return int(self._params["alphas"].size)

    @classmethod
    def blank(cls, d=2):
        """The uniform distribution on the simplex (all ``alphas`` 1).

        Parameters
        ----------
        d : int, default=2
            The number of coordinates.

        Returns
        -------
        distribution : DirichletDistribution
            Dirichlet(1, ..., 1).
        """
        return cls(np.ones(d))

    @classmethod
    def from_samples(cls, X, weights=None):
        """The maximum-likelihood Dirichlet of weighted rows ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, d)
            Points on the simplex.
        weights : array-like of shape (n_samples,), default=None
            Non-negative sample weights (ones if None).

        Returns
        -------
        distribution : DirichletDistribution
            The fitted distribution.
        """
        from ..data import n_columns

        d = n_columns(X)
        return cls.blank(d if np.ndim(X) == 2 else 2).fit(X, weights)
