"""
A native family in one small file: the Rayleigh distribution
=============================================================

A native family is three pure, vectorised functions and a thin class (see ``genmix/distributions/`` for
the built-in ones, which follow this layout):

* ``_logpdf(X, **stacked) -> (n, k)``: the log density of every row under every component of the stack
  (parameters arrive with a leading component axis, gathered by ``Distribution._gather``);
* ``_suffstats(X, R) -> Stats``: the weighted sufficient statistics, one GEMM-like reduction;
* ``_mle(stats) -> dict``: the maximum-likelihood parameters of one component (``None`` keeps them).

The class declares ``_param_names`` (pomegranate's positional order), validates parameters in
``_check_params``, declares its support (``_support``, a predicate of the values that does not depend on
the parameters) and is registered once with ``@register``, which makes serialisation accept it by
name. Everything else (summarize/from_summaries, inertia, freezing, copies, JSON/YAML, sampling
through ``_sample``, stacking inside mixtures) comes from ``genmix.distributions.Distribution``.
"""
import numpy as np

from genmix.distributions import Distribution, register
from genmix.distributions._stats import sum_stats_1d


def _support(x):
    return x >= 0  # the family's support, whatever sigma: fit and summarize refuse values outside it


def _logpdf(X, sigma):
    x = X[:, :1]
    pos = _support(x)
    xs = np.where(pos, x, 0.0)
    with np.errstate(divide="ignore"):
        lp = np.log(xs) - 2 * np.log(sigma) - xs * xs / (2 * sigma * sigma)
    return np.where(np.isnan(x), 0.0, np.where(pos, lp, -np.inf))


def _suffstats(X, R, **_):
    return sum_stats_1d(X[:, 0], R, lambda x: x * x)  # Σw and Σw·x²


def _mle(stats):
    w = float(stats.w[0])
    return None if not w > 0 else {"sigma": float(np.sqrt(stats.sums[0] / (2 * w)))}


def _sample(rng, n, sigma):
    return rng.rayleigh(sigma, size=n)


@register
class RayleighDistribution(Distribution):
    """A Rayleigh distribution with scale ``sigma`` (> 0)."""

    _param_names = ("sigma",)
    _support = staticmethod(_support)
    _logpdf = staticmethod(_logpdf)
    _suffstats = staticmethod(_suffstats)
    _mle = staticmethod(_mle)
    _sample = staticmethod(_sample)

    def __init__(self, sigma, frozen=False):
        super().__init__({"sigma": sigma}, frozen)

    @classmethod
    def _check_params(cls, sigma):
        sigma = float(sigma)
        if not sigma > 0 or not np.isfinite(sigma):
            raise ValueError(f"The 'sigma' parameter of {cls.__name__} must be a float in the range (0, inf). "
                             f"Got {sigma!r} instead.")
        return {"sigma": sigma}

    @classmethod
    def blank(cls):
        return cls(1.0)


def main():
    from genmix import GeneralMixtureModel

    rng = np.random.default_rng(1)
    x = np.concatenate([rng.rayleigh(1.0, 400), rng.rayleigh(5.0, 600)])
    model = GeneralMixtureModel([RayleighDistribution(0.5), RayleighDistribution(3.0)]).fit(x, stop_threshold=1e-8)
    print(model)
    print(GeneralMixtureModel.from_json(model.to_json()))  # serialisable by name once registered
    return model, x


if __name__ == "__main__":
    main()
