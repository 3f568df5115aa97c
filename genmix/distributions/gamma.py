r"""Gamma distribution with shape ``alpha`` and *rate* ``beta``.

.. math:: \log p(x \mid \alpha, \beta) = \alpha\log\beta - \log\Gamma(\alpha) + (\alpha-1)\log x - \beta x,
          \qquad x > 0

``x <= 0`` has log density ``-inf``; NaN is missing. Statistics are Σw, Σwx and Σw·log x; the M-step
solves ``log α − ψ(α) = log(mean) − mean(log x)`` by Newton's method from Minka's closed-form start, to
machine precision (pomegranate 0.x stopped at 1e-4 inside a mixture and restarted from a random value on
failure), then ``β = α / mean``. Constant data carry no information about the spread: the shape is then
capped at 1e12 (a very narrow, finite density) rather than infinite.
"""
import numpy as np
from scipy.special import gammaln

from .._fused import LinearTerm
from .._math import gamma_shape_mle
from .._validation import POSITIVE as _POS
from ._base import Distribution, register
from ._stats import SumStats, sum_stats_1d

_MAX_SHAPE = 1e12


def _positive(x):
    """The support: x > 0."""
    return x > 0


def _log_positive(x):
    """``[x, log x]`` columns for positive ``x`` (other values give a zero log, never a warning)."""
    return np.column_stack([x, np.log(np.where(_positive(x), x, 1.0))])


def _logpdf(X, alpha, beta):
    x = X[:, :1]
    pos = _positive(x)
    lx = np.log(np.where(pos, x, 1.0))
    with np.errstate(over="ignore"):  # beta·x beyond the float range: -inf, as it should be
        lp = alpha * np.log(beta) - gammaln(alpha) + (alpha - 1.0) * lx - beta * x
    return np.where(np.isnan(x), 0.0, np.where(pos, lp, -np.inf))


def _suffstats(X, R, **_):
    return sum_stats_1d(X[:, 0], R, _log_positive)


def _mle(stats):
    w = float(stats.w[0])
    if not w > 0.0:
        return None
    mean, mean_log = stats.sums[0] / w
    s = np.log(mean) - mean_log
    alpha = float(gamma_shape_mle(s)) if s > 0.5 / _MAX_SHAPE else _MAX_SHAPE
    alpha = min(alpha, _MAX_SHAPE)
    return {"alpha": alpha, "beta": alpha / float(mean)}


def _sample(rng, n, alpha, beta):
    return rng.gamma(alpha, 1.0 / beta, size=n)


@register
class GammaDistribution(Distribution):
    """A gamma distribution (shape and rate, as in pomegranate 0.x).

    Parameters
    ----------
    alpha : float > 0
        The shape.
    beta : float > 0
        The rate (the mean is ``alpha / beta``).
    frozen : bool, default=False
        If True, fitting leaves the parameters unchanged.
    """

    _scalar_params = {"alpha": _POS, "beta": _POS}
    _support = staticmethod(_positive)
    _logpdf = staticmethod(_logpdf)
    _suffstats = staticmethod(_suffstats)
    _mle = staticmethod(_mle)
    _sample = staticmethod(_sample)

    def __init__(self, alpha, beta, frozen=False):
        super().__init__({"alpha": alpha, "beta": beta}, frozen)

    def _mean(self):
        return self._params["alpha"] / self._params["beta"]

    @classmethod
    def _feature_term(cls, components):
        """The fused path's term (see ``genmix._fused``):
        ``log p = α log β − log Γ(α) − βx + (α − 1) log x``."""
        a = np.array([c._params["alpha"] for c in components], dtype=np.float64)
        b = np.array([c._params["beta"] for c in components], dtype=np.float64)
        with np.errstate(divide="ignore"):
            return LinearTerm.of(a * np.log(b) - gammaln(a), np.column_stack([-b, a - 1.0]), [None, np.log],
                                 SumStats, support=cls._support)

    @classmethod
    def blank(cls):
        """Gamma(1, 1), the unit exponential.

        Returns
        -------
        distribution : GammaDistribution
            Shape 1, rate 1.
        """
        return cls(1.0, 1.0)
