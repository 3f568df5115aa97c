"""The pure E-step: values that add, nothing modified, numbers against scipy."""
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats
from scipy.special import logsumexp

from genmix import (ExponentialDistribution, GeneralMixtureModel, IndependentComponentsDistribution,
                    MultivariateGaussianDistribution, NormalDistribution, UniformDistribution)
from genmix.data import unit_weights
from genmix.estep import EStepResult, estep

MEANS = [np.array([0.0, 0.0]), np.array([3.0, 1.0])]
COVS = [np.array([[1.0, 0.3], [0.3, 2.0]]), np.array([[0.5, -0.1], [-0.1, 0.8]])]


def gaussians():
    return [MultivariateGaussianDistribution(m, c) for m, c in zip(MEANS, COVS)]


def reference(X, w, log_weights):
    """log-likelihood and responsibility sums by scipy."""
    lp = np.column_stack([stats.multivariate_normal(m, c).logpdf(X) for m, c in zip(MEANS, COVS)]) + log_weights
    lse = logsumexp(lp, axis=1)
    return float(w @ lse), (np.exp(lp - lse[:, None]) * w[:, None]).sum(axis=0)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_estep_matches_scipy_and_modifies_nothing(rng, n_jobs):
    X = rng.normal(1.0, 2.0, size=(40_000, 2))
    w = rng.uniform(0.0, 2.0, size=X.shape[0])
    comps = gaussians()
    before = [c.to_dict() for c in comps]
    log_weights = np.log([0.3, 0.7])
    result = estep(comps, log_weights, X, w, n_jobs=n_jobs)
    assert isinstance(result, EStepResult)
    ll, resp = reference(X, w, log_weights)
    assert_allclose(result.log_likelihood, ll, rtol=1e-11)
    assert_allclose(result.resp_sum, resp, rtol=1e-11)
    assert [c.to_dict() for c in comps] == before and all(c.summaries is None for c in comps)
    for s, r in zip(result.stats, resp):  # each component's statistics hold its responsibility mass
        assert_allclose(s.w, [r], rtol=1e-11)


@pytest.mark.parametrize("components", [
    gaussians,
    lambda: [IndependentComponentsDistribution([NormalDistribution(0, 1), ExponentialDistribution(1.0)]),
             IndependentComponentsDistribution([NormalDistribution(3, 2), ExponentialDistribution(0.2)])],
    lambda: [IndependentComponentsDistribution([UniformDistribution(-10, 10), ExponentialDistribution(1.0)]),
             IndependentComponentsDistribution([NormalDistribution(3, 2), ExponentialDistribution(0.2)])],
], ids=["fused-full", "fused-columns", "general"])
def test_results_of_disjoint_rows_add_up(rng, components):
    X = np.column_stack([rng.normal(1, 2, 30_001), rng.exponential(2.0, 30_001)])
    comps, lw = components(), np.log([0.4, 0.6])
    w = unit_weights(X.shape[0])
    whole = estep(comps, lw, X, w)
    halves = estep(comps, lw, X[:12_345], w[:12_345]) + estep(comps, lw, X[12_345:], w[12_345:])
    assert_allclose(halves.log_likelihood, whole.log_likelihood, rtol=1e-12)
    assert_allclose(halves.resp_sum, whole.resp_sum, rtol=1e-12)
    model_a = GeneralMixtureModel(components(), [0.4, 0.6])
    model_b = GeneralMixtureModel(components(), [0.4, 0.6])
    model_a.add_summaries(whole)
    model_b.add_summaries(halves)
    model_a.from_summaries()
    model_b.from_summaries()
    assert_allclose(numbers(model_b.to_dict()), numbers(model_a.to_dict()), rtol=1e-10)


def numbers(doc):
    """Every number in a document, in order."""
    if isinstance(doc, dict):
        return [x for v in doc.values() for x in numbers(v)]
    if isinstance(doc, list):
        return [x for v in doc for x in numbers(v)]
    return [doc] if isinstance(doc, float) else []


def test_summarize_is_estep_plus_adding(rng):
    X = rng.normal(size=(500, 2))
    model = GeneralMixtureModel(gaussians(), [0.5, 0.5])
    result = estep(model.distributions, model.log_weights, X, unit_weights(500))
    assert model.summaries.sum() == 0  # the pure step added nothing
    logp = model.summarize(X)
    assert logp == pytest.approx(result.log_likelihood, rel=1e-13)
    assert_allclose(model.summaries, result.resp_sum, rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_responsibilities_hold_no_subnormal_number(rng, dtype):
    """A term more than ``-floor`` below its row's best becomes exactly 0 (numpy's exp and the GEMMs after
    it are slow on subnormal numbers), one just above stays, -inf scores give 0, and everything else is
    scipy's log-sum-exp."""
    from genmix._math import UNDERFLOW, responsibilities_in_place

    floor = UNDERFLOW[np.dtype(dtype)]
    L = rng.normal(0, 1, (6, 4000))
    best = np.max(L[[0, 5]], axis=0)
    L[1] = best + floor * rng.uniform(0.9, 1.1, 4000)  # around the floor: exp near the subnormals
    L[2] = best - 1e4  # far below: underflows
    L[3] = -np.inf  # a dead component
    L[4] = best + floor * np.where(np.arange(4000) % 2, 1.001, 0.999)  # just below / just above the floor
    w = rng.uniform(0.5, 2.0, 4000)
    R = L.astype(dtype)
    logp = responsibilities_in_place(R, w.astype(dtype))
    assert not np.any((R != 0) & (np.abs(R) < np.finfo(dtype).tiny))  # nothing subnormal
    assert np.all(R[2:4] == 0)
    assert np.all(R[4, 1::2] == 0) and np.all(R[4, ::2] > 0)
    below = L - best < floor
    assert np.all(R[below] == 0) and np.all(R[1][~below[1]] > 0)
    lse = logsumexp(np.where(below, -np.inf, L), axis=0)  # scipy, with the terms below the floor left out
    eps = np.finfo(dtype).eps
    # exp(L - max) of an argument near the floor is as good as the argument's rounding, |floor|·eps
    assert_allclose(R, np.where(below, 0.0, np.exp(L - lse) * w), rtol=4 * abs(floor) * eps, atol=0)
    assert_allclose(logp, w @ logsumexp(L, axis=0), rtol=50 * eps)
