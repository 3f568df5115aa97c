r"""Normal (Gaussian) distribution.

.. math:: \log p(x \mid \mu, \sigma) = -\log\sigma - \tfrac12\log 2\pi - \frac{(x-\mu)^2}{2\sigma^2}

``std`` is the standard deviation, as in pomegranate 0.x. A missing value (NaN) has log density 0 and is
ignored by the statistics. Statistics are centred moments (Σw, mean, Σw(x−mean)²), so data far from
zero keep their precision.
"""
import numpy as np

from .._math import LOG_2PI, spread_floor
from .._validation import NONNEGATIVE as _NONNEG, POSITIVE as _POS, REAL as _REAL, check_scalar
from ._base import Distribution, register
from ._stats import moment_stats_1d


def _logpdf(X, mean, std):
    x = X[:, :1]
    lp = x - mean  # one (n, k) array, updated in place
    with np.errstate(over="ignore"):  # beyond ~1e154 standard deviations: -inf, as it should be
        lp /= std
        lp *= lp
    lp *= -0.5
    lp -= np.log(std) + 0.5 * LOG_2PI
    missing = np.isnan(x[:, 0])
    if missing.any():
        lp[missing] = 0.0
    return lp


def _suffstats(X, R, **_):
    return moment_stats_1d(X[:, 0], R)


def _mle(stats, min_std=0.0):
    w = float(stats.w[0])
    if not w > 0.0:
        return None
    mean = float(stats.mean[0])
    std = max(np.sqrt(max(float(stats.m2[0]) / w, 0.0)), float(spread_floor(mean, min_std)))
    return {"mean": mean, "std": std}


def _sample(rng, n, mean, std):
    return rng.normal(mean, std, size=n)


@register
class NormalDistribution(Distribution):
    """A normal distribution.

    Parameters
    ----------
    mean : float
        The mean.
    std : float > 0
        The standard deviation (not the variance).
    frozen : bool, default=False
        If True, fitting leaves the parameters unchanged.
    min_std : float >= 0, default=0.0
        The smallest standard deviation a fit may return. Whatever its value, a fit never returns
        less than ``max(4·eps·|mean|, 1e-150)``, so constant data give a finite (very narrow) fit.

    Examples
    --------
    >>> d = NormalDistribution(5, 2)
    >>> round(d.log_probability(5), 12)
    -1.612085713764
    """

    _options = {"min_std": 0.0}
    _scalar_params = {"mean": _REAL, "std": _POS}
    _logpdf = staticmethod(_logpdf)
    _suffstats = staticmethod(_suffstats)
    _mle = staticmethod(_mle)
    _sample = staticmethod(_sample)

    def __init__(self, mean, std, frozen=False, min_std=0.0):
        self.min_std = check_scalar(min_std, "min_std", _NONNEG, "NormalDistribution")
        super().__init__({"mean": mean, "std": std}, frozen)

    def _mean(self):
        return self._params["mean"]

    @classmethod
    def blank(cls):
        """The standard normal N(0, 1)."""
        return cls(0.0, 1.0)
