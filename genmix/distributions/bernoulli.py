r"""Bernoulli distribution with success probability ``p``.

.. math:: \log p(x \mid p) = x\log p + (1-x)\log(1-p), \qquad x \in \{0, 1\}

Any other value has log density ``-inf`` (pomegranate 0.x read out of bounds). NaN is missing.
"""
import numpy as np
from scipy.special import xlog1py, xlogy

from .._fused import LinearTerm
from .._validation import UNIT as _UNIT
from ._base import Distribution, register
from ._stats import SumStats
from .poisson import _suffstats


def _binary(x):
    """The support: 0 and 1."""
    return (x == 0.0) | (x == 1.0)


def _logpdf(X, p):
    x = X[:, :1]
    ok = _binary(x)
    xs = np.where(ok, x, 0.0)
    lp = xlogy(xs, p) + xlog1py(1.0 - xs, -p)
    return np.where(np.isnan(x), 0.0, np.where(ok, lp, -np.inf))


def _mle(stats):
    w = float(stats.w[0])
    if not w > 0.0:
        return None
    return {"p": min(max(float(stats.sums[0]) / w, 0.0), 1.0)}


def _sample(rng, n, p):
    return (rng.random(n) < p).astype(np.float64)


@register
class BernoulliDistribution(Distribution):
    """A Bernoulli distribution on {0, 1}.

    Parameters
    ----------
    p : float in [0, 1]
        The probability of 1.
    frozen : bool, default=False
        If True, fitting leaves the parameters unchanged.
    """

    _scalar_params = {"p": _UNIT}
    _support = staticmethod(_binary)
    _logpdf = staticmethod(_logpdf)
    _suffstats = staticmethod(_suffstats)
    _mle = staticmethod(_mle)
    _sample = staticmethod(_sample)

    def __init__(self, p, frozen=False):
        super().__init__({"p": p}, frozen)

    def _mean(self):
        return self._params["p"]

    @classmethod
    def _feature_term(cls, components):
        """The fused path's term (see ``genmix._fused``): ``log p = log(1 − p) + x log(p / (1 − p))``."""
        p = np.array([c._params["p"] for c in components], dtype=np.float64)
        with np.errstate(divide="ignore"):
            return LinearTerm.of(np.log1p(-p), (np.log(p) - np.log1p(-p))[:, None], [None], SumStats,
                                 support=cls._support)

    def _mode_candidates(self):
        """The support, among which imputation picks the conditional mode."""
        return np.array([0.0, 1.0])

    @classmethod
    def blank(cls):
        """Bernoulli(0.5).

        Returns
        -------
        distribution : BernoulliDistribution
            A fair coin.
        """
        return cls(0.5)
