"""genmix.sklearn.GeneralMixture: any family as a scikit-learn estimator, checked against scipy and
scikit-learn."""
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from scipy.special import logsumexp

pytest.importorskip("sklearn")
from sklearn import mixture  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402

from genmix import (DiscreteDistribution, ExponentialDistribution, IndependentComponentsDistribution,  # noqa: E402
                    NormalDistribution, PoissonDistribution)
from genmix.sklearn import GeneralMixture  # noqa: E402


def exponentials(seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.exponential(1.0, 700), rng.exponential(8.0, 300)])[:, None]


def test_an_exponential_fit_is_a_fixed_point_of_em_written_with_scipy():
    X = exponentials()
    gm = GeneralMixture("exponential", n_components=2, tol=1e-13, max_iter=100_000, random_state=0).fit(X)
    assert gm.converged_
    rates = np.array([c.parameters[0] for c in gm.model_.distributions])
    x = X[:, 0]
    log_joint = np.log(gm.weights_) + stats.expon(scale=1 / rates).logpdf(x[:, None])
    assert_allclose(gm.score_samples(X), logsumexp(log_joint, axis=1), rtol=1e-12)
    R = np.exp(log_joint - logsumexp(log_joint, axis=1)[:, None])  # one EM step by hand
    assert_allclose(R.sum(axis=0) / len(x), gm.weights_, rtol=1e-5)  # EM's slow linear convergence
    assert_allclose(R.sum(axis=0) / (R.T @ x), rates, rtol=1e-5)
    assert_allclose(gm.lower_bound_, gm.score(X), rtol=1e-9)


def test_normal_mixture_reaches_scikit_learns_optimum():
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(0, 1, 600), rng.normal(6, 0.5, 400)])[:, None]
    ours = GeneralMixture("normal", 2, tol=1e-9, max_iter=2000, random_state=0).fit(X)
    theirs = mixture.GaussianMixture(2, tol=1e-9, max_iter=2000, reg_covar=0.0, random_state=0).fit(X)
    assert_allclose(ours.score(X), theirs.score(X), rtol=1e-7)
    assert_allclose(np.sort(ours.weights_), np.sort(theirs.weights_), rtol=1e-5)
    assert ours.model_.n_parameters == theirs._n_parameters() == 5
    assert_allclose(ours.bic(X), theirs.bic(X), rtol=1e-7)
    assert_allclose(ours.aic(X), theirs.aic(X), rtol=1e-7)


def test_families_by_class_name_list_and_auto():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(2)
    n = 400
    frame = pd.DataFrame({"height": rng.normal(170, 10, n), "colour": pd.Categorical(rng.choice(["r", "g"], n)),
                          "count": rng.poisson(3, n), "flag": rng.random(n) < 0.3})
    gm = GeneralMixture("auto", n_components=2, random_state=0).fit(frame)
    columns = [type(c) for c in gm.model_.distributions[0].distributions]
    assert columns == [NormalDistribution, DiscreteDistribution, PoissonDistribution, DiscreteDistribution]
    assert_array_equal(gm.feature_names_in_, ["height", "colour", "count", "flag"])
    assert gm.predict(frame).shape == (n,)
    X = np.column_stack([rng.normal(size=n), rng.exponential(size=n)])
    by_name = GeneralMixture(["normal", "exponential"], 2, random_state=0).fit(X)
    by_class = GeneralMixture([NormalDistribution, ExponentialDistribution], 2, random_state=0).fit(X)
    assert_allclose(by_name.score_samples(X), by_class.score_samples(X), rtol=0)
    assert isinstance(by_name.model_.distributions[0], IndependentComponentsDistribution)
    with pytest.raises(ValueError, match="one of"):
        GeneralMixture("weibull").fit(X)
    with pytest.raises(ValueError, match="one per column"):
        GeneralMixture(["normal"]).fit(X)
    with pytest.raises(TypeError, match="distribution class"):
        GeneralMixture([3, 4]).fit(X)
    with pytest.raises(InvalidParameterError):
        GeneralMixture(n_components=0).fit(X)


def test_sample_weights_act_as_counts():
    X = exponentials(3)
    counts = np.random.default_rng(0).integers(1, 4, len(X))
    weighted = GeneralMixture("exponential", 2, init="first-k", tol=1e-10, max_iter=5000).fit(X, sample_weight=counts)
    repeated = GeneralMixture("exponential", 2, init="first-k", tol=1e-10, max_iter=5000).fit(np.repeat(X, counts, 0))
    assert_allclose(weighted.score(X, sample_weight=counts), repeated.score(np.repeat(X, counts, 0)), rtol=1e-8)


def test_works_where_scikit_learn_estimators_live():
    X = exponentials(4)
    gm = GeneralMixture("exponential", 2, random_state=0)
    assert clone(gm).get_params() == gm.get_params()
    pipe = make_pipeline(FunctionTransformer(lambda a: a * 2.0), GeneralMixture("exponential", 2, random_state=0))
    assert np.isfinite(pipe.fit(X).score(X))
    search = GridSearchCV(GeneralMixture("exponential", random_state=0), {"n_components": [1, 2, 3]}, cv=3).fit(X)
    assert search.best_params_["n_components"] in (2, 3)
    fitted = GeneralMixture("exponential", 2, random_state=0).fit(X)
    assert_allclose(pickle.loads(pickle.dumps(fitted)).score_samples(X), fitted.score_samples(X), rtol=0)
    assert fitted.sample(5).shape == (5, 1)


def test_partial_fit_over_batches_reaches_the_full_fit():
    X = exponentials(5)
    X = np.vstack([X] * 20)
    np.random.default_rng(0).shuffle(X)
    full = GeneralMixture("exponential", 2, random_state=0, tol=1e-9, max_iter=5000).fit(X)
    online = GeneralMixture("exponential", 2, random_state=0)
    for _ in range(3):
        for s in range(0, len(X), 500):
            online.partial_fit(X[s:s + 500])
    assert online.n_iter_ == 3 * len(X) // 500 and not online.converged_
    assert full.score(X) - online.score(X) < 1e-3
    with pytest.raises(ValueError):
        online.partial_fit(np.hstack([X[:5], X[:5]]))
    assert online.n_iter_ == 3 * len(X) // 500
