"""User-defined components: sequences of variable length, nested mixtures."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from scipy.special import logsumexp

from genmix import GeneralMixtureModel, NormalDistribution


class PoissonSequence:
    """Scores a whole variable-length sequence of i.i.d. Poisson counts (like pomegranate's HMM components)."""

    d = 1

    def __init__(self, lam):
        self.lam, self.stats = lam, np.zeros(2)

    def log_probability(self, X):
        return np.array([stats.poisson(self.lam).logpmf(np.asarray(x)).sum() for x in X])

    def summarize(self, X, weights):
        self.stats += [sum(w * np.sum(x) for x, w in zip(X, weights)), sum(w * len(x) for x, w in zip(X, weights))]

    def from_summaries(self, inertia=0.0):
        self.lam = self.stats[0] / self.stats[1]
        self.stats = np.zeros(2)

    def clear_summaries(self):
        self.stats = np.zeros(2)


def test_mixture_of_sequence_models(rng):
    seqs = [rng.poisson(2, rng.integers(3, 9)) for _ in range(40)] + [rng.poisson(9, rng.integers(3, 9))
                                                                     for _ in range(30)]
    model = GeneralMixtureModel([PoissonSequence(1.0), PoissonSequence(5.0)])
    lp = np.array([[stats.poisson(lam).logpmf(s).sum() + np.log(0.5) for lam in (1.0, 5.0)] for s in seqs])
    assert_allclose(model.log_probability(seqs), logsumexp(lp, axis=1), rtol=1e-12)
    # one EM step by hand
    R = np.exp(lp - logsumexp(lp, axis=1, keepdims=True))
    sums, lengths = np.array([s.sum() for s in seqs]), np.array([len(s) for s in seqs])
    model.fit(seqs, max_iterations=1)
    assert_allclose([c.lam for c in model.distributions], (R.T @ sums) / (R.T @ lengths), rtol=1e-12)
    assert_allclose(model.weights, R.mean(axis=0), rtol=1e-12)
    model.fit(seqs)
    assert_array_equal(model.predict(seqs), [0] * 40 + [1] * 30)
    with pytest.raises(ValueError, match="Size of weight vector"):
        model.fit(seqs, weights=np.ones(3))


def test_nested_mixture(rng):
    inner = GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(3, 1)])
    outer = GeneralMixtureModel([inner, NormalDistribution(10, 1)], weights=[0.7, 0.3])
    x = np.array([-1.0, 0.5, 4.0, 9.0])
    expected = np.log(0.7 * (0.5 * stats.norm(0, 1).pdf(x) + 0.5 * stats.norm(3, 1).pdf(x))
                      + 0.3 * stats.norm(10, 1).pdf(x))
    assert_allclose(outer.log_probability(x), expected, rtol=1e-12)
    X = np.concatenate([rng.normal(0, 1, 100), rng.normal(3, 1, 100), rng.normal(10, 1, 80)])
    flat = GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(3, 1), NormalDistribution(10, 1)],
                               weights=[0.35, 0.35, 0.3])
    outer.fit(X, stop_threshold=1e-9)
    flat.fit(X, stop_threshold=1e-9)
    # the nested model is the flat three-component model with weights w_outer * w_inner
    assert_allclose(outer.log_probability(X).sum(), flat.log_probability(X).sum(), rtol=1e-6)
    again = GeneralMixtureModel.from_json(outer.to_json())
    assert_allclose(again.log_probability(X), outer.log_probability(X), rtol=1e-14)
    assert outer.sample(5, random_state=0).shape == (5,)


class UserGaussian:
    """A full-covariance Gaussian written by a user (not a genmix Distribution): pomegranate 0.x's duck type."""

    def __init__(self, mean, cov):
        self.mean, self.cov, self.d = np.asarray(mean, float), np.asarray(cov, float), len(mean)
        self.clear_summaries()

    @classmethod
    def blank(cls):
        return cls(np.zeros(2), np.eye(2))

    @classmethod
    def from_samples(cls, X, weights=None):
        model = cls.blank()
        model.summarize(X, np.ones(len(X)) if weights is None else weights)
        model.from_summaries()
        return model

    def log_probability(self, X):
        return stats.multivariate_normal(self.mean, self.cov).logpdf(X)

    def summarize(self, X, weights):
        X, w = np.asarray(X, float), np.asarray(weights, float)
        self.sums = [self.sums[0] + w.sum(), self.sums[1] + w @ X, self.sums[2] + (X * w[:, None]).T @ X]

    def from_summaries(self, inertia=0.0):
        w, wx, wxx = self.sums
        self.mean = wx / w
        self.cov = wxx / w - np.outer(self.mean, self.mean)
        self.clear_summaries()

    def clear_summaries(self):
        self.sums = [0.0, np.zeros(self.d), np.zeros((self.d, self.d))]


def test_user_defined_multivariate_class_in_from_samples(rng):
    from genmix import MultivariateGaussianDistribution

    # pomegranate 0.x decides "multivariate" by blank().d > 1: a user class with d = 2 models whole rows,
    # exactly as MultivariateGaussianDistribution does (same k-means start, then EM)
    X = np.vstack([rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], 150),
                   rng.multivariate_normal([5, 2], [[0.5, -0.2], [-0.2, 1.5]], 100)])
    options = dict(max_kmeans_iterations=10, stop_threshold=1e-9, random_state=3)
    user = GeneralMixtureModel.from_samples(UserGaussian, 2, X, **options)
    native = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 2, X, **options)
    assert all(isinstance(c, UserGaussian) for c in user.distributions)
    assert_allclose(user.weights, native.weights, rtol=1e-8)
    for u, g in zip(user.distributions, native.distributions):
        assert_allclose(u.mean, g.parameters[0], rtol=1e-8)
        assert_allclose(u.cov, g.parameters[1], rtol=1e-7)
    # and EM has converged: each mean is its posterior-weighted mean of the data (an M-step fixed point)
    R = user.predict_proba(X)
    for i, u in enumerate(user.distributions):
        mean = R[:, i] @ X / R[:, i].sum()
        assert_allclose(u.mean, mean, atol=1e-5)
