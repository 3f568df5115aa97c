r"""Log-normal distribution: ``log x`` is normal with mean ``mu`` and standard deviation ``sigma``.

.. math:: \log p(x \mid \mu, \sigma) = -\log x - \log\sigma - \tfrac12\log 2\pi
          - \frac{(\log x-\mu)^2}{2\sigma^2}, \qquad x > 0

``x <= 0`` has log density ``-inf`` (pomegranate 0.x returned NaN). NaN is missing (log density 0). The
statistics and the M-step are the normal family's, on ``log x``.
"""
import numpy as np

from .._validation import NONNEGATIVE as _NONNEG, POSITIVE as _POS, REAL as _REAL, check_scalar
from . import normal
from ._base import Distribution, register
from .gamma import _positive


def _log_x(X):
    x = X[:, :1]
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = _positive(x)
        return np.where(pos, np.log(np.where(pos, x, 1.0)), np.where(np.isnan(x), np.nan, -np.inf))


def _logpdf(X, mu, sigma):
    lx = _log_x(X)
    lp = normal._logpdf(lx, mu, sigma) - np.where(np.isfinite(lx), lx, 0.0)
    return np.where(np.isneginf(lx), -np.inf, lp)


def _suffstats(X, R, **_):
    lx = _log_x(X)
    return normal._suffstats(np.where(np.isneginf(lx), np.nan, lx), R)


def _mle(stats, min_std=0.0):
    est = normal._mle(stats, min_std)
    return None if est is None else {"mu": est["mean"], "sigma": est["std"]}


def _sample(rng, n, mu, sigma):
    return rng.lognormal(mu, sigma, size=n)


@register
class LogNormalDistribution(Distribution):
    """A log-normal distribution.

    Parameters
    ----------
    mu : float
        The mean of ``log x``.
    sigma : float > 0
        The standard deviation of ``log x``.
    min_std : float >= 0, default=0.0
        The smallest ``sigma`` a fit may return (note: third positional, as in pomegranate 0.x).
    frozen : bool, default=False
        If True, fitting leaves the parameters unchanged.
    """

    _options = {"min_std": 0.0}
    _scalar_params = {"mu": _REAL, "sigma": _POS}
    _support = staticmethod(_positive)
    _logpdf = staticmethod(_logpdf)
    _suffstats = staticmethod(_suffstats)
    _mle = staticmethod(_mle)
    _sample = staticmethod(_sample)

    def __init__(self, mu, sigma, min_std=0.0, frozen=False):
        self.min_std = check_scalar(min_std, "min_std", _NONNEG, "LogNormalDistribution")
        super().__init__({"mu": mu, "sigma": sigma}, frozen)

    def _mean(self):
        return float(np.exp(self._params["mu"] + 0.5 * self._params["sigma"] ** 2))

    @classmethod
    def _feature_term(cls, components):
        """The fused path's term: the normal one on ``log x`` (see ``genmix._fused``)."""
        return normal._NormalTerm.of(np.array([c._params["mu"] for c in components]),
                                     np.array([c._params["sigma"] for c in components]), True)

    @classmethod
    def blank(cls):
        """LogNormal(0, 1)."""
        return cls(0.0, 1.0)
