r"""Normal (Gaussian) distribution.

.. math:: \log p(x \mid \mu, \sigma) = -\log\sigma - \tfrac12\log 2\pi - \frac{(x-\mu)^2}{2\sigma^2}

``std`` is the standard deviation, as in pomegranate 0.x. A missing value (NaN) has log density 0 and is
ignored by the statistics. Statistics are centred moments (Σw, mean, Σw(x−mean)²), so data far from
zero keep their precision.
"""
import numpy as np

from .._fused import ColumnTerm, moments
from .._math import LOG_2PI, spread_floor
from .._validation import NONNEGATIVE as _NONNEG, POSITIVE as _POS, REAL as _REAL, check_scalar
from ._base import Distribution, register
from ._stats import MomentStats, moment_stats_1d


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


class _NormalTerm(ColumnTerm):
    """The fused path's term of a column with a normal law on ``t(x)``: ``t = x`` (Normal) or ``log x``
    (LogNormal).

    Features ``[u, u²]`` of ``u = t(x) − c``; per component ``a = μ − c`` and ``λ = 1/σ²``:
    ``log p = −½λu² + λa·u − ½λa² − log σ − ½ log 2π`` (− ``t(x)`` = ``−(u + c)`` for LogNormal). The
    statistics are centred ``MomentStats`` of ``t(x)``; where the raw sums cancel, recomputed centred.

    Parameters
    ----------
    mean, std : ndarray, shape (k,)
        The components' parameters of the law of ``t(x)``.
    log : bool
        ``t = log x`` (with the ``−log x`` Jacobian folded into the coefficients).
    """

    n_features = 2

    def __init__(self, mean, std, log):
        self.mean, self.log = mean, log
        self.prec = 1.0 / (std * std)
        self.base = -np.log(std) - 0.5 * LOG_2PI
        self.shift = 0.0

    @classmethod
    def of(cls, mean, std, log):
        """The term, or None below ``σ = 1e-150``, where ``1/σ²`` overflows (only the exact form is finite)."""
        return cls(mean, std, log) if np.all(std > 1e-150) else None

    def valid(self, x):
        return not self.log or float(x.min()) > 0.0

    def transform(self, x):
        return np.log(x) if self.log else x

    def set_shift(self, t_sample):
        self.shift = float(t_sample.mean())
        self.spread = float(np.sqrt(np.mean((t_sample - self.shift) ** 2)))

    def features(self, x, out):
        u = out[0]
        if self.log:
            np.log(x, out=u)
            u -= self.shift
        else:
            np.subtract(x, self.shift, out=u)
        np.multiply(u, u, out=out[1])

    def coefficients(self):
        """``(const (k,), W (k, 2))``."""
        a = self.mean - self.shift
        const = self.base - 0.5 * self.prec * a * a
        lin = self.prec * a
        if self.log:
            const = const - self.shift
            lin = lin - 1.0
        return const, np.column_stack([lin, -0.5 * self.prec])

    def rounding(self):
        """Estimated absolute rounding error of the expansion, per component (rows near the data)."""
        b = np.abs(self.mean - self.shift) + self.spread
        return 4.0 * self.eps * self.prec * b * b

    def exact(self, rows, j):
        """The factorised log density of component ``j`` from the term's feature rows (``u`` first)."""
        u = rows[0]
        r = (u - (self.mean[j] - self.shift)) * np.sqrt(self.prec[j])
        out = self.base[j] - 0.5 * r * r
        if self.log:
            out -= u + self.shift
        return out

    def stats(self, N, S):
        """Per-component ``MomentStats`` of ``t(x)`` from the sums ``S (k, 2)``; None where redone."""
        out = []
        for j in range(N.size):
            if not N[j] > 0:
                out.append(MomentStats(np.array([0.0]), np.array([0.0]), np.array([0.0])))
                continue
            m = moments(N[j], S[j, 0], S[j, 1], self.shift, self.eps, self.tolerance)
            out.append(None if m is None else MomentStats(np.array([N[j]]), np.array([m[0]]), np.array([m[1]])))
        return out

    def centred(self, x, R):
        """Centred ``MomentStats`` of ``t(x)`` under ``R`` (B, m), for the second pass."""
        return moment_stats_1d(self.transform(x), R)

    def precisions(self):
        return self.prec

    def magnitude(self, span):
        return self.coefficients()[0]


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
    def _feature_term(cls, components):
        """The fused path's term of a stack of normals (see ``genmix._fused``)."""
        return _NormalTerm.of(np.array([c._params["mean"] for c in components]),
                              np.array([c._params["std"] for c in components]), False)

    @classmethod
    def blank(cls):
        """The standard normal N(0, 1)."""
        return cls(0.0, 1.0)
