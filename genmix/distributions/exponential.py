r"""Exponential distribution with rate ``rate``.

.. math:: \log p(x \mid \lambda) = \log\lambda - \lambda x, \qquad x \ge 0

``x < 0`` has log density ``-inf`` (pomegranate 0.x returned a finite number). NaN is missing. The MLE is
``Σw / Σwx`` exactly (0.x added 1e-7 to both); ``inertia`` blends the rate (0.x ignored it). Data whose
weighted sum is 0 (all zeros) carry no information about the scale: the rate is kept.
"""
import numpy as np

from .._fused import LinearTerm
from .._validation import POSITIVE as _POS
from ._base import Distribution, register
from ._stats import SumStats, sum_stats_1d


def _nonnegative(x):
    """The support: x >= 0."""
    return x >= 0


def _logpdf(X, rate):
    x = X[:, :1]
    with np.errstate(invalid="ignore", over="ignore"):  # rate·x beyond the float range: -inf
        lp = np.log(rate) - rate * x
    lp = np.where(_nonnegative(x), lp, -np.inf)
    return np.where(np.isnan(x), 0.0, lp)


def _suffstats(X, R, **_):
    return sum_stats_1d(X[:, 0], R)


def _mle(stats):
    w, wx = float(stats.w[0]), float(stats.sums[0])
    if not (w > 0.0 and wx > 0.0):
        return None
    return {"rate": w / wx}


def _sample(rng, n, rate):
    return rng.exponential(1.0 / rate, size=n)


@register
class ExponentialDistribution(Distribution):
    """An exponential distribution.

    Parameters
    ----------
    rate : float > 0
        The rate λ (the mean is ``1 / rate``).
    frozen : bool, default=False
        If True, fitting leaves the parameters unchanged.
    """

    _scalar_params = {"rate": _POS}
    _support = staticmethod(_nonnegative)
    _logpdf = staticmethod(_logpdf)
    _suffstats = staticmethod(_suffstats)
    _mle = staticmethod(_mle)
    _sample = staticmethod(_sample)

    def __init__(self, rate, frozen=False):
        super().__init__({"rate": rate}, frozen)

    def _mean(self):
        return 1.0 / self._params["rate"]

    @classmethod
    def _feature_term(cls, components):
        """The fused path's term (see ``genmix._fused``): ``log p = log λ − λx``."""
        rate = np.array([c._params["rate"] for c in components], dtype=np.float64)
        with np.errstate(divide="ignore"):
            return LinearTerm.of(np.log(rate), -rate[:, None], [None], SumStats, support=cls._support)

    @classmethod
    def blank(cls):
        """Exponential(1)."""
        return cls(1.0)
