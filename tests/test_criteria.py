"""BIC, AIC and ICL of GeneralMixtureModel against scikit-learn's and scipy's figures."""
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from genmix import (ExponentialDistribution, GeneralMixtureModel, MultivariateGaussianDistribution as MVN,
                    NormalDistribution)

TYPES = ["full", "tied", "diag", "spherical"]


def data(seed=0, n=900):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal([0, 0, 0], 1.0, (n // 3, 3)), rng.normal([3, 1, -1], 0.7, (n // 3, 3)),
                   rng.normal([-2, 4, 1], [1.5, 0.5, 1.0], (n // 3, 3))])
    return X @ (np.eye(3) + 0.3 * rng.normal(size=(3, 3)))


def from_sklearn(gm):
    """The core model with scikit-learn's fitted parameters."""
    covariances = gm.covariances_
    if gm.covariance_type == "tied":
        covariances = [covariances] * gm.n_components
    return GeneralMixtureModel([MVN(m, c, covariance_type=gm.covariance_type) for m, c in
                                zip(gm.means_, covariances)], weights=gm.weights_)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_bic_aic_icl_equal_scikit_learns_from_its_parameters(covariance_type):
    mixture = pytest.importorskip("sklearn.mixture")
    X = data()
    gm = mixture.GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    model = from_sklearn(gm)
    assert model.n_parameters == gm._n_parameters()
    assert_allclose(model.bic(X), gm.bic(X), rtol=1e-10)
    assert_allclose(model.aic(X), gm.aic(X), rtol=1e-10)
    # ICL: BIC plus twice the entropy of the most probable classification, from scikit-learn's posteriors
    entropy = -np.sum(np.log(gm.predict_proba(X).max(axis=1)))
    assert_allclose(model.icl(X), gm.bic(X) + 2.0 * entropy, rtol=1e-10)
    assert model.icl(X) > model.bic(X)


def test_scipy_reference_weights_frozen_parts_and_missing_values():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(5.0, 1.0, 300), rng.exponential(1.0, 200)])[:, None]
    model = GeneralMixtureModel([NormalDistribution(5.0, 1.2), ExponentialDistribution(0.9)], weights=[0.6, 0.4])
    dens = np.column_stack([0.6 * stats.norm(5.0, 1.2).pdf(x[:, 0]), 0.4 * stats.expon(scale=1 / 0.9).pdf(x[:, 0])])
    loglik = np.log(dens.sum(axis=1)).sum()
    p = 2 + 1 + 1  # Normal (mean, std), Exponential (rate), one free weight
    assert_allclose(model.bic(x), -2 * loglik + p * np.log(500), rtol=1e-12)
    assert_allclose(model.aic(x), -2 * loglik + 2 * p, rtol=1e-12)
    log_map = np.log(dens.max(axis=1) / dens.sum(axis=1)).sum()
    assert_allclose(model.icl(x), -2 * loglik + p * np.log(500) - 2 * log_map, rtol=1e-12)
    # weights count as repeated samples
    counts = rng.integers(0, 4, 500)
    assert_allclose(model.bic(x, counts), model.bic(np.repeat(x, counts, axis=0)), rtol=1e-12)
    assert_allclose(model.icl(x, counts.astype(float)), model.icl(np.repeat(x, counts, axis=0)), rtol=1e-12)
    # a frozen component estimates nothing: its 2 parameters drop out (the rate and the weight stay free)
    model.distributions[0].freeze()
    assert_allclose(model.bic(x), -2 * loglik + 2 * np.log(500), rtol=1e-12)
    model.freeze()
    assert_allclose(model.bic(x), -2 * loglik, rtol=1e-12)
    # missing values: the observed coordinates' density (a Gaussian's marginal)
    mvn = GeneralMixtureModel([MVN([0.0, 0.0], [[1.0, 0.5], [0.5, 2.0]]), MVN([3.0, 1.0], np.eye(2))])
    Y = rng.normal(1.0, 2.0, (50, 2))
    Y[::5, 1] = np.nan
    observed = ~np.isnan(Y[:, 1])
    ref = np.empty(50)
    ref[observed] = np.log(0.5 * stats.multivariate_normal([0, 0], [[1, 0.5], [0.5, 2]]).pdf(Y[observed])
                           + 0.5 * stats.multivariate_normal([3, 1], np.eye(2)).pdf(Y[observed]))
    ref[~observed] = np.log(0.5 * stats.norm(0, 1).pdf(Y[~observed, 0]) + 0.5 * stats.norm(3, 1).pdf(Y[~observed, 0]))
    assert_allclose(mvn.bic(Y), -2 * ref.sum() + 11 * np.log(50), rtol=1e-12)


def test_the_sklearn_estimator_and_the_core_agree():
    mixture = pytest.importorskip("sklearn.mixture")
    from genmix.sklearn import GaussianMixture

    X = data(seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = GaussianMixture(3, covariance_type="diag", random_state=0).fit(X)
    theirs = mixture.GaussianMixture(3, covariance_type="diag", random_state=0).fit(X)
    assert_allclose(gm.bic(X), theirs.bic(X), rtol=1e-10)
    assert_allclose(gm.aic(X), theirs.aic(X), rtol=1e-10)
    entropy = -np.sum(np.log(theirs.predict_proba(X).max(axis=1)))
    assert_allclose(gm.icl(X), theirs.bic(X) + 2.0 * entropy, rtol=1e-10)


def test_bad_input():
    model = GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(3, 1)])
    x = np.linspace(-1, 4, 20)[:, None]
    for method in (model.bic, model.aic, model.icl):
        with pytest.raises(ValueError, match="weights"):
            method(x, np.zeros(20))
        with pytest.raises(ValueError, match="weights"):
            method(x, np.ones(19))
        with pytest.raises(ValueError):
            method(np.ones((5, 2)))
