import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import optimize, stats

from genmix import DirichletDistribution, GeneralMixtureModel

ALPHA = np.array([2.0, 3.0, 5.0])


def test_log_probability_matches_scipy(rng):
    X = rng.dirichlet(ALPHA, 300)
    d = DirichletDistribution(ALPHA)
    assert_allclose(d.log_probability(X), stats.dirichlet(ALPHA).logpdf(X.T), rtol=1e-12)
    assert isinstance(d.log_probability(X[0]), float)
    # pomegranate 0.x gave -0.88015 here (alpha instead of alpha - 1)
    two = DirichletDistribution([2, 3])
    assert_allclose(two.log_probability([0.4, 0.6]), stats.dirichlet([2, 3]).logpdf([0.4, 0.6]))
    assert_allclose(DirichletDistribution([2, 3]).log_probability([0.4, 0.6]), 0.54696, atol=1e-5)


def test_off_simplex_is_neg_inf_and_missing_values_marginalise(rng):
    d = DirichletDistribution(ALPHA)
    assert np.all(np.isneginf(d.log_probability([[0.5, 0.6, -0.1], [0.2, 0.2, 0.2], [0.0, 0.5, 0.5]])))
    x = rng.dirichlet(ALPHA)
    # only x0 observed: Beta(α0, α1 + α2) (aggregation property)
    assert_allclose(d.log_probability([[x[0], np.nan, np.nan]]), stats.beta(2, 8).logpdf(x[0]), rtol=1e-12)
    assert d.log_probability([[np.nan, np.nan, np.nan]])[0] == 0.0


def test_weighted_fit_is_the_mle(rng):
    X = rng.dirichlet(ALPHA, 400)
    w = rng.uniform(0.2, 2.0, 400)
    fitted = DirichletDistribution.from_samples(X, w)
    res = optimize.minimize(lambda t: -(w @ stats.dirichlet(np.exp(t)).logpdf(X.T)), np.log(ALPHA), method="BFGS",
                            options={"gtol": 1e-10})
    assert_allclose(fitted.parameters[0], np.exp(res.x), rtol=1e-6)
    assert w @ fitted.log_probability(X) >= -res.fun - 1e-9 * abs(res.fun)
    counts = rng.integers(0, 3, 400)
    assert_allclose(DirichletDistribution.from_samples(X, counts.astype(float)).parameters[0],
                    DirichletDistribution.from_samples(np.repeat(X, counts, axis=0)).parameters[0], rtol=1e-10)


def test_degenerate_and_invalid():
    d = DirichletDistribution.from_samples(np.tile([0.2, 0.3, 0.5], (5, 1)))
    assert np.all(np.isfinite(d.parameters[0]))
    assert_allclose(np.array(d.parameters[0]) / np.sum(d.parameters[0]), [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="alphas"):
        DirichletDistribution([1.0, -1.0])
    with pytest.raises(ValueError, match="alphas"):
        DirichletDistribution([1.0])


def test_sample_round_trip_and_mixture(rng):
    d = DirichletDistribution(ALPHA)
    S = d.sample(4000, random_state=1)
    assert_allclose(S.mean(axis=0), ALPHA / ALPHA.sum(), atol=0.01)
    assert_array_equal(d.sample(3, random_state=2), d.sample(3, random_state=2))
    assert DirichletDistribution.from_json(d.to_json()).parameters == d.parameters
    X = np.vstack([rng.dirichlet([10, 1, 1], 100), rng.dirichlet([1, 1, 10], 100)])
    model = GeneralMixtureModel([DirichletDistribution([2, 1, 1.0]), DirichletDistribution([1, 1, 2.0])]).fit(X)
    assert_allclose(model.weights, [0.5, 0.5], atol=0.05)
