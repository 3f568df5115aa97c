"""Missing values in mixtures: marginal densities, exact EM monotonicity, mixed families."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from scipy.special import logsumexp

from genmix import (DiscreteDistribution, ExponentialDistribution, GammaDistribution, GeneralMixtureModel,
                    IndependentComponentsDistribution, MultivariateGaussianDistribution, NormalDistribution)
from genmix._fused import FusedEStep

from ._checks import assert_em_monotone


def data(rng, n=300, frac=0.25):
    a = rng.multivariate_normal([0, 0, 0], [[1, 0.6, 0.2], [0.6, 1, 0.3], [0.2, 0.3, 1]], n // 2)
    b = rng.multivariate_normal([3, 2, -1], [[1.5, -0.4, 0], [-0.4, 1, 0.2], [0, 0.2, 0.7]], n - n // 2)
    X = np.vstack([a, b])
    X[rng.random(X.shape) < frac] = np.nan
    X[0] = np.nan  # one row with nothing observed
    return X


def test_mixture_marginal_density_matches_scipy(rng):
    comps = [(np.zeros(3), np.eye(3) + 0.3), (np.array([3.0, 2.0, -1.0]), np.diag([1.5, 1.0, 0.7]))]
    model = GeneralMixtureModel([MultivariateGaussianDistribution(m, c) for m, c in comps], weights=[0.4, 0.6])
    X = data(rng)
    lp = model.log_probability(X)
    for row, value in zip(X, lp):
        o = ~np.isnan(row)
        if not o.any():
            assert value == 0.0  # the empty product: exactly log Σ w = 0
            continue
        ref = logsumexp([np.log(w) + stats.multivariate_normal(m[o], c[np.ix_(o, o)]).logpdf(row[o])
                         for w, (m, c) in zip([0.4, 0.6], comps)])
        assert_allclose(value, ref, rtol=1e-11)


def test_exact_em_never_decreases_with_missing_values(rng):
    X = data(rng)
    model = GeneralMixtureModel([MultivariateGaussianDistribution([0.5, 0.5, 0.5], np.eye(3)),
                                 MultivariateGaussianDistribution([2.0, 1.0, 0.0], np.eye(3))])
    assert_em_monotone(model, X, 60)
    # the all-missing row's posterior is the weights
    assert_allclose(model.predict_proba(X[:1])[0], model.weights, rtol=1e-12)


def test_independent_columns_and_mixed_families_with_missing_values(rng):
    x = np.column_stack([np.concatenate([rng.normal(0, 1, 100), rng.normal(5, 1, 100)]),
                         np.concatenate([rng.exponential(1, 100), rng.exponential(4, 100)])])
    x[rng.random(x.shape) < 0.2] = np.nan
    model = GeneralMixtureModel([IndependentComponentsDistribution([NormalDistribution(1, 1),
                                                                    ExponentialDistribution(1)]),
                                 IndependentComponentsDistribution([NormalDistribution(4, 1),
                                                                    ExponentialDistribution(0.5)])])
    model, history = model.fit(x, stop_threshold=1e-9, return_history=True)
    assert np.all(np.diff(history.log_probabilities) >= -1e-9)
    # a row missing its first value is scored by the second column only
    row = np.array([[np.nan, 2.0]])
    ref = logsumexp([np.log(w) + stats.expon(scale=1 / c.distributions[1].parameters[0]).logpdf(2.0)
                     for w, c in zip(model.weights, model.distributions)])
    assert_allclose(model.log_probability(row), ref, rtol=1e-12)


_EMPTY_ROW_CASES = [  # (components, a row with nothing observed, an observed row, fused path?)
    ("mvn", lambda: [MultivariateGaussianDistribution([1.0, 2.0], [[2.0, 0.3], [0.3, 1.0]]),
                     MultivariateGaussianDistribution([0.0, -1.0], [[1.0, -0.2], [-0.2, 0.5]]),
                     MultivariateGaussianDistribution([4.0, 0.0], [[0.7, 0.0], [0.0, 3.0]])],
     [np.nan, np.nan], [1.0, 2.0], False),
    ("normal", lambda: [NormalDistribution(0, 1), NormalDistribution(3, 2), NormalDistribution(-2, 0.5)],
     [np.nan], [1.0], True),
    ("columns", lambda: [IndependentComponentsDistribution([NormalDistribution(m, 1), GammaDistribution(a, 1)])
                         for m, a in ((0, 2), (3, 3), (-1, 5))], [np.nan, np.nan], [1.0, 1.0], True),
    ("categories", lambda: [IndependentComponentsDistribution([DiscreteDistribution({"a": p, "b": 1 - p}),
                                                               NormalDistribution(m, 1)])
                            for p, m in ((0.2, 0), (0.5, 3), (0.9, -1))], [None, np.nan], ["a", 1.0], False),
]


@pytest.mark.parametrize("make, empty, observed, fused", [c[1:] for c in _EMPTY_ROW_CASES],
                         ids=[c[0] for c in _EMPTY_ROW_CASES])
@pytest.mark.parametrize("weights", [[0.3, 0.6, 0.1], [0.1, 0.2, 0.7]], ids=["w1", "w2"])
def test_row_with_nothing_observed_gets_exactly_the_weights(make, empty, observed, fused, weights):
    # issue #13 item 17: the marginal over no coordinates is the empty product, so the mixture density is
    # Σ w_k = 1 and the posterior is the prior; logsumexp(log w) gave ±5.6e-17 and posteriors 1 ulp off
    model = GeneralMixtureModel(make(), weights=weights)
    X = np.array([empty, observed, empty], dtype=object if None in empty else float)
    if X.dtype == float:
        assert (FusedEStep.build(model.distributions, model.log_weights, X) is not None) == fused
    lp = model.log_probability(X)
    assert lp[0] == 0.0 and lp[2] == 0.0 and lp[1] < 0.0
    for c in model.distributions:
        assert_array_equal(c.log_probability(X[[0]]), [0.0])
    proba = model.predict_proba(X)
    assert_array_equal(proba[[0, 2]], [weights, weights])
    assert_array_equal(model.predict_log_proba(X)[[0, 2]], np.log([weights, weights]))
    assert_allclose(proba[1].sum(), 1.0, rtol=1e-15)


def test_missingness_patterns_are_regrouped_when_the_mask_changes():
    """The pattern grouping is remembered per mask (EM meets the same rows every iteration); a changed
    mask, even of the same array in place, gets its own grouping, and the structure is read-only."""
    from genmix.distributions.multivariate_gaussian import _Missing

    X = np.random.default_rng(0).normal(size=(60, 4))
    X[::3, 1] = np.nan
    first = _Missing(X, np.isnan(X))
    again = _Missing(X, np.isnan(X))
    assert again.rows is first.rows  # served from memory
    X[1, 2] = np.nan
    changed = _Missing(X, np.isnan(X))
    assert changed.rows.size == first.rows.size + 1 and 1 in changed.rows
    with pytest.raises(ValueError):
        changed.rows[0] = 0


def test_remembered_patterns_stay_within_their_cell_budget(monkeypatch):
    import genmix._fused as fused
    import genmix.distributions.multivariate_gaussian as mvn

    monkeypatch.setattr(fused, "_REMEMBERED", type(fused._REMEMBERED)())
    monkeypatch.setattr(fused, "_REMEMBERED_CELLS", 1000)
    rng = np.random.default_rng(1)
    for _ in range(6):
        X = rng.normal(size=(100, 4))
        X[rng.random(X.shape) < 0.3] = np.nan
        mvn._Missing(X, np.isnan(X))  # 400 cells each
    assert sum(k[0][0] * k[0][1] for k in fused._REMEMBERED) <= 1000 and len(fused._REMEMBERED) == 2
    big = rng.normal(size=(400, 4))
    big[0, 0] = np.nan
    mvn._Missing(big, np.isnan(big))  # 1,600 cells: grouped, not kept
    assert all(k[0] != (400, 4) for k in fused._REMEMBERED)
