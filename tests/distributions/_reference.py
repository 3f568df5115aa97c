"""The family table for the generic contract tests: genmix class, parameters, scipy reference, data.

A new univariate family adds one row here and is then checked by every test in ``test_contract.py``.
"""
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import optimize, stats

from genmix import (BernoulliDistribution, BetaDistribution, ExponentialDistribution, GammaDistribution,
                    LogNormalDistribution, NormalDistribution, PoissonDistribution, UniformDistribution)


def numeric_mle(ref, x, w, start, positive):
    """Maximise Σ w·logpdf_scipy(x; θ) with scipy.optimize (θ on a log scale where it must be positive)."""
    positive = np.asarray(positive)

    def unpack(t):
        return np.where(positive, np.exp(t), t)

    def nll(t):
        return -(w @ ref(*unpack(t)).logpdf(x))

    t0 = np.where(positive, np.log(start), start)
    res = optimize.minimize(nll, t0, method="BFGS", options={"gtol": 1e-9})
    return unpack(res.x)


_MAX = np.finfo(np.float64).max


def _normal_mle(x, w):
    mean = np.average(x, weights=w)
    return [mean, np.sqrt(np.average((x - mean) ** 2, weights=w))]


@dataclass
class Family:
    cls: type
    args: tuple
    ref: Callable                      # args -> frozen scipy distribution
    gen: Callable                      # (rng, n) -> data inside the support
    mle: Callable                      # (x, w) -> weighted MLE (closed form, or numeric via scipy)
    mle_rtol: float                    # tolerance of the MLE comparison (looser for iterative M-steps)
    outside: list                      # points outside the support
    invalid: list                      # invalid constructor arguments
    wrong: tuple                       # other parameters a goodness-of-fit test must tell apart
    discrete: bool = False             # sample checked by χ² (True) or Kolmogorov–Smirnov (False)
    unweighted_scipy_fit: Callable = None  # x -> scipy's own fit, in genmix's parameterisation
    degenerate: list = field(default_factory=list)  # parameters at the edge of their range (no mass,
                                                    # or an underflowing one, where the data are)
    extra: dict = field(default_factory=dict)

    @property
    def id(self):
        return self.cls.__name__


FAMILIES = [
    Family(NormalDistribution, (1.5, 2.0), lambda m, s: stats.norm(m, s), lambda rng, n: rng.normal(1.5, 2.0, n),
           _normal_mle, 1e-12, [], [(0.0, 0.0), (0.0, -1.0), (np.nan, 1.0)], (1.9, 2.5),
           unweighted_scipy_fit=lambda x: stats.norm.fit(x), degenerate=[(0.0, 1e-150), (1e300, 1.0)]),
    Family(LogNormalDistribution, (0.4, 0.3), lambda mu, s: stats.lognorm(s=s, scale=np.exp(mu)),
           lambda rng, n: rng.lognormal(0.4, 0.3, n), lambda x, w: _normal_mle(np.log(x), w), 1e-12, [0.0, -1.0],
           [(0.0, 0.0), (np.inf, 1.0)], (0.5, 0.375),
           unweighted_scipy_fit=lambda x: (lambda s, loc, scale: [np.log(scale), s])(*stats.lognorm.fit(x, floc=0)),
           degenerate=[(0.0, 1e-150), (-700.0, 1e-3)]),
    Family(ExponentialDistribution, (2.5,), lambda r: stats.expon(scale=1.0 / r),
           lambda rng, n: rng.exponential(1 / 2.5, n), lambda x, w: [w.sum() / (w @ x)], 1e-12, [-1e-9, -3.0],
           [(0.0,), (-1.0,), (np.inf,)], (3.1,),
           unweighted_scipy_fit=lambda x: [1 / stats.expon.fit(x, floc=0)[1]], degenerate=[(_MAX,)]),
    Family(GammaDistribution, (3.0, 2.0), lambda a, b: stats.gamma(a, scale=1.0 / b),
           lambda rng, n: rng.gamma(3.0, 0.5, n),
           lambda x, w: numeric_mle(lambda a, b: stats.gamma(a, scale=1 / b), x, w, (3.0, 2.0), (True, True)),
           1e-6, [0.0, -2.0], [(0.0, 1.0), (1.0, 0.0), (-1.0, 1.0)], (3.5, 2.5),
           unweighted_scipy_fit=lambda x: (lambda a, loc, scale: [a, 1 / scale])(*stats.gamma.fit(x, floc=0)),
           degenerate=[(1.0, _MAX), (1e12, 1e-300)]),
    Family(BetaDistribution, (2.0, 5.0), lambda a, b: stats.beta(a, b), lambda rng, n: rng.beta(2.0, 5.0, n),
           lambda x, w: numeric_mle(stats.beta, x, w, (2.0, 5.0), (True, True)), 1e-6, [0.0, 1.0, -0.5, 1.5],
           [(0.0, 1.0), (1.0, -1.0)], (2.5, 6.25),
           unweighted_scipy_fit=lambda x: list(stats.beta.fit(x, floc=0, fscale=1)[:2]),
           degenerate=[(1e12, 1e-3), (1e-300, 1e-300)]),
    Family(UniformDistribution, (-1.0, 2.0), lambda a, b: stats.uniform(a, b - a),
           lambda rng, n: rng.uniform(-1.0, 2.0, n), lambda x, w: [x[w > 0].min(), x[w > 0].max()], 1e-15,
           [-1.5, 2.0001], [(1.0, 1.0), (2.0, 1.0), (np.nan, 1.0)], (-1.0, 2.4),
           unweighted_scipy_fit=lambda x: (lambda loc, scale: [loc, loc + scale])(*stats.uniform.fit(x)),
           degenerate=[(100.0, 100.5)]),
    Family(PoissonDistribution, (3.5,), lambda lam: stats.poisson(lam),
           lambda rng, n: rng.poisson(3.5, n).astype(float), lambda x, w: [(w @ x) / w.sum()], 1e-12,
           [-1.0, 2.5, 0.1], [(-1.0,), (np.inf,)], (3.9,), discrete=True,
           unweighted_scipy_fit=lambda x: [x.mean()], degenerate=[(0.0,)]),
    Family(BernoulliDistribution, (0.3,), lambda p: stats.bernoulli(p),
           lambda rng, n: (rng.random(n) < 0.3).astype(float), lambda x, w: [(w @ x) / w.sum()], 1e-12,
           [-1.0, 0.5, 2.0], [(-0.1,), (1.1,), (np.nan,)], (0.36,), discrete=True,
           unweighted_scipy_fit=lambda x: [x.mean()], degenerate=[(0.0,), (1.0,)]),
]
