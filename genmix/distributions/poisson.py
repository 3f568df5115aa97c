r"""Poisson distribution with mean ``lam``.

.. math:: \log p(x \mid \lambda) = x\log\lambda - \lambda - \log x!, \qquad x \in \{0, 1, 2, \dots\}

A negative or non-integer ``x`` has log density ``-inf`` (pomegranate 0.x evaluated 2.5 through lgamma).
``lam = 0`` is the point mass at 0 (0.x gave ``-inf`` even at 0), so a fit to all-zero data is exact.
NaN is missing (log density 0).
"""
import numpy as np
from scipy.special import gammaln, xlogy

from .._fused import LinearTerm
from .._math import LOG_2PI
from .._validation import NONNEGATIVE as _NONNEG
from ._base import Distribution, register
from ._stats import SumStats, sum_stats_1d


def _counts(x):
    """The support: non-negative integers (NaN is False)."""
    with np.errstate(invalid="ignore"):
        return (x >= 0) & (x == np.floor(x))


def _logpdf(X, lam):
    x = X[:, :1]
    ok = _counts(x)
    xs = np.where(ok, x, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        lp = xlogy(xs, lam) - lam - gammaln(xs + 1.0)
        huge = np.isnan(lp) & ok  # x log λ and log x! both overflow (x near the float maximum): Stirling
        if huge.any():
            log_x = np.log(np.where(huge, xs, 1.0))
            lp = np.where(huge, xs * (np.log(lam) - log_x + 1.0) - lam - 0.5 * (LOG_2PI + log_x), lp)
    return np.where(np.isnan(x), 0.0, np.where(ok, lp, -np.inf))


def _suffstats(X, R, **_):
    return sum_stats_1d(X[:, 0], R)


def _mle(stats):
    w = float(stats.w[0])
    if not w > 0.0:
        return None
    return {"lam": float(stats.sums[0]) / w}


def _sample(rng, n, lam):
    return rng.poisson(lam, size=n).astype(np.float64)


def _log_factorial(x):
    """``−log x!``, the base measure of the fused path's term."""
    return -gammaln(x + 1.0)


@register
class PoissonDistribution(Distribution):
    """A Poisson distribution.

    Parameters
    ----------
    lam : float >= 0
        The mean (0 is the point mass at zero).
    frozen : bool, default=False
        If True, fitting leaves the parameters unchanged.
    """

    _scalar_params = {"lam": _NONNEG}
    _support = staticmethod(_counts)
    _logpdf = staticmethod(_logpdf)
    _suffstats = staticmethod(_suffstats)
    _mle = staticmethod(_mle)
    _sample = staticmethod(_sample)

    def __init__(self, lam, frozen=False):
        super().__init__({"lam": lam}, frozen)

    def _mean(self):
        return self._params["lam"]

    @classmethod
    def _feature_term(cls, components):
        """The fused path's term (see ``genmix._fused``): ``log p = −λ + x log λ − log x!``."""
        lam = np.array([c._params["lam"] for c in components], dtype=np.float64)
        with np.errstate(divide="ignore"):
            return LinearTerm.of(-lam, np.log(lam)[:, None], [None], SumStats, base=_log_factorial,
                                 support=cls._support)

    def _mode_candidates(self):
        """The integers within ten standard deviations of the mean (imputation's conditional mode of a
        mixture lies among its components' candidates: elsewhere every component is ~e^-50 of its peak)."""
        lam = self._params["lam"]
        half = 10.0 * np.sqrt(lam) + 1.0
        return np.arange(max(0.0, np.floor(lam - half)), np.floor(lam + half) + 1.0)

    @classmethod
    def blank(cls):
        """Poisson(1).

        Returns
        -------
        distribution : PoissonDistribution
            A Poisson distribution with mean 1.
        """
        return cls(1.0)
