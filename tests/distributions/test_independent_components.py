import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from genmix import (ExponentialDistribution, IndependentComponentsDistribution, LogNormalDistribution,
                    NormalDistribution)


def _ref_logpdf(X):
    return (stats.norm(5, 2).logpdf(X[:, 0]) + stats.expon(scale=1.0).logpdf(X[:, 1])
            + stats.lognorm(s=0.1, scale=np.exp(0.4)).logpdf(X[:, 2]))


def _model():
    return IndependentComponentsDistribution([NormalDistribution(5, 2), ExponentialDistribution(1),
                                              LogNormalDistribution(0.4, 0.1)])


def test_log_probability_is_sum_of_columns(rng):
    X = np.column_stack([rng.normal(5, 2, 50), rng.exponential(1, 50), rng.lognormal(0.4, 0.1, 50)])
    d = _model()
    assert d.d == 3
    assert_allclose(d.log_probability(X), _ref_logpdf(X), rtol=1e-12)
    X[3, 1] = -1.0
    assert np.isneginf(d.log_probability(X)[3])
    X[4, 0] = np.nan
    expected = stats.expon(scale=1.0).logpdf(X[4, 1]) + stats.lognorm(s=0.1, scale=np.exp(0.4)).logpdf(X[4, 2])
    assert_allclose(d.log_probability(X)[4], expected, rtol=1e-12)


def test_column_weights_multiply_log_densities():
    # pomegranate 0.x: weights [18, 1] on N(5, 2), Exp(2) at (4, 1) give -32.574395667196
    d = IndependentComponentsDistribution([NormalDistribution(5, 2), ExponentialDistribution(2)], [18, 1])
    expected = 18 * stats.norm(5, 2).logpdf(4) + stats.expon(scale=0.5).logpdf(1)
    assert_allclose(d.log_probability([4, 1]), expected, rtol=1e-12)
    assert_allclose(expected, -32.574395667196, rtol=1e-12)


def test_fit_fits_each_column(rng):
    X = np.column_stack([rng.normal(3, 1, 300), rng.exponential(0.5, 300), rng.lognormal(0.8, 0.2, 300)])
    w = rng.uniform(0.5, 1.5, 300)
    d = _model().fit(X, w)
    m = np.average(X[:, 0], weights=w)
    lm = np.average(np.log(X[:, 2]), weights=w)
    assert_allclose(d.distributions[0].parameters, [m, np.sqrt(np.average((X[:, 0] - m) ** 2, weights=w))],
                    rtol=1e-12)
    assert_allclose(d.distributions[1].parameters, [w.sum() / (w @ X[:, 1])], rtol=1e-12)
    assert_allclose(d.distributions[2].parameters,
                    [lm, np.sqrt(np.average((np.log(X[:, 2]) - lm) ** 2, weights=w))], rtol=1e-12)
    fitted = IndependentComponentsDistribution.from_samples(
        X, w, distributions=[NormalDistribution, ExponentialDistribution, LogNormalDistribution])
    assert_allclose(fitted.distributions[1].parameters, d.distributions[1].parameters, rtol=1e-12)


def test_frozen_children_and_inertia(rng):
    X = np.column_stack([rng.normal(3, 1, 100), rng.exponential(0.5, 100), rng.lognormal(0.8, 0.2, 100)])
    d = _model()
    d.distributions[1].freeze()
    d.fit(X, inertia=0.5)
    assert d.distributions[1].parameters == [1.0]
    m = X[:, 0].mean()
    assert_allclose(d.distributions[0].parameters[0], 0.5 * 5 + 0.5 * m, rtol=1e-12)
    d.freeze()
    before = [c.parameters for c in d.distributions]
    d.fit(X)
    assert [c.parameters for c in d.distributions] == before


def test_validation():
    with pytest.raises(TypeError, match="initialised"):
        IndependentComponentsDistribution([NormalDistribution, ExponentialDistribution(1)])
    with pytest.raises(ValueError, match="one entry per distribution"):
        IndependentComponentsDistribution([NormalDistribution(0, 1)], [1, 2])
    with pytest.raises(ValueError, match="non-negative"):
        IndependentComponentsDistribution([NormalDistribution(0, 1)], [-1])
    with pytest.raises(ValueError, match="at least one"):
        IndependentComponentsDistribution([])
    with pytest.raises(ValueError, match="columns"):
        _model().log_probability(np.ones((2, 2)))
    with pytest.raises(ValueError, match="distributions"):
        IndependentComponentsDistribution.from_samples(np.ones((3, 2)))


def test_sample_columns():
    X = _model().sample(4000, random_state=3)
    assert X.shape == (4000, 3)
    assert stats.kstest(X[:, 0], stats.norm(5, 2).cdf).pvalue > 1e-3
    assert stats.kstest(X[:, 1], stats.expon().cdf).pvalue > 1e-3
    assert stats.kstest(X[:, 2], stats.lognorm(s=0.1, scale=np.exp(0.4)).cdf).pvalue > 1e-3
