r"""Beta distribution on the open interval (0, 1).

.. math:: \log p(x \mid \alpha, \beta) = (\alpha-1)\log x + (\beta-1)\log(1-x) - \log B(\alpha, \beta),
          \qquad 0 < x < 1

This is the Beta *density* fitted by maximum likelihood (pomegranate 0.x's ``BetaDistribution`` was a
Beta-Bernoulli counting 1s and other values). ``x <= 0`` or ``x >= 1`` has log density ``-inf``; NaN is
missing. Statistics are Σw, Σw·log x, Σw·log(1−x), Σwx and Σwx²; the M-step starts from the method of
moments and solves the likelihood equations by Newton's method to machine precision. Data without spread
give a concentration (α + β) capped at 1e12.
"""
import numpy as np
from scipy.special import betaln

from .._math import beta_mle
from .._validation import POSITIVE as _POS
from ._base import Distribution, register
from ._stats import sum_stats_1d

_MAX_CONCENTRATION = 1e12


def _inside(x):
    """The support: the open interval (0, 1)."""
    return (x > 0) & (x < 1)


def _transform(x):
    ok = _inside(x)
    xs = np.where(ok, x, 0.5)
    return np.column_stack([np.log(xs), np.log1p(-xs), xs, xs * xs])


def _logpdf(X, alpha, beta):
    x = X[:, :1]
    ok = _inside(x)
    xs = np.where(ok, x, 0.5)
    lp = (alpha - 1.0) * np.log(xs) + (beta - 1.0) * np.log1p(-xs) - betaln(alpha, beta)
    return np.where(np.isnan(x), 0.0, np.where(ok, lp, -np.inf))


def _suffstats(X, R, **_):
    return sum_stats_1d(X[:, 0], R, _transform)


def _mle(stats):
    w = float(stats.w[0])
    if not w > 0.0:
        return None
    mean_log, mean_log1m, mean, mean_sq = stats.sums[0] / w
    var = max(mean_sq - mean * mean, 0.0)
    common = mean * (1.0 - mean) / var - 1.0 if var > 0 else np.inf
    if not np.isfinite(common) or common >= _MAX_CONCENTRATION:
        return {"alpha": mean * _MAX_CONCENTRATION, "beta": (1.0 - mean) * _MAX_CONCENTRATION}
    common = max(common, 1e-3)
    alpha, beta = beta_mle(mean_log, mean_log1m, mean * common, (1.0 - mean) * common)
    return {"alpha": float(alpha), "beta": float(beta)}


def _sample(rng, n, alpha, beta):
    return rng.beta(alpha, beta, size=n)


@register
class BetaDistribution(Distribution):
    """A Beta distribution on (0, 1).

    Parameters
    ----------
    alpha : float > 0
        The first shape parameter.
    beta : float > 0
        The second shape parameter.
    frozen : bool, default=False
        If True, fitting leaves the parameters unchanged.
    """

    _scalar_params = {"alpha": _POS, "beta": _POS}
    _support = staticmethod(_inside)
    _logpdf = staticmethod(_logpdf)
    _suffstats = staticmethod(_suffstats)
    _mle = staticmethod(_mle)
    _sample = staticmethod(_sample)

    def __init__(self, alpha, beta, frozen=False):
        super().__init__({"alpha": alpha, "beta": beta}, frozen)

    def _mean(self):
        return self._params["alpha"] / (self._params["alpha"] + self._params["beta"])

    @classmethod
    def blank(cls):
        """Beta(1, 1), the uniform distribution on (0, 1).

        Returns
        -------
        distribution : BetaDistribution
            Shapes 1 and 1.
        """
        return cls(1.0, 1.0)
