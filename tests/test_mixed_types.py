"""Mixtures of per-column families over mixed-type data (categories and numbers), from numpy and pandas."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from scipy.special import logsumexp

from genmix import (BernoulliDistribution, DiscreteDistribution, GammaDistribution, GeneralMixtureModel,
                    IndependentComponentsDistribution, NormalDistribution, PoissonDistribution)

CLASSES = [DiscreteDistribution, NormalDistribution, PoissonDistribution, GammaDistribution, BernoulliDistribution]
TRUE = [({"a": 0.8, "b": 0.15, "c": 0.05}, 0.0, 1.0, 2.0, 2.0, 1.0, 0.2),
        ({"a": 0.2, "b": 0.3, "c": 0.5}, 3.0, 1.0, 6.0, 5.0, 1.0, 0.8)]


def model_from(params, weights):
    return GeneralMixtureModel([IndependentComponentsDistribution([
        DiscreteDistribution(p), NormalDistribution(m, s), PoissonDistribution(lam), GammaDistribution(a, b),
        BernoulliDistribution(q)]) for p, m, s, lam, a, b, q in params], weights=weights)


def column_logpdf(X, p, m, s, lam, a, b, q):
    """Reference log density of each row under one component, from scipy and a dict lookup."""
    cat = np.array([np.log(p[v]) if v in p else -np.inf for v in X[:, 0]])
    x = X[:, 1:].astype(float)
    return (cat + stats.norm(m, s).logpdf(x[:, 0]) + stats.poisson(lam).logpmf(x[:, 1])
            + stats.gamma(a, scale=1 / b).logpdf(x[:, 2]) + stats.bernoulli(q).logpmf(x[:, 3]))


@pytest.fixture
def data():
    return model_from(TRUE, [0.4, 0.6]).sample(1500, random_state=3)


def test_log_probability_and_posteriors_match_reference(data):
    model = model_from(TRUE, [0.4, 0.6])
    ref = np.array([np.log(w) + column_logpdf(data, *p) for w, p in zip([0.4, 0.6], TRUE)])
    assert_allclose(model.log_probability(data), logsumexp(ref, axis=0), rtol=1e-12)
    assert_allclose(model.predict_proba(data), np.exp(ref - logsumexp(ref, axis=0)).T, rtol=1e-10, atol=1e-14)


def reference_em_step(X, weights, params, pseudocount):
    """One EM iteration written independently with numpy (weighted counts and moments)."""
    lp = np.array([np.log(w) + column_logpdf(X, *p) for w, p in zip(weights, params)])
    R = np.exp(lp - logsumexp(lp, axis=0)).T
    x = X[:, 1:].astype(float)
    new = []
    for j in range(R.shape[1]):
        r = R[:, j]
        keys = sorted(params[j][0])
        counts = {k: r[X[:, 0] == k].sum() for k in keys}
        p = {k: (counts[k] + pseudocount) / (r.sum() + pseudocount * len(keys)) for k in keys}
        m = np.average(x[:, 0], weights=r)
        s = np.sqrt(np.average((x[:, 0] - m) ** 2, weights=r))
        lam = np.average(x[:, 1], weights=r)
        mean, mean_log = np.average(x[:, 2], weights=r), np.average(np.log(x[:, 2]), weights=r)
        from scipy.optimize import brentq
        from scipy.special import digamma

        a = brentq(lambda k: np.log(k) - digamma(k) - (np.log(mean) - mean_log), 1e-3, 1e4, xtol=1e-14)
        q = np.average(x[:, 3], weights=r)
        new.append((p, m, s, lam, a, a / mean, q))
    mass = R.sum(axis=0) + pseudocount
    return new, mass / mass.sum()


def test_em_steps_match_an_independent_implementation(data):
    start = [({"a": 0.5, "b": 0.3, "c": 0.2}, 1.0, 2.0, 3.0, 3.0, 1.0, 0.4),
             ({"a": 0.3, "b": 0.3, "c": 0.4}, 2.0, 2.0, 4.0, 4.0, 1.0, 0.6)]
    model = model_from(start, [0.5, 0.5])
    params, weights = start, np.array([0.5, 0.5])
    for _ in range(3):
        params, weights = reference_em_step(data, weights, params, pseudocount=0.5)
    model.fit(data, max_iterations=3, pseudocount=0.5)
    assert_allclose(model.weights, weights, rtol=1e-10)
    for comp, p in zip(model.distributions, params):
        cat, *numbers = [c.parameters for c in comp.distributions]
        assert cat[0] == pytest.approx(p[0], rel=1e-10)
        assert sum(cat[0].values()) == pytest.approx(1.0, abs=1e-14)
        assert_allclose(np.concatenate(numbers), p[1:], rtol=1e-9)


def test_pandas_dataframe_equals_object_array(data):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"cat": pd.Categorical(data[:, 0]), "x": data[:, 1].astype(float),
                       "k": data[:, 2].astype(int), "g": data[:, 3].astype(float), "b": data[:, 4].astype(bool)})
    model = model_from(TRUE, [0.4, 0.6])
    assert_allclose(model.log_probability(df), model.log_probability(data), rtol=1e-14)
    assert_array_equal(model.predict(df), model.predict(data))
    a = model.copy().fit(df, max_iterations=5)
    b = model.copy().fit(data, max_iterations=5)
    assert a.feature_names == ("cat", "x", "k", "g", "b") and b.feature_names is None
    assert {**a.to_dict(), "feature_names": None} == {**b.to_dict(), "feature_names": None}


def test_missing_categories_and_numbers(data):
    model = model_from(TRUE, [0.4, 0.6])
    X = data[:5].copy()
    X[0, 0] = None
    X[1, 1] = np.nan
    full = np.array([np.log(w) + column_logpdf(data[:5], *p) for w, p in zip([0.4, 0.6], TRUE)])
    lp = model.log_probability(X)
    cat0 = np.array([np.log(p[0][data[0, 0]]) for p in TRUE])
    norm1 = np.array([stats.norm(p[1], p[2]).logpdf(float(data[1, 1])) for p in TRUE])
    assert_allclose(lp[0], logsumexp(full[:, 0] - cat0), rtol=1e-12)
    assert_allclose(lp[1], logsumexp(full[:, 1] - norm1), rtol=1e-12)
    model.fit(X)  # missing values are ignored by the statistics


def test_unknown_category_and_bad_numbers(data):
    model = model_from(TRUE, [0.4, 0.6])
    X = data[:3].copy()
    X[2, 0] = "zzz"
    assert np.isneginf(model.log_probability(X)[2])
    with pytest.raises(ValueError, match=r"rows \[2\]"):
        model.fit(X)
    X = data[:3].copy()
    X[1, 1] = "not a number"
    with pytest.raises(TypeError, match="non-numeric value 'not a number'"):
        model.log_probability(X)


def test_from_samples_recovers_the_generating_model(data):
    model = GeneralMixtureModel.from_samples(CLASSES, 2, data, random_state=0)
    order = np.argsort([c.distributions[1].parameters[0] for c in model.distributions])
    assert_allclose(model.weights[order], [0.4, 0.6], atol=0.05)
    for i, p in zip(order, TRUE):
        comp = model.distributions[i].distributions
        assert comp[0].parameters[0] == pytest.approx(p[0], abs=0.06)
        assert_allclose(comp[1].parameters, p[1:3], atol=0.15)
        assert_allclose(comp[2].parameters, [p[3]], rtol=0.1)
        assert_allclose(comp[4].parameters, [p[6]], atol=0.06)
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(data, columns=list("cxkgb")).astype({"c": "category", "x": float, "k": float, "g": float,
                                                           "b": float})
    again = GeneralMixtureModel.from_samples(CLASSES, 2, df, random_state=0)
    assert again.feature_names == tuple("cxkgb")
    assert {**again.to_dict(), "feature_names": None} == {**model.to_dict(), "feature_names": None}


def test_univariate_discrete_mixture_from_samples():
    X = np.array(list("aaaaabbbbbcccccddddd"))[:, None]
    model = GeneralMixtureModel.from_samples(DiscreteDistribution, 2, X, random_state=0)
    for c in model.distributions:
        assert sum(c.parameters[0].values()) == pytest.approx(1.0)
    assert model.sample(5, random_state=0).dtype == object


def _colour_model():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"size": [1.0, 2.0, 1.5, 8.0, 9.0, 8.5], "colour": ["red", "red", "blue", "green", "green", "blue"]})
    return pd, df, GeneralMixtureModel.from_samples([NormalDistribution, DiscreteDistribution], 2, df, random_state=0)


def test_an_unseen_category_is_named_by_column_and_value():
    pd, _, model = _colour_model()
    new = pd.DataFrame({"size": [1.0, 8.0], "colour": ["red", "purple"]})
    for call in (model.predict, model.predict_proba, model.fit, model.summarize):
        with pytest.raises(ValueError, match=r"row 1: column 1 \('colour'\) holds 'purple', which no component can"):
            call(new)
    with pytest.raises(ValueError, match="column 1 holds 'purple'.*matched by position"):
        GeneralMixtureModel(model.distributions.tolist(), model.weights).predict(new.to_numpy())


def test_a_dataframe_is_matched_by_column_name_after_a_fit_on_one():
    pd, df, model = _colour_model()
    assert model.feature_names == ("size", "colour")
    swapped = df[["colour", "size"]]
    assert_array_equal(model.predict(swapped), model.predict(df))
    assert_allclose(model.log_probability(swapped), model.log_probability(df.to_numpy(dtype=object)), rtol=1e-15)
    refit = model.copy().fit(swapped)
    assert refit.feature_names == ("size", "colour")
    assert refit.to_dict() == model.copy().fit(df).to_dict()
    with pytest.raises(ValueError, match=r"missing \['size'\], unknown \['Size'\]"):
        model.predict(df.rename(columns={"size": "Size"}))
    before = model.to_dict()
    with pytest.raises(ValueError, match="matched by name"):
        model.fit(df.rename(columns={"size": "Size"}))
    assert model.to_dict() == before  # a failed call changes nothing
    assert GeneralMixtureModel.from_json(model.to_json()).feature_names == ("size", "colour")
    assert model.copy().fit(df.to_numpy(dtype=object)).feature_names is None  # positional after an array
