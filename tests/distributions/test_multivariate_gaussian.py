import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import optimize, stats

from genmix import MultivariateGaussianDistribution, NumericalWarning

MEAN = np.array([1.0, -2.0, 0.5])
COV = np.array([[2.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 0.5]])


def test_log_probability_matches_scipy(rng):
    d = MultivariateGaussianDistribution(MEAN, COV)
    X = rng.multivariate_normal(MEAN, COV, 300) * 1.5
    ref = stats.multivariate_normal(MEAN, COV)
    assert_allclose(d.log_probability(X), ref.logpdf(X), rtol=1e-12)
    assert_allclose(d.probability(X), ref.pdf(X), rtol=1e-12)
    single = d.log_probability(X[0])
    assert isinstance(single, float)
    assert_allclose(single, ref.logpdf(X[0]), rtol=1e-12)


def test_missing_values_marginalise(rng):
    d = MultivariateGaussianDistribution(MEAN, COV)
    X = rng.multivariate_normal(MEAN, COV, 40)
    X[::3, 1] = np.nan
    X[1::3, [0, 2]] = np.nan
    X[5] = np.nan
    lp = d.log_probability(X)
    for i, row in enumerate(X):
        obs = ~np.isnan(row)
        expected = 0.0 if not obs.any() else stats.multivariate_normal(MEAN[obs], COV[np.ix_(obs, obs)]).logpdf(
            row[obs])
        assert_allclose(lp[i], expected, rtol=1e-12, atol=1e-14)


def test_fit_is_weighted_mle(rng):
    X = rng.multivariate_normal(MEAN, COV, 500)
    w = rng.uniform(0.1, 2.0, 500)
    d = MultivariateGaussianDistribution.from_samples(X, w)
    mean = np.average(X, axis=0, weights=w)
    cov = np.cov(X.T, aweights=w, bias=True)
    assert_allclose(d.parameters[0], mean, rtol=1e-12)
    assert_allclose(d.parameters[1], cov, rtol=1e-11, atol=1e-14)
    # its own fit takes pseudocount (DESIGN §2; issue #13 item 16): nothing to smooth, the same MLE
    own = MultivariateGaussianDistribution.blank(3).fit(X, w, pseudocount=1.0)
    assert_allclose(own.parameters[0], mean, rtol=1e-12)
    assert_allclose(own.parameters[1], cov, rtol=1e-11, atol=1e-14)
    X[::7, 1] = np.nan  # the missing-value path (EM to the observed-data MLE) takes it too
    assert MultivariateGaussianDistribution.blank(3).fit(X, w, pseudocount=1.0).to_dict() == \
        MultivariateGaussianDistribution.blank(3).fit(X, w).to_dict()


def test_summaries_add_up_and_weights_repeat(rng):
    X = rng.multivariate_normal(MEAN, COV, 90)
    counts = rng.integers(0, 3, 90).astype(float)
    d = MultivariateGaussianDistribution.blank(3)
    d.summarize(X[:40], counts[:40])
    d.summarize(X[40:], counts[40:])
    d.from_summaries()
    repeated = MultivariateGaussianDistribution.from_samples(np.repeat(X, counts.astype(int), axis=0))
    assert_allclose(d.parameters[0], repeated.parameters[0], rtol=1e-12)
    assert_allclose(d.parameters[1], repeated.parameters[1], rtol=1e-11)


def test_large_offset_keeps_precision(rng):
    X = rng.multivariate_normal(MEAN, COV, 200)
    ref = MultivariateGaussianDistribution.from_samples(X)
    shifted = MultivariateGaussianDistribution.from_samples(X + 1e6)
    assert_allclose(np.array(shifted.parameters[0]) - 1e6, ref.parameters[0], atol=1e-8)
    assert_allclose(shifted.parameters[1], ref.parameters[1], rtol=1e-8)


def test_invalid_parameters():
    with pytest.raises(ValueError, match="positive definite"):
        MultivariateGaussianDistribution([0, 0], [[1, 2], [2, 1]])
    with pytest.raises(ValueError, match="positive definite"):
        MultivariateGaussianDistribution([0, 0], [[1, 1], [1, 1]])
    with pytest.raises(ValueError, match="shape"):
        MultivariateGaussianDistribution([0, 0], np.eye(3))
    with pytest.raises(ValueError, match="symmetric"):
        MultivariateGaussianDistribution([0, 0], [[1, 0.5], [0.1, 1]])
    with pytest.raises(ValueError, match="finite"):
        MultivariateGaussianDistribution([0, np.nan], np.eye(2))
    with pytest.raises(ValueError, match="min_covar"):
        MultivariateGaussianDistribution([0, 0], np.eye(2), min_covar=-1)


def test_singular_fit_is_floored_with_a_warning():
    X = np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])  # collinear
    d = MultivariateGaussianDistribution.blank(2)
    with pytest.warns(NumericalWarning, match="min_covar"):
        d.fit(X)
    cov = np.array(d.parameters[1])
    eig = np.linalg.eigvalsh(cov)
    scale = np.trace(np.cov(X.T, bias=True)) / 2
    assert_allclose(eig.min(), 1e-6 * scale, rtol=1e-6)
    assert np.all(np.isfinite(d.log_probability(X)))
    strict = MultivariateGaussianDistribution.blank(2)
    strict.min_covar = 0.0
    with pytest.raises(ValueError, match="min_covar"):
        strict.fit(X)
    assert_allclose(strict.parameters[1], np.eye(2))


def test_well_conditioned_fit_is_exact_mle(rng):
    X = rng.multivariate_normal(MEAN, COV, 50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = MultivariateGaussianDistribution.from_samples(X)
    assert_allclose(d.parameters[1], np.cov(X.T, bias=True), rtol=1e-12)


def test_sample_moments():
    d = MultivariateGaussianDistribution(MEAN, COV)
    X = d.sample(20000, random_state=1)
    assert X.shape == (20000, 3)
    assert_allclose(X.mean(axis=0), MEAN, atol=4 * np.sqrt(COV.diagonal().max() / 20000))
    assert_allclose(np.cov(X.T), COV, atol=0.05)
    assert d.sample(random_state=0).shape == (3,)


def _observed_loglik(theta, X):
    """Σ over rows of scipy's log density of the observed coordinates (grouped by missingness pattern)."""
    mean = theta[:2]
    L = np.array([[np.exp(theta[2]), 0.0], [theta[3], np.exp(theta[4])]])
    cov = L @ L.T
    total = 0.0
    observed = ~np.isnan(X)
    for pattern in np.unique(observed, axis=0):
        if pattern.any():
            rows = X[(observed == pattern).all(axis=1)][:, pattern]
            total += stats.multivariate_normal(mean[pattern], cov[np.ix_(pattern, pattern)]).logpdf(rows).sum()
    return total


def test_em_with_missing_values_reaches_the_observed_data_mle(rng):
    """Exact EM (conditional expectations) converges to the maximiser of the observed-data likelihood."""
    X = rng.multivariate_normal([1.0, 2.0], [[1.0, 0.8], [0.8, 2.0]], 60)
    X[rng.random(60) < 0.3, 1] = np.nan
    X[rng.random(60) < 0.2, 0] = np.nan
    d = MultivariateGaussianDistribution.blank(2)
    previous = -np.inf
    for _ in range(500):
        d.summarize(X)
        d.from_summaries()
        current = d.log_probability(X).sum()
        assert current >= previous - 1e-10  # EM never decreases the observed-data likelihood
        previous = current
    res = optimize.minimize(lambda t: -_observed_loglik(t, X), np.array([0, 0, 0, 0, 0.0]), method="BFGS",
                            options={"gtol": 1e-9})
    L = np.array([[np.exp(res.x[2]), 0.0], [res.x[3], np.exp(res.x[4])]])
    assert_allclose(d.parameters[0], res.x[:2], atol=1e-5)
    assert_allclose(d.parameters[1], L @ L.T, atol=1e-5)
    assert_allclose(previous, -res.fun, rtol=1e-10)
    # fit() iterates EM itself, so a single call gives the observed-data MLE
    fitted = MultivariateGaussianDistribution.from_samples(X)
    assert_allclose(fitted.parameters[0], res.x[:2], atol=1e-5)
    assert_allclose(fitted.parameters[1], L @ L.T, atol=1e-5)
    assert_allclose(fitted.log_probability(X).sum(), -res.fun, rtol=1e-10)
    with pytest.raises(ValueError, match="no observed value"):
        MultivariateGaussianDistribution.blank(2).fit(np.array([[1.0, np.nan], [2.0, np.nan]]))


def test_data_without_spread_give_a_finite_floored_fit():
    # one point, and a mixture whose component collapses onto subnormal spread (found by hypothesis)
    with pytest.warns(NumericalWarning):
        d = MultivariateGaussianDistribution.from_samples(np.array([[0.0, 464.0]]))
    assert_allclose(np.linalg.eigvalsh(d.parameters[1]), (4 * np.finfo(float).eps * 464) ** 2, rtol=1e-6)
    from genmix import GeneralMixtureModel

    X = np.array([[0, 464], [0, 0], [0, 0], [0, 0.0]])
    model = GeneralMixtureModel([MultivariateGaussianDistribution([0.0, 0.0], np.eye(2) * 100),
                                 MultivariateGaussianDistribution([50.0, -50.0], np.eye(2) * 400)], weights=[0.3, 0.7])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    for c in model.distributions:
        assert np.all(np.linalg.eigvalsh(c.parameters[1]) >= 1e-150)
    assert np.all(np.isfinite(model.log_probability(X)))
