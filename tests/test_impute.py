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
def test_univariate_missing_value_is_the_mean_or_for_counts_the_mode(fam):
    model = GeneralMixtureModel([fam.cls(*fam.args), fam.cls(*fam.wrong)], weights=[0.25, 0.75])
    a, b = fam.ref(*fam.args), fam.ref(*fam.wrong)
    got = model.impute(np.array([[np.nan]]))[0, 0]
    if hasattr(a, "pmf"):  # Poisson, Bernoulli: the mode of the mixture's pmf, which is in the support
        grid = np.arange(0, 1000)
        assert got == grid[np.argmax(0.25 * a.pmf(grid) + 0.75 * b.pmf(grid))]
    else:
        assert_allclose(got, 0.25 * a.mean() + 0.75 * b.mean(), rtol=1e-12)


@pytest.mark.parametrize("lams, weights", [([20.2, 3.5], [0.5, 0.5]), ([0.01, 400.0], [0.999, 0.001]),
                                           ([7.0, 7.0], [0.5, 0.5]), ([2.5, 9.5], [0.7, 0.3])])
def test_a_missing_count_is_the_posterior_mode_not_a_fraction(lams, weights):
    """The issue's case: a Poisson column must not be filled with 20.20 but with an integer, the argmax of
    Σ_k P(k | x_o) Pois(c; λ_k) (scipy over a wide grid)."""
    from genmix import PoissonDistribution

    model = GeneralMixtureModel([IndependentComponentsDistribution([NormalDistribution(m, 1.0), PoissonDistribution(lam)])
                                 for m, lam in zip([0.0, 4.0], lams)], weights=weights)
    X = np.array([[0.3, np.nan], [3.7, np.nan], [np.nan, np.nan]])
    got = model.impute(X)
    grid = np.arange(0, 2000)
    for row, filled in zip(X, got):
        lp = [np.log(w) + (0.0 if np.isnan(row[0]) else stats.norm(m, 1).logpdf(row[0]))
              for w, m in zip(weights, [0.0, 4.0])]
        post = np.exp(lp - logsumexp(lp))
        pmf = sum(p * stats.poisson(lam).pmf(grid) for p, lam in zip(post, lams))
        assert filled[1] == grid[np.argmax(pmf)]


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


def _four_column_mixture():
    """Normal, Poisson, Bernoulli and categorical columns, two components."""
    from genmix import BernoulliDistribution, PoissonDistribution

    return GeneralMixtureModel([
        IndependentComponentsDistribution([NormalDistribution(0, 1), PoissonDistribution(20.2),
                                           BernoulliDistribution(0.7), DiscreteDistribution({"a": 0.9, "b": 0.1})]),
        IndependentComponentsDistribution([NormalDistribution(5, 1), PoissonDistribution(3.5),
                                           BernoulliDistribution(0.2), DiscreteDistribution({"a": 0.2, "c": 0.8})])])


def test_a_dataframe_is_imputed_into_a_dataframe_with_its_index_columns_and_dtypes():
    pd = pytest.importorskip("pandas")
    model = _four_column_mixture()
    df = pd.DataFrame({"x": [0.1, np.nan, 5.2, np.nan], "k": [np.nan, 3.0, np.nan, 7.0],
                       "b": [np.nan, 1.0, np.nan, 0.0], "c": pd.Categorical(["a", None, None, "c"])},
                      index=[10, 20, 30, 40])
    before = df.copy()
    got = model.impute(df)
    pd.testing.assert_frame_equal(df, before)  # the input is not modified
    assert isinstance(got, pd.DataFrame)
    assert list(got.index) == [10, 20, 30, 40] and list(got.columns) == ["x", "k", "b", "c"]
    assert list(got.dtypes) == list(df.dtypes)
    assert not got.isna().any().any()
    # row 10 (x = 0.1, category 'a') belongs to component 0: mode of Poisson(20.2) is 20, of Bernoulli(0.7) is 1
    assert got.loc[10, "k"] == 20.0 and got.loc[10, "b"] == 1.0
    # row 30 (x = 5.2) belongs to component 1: mode of Poisson(3.5) is 3, of Bernoulli(0.2) 0, category 'c'
    assert got.loc[30, "k"] == 3.0 and got.loc[30, "b"] == 0.0 and got.loc[30, "c"] == "c"
    assert np.array_equal(got.to_numpy(dtype=object), model.impute(df.to_numpy(dtype=object)))


def test_a_dataframe_with_pandas_extension_dtypes_keeps_them():
    """pandas' string dtype (the default for text in pandas 3) and nullable integers and booleans: the filled
    frame has the same extension dtypes, and the values are each component's modes."""
    pd = pytest.importorskip("pandas")
    model = _four_column_mixture()
    df = pd.DataFrame({"x": [0.1, 5.2, 5.1], "k": pd.array([None, None, 4], dtype="Int64"),
                       "b": pd.array([None, None, False], dtype="boolean"),
                       "c": pd.array([None, None, "c"], dtype="string")})
    got = model.impute(df)
    assert list(got.dtypes) == list(df.dtypes)
    assert got["k"].tolist() == [20, 3, 4] and got["b"].tolist() == [True, False, False]
    assert got["c"].tolist() == ["a", "c", "c"]
