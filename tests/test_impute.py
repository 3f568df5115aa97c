"""Imputation: conditional expectations under the fitted mixture, against closed forms and scipy."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from scipy.special import logsumexp

from genmix import (DirichletDistribution, DiscreteDistribution, GeneralMixtureModel,
                    IndependentComponentsDistribution, MultivariateGaussianDistribution, NormalDistribution)

from .distributions._reference import FAMILIES

MEAN = np.array([1.0, -2.0, 0.5])
COV = np.array([[2.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 0.5]])


def conditional_mean(mean, cov, x):
    """E[x_m | x_o] for one row, by numpy.linalg.solve (independent of genmix)."""
    o, m = ~np.isnan(x), np.isnan(x)
    out = x.copy()
    out[m] = mean[m] + cov[np.ix_(m, o)] @ np.linalg.solve(cov[np.ix_(o, o)], x[o] - mean[o])
    return out


def test_single_gaussian_conditional_mean(rng):
    X = rng.multivariate_normal(MEAN, COV, 30)
    X[::3, 1] = np.nan
    X[1::3, [0, 2]] = np.nan
    X[2] = np.nan
    before = X.copy()
    got = GeneralMixtureModel([MultivariateGaussianDistribution(MEAN, COV)]).impute(X)
    assert_array_equal(X, before)  # the input is not modified
    for row, filled in zip(X, got):
        assert_allclose(filled, conditional_mean(MEAN, COV, row), rtol=1e-12)


def test_mixture_weights_conditional_means_by_posterior(rng):
    comps = [(MEAN, COV), (MEAN + 3, np.eye(3))]
    model = GeneralMixtureModel([MultivariateGaussianDistribution(m, c) for m, c in comps], weights=[0.3, 0.7])
    X = rng.normal(1, 2, (20, 3))
    X[:, 1] = np.nan
    got = model.impute(X)
    for row, filled in zip(X, got):
        o = ~np.isnan(row)
        lp = [np.log(w) + stats.multivariate_normal(m[o], c[np.ix_(o, o)]).logpdf(row[o])
              for w, (m, c) in zip([0.3, 0.7], comps)]
        post = np.exp(lp - logsumexp(lp))
        expected = sum(p * conditional_mean(m, c, row) for p, (m, c) in zip(post, comps))
        assert_allclose(filled, expected, rtol=1e-10)


@pytest.mark.parametrize("fam", FAMILIES, ids=[f.id for f in FAMILIES])
def test_univariate_missing_value_is_the_mean(fam):
    model = GeneralMixtureModel([fam.cls(*fam.args), fam.cls(*fam.wrong)], weights=[0.25, 0.75])
    expected = 0.25 * fam.ref(*fam.args).mean() + 0.75 * fam.ref(*fam.wrong).mean()
    assert_allclose(model.impute(np.array([[np.nan]]))[0, 0], expected, rtol=1e-12)


def test_dirichlet_shares_the_remaining_mass():
    model = GeneralMixtureModel([DirichletDistribution([2.0, 3.0, 5.0])])
    got = model.impute(np.array([[0.2, np.nan, np.nan]]))
    assert_allclose(got, [[0.2, 0.8 * 3 / 8, 0.8 * 5 / 8]], rtol=1e-12)


def test_categorical_column_takes_the_posterior_predictive_mode():
    model = GeneralMixtureModel([
        IndependentComponentsDistribution([DiscreteDistribution({"a": 0.9, "b": 0.1}), NormalDistribution(0, 1)]),
        IndependentComponentsDistribution([DiscreteDistribution({"a": 0.2, "b": 0.8}), NormalDistribution(5, 1)])])
    X = np.array([[None, 0.1], [None, 4.9], ["a", np.nan]], dtype=object)
    got = model.impute(X)
    assert got[0, 0] == "a" and got[1, 0] == "b"
    # given only the category 'a' (the number is missing): posterior ∝ weight × π_k('a')
    post_a = np.array([0.5 * 0.9, 0.5 * 0.2])
    assert_allclose(got[2, 1], (post_a / post_a.sum()) @ [0.0, 5.0], rtol=1e-12)


def test_complete_rows_are_returned_unchanged(rng):
    X = rng.normal(size=(5, 3))
    got = GeneralMixtureModel([MultivariateGaussianDistribution(MEAN, COV)]).impute(X)
    assert_array_equal(got, X) and got is not X
