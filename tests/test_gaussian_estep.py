"""The fused Gaussian E-step (genmix/_gaussian.py) against an independent scipy computation.

The reference scores every row with ``scipy.stats`` log densities, normalises with
``scipy.special.logsumexp`` and forms centred statistics directly, with no expansion and no blocking.
Cases cover the three kinds (full, diagonal, univariate), large offsets, the exact fallbacks (a narrow
component far from the data's centre, an ill-conditioned precision), weights, labels, frozen and
zero-weight components, threads, and block boundaries.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats as st
from scipy.special import logsumexp

from genmix import (ExponentialDistribution, GeneralMixtureModel, IndependentComponentsDistribution,
                    MultivariateGaussianDistribution, NormalDistribution)
from genmix._gaussian import GaussianEStep
from genmix.distributions._stats import TupleStats


def reference_estep(components, log_weights, X, w, log_priors=None):
    """``(logp, N, means, scatter)`` by scipy: centred statistics, no expansion."""
    n, k = X.shape[0], len(components)
    L = np.empty((n, k))
    for j, c in enumerate(components):
        if isinstance(c, MultivariateGaussianDistribution):
            mean, cov = c.parameters
            L[:, j] = st.multivariate_normal(mean, cov).logpdf(X).reshape(n)
        elif isinstance(c, IndependentComponentsDistribution):
            L[:, j] = sum(st.norm(*ch.parameters).logpdf(X[:, i]) for i, ch in enumerate(c.distributions))
        else:
            L[:, j] = st.norm(*c.parameters).logpdf(X[:, 0])
    with np.errstate(divide="ignore"):
        L = L + log_weights
    if log_priors is not None:
        L = L + log_priors
    lse = logsumexp(L, axis=1)
    R = np.exp(L - lse[:, None]) * w[:, None]
    active = w > 0
    logp = float(w[active] @ lse[active])
    N = R.sum(axis=0)
    means = (R.T @ X) / np.where(N > 0, N, 1.0)[:, None]
    scatter = np.stack([(R[:, j, None] * (X - means[j])).T @ (X - means[j]) for j in range(k)])
    return logp, N, means, scatter


def unpack(stats, kind):
    """``(N, mean, scatter)`` of one component's Stats (the diagonal of the scatter for diagonal kinds)."""
    if isinstance(stats, TupleStats):  # a frozen column has no statistics: NaN, never compared
        live = [s for s in stats.children if s is not None]
        return (live[0].w[0], np.array([np.nan if s is None else s.mean[0] for s in stats.children]),
                np.array([np.nan if s is None else s.m2[0] for s in stats.children]))
    if kind == "full":
        return stats.w[0], stats.mean[0], stats.m2[0]
    return stats.w[0], np.atleast_1d(stats.mean[0]), np.atleast_1d(stats.m2[0])


def check_against_reference(model, X, w=None, log_priors=None, n_jobs=1, rtol=1e-10):
    w = np.ones(X.shape[0]) if w is None else w
    fused = GaussianEStep.build(model.distributions, model.log_weights, X)
    assert fused is not None
    logp, resp, stats = fused.run(X, w, log_priors, n_jobs)
    ref_logp, N, means, scatter = reference_estep(model.distributions, model.log_weights, X, w, log_priors)
    assert_allclose(logp, ref_logp, rtol=rtol)
    assert_allclose(resp, N, rtol=rtol, atol=1e-12 * N.sum())
    for j, s in enumerate(stats):
        if s is None:
            assert model.distributions[j].frozen
            continue
        n_j, mean, m2 = unpack(s, fused.kind)
        assert_allclose(n_j, N[j], rtol=rtol)
        if N[j] == 0:  # a component of weight 0: no mass, zero statistics
            assert np.all(mean == 0) and np.all(m2 == 0)
            continue
        spread = np.sqrt(np.diag(scatter[j]) / N[j])
        expected = scatter[j] if fused.kind == "full" else np.diag(scatter[j])
        scale = np.sqrt(np.outer(np.diag(scatter[j]), np.diag(scatter[j])))
        floor = 1e-14 * N[j] * (1.0 + np.abs(means[j]).max()) ** 2  # a single row's scatter is 0
        live = ~np.isnan(mean)
        assert_allclose(mean[live], means[j][live], rtol=0, atol=rtol * spread.max() + 1e-12 * np.abs(means[j]).max())
        if fused.kind == "full":
            assert_allclose(m2, expected, rtol=0, atol=1e3 * rtol * np.diag(scale).max() + floor)
        else:
            assert_allclose(m2[live], expected[live], rtol=0, atol=1e3 * rtol * np.diag(scale).max() + floor)
    return fused


def full_model(rng, d, k, offset=0.0):
    comps = []
    for _ in range(k):
        A = rng.normal(size=(d, d)) * 0.5
        comps.append(MultivariateGaussianDistribution(offset + rng.normal(0, 3, d), A @ A.T + 0.3 * np.eye(d)))
    return GeneralMixtureModel(comps, weights=rng.dirichlet(np.full(k, 3.0)))


def sample(model, n, rng):
    return np.asarray(model.sample(n, random_state=int(rng.integers(2 ** 31)))).reshape(n, -1)


@pytest.mark.parametrize("d", [1, 2, 5, 12])
def test_full_covariance_matches_scipy(rng, d):
    model = full_model(rng, d, 4)
    check_against_reference(model, sample(model, 3000, rng))


def test_diagonal_and_univariate_match_scipy(rng):
    diag = GeneralMixtureModel([IndependentComponentsDistribution([NormalDistribution(m, s) for m, s in
                                                                   zip(rng.normal(0, 3, 4), rng.uniform(0.5, 2, 4))])
                                for _ in range(3)])
    check_against_reference(diag, sample(diag, 2500, rng))
    uni = GeneralMixtureModel([NormalDistribution(m, s) for m, s in [(0, 1), (4, 0.5), (-3, 2), (10, 1)]])
    check_against_reference(uni, rng.normal(2, 5, (5000, 1)))


def test_large_offset_keeps_precision(rng):
    model = full_model(rng, 3, 3, offset=1e6)
    fused = check_against_reference(model, sample(model, 2000, rng), rtol=1e-9)
    assert fused is not None


def test_narrow_component_far_from_the_centre_is_recomputed_centred(rng):
    """A component 1e4 standard deviations from the data's centre: the raw scatter would cancel."""
    wide = rng.normal(0.0, 1.0, (4000, 2))
    narrow = rng.normal(50.0, 1e-3, (500, 2))
    X = np.vstack([wide, narrow])[rng.permutation(4500)]
    model = GeneralMixtureModel([MultivariateGaussianDistribution([0, 0], np.eye(2)),
                                 MultivariateGaussianDistribution([50, 50], 1e-6 * np.eye(2))])
    fused = GaussianEStep.build(model.distributions, model.log_weights, X)
    shift = X[:4096].mean(axis=0)
    R = np.exp(model.predict_log_proba(X)).T
    raw = R @ fused._features((X - shift).T.copy()).T
    assert fused._stats(raw, shift)[1].tolist() == [1]  # the narrow one needs the centred pass
    check_against_reference(model, X, rtol=1e-9)
    diag = GeneralMixtureModel([IndependentComponentsDistribution([NormalDistribution(0, 1)] * 2),
                                IndependentComponentsDistribution([NormalDistribution(50, 1e-3)] * 2)])
    check_against_reference(diag, X, rtol=1e-9)


def test_ill_conditioned_precision_uses_the_factorised_density(rng):
    cov = np.array([[1.0, 0.999999], [0.999999, 1.0]])
    model = GeneralMixtureModel([MultivariateGaussianDistribution([0, 0], cov),
                                 MultivariateGaussianDistribution([1, -1], np.eye(2))])
    X = sample(model, 3000, rng)
    fused = GaussianEStep.build(model.distributions, model.log_weights, X)
    a = fused.means - X[:4096].mean(axis=0)
    assert fused._needs_exact(a, X.std(axis=0)).tolist() == [True, False]
    check_against_reference(model, X, rtol=1e-9)


def test_weights_labels_frozen_and_zero_weight_components(rng):
    model = full_model(rng, 3, 4)
    X = sample(model, 3000, rng)
    w = rng.uniform(0, 3, X.shape[0])
    w[::7] = 0.0
    check_against_reference(model, X, w=w)
    labels = np.full(X.shape[0], -1)
    labels[:300] = rng.integers(0, 4, 300)
    log_priors = model._check_priors(X.shape[0], labels, None)
    check_against_reference(model, X, log_priors=log_priors)
    model.distributions[1].freeze()
    model._weights = np.array([0.5, 0.5, 0.0, 0.0])
    check_against_reference(model, X)
    frozen_column = IndependentComponentsDistribution([NormalDistribution(0, 1), NormalDistribution(1, 2, frozen=True)])
    plain = IndependentComponentsDistribution([NormalDistribution(3, 1), NormalDistribution(0, 1)])
    diag = GeneralMixtureModel([frozen_column, plain])
    fused = check_against_reference(diag, rng.normal(1, 2, (1000, 2)))
    stats = fused.run(rng.normal(1, 2, (50, 2)), np.ones(50))[2]
    assert stats[0].children[1] is None and stats[1].children[1] is not None


@pytest.mark.parametrize("n", [1, 7, 255, 256, 257, 5000])
def test_block_boundaries_and_threads(rng, n):
    model = full_model(rng, 4, 3)
    X = sample(model, n, rng)
    fused = check_against_reference(model, X)
    assert fused.block_rows >= 256
    check_against_reference(model, X, n_jobs=2)


def test_rows_no_component_can_produce_are_reported(rng):
    model = full_model(rng, 2, 2)
    model._weights = np.array([1.0, 0.0])
    X = sample(model, 10, rng)
    labels = np.array([-1] * 9 + [1])
    with pytest.raises(ValueError, match=r"rows \[9\]"):
        model.fit(X, labels=labels, max_iterations=1)


def test_where_it_does_not_apply(rng):
    model = full_model(rng, 2, 2)
    X = sample(model, 20, rng)
    assert GaussianEStep.build(model.distributions, model.log_weights, X) is not None
    Xn = X.copy()
    Xn[3, 1] = np.nan
    assert GaussianEStep.build(model.distributions, model.log_weights, Xn) is None  # missing values
    assert GaussianEStep.build(model.distributions, model.log_weights, X * 1e120) is None  # overflow risk
    assert GaussianEStep.build(model.distributions, model.log_weights, X.astype(object)) is None
    mixed = [NormalDistribution(0, 1), ExponentialDistribution(1.0)]
    assert GaussianEStep.build(mixed, np.log([0.5, 0.5]), np.ones((5, 1))) is None
    weighted = IndependentComponentsDistribution([NormalDistribution(0, 1)] * 2, weights=[1.0, 0.5])
    assert GaussianEStep.build([weighted] * 2, np.log([0.5, 0.5]), X) is None
    other = IndependentComponentsDistribution([NormalDistribution(0, 1), ExponentialDistribution(1.0)])
    assert GaussianEStep.build([other] * 2, np.log([0.5, 0.5]), np.abs(X)) is None
