"""Free-parameter counts (for BIC/AIC): closed forms per family, and scikit-learn's count for Gaussians."""
import numpy as np
import pytest

from genmix import (DiscreteDistribution, ExponentialDistribution, GaussianKernelDensity, GeneralMixtureModel,
                    IndependentComponentsDistribution, MultivariateGaussianDistribution, NormalDistribution,
                    PoissonDistribution)


def test_univariate_families_count_their_numbers():
    assert NormalDistribution(0, 1).n_parameters == 2
    assert ExponentialDistribution(1).n_parameters == 1
    assert PoissonDistribution(2).n_parameters == 1
    model = GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(1, 1), ExponentialDistribution(1)])
    assert model.n_parameters == 2 + 2 + 1 + 2  # components plus k - 1 weights


def test_constrained_and_composite_families():
    assert DiscreteDistribution({"a": 0.2, "b": 0.3, "c": 0.5}).n_parameters == 2
    row = IndependentComponentsDistribution([NormalDistribution(0, 1), DiscreteDistribution({"x": 0.5, "y": 0.5})])
    assert row.n_parameters == 3
    row.distributions[0].freeze()
    assert row.n_parameters == 1
    assert MultivariateGaussianDistribution(np.zeros(3), np.eye(3)).n_parameters == 3 + 6


def test_frozen_parts_count_nothing():
    a, b = NormalDistribution(0, 1), NormalDistribution(1, 1)
    b.freeze()
    model = GeneralMixtureModel([a, b])
    assert model.n_parameters == 2 + 1
    model.freeze()
    assert model.n_parameters == 0


def test_full_gaussian_mixture_matches_scikit_learn():
    mixture = pytest.importorskip("sklearn.mixture")
    X = np.random.default_rng(0).normal(size=(200, 4))
    theirs = mixture.GaussianMixture(3, random_state=0).fit(X)
    ours = GeneralMixtureModel([MultivariateGaussianDistribution(m, c) for m, c in zip(theirs.means_,
                                                                                        theirs.covariances_)])
    assert ours.n_parameters == theirs._n_parameters()


def test_uncountable_components_say_so():
    with pytest.raises(NotImplementedError, match="nonparametric"):
        GaussianKernelDensity([0.0, 1.0]).n_parameters

    class User:
        d = 1

        def log_probability(self, X):
            return np.zeros(len(np.atleast_1d(X)))

    with pytest.raises(TypeError, match="n_parameters"):
        GeneralMixtureModel([User(), NormalDistribution(0, 1)]).n_parameters
