r"""Continuous uniform distribution on ``[start, end]``.

.. math:: \log p(x \mid a, b) = -\log(b - a), \qquad a \le x \le b

Outside the interval the log density is ``-inf``; NaN is missing. The statistics are Σw and the smallest
and largest value with positive weight, so the MLE is ``[min, max]``. A fit to a single distinct value
widens the interval to ``max(4·eps·|x|, 1e-150)`` around it (a very narrow, finite density) instead of
giving a zero width.
"""
import numpy as np

from .._math import spread_floor
from .._validation import REAL as _REAL, check_scalar
from ._base import Distribution, register
from ._stats import RangeStats


def _logpdf(X, start, end):
    x = X[:, :1]
    inside = (x >= start) & (x <= end)
    with np.errstate(over="ignore"):
        width = end - start
    log_width = np.where(np.isfinite(width), 0.0, np.log(2.0))  # a width beyond the float range: halved
    log_width = log_width + np.log(np.where(np.isfinite(width), width, 0.5 * end - 0.5 * start))
    lp = np.where(inside, -log_width, -np.inf)
    return np.where(np.isnan(x), 0.0, lp)


def _suffstats(X, R, **_):
    x = X[:, 0]
    valid = ~np.isnan(x)
    if not valid.all():
        x, R = x[valid], R[valid]
    pos = R > 0
    lo = np.where(pos, x[:, None], np.inf).min(axis=0, initial=np.inf)
    hi = np.where(pos, x[:, None], -np.inf).max(axis=0, initial=-np.inf)
    return RangeStats(R.sum(axis=0), lo, hi)


def _mle(stats):
    if not float(stats.w[0]) > 0.0:
        return None
    lo, hi = float(stats.lo[0]), float(stats.hi[0])
    if not hi > lo:
        half = 0.5 * float(spread_floor(lo, 0.0))
        lo, hi = lo - half, hi + half
    return {"start": lo, "end": hi}


def _sample(rng, n, start, end):
    return rng.uniform(start, end, size=n)


@register
class UniformDistribution(Distribution):
    """A uniform distribution on ``[start, end]``.

    Parameters
    ----------
    start : float
        The lower end.
    end : float
        The upper end (greater than ``start``).
    frozen : bool, default=False
        If True, fitting leaves the parameters unchanged.
    """

    _param_names = ("start", "end")
    _logpdf = staticmethod(_logpdf)
    _suffstats = staticmethod(_suffstats)
    _mle = staticmethod(_mle)
    _sample = staticmethod(_sample)

    def __init__(self, start, end, frozen=False):
        super().__init__({"start": start, "end": end}, frozen)

    @classmethod
    def _check_params(cls, start, end):
        start = check_scalar(start, "start", _REAL, cls.__name__)
        end = check_scalar(end, "end", _REAL, cls.__name__)
        if not end > start:
            raise ValueError(f"The 'end' parameter of {cls.__name__} must be greater than 'start' ({start!r}). "
                             f"Got {end!r} instead.")
        return {"start": start, "end": end}

    def _mean(self):
        return 0.5 * (self._params["start"] + self._params["end"])

    @classmethod
    def blank(cls):
        """Uniform(0, 1).

        Returns
        -------
        distribution : UniformDistribution
            The unit interval.
        """
        return cls(0.0, 1.0)
