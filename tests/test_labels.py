"""Partial labels and per-row priors: semi-supervised EM."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import linear_sum_assignment

from genmix import ExponentialDistribution, GeneralMixtureModel, MultivariateGaussianDistribution, NormalDistribution

MEANS = np.array([[0.0, 0.0], [2.5, 0.0], [0.0, 2.5]])


def overlapping(seed, n=600):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n)
    return MEANS[truth] + rng.normal(0, 1, (n, 2)), truth


def start():
    return GeneralMixtureModel([MultivariateGaussianDistribution(m + 0.3, np.eye(2)) for m in MEANS[::-1]])


def test_all_rows_labelled_is_the_supervised_mle():
    X, truth = overlapping(0)
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(X))
    model = start().fit(X, weights=w, labels=truth, stop_threshold=0.0)
    for j, c in enumerate(model.distributions):
        rows = truth == j
        assert_allclose(c.parameters[0], np.average(X[rows], axis=0, weights=w[rows]), rtol=1e-12)
        assert_allclose(c.parameters[1], np.cov(X[rows].T, aweights=w[rows], bias=True), rtol=1e-11)
    assert_allclose(model.weights, [w[truth == j].sum() / w.sum() for j in range(3)], rtol=1e-12)


def test_labelled_rows_have_one_hot_responsibilities():
    X, truth = overlapping(2, 50)
    labels = np.full(50, -1)
    labels[:10] = truth[:10]
    model = start()
    R = model.predict_proba(X)
    R[:10] = np.eye(3)[truth[:10]]
    model.summarize(X, labels=labels)
    assert_allclose(model.summaries, R.sum(axis=0), rtol=1e-12)
    for j, c in enumerate(model.distributions):
        assert_allclose(c.summaries.w, [R[:, j].sum()], rtol=1e-12)
        assert_allclose(c.summaries.mean[0], R[:, j] @ X / R[:, j].sum(), rtol=1e-12)


def test_priors_generalise_labels():
    X, truth = overlapping(3, 80)
    labels = np.where(np.arange(80) < 20, truth, -1)
    one_hot = np.ones((80, 3))
    one_hot[:20] = np.eye(3)[truth[:20]]
    a = start().fit(X, labels=labels, max_iterations=5)
    b = start().fit(X, priors=one_hot, max_iterations=5)
    c = start().fit(X, priors=np.ones((80, 3)) * 7.0, max_iterations=5)  # constant rows change nothing
    d = start().fit(X, max_iterations=5)
    assert a.to_dict() == b.to_dict()
    for x, y in zip(c.distributions, d.distributions):
        assert_allclose(x.parameters[1], y.parameters[1], rtol=1e-12)
    soft = np.ones((80, 3))
    soft[:, 0] = 4.0  # every row 4x more likely to be from component 0 a priori
    model = start()
    R = model.predict_proba(X) * soft
    R /= R.sum(axis=1, keepdims=True)
    model.summarize(X, priors=soft)
    assert_allclose(model.summaries, R.sum(axis=0), rtol=1e-12)


def _best_permutation_accuracy(truth, pred):
    C = np.zeros((3, 3))
    np.add.at(C, (truth, pred), 1)
    r, c = linear_sum_assignment(-C)
    return C[r, c].sum() / len(truth)


@pytest.mark.parametrize("seed", range(5))
def test_five_percent_labels_fix_the_numbering_and_help(seed):
    X, truth = overlapping(seed)
    rng = np.random.default_rng(100 + seed)
    labels = np.full(len(X), -1)
    chosen = rng.choice(len(X), len(X) // 20, replace=False)
    labels[chosen] = truth[chosen]
    semi = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X, labels=labels, random_state=seed)
    pred = semi.predict(X)
    rest = labels < 0
    # component i means label i: the best matching of components to classes is the identity
    C = np.zeros((3, 3))
    np.add.at(C, (truth, pred), 1)
    assert_array_equal(linear_sum_assignment(-C)[1], [0, 1, 2])
    unsupervised = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X, random_state=seed)
    assert np.mean(pred[rest] == truth[rest]) >= _best_permutation_accuracy(truth[rest],
                                                                            unsupervised.predict(X)[rest]) - 0.01


def test_from_samples_seeds_labelled_components_from_their_rows():
    X, truth = overlapping(7)
    labels = np.where(np.arange(len(X)) < 60, truth, -1)
    model = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X, labels=labels, max_iterations=0,
                                             max_kmeans_iterations=0, random_state=0)
    for j, c in enumerate(model.distributions):
        assert np.linalg.norm(np.asarray(c.parameters[0]) - MEANS[j]) < 1.0


def test_invalid_labels_and_priors_leave_the_model():
    X, truth = overlapping(8, 30)
    model = start().fit(X)
    before = model.to_dict()
    cases = [({"labels": np.zeros(5, int)}, ValueError), ({"labels": np.full(30, 3)}, ValueError),
             ({"labels": np.full(30, -2)}, ValueError), ({"labels": np.full(30, 0.5)}, TypeError),
             ({"priors": np.ones((30, 2))}, ValueError), ({"priors": -np.ones((30, 3))}, ValueError),
             ({"priors": np.zeros((30, 3))}, ValueError), ({"priors": np.full((30, 3), np.nan)}, ValueError)]
    for kwargs, error in cases:
        with pytest.raises(error, match="labels|priors"):
            model.fit(X, **kwargs)
        with pytest.raises(error, match="labels|priors"):
            model.summarize(X, **kwargs)
    assert model.to_dict() == before and not model.summaries.any()


def test_labelled_row_its_component_cannot_produce():
    model = GeneralMixtureModel([NormalDistribution(0, 1), ExponentialDistribution(1)])
    X = np.array([[-1.0], [2.0]])
    with pytest.raises(ValueError, match=r"rows \[0\]"):
        model.fit(X, labels=[1, -1])
    model.fit(X, labels=[0, 1], max_iterations=1)
    assert_array_equal(model.predict([[-1.0]]), [0])
