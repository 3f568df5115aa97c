"""The family table for the generic contract tests: genmix class, parameters, scipy reference, data."""
import numpy as np
from scipy import stats

from genmix import ExponentialDistribution, LogNormalDistribution, NormalDistribution


def _normal_mle(x, w):
    mean = np.average(x, weights=w)
    return [mean, np.sqrt(np.average((x - mean) ** 2, weights=w))]


def _lognormal_mle(x, w):
    return _normal_mle(np.log(x), w)


def _exponential_mle(x, w):
    return [w.sum() / (w @ x)]


# (class, constructor args, scipy frozen factory from args, data generator, closed-form weighted MLE,
#  points outside the support, invalid constructor args)
UNIVARIATE = [
    (NormalDistribution, (1.5, 2.0), lambda m, s: stats.norm(m, s),
     lambda rng, n: rng.normal(1.5, 2.0, n), _normal_mle, [], [(0.0, 0.0), (0.0, -1.0), (np.nan, 1.0)]),
    (LogNormalDistribution, (0.4, 0.3), lambda mu, s: stats.lognorm(s=s, scale=np.exp(mu)),
     lambda rng, n: rng.lognormal(0.4, 0.3, n), _lognormal_mle, [0.0, -1.0], [(0.0, 0.0), (np.inf, 1.0)]),
    (ExponentialDistribution, (2.5,), lambda r: stats.expon(scale=1.0 / r),
     lambda rng, n: rng.exponential(1 / 2.5, n), _exponential_mle, [-1e-9, -3.0], [(0.0,), (-1.0,), (np.inf,)]),
]
IDS = [row[0].__name__ for row in UNIVARIATE]
