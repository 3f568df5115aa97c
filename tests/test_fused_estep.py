"""The fused E-step (genmix/_fused.py) against an independent scipy computation.

The reference scores every row with ``scipy.stats`` log densities, normalises with
``scipy.special.logsumexp`` and forms centred statistics directly, with no expansion and no blocking.
Cases cover full covariances, products of Normal / LogNormal / Exponential columns, univariate
mixtures, large offsets, the exact fallbacks (a narrow
component far from the data's centre, an ill-conditioned precision), weights, labels, frozen and
zero-weight components, threads, and block boundaries. Each case runs twice: on the compiled kernels
(:mod:`genmix._kernels`, where numba is installed) and on the numpy path.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats as st
from scipy.special import logsumexp

from genmix import (BernoulliDistribution, ExponentialDistribution, GammaDistribution, GeneralMixtureModel,
                    IndependentComponentsDistribution, LogNormalDistribution, MultivariateGaussianDistribution,
                    NormalDistribution, PoissonDistribution, UniformDistribution)
from genmix.data import row_log_priors
from genmix.estep import estep_from_responsibilities
from genmix._fused import FusedEStep
from genmix.distributions._stats import TupleStats
from genmix.distributions.multivariate_gaussian import _GaussianTerm, _TiedTerm

# every case on the compiled kernels (genmix[fast]) and on the numpy path (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("both_paths")


def column_laws(c, d):
    """Per column of component ``c``: ``(scipy log density, statistics)``; the statistics are a transform
    for centred moments (Normal: x, LogNormal: log x) or ``("sums", [t...])`` for Σr and Σr·t(x)."""
    children = c.distributions if isinstance(c, IndependentComponentsDistribution) else [c]
    out = []
    for ch in children:
        if isinstance(ch, NormalDistribution):
            out.append((st.norm(*ch.parameters).logpdf, lambda x: x))
        elif isinstance(ch, LogNormalDistribution):
            mu, sigma = ch.parameters
            out.append((st.lognorm(s=sigma, scale=np.exp(mu)).logpdf, np.log))
        elif isinstance(ch, ExponentialDistribution):
            out.append((st.expon(scale=1.0 / ch.parameters[0]).logpdf, ("sums", [lambda x: x])))
        elif isinstance(ch, PoissonDistribution):
            out.append((st.poisson(ch.parameters[0]).logpmf, ("sums", [lambda x: x])))
        elif isinstance(ch, BernoulliDistribution):
            out.append((st.bernoulli(ch.parameters[0]).logpmf, ("sums", [lambda x: x])))
        else:
            alpha, beta = ch.parameters
            out.append((st.gamma(alpha, scale=1.0 / beta).logpdf, ("sums", [lambda x: x, np.log])))
    return out


def reference_estep(components, log_weights, X, w, log_priors=None):
    """``(logp, R)`` by scipy log densities and ``scipy.special.logsumexp``, no expansion, no blocks."""
    n, k = X.shape[0], len(components)
    L = np.empty((n, k))
    for j, c in enumerate(components):
        if isinstance(c, MultivariateGaussianDistribution):
            mean, cov = c.parameters
            L[:, j] = st.multivariate_normal(mean, cov).logpdf(X).reshape(n)
        else:
            # a missing value (NaN) has log density 0 in its column
            L[:, j] = sum(np.where(np.isnan(X[:, i]), 0.0, logpdf(np.nan_to_num(X[:, i], nan=1.0)))
                          for i, (logpdf, _) in enumerate(column_laws(c, X.shape[1])))
    with np.errstate(divide="ignore"):
        L = L + log_weights
    if log_priors is not None:
        L = L + log_priors
    lse = logsumexp(L, axis=1)
    R = np.exp(L - lse[:, None]) * w[:, None]
    active = w > 0
    return float(w[active] @ lse[active]), R


def check_moments(s, r, T, rtol):
    """A ``MomentStats`` of one component against the centred moments of ``T`` (n, m) under ``r``."""
    N = r.sum()
    assert_allclose(s.w[0], N, rtol=rtol)
    if N == 0:  # a component of weight 0: no mass, zero statistics
        assert np.all(s.mean == 0) and np.all(s.m2 == 0)
        return
    mean = (r @ T) / N
    scatter = (r[:, None] * (T - mean)).T @ (T - mean)
    var = np.diag(scatter)
    spread = np.sqrt(var / N)
    floor = 1e-14 * N * (1.0 + np.abs(mean).max()) ** 2  # a single row's scatter is 0
    assert_allclose(np.ravel(s.mean[0]), mean, rtol=0, atol=rtol * spread.max() + 1e-12 * np.abs(mean).max())
    m2 = s.m2[0]
    expected = scatter if np.ndim(m2) == 2 else var
    assert_allclose(np.reshape(m2, np.shape(expected)), expected, rtol=0, atol=1e3 * rtol * var.max() + floor)


def check_against_reference(model, X, w=None, log_priors=None, n_jobs=1, rtol=1e-10):
    w = np.ones(X.shape[0]) if w is None else w
    fused = FusedEStep.build(model.distributions, model.log_weights, X)
    assert fused is not None
    logp, resp, stats = fused.run(X, w, log_priors, n_jobs)
    ref_logp, R = reference_estep(model.distributions, model.log_weights, X, w, log_priors)
    N = R.sum(axis=0)
    assert_allclose(logp, ref_logp, rtol=rtol)
    assert_allclose(resp, N, rtol=rtol, atol=1e-12 * N.sum())
    for j, (c, s) in enumerate(zip(model.distributions, stats)):
        if c.frozen:
            assert s is None
            continue
        if isinstance(fused.terms[0], _GaussianTerm):
            check_moments(s, R[:, j], X, rtol)
            continue
        children = s.children if isinstance(s, TupleStats) else [s]
        for i, (cs, (_, transform)) in enumerate(zip(children, column_laws(c, X.shape[1]))):
            if c is not s and isinstance(s, TupleStats) and c.distributions[i].frozen:
                assert cs is None
            else:  # statistics over the rows where the column is observed
                seen = ~np.isnan(X[:, i])
                if isinstance(transform, tuple):  # Σr and Σr·t(x)
                    sums = [R[seen, j] @ t(X[seen, i]) for t in transform[1]]
                    assert_allclose(cs.w[0], R[seen, j].sum(), rtol=rtol)
                    assert_allclose(np.ravel(cs.sums), sums, rtol=rtol)
                else:
                    check_moments(cs, R[seen, j], transform(X[seen, i])[:, None], rtol)
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
    fused = FusedEStep.build(model.distributions, model.log_weights, X)
    shift = X[:4096].mean(axis=0)
    R = np.exp(model.predict_log_proba(X)).T
    raw = R @ fused._features(X, slice(0, X.shape[0]), shift).T
    assert list(fused._stats(raw, shift)[1]) == [1]  # the narrow one needs the centred pass
    check_against_reference(model, X, rtol=1e-9)
    diag = GeneralMixtureModel([IndependentComponentsDistribution([NormalDistribution(0, 1)] * 2),
                                IndependentComponentsDistribution([NormalDistribution(50, 1e-3)] * 2)])
    check_against_reference(diag, X, rtol=1e-9)


def test_ill_conditioned_precision_uses_the_factorised_density(rng):
    cov = np.array([[1.0, 0.999999], [0.999999, 1.0]])
    model = GeneralMixtureModel([MultivariateGaussianDistribution([0, 0], cov),
                                 MultivariateGaussianDistribution([1, -1], np.eye(2))])
    X = sample(model, 3000, rng)
    fused = FusedEStep.build(model.distributions, model.log_weights, X)
    (term,) = fused.terms
    assert term.needs_exact(X[:4096].mean(axis=0), X.std(axis=0)).tolist() == [True, False]
    check_against_reference(model, X, rtol=1e-9)


def test_weights_labels_frozen_and_zero_weight_components(rng):
    model = full_model(rng, 3, 4)
    X = sample(model, 3000, rng)
    w = rng.uniform(0, 3, X.shape[0])
    w[::7] = 0.0
    check_against_reference(model, X, w=w)
    labels = np.full(X.shape[0], -1)
    labels[:300] = rng.integers(0, 4, 300)
    log_priors = row_log_priors(X.shape[0], model.n, labels, None)
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


@pytest.mark.parametrize("case", ["full", "offset", "narrow", "diag", "columns"])
def test_statistics_from_given_responsibilities_match_the_centred_moments(rng, case):
    """``estep_from_responsibilities`` (the fused path's statistics half, an initialisation from labels)
    against centred moments under the same ``R``: one-hot rows, soft rows, weights, threads, and the
    centred second pass for a narrow group far from the data's centre."""
    if case in ("full", "offset"):
        model = full_model(rng, 4, 3, offset=1e6 if case == "offset" else 0.0)
        X = sample(model, 3000, rng)
    elif case == "narrow":
        X = np.vstack([rng.normal(0.0, 1.0, (4000, 2)), rng.normal(50.0, 1e-3, (500, 2))])
        model = GeneralMixtureModel([MultivariateGaussianDistribution([0, 0], np.eye(2))] * 2)
    elif case == "diag":
        model = GeneralMixtureModel([IndependentComponentsDistribution([NormalDistribution(0, 1)] * 3)] * 3)
        X = rng.normal(5, 2, (3000, 3))
    else:
        model = mixed_model(rng, 3)
        X = sample(model, 3000, rng)
    n, k = X.shape[0], model.n
    hard = np.zeros((n, k))
    hard[np.arange(n), rng.integers(0, k, n) if case != "narrow" else (np.arange(n) >= 4000).astype(int)] = 1.0
    soft = rng.dirichlet(np.ones(k), n)
    w = rng.uniform(0, 2, n)
    fused = FusedEStep.build(model.distributions, np.zeros(k), X)
    assert fused is not None
    for R, weights, n_jobs in [(hard, None, 1), (soft, w, 2)]:
        result = estep_from_responsibilities(model.distributions, X, R, weights, n_jobs=n_jobs)
        Rw = R if weights is None else R * weights[:, None]
        assert np.isnan(result.log_likelihood)
        assert_allclose(result.resp_sum, Rw.sum(axis=0), rtol=1e-12)
        for j, s in enumerate(result.stats):
            if isinstance(fused.terms[0], _GaussianTerm):
                check_moments(s, Rw[:, j], X, 1e-10)
                continue
            for i, (cs, (_, transform)) in enumerate(zip(s.children, column_laws(model.distributions[j], 3))):
                if isinstance(transform, tuple):
                    assert_allclose(np.ravel(cs.sums), [Rw[:, j] @ t(X[:, i]) for t in transform[1]], rtol=1e-10)
                else:
                    check_moments(cs, Rw[:, j], transform(X[:, i])[:, None], 1e-10)
    if case == "narrow":  # the narrow group's raw scatter cancels: its statistics were recomputed centred
        assert list(fused._stats(hard.T @ fused._features(X, slice(0, n), X[:4096].mean(axis=0)).T,
                                 X[:4096].mean(axis=0))[1]) == [1]


def tied_model(rng, d, k, offset=0.0, scale=3.0):
    A = rng.normal(size=(d, d)) * 0.5
    cov = A @ A.T + 0.3 * np.eye(d)
    return GeneralMixtureModel([MultivariateGaussianDistribution(offset + rng.normal(0, scale, d), cov,
                                                                 covariance_type="tied") for _ in range(k)],
                               weights=rng.dirichlet(np.full(k, 3.0)))


def check_tied(model, X, w=None, log_priors=None, n_jobs=1, rtol=1e-10):
    """The tied term against scipy: log-likelihood, responsibilities, each component's mass and mean, and
    the pooled within-component scatter (the sum of the components' m2, all a tied M-step reads)."""
    w = np.ones(X.shape[0]) if w is None else w
    fused = FusedEStep.build(model.distributions, model.log_weights, X)
    assert isinstance(fused.terms[0], _TiedTerm)
    logp, resp, stats = fused.run(X, w, log_priors, n_jobs)
    ref_logp, R = reference_estep(model.distributions, model.log_weights, X, w, log_priors)
    N = R.sum(axis=0)
    assert_allclose(logp, ref_logp, rtol=rtol)
    assert_allclose(resp, N, rtol=rtol, atol=1e-12 * N.sum())
    means = (R.T @ X) / N[:, None]
    pooled = sum((R[:, j, None] * (X - means[j])).T @ (X - means[j]) for j in range(model.n))
    spread = np.sqrt(np.diag(pooled) / N.sum())
    for j, s in enumerate(stats):
        assert_allclose(s.w[0], N[j], rtol=rtol)
        assert_allclose(s.mean[0], means[j], rtol=0, atol=rtol * spread.max() + 1e-12 * np.abs(means).max())
    assert_allclose(sum(s.m2[0] for s in stats), pooled, rtol=0, atol=1e3 * rtol * np.diag(pooled).max())
    return fused


def test_tied_components_take_the_whitened_term_and_match_scipy(rng):
    model = tied_model(rng, 5, 4)
    X = sample(model, 5000, rng)
    check_tied(model, X)
    w = rng.uniform(0, 3, X.shape[0])
    w[::5] = 0.0
    check_tied(model, X, w=w, n_jobs=2)
    labels = np.full(X.shape[0], -1)
    labels[:400] = rng.integers(0, 4, 400)
    check_tied(model, X, log_priors=row_log_priors(X.shape[0], model.n, labels, None))
    far = tied_model(rng, 3, 3, offset=1e6)
    check_tied(far, sample(far, 3000, rng), rtol=1e-9)
    # tied components whose covariances differ (a start not yet pooled) take the full term
    untied = tied_model(rng, 3, 2)
    untied.distributions[1] = MultivariateGaussianDistribution(np.zeros(3), 2 * np.eye(3), covariance_type="tied")
    assert type(FusedEStep.build(untied.distributions, untied.log_weights, X[:, :3]).terms[0]) is _GaussianTerm


def test_tied_pooled_scatter_that_cancels_is_recomputed_centred(rng):
    """Narrow components far apart: the total scatter minus the between-component scatter cancels, and
    every component's statistics come from the centred pass (each then holds its own scatter)."""
    X = np.vstack([rng.normal(0.0, 1e-3, (2000, 2)), rng.normal(40.0, 1e-3, (2000, 2))])
    model = GeneralMixtureModel([MultivariateGaussianDistribution(m, 1e-6 * np.eye(2), covariance_type="tied")
                                 for m in ([0.0, 0.0], [40.0, 40.0])])
    fused = check_tied(model, X, rtol=1e-9)
    stats = fused.run(X, np.ones(X.shape[0]))[2]
    for s, part in zip(stats, (X[:2000], X[2000:])):
        assert_allclose(s.m2[0], (part - part.mean(0)).T @ (part - part.mean(0)), rtol=1e-6)


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
    assert FusedEStep.build(model.distributions, model.log_weights, X) is not None
    Xn = X[:7].copy()  # below the 8 (16 on numpy) rows of a fused pattern
    Xn[3, 1] = np.nan  # missing values in patterns too rare for their own coefficients (test_fused_missing.py)
    assert FusedEStep.build(model.distributions, model.log_weights, Xn) is None
    assert FusedEStep.build(model.distributions, model.log_weights, X * 1e120) is None  # overflow risk
    assert FusedEStep.build(model.distributions, model.log_weights, X.astype(object)) is None
    mixed = [NormalDistribution(0, 1), ExponentialDistribution(1.0)]  # two families in one column
    assert FusedEStep.build(mixed, np.log([0.5, 0.5]), np.ones((5, 1))) is None
    weighted = IndependentComponentsDistribution([NormalDistribution(0, 1)] * 2, weights=[1.0, 0.5])
    assert FusedEStep.build([weighted] * 2, np.log([0.5, 0.5]), X) is None
    other = IndependentComponentsDistribution([NormalDistribution(0, 1), UniformDistribution(0.0, 5.0)])
    assert FusedEStep.build([other] * 2, np.log([0.5, 0.5]), np.abs(X)) is None  # not an exponential family
    cols = IndependentComponentsDistribution([ExponentialDistribution(1.0), LogNormalDistribution(0.0, 1.0)])
    assert FusedEStep.build([cols] * 2, np.log([0.5, 0.5]), np.abs(X) + 0.1) is not None
    assert FusedEStep.build([cols] * 2, np.log([0.5, 0.5]), np.abs(X) - 0.5) is None  # outside the support
    Xz = np.abs(X) + 0.1
    Xz[0, 1] = 0.0
    assert FusedEStep.build([cols] * 2, np.log([0.5, 0.5]), Xz) is None  # log 0: the general path's -inf


def mixed_model(rng, k=4):
    return GeneralMixtureModel(
        [IndependentComponentsDistribution([NormalDistribution(rng.normal(0, 3), rng.uniform(0.5, 2)),
                                            ExponentialDistribution(rng.uniform(0.2, 2)),
                                            LogNormalDistribution(rng.normal(0, 1), rng.uniform(0.3, 1))])
         for _ in range(k)], weights=rng.dirichlet(np.full(k, 3.0)))


def test_normal_exponential_lognormal_columns_match_scipy(rng):
    model = mixed_model(rng)
    X = sample(model, 4000, rng)
    check_against_reference(model, X)
    check_against_reference(model, X, w=rng.uniform(0, 2, X.shape[0]), n_jobs=2)
    uni = GeneralMixtureModel([LogNormalDistribution(0, 1), LogNormalDistribution(2, 0.5)])
    check_against_reference(uni, rng.lognormal(1, 1, (3000, 1)))
    expo = GeneralMixtureModel([ExponentialDistribution(0.5), ExponentialDistribution(5.0)])
    check_against_reference(expo, rng.exponential(1, (3000, 1)))


def test_narrow_lognormal_column_is_recomputed_centred(rng):
    """log x concentrated 1e4 spreads away from the column's centre: that column's moments are redone."""
    x = np.concatenate([rng.lognormal(0, 1, 3000), rng.lognormal(8, 1e-4, 300)])[rng.permutation(3300)]
    X = np.column_stack([rng.normal(0, 1, 3300), x])
    model = GeneralMixtureModel([
        IndependentComponentsDistribution([NormalDistribution(0, 1), LogNormalDistribution(0, 1)]),
        IndependentComponentsDistribution([NormalDistribution(0, 1), LogNormalDistribution(8, 1e-4)])])
    fused = check_against_reference(model, X, rtol=1e-9)
    shift = None
    fused._prepare(X)
    R = np.exp(model.predict_log_proba(X)).T
    raw = R @ fused._features(X, slice(0, X.shape[0]), shift).T
    assert fused._stats(raw, shift)[1] == {1: [1]}  # component 1, column 1 only


def test_overflowing_rates_take_the_general_path():
    cols = IndependentComponentsDistribution([ExponentialDistribution(1e300), NormalDistribution(0.0, 1.0)])
    X = np.array([[1e10, 0.0], [2.0, 1.0]])
    assert FusedEStep.build([cols] * 2, np.log([0.5, 0.5]), X) is None
    assert FusedEStep.build([cols] * 2, np.log([0.5, 0.5]), X / 1e10 * 1e-300) is not None


@pytest.mark.parametrize("make", [lambda rng: full_model(rng, 6, 3, offset=1e4), mixed_model])
def test_predictions_take_the_fused_scores_and_match_scipy(rng, monkeypatch, make):
    model = make(rng)
    X = sample(model, 3000, rng)
    scored = []
    score = FusedEStep.weighted_log_prob
    monkeypatch.setattr(FusedEStep, "weighted_log_prob", lambda self, part: scored.append(1) or score(self, part))
    ref_logp, R = reference_estep(model.distributions, model.log_weights, X, np.ones(X.shape[0]))
    assert_allclose(model.log_probability(X).sum(), ref_logp, rtol=1e-12)
    assert_allclose(model.predict_proba(X), R, rtol=1e-9, atol=1e-12)
    assert_allclose(model.predict_proba(X, n_jobs=2, batch_size=700), R, rtol=1e-9, atol=1e-12)
    assert len(scored) == 1 + 1 + 5  # one call per evaluated block of rows: all through the fused scores


def with_missing(X, rng, fraction=0.1):
    X = X.copy()
    X[rng.random(X.shape) < fraction] = np.nan
    X[7] = np.nan  # a row with nothing observed: log density 0, posterior = weights
    return X


def test_missing_values_in_columns_match_scipy(rng):
    """NaN in Normal / Exponential / LogNormal columns: log density 0 there, statistics over the rest."""
    model = mixed_model(rng)
    X = with_missing(sample(model, 4000, rng), rng)
    fused = check_against_reference(model, X)
    assert fused.n_features == 1 + 2 + 1 + 2 + 3  # features, plus an indicator row per column with NaN
    check_against_reference(model, X, w=rng.uniform(0, 2, X.shape[0]), n_jobs=2)
    partly = X.copy()
    partly[:, 0] = sample(model, 4000, rng)[:, 0]  # column 0 complete: no indicator row for it
    assert check_against_reference(model, partly).n_features == 1 + 2 + 1 + 2 + 2
    empty = X.copy()
    empty[:, 1] = np.nan  # a column with nothing observed: zero statistics for it
    check_against_reference(model, empty)
    uni = GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(3, 0.5)])
    check_against_reference(uni, with_missing(rng.normal(1, 2, (3000, 1)), rng))


def count_model(rng, k=3):
    return GeneralMixtureModel(
        [IndependentComponentsDistribution([PoissonDistribution(rng.uniform(0.5, 8)),
                                            BernoulliDistribution(rng.uniform(0.1, 0.9)),
                                            GammaDistribution(rng.uniform(0.5, 5), rng.uniform(0.5, 3)),
                                            NormalDistribution(rng.normal(0, 2), rng.uniform(0.5, 2))])
         for _ in range(k)], weights=rng.dirichlet(np.full(k, 3.0)))


def test_poisson_bernoulli_gamma_columns_match_scipy(rng):
    model = count_model(rng)
    X = sample(model, 4000, rng)
    check_against_reference(model, X)
    check_against_reference(model, with_missing(X, rng), w=rng.uniform(0, 2, X.shape[0]), n_jobs=2)
    bad = X.copy()
    bad[5, 0] = 2.5  # a non-integer count: the general path (log density -inf there)
    assert FusedEStep.build(model.distributions, model.log_weights, bad) is None
    bad = X.copy()
    bad[5, 1] = 0.5  # not 0 or 1
    assert FusedEStep.build(model.distributions, model.log_weights, bad) is None
    edge = GeneralMixtureModel([BernoulliDistribution(1.0), BernoulliDistribution(0.3)])
    assert FusedEStep.build(edge.distributions, edge.log_weights, np.ones((5, 1))) is None  # log 0 coefficient


@pytest.mark.parametrize("make, missing", [(lambda rng: mixed_model(rng), 0.0), (lambda rng: mixed_model(rng), 0.2),
                                           (lambda rng: count_model(rng), 0.0)],
                         ids=["normal-exponential-lognormal", "with-20%-missing", "poisson-bernoulli-gamma"])
def test_fit_takes_the_fused_step_and_matches_the_general_path(rng, monkeypatch, make, missing):
    """The same fit with and without the fused E-step: the same model to 1e-9."""
    X = sample(make(rng), 5000, rng)
    if missing:
        X = with_missing(X, rng, missing)
    runs = []
    run = FusedEStep.run
    monkeypatch.setattr(FusedEStep, "run", lambda self, *a, **k: runs.append(1) or run(self, *a, **k))
    fast = make(np.random.default_rng(5)).fit(X, max_iterations=10, stop_threshold=0.0)
    assert len(runs) == 11  # every E-step of the fit was the fused one
    declined = []
    monkeypatch.setattr(FusedEStep, "build", classmethod(lambda cls, *a: declined.append(1)))
    slow = make(np.random.default_rng(5)).fit(X, max_iterations=10, stop_threshold=0.0)
    assert declined and len(runs) == 11  # the second fit took the general path
    for a, b in zip(fast.distributions, slow.distributions):
        for ca, cb in zip(a.distributions, b.distributions):
            assert_allclose(ca.parameters, cb.parameters, rtol=1e-9)
    assert_allclose(fast.weights, slow.weights, rtol=1e-9)


# -- the engine's structure: it knows the term protocol, not the families ----------------------------------

def test_the_engine_imports_no_family_and_names_no_parameter():
    """``genmix/_fused.py`` imports nothing from ``genmix.distributions`` and names no family or parameter:
    families reach the fast path only through their ``_feature_term``."""
    import ast
    from pathlib import Path

    import genmix._fused as engine
    from genmix.distributions._base import REGISTRY

    tree = ast.parse(Path(engine.__file__).read_text())
    modules = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    modules += [a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names]
    assert not [m for m in modules if "distributions" in m]
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert not names & set(REGISTRY)
    params = {p for cls in REGISTRY.values() for p in (getattr(cls, "_param_names", None) or ())}
    params |= {p for cls in REGISTRY.values() for p in (getattr(cls, "_scalar_params", None) or {})}
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert params and not strings & params


def test_the_two_forms_are_two_classes_behind_one_protocol(rng):
    """Full covariances build a row form with the Gaussian's term; products build a column form with one
    term per column, each its family's."""
    from genmix._fused import LinearTerm
    from genmix.distributions.normal import _NormalTerm

    full = full_model(rng, 3, 2)
    row = FusedEStep.build(full.distributions, full.log_weights, sample(full, 50, rng))
    mixed = mixed_model(rng)
    cols = FusedEStep.build(mixed.distributions, mixed.log_weights, sample(mixed, 50, rng))
    assert isinstance(row, FusedEStep) and isinstance(cols, FusedEStep) and type(row) is not type(cols)
    assert [type(t) for t in row.terms] == [_GaussianTerm]
    assert [type(t) for t in cols.terms] == [_NormalTerm, LinearTerm, _NormalTerm]
    assert not hasattr(row, "full") and not hasattr(cols, "kind")
    for method in ("run", "weighted_log_prob"):  # one implementation, shared (what mixture.py calls)
        assert getattr(type(row), method) is getattr(FusedEStep, method) is getattr(type(cols), method)


def _rayleigh_term(cls, components):
    """The one method the example family needs: ``log p = −2 log σ − x²/(2σ²) + log x``, x > 0."""
    from genmix._fused import LinearTerm
    from genmix.distributions._stats import SumStats

    sigma = np.array([c._params["sigma"] for c in components], dtype=np.float64)
    return LinearTerm.of(-2.0 * np.log(sigma), -0.5 / (sigma * sigma)[:, None], [np.square], SumStats,
                         base=np.log, support=lambda x: x > 0, bounds=lambda span: [span * span])


@pytest.fixture
def rayleigh(monkeypatch):
    """examples/rayleigh_family.py's family with ``_feature_term`` added; the global registry restored."""
    import runpy
    from pathlib import Path

    from genmix.distributions._base import REGISTRY

    before = dict(REGISTRY)
    try:
        ns = runpy.run_path(str(Path(__file__).resolve().parents[1] / "examples" / "rayleigh_family.py"))
    finally:
        REGISTRY.clear()
        REGISTRY.update(before)
    cls = ns["RayleighDistribution"]
    assert FusedEStep.build([cls(1.0), cls(2.0)], np.log([0.5, 0.5]), np.ones((5, 1))) is None  # no term yet
    monkeypatch.setattr(cls, "_feature_term", classmethod(_rayleigh_term), raising=False)
    return cls


def test_a_family_joins_the_fast_path_with_one_method(rng, rayleigh, monkeypatch):
    """The example Rayleigh family with only ``_feature_term`` added: fused scores match scipy, alone and
    as a column of a product, and a fit matches the general path's."""
    from genmix._fused import LinearTerm

    x = np.concatenate([rng.rayleigh(1.0, 3000), rng.rayleigh(4.0, 2000)])[:, None]
    model = GeneralMixtureModel([rayleigh(0.8), rayleigh(3.0)], weights=[0.6, 0.4])
    fused = FusedEStep.build(model.distributions, model.log_weights, x)
    assert [type(t) for t in fused.terms] == [LinearTerm]
    expected = np.column_stack([st.rayleigh(scale=s).logpdf(x[:, 0]) for s in (0.8, 3.0)]) + model.log_weights
    assert_allclose(fused.weighted_log_prob(x), expected, rtol=1e-12)
    logp, resp, stats = fused.run(x, np.ones(len(x)))
    assert_allclose(logp, logsumexp(expected, axis=1).sum(), rtol=1e-12)
    R = np.exp(expected - logsumexp(expected, axis=1, keepdims=True))
    for j, s in enumerate(stats):
        assert_allclose([s.w[0], s.sums[0]], [R[:, j].sum(), R[:, j] @ x[:, 0] ** 2], rtol=1e-12)

    X = np.column_stack([rng.normal(0, 1, x.shape[0]), x[:, 0]])
    product = GeneralMixtureModel([IndependentComponentsDistribution([NormalDistribution(m, 1.0), rayleigh(s)])
                                   for m, s in ((-1.0, 0.8), (1.0, 3.0))])
    fused = FusedEStep.build(product.distributions, product.log_weights, X)
    assert [type(t) for t in fused.terms] == [type(FusedEStep.build([NormalDistribution(0, 1)], np.zeros(1),
                                                                    X[:, :1]).terms[0]), LinearTerm]
    expected = np.column_stack([st.norm(m, 1.0).logpdf(X[:, 0]) + st.rayleigh(scale=s).logpdf(X[:, 1])
                                for m, s in ((-1.0, 0.8), (1.0, 3.0))]) + product.log_weights
    assert_allclose(fused.weighted_log_prob(X), expected, rtol=1e-12)

    def fit():
        return GeneralMixtureModel([rayleigh(0.8), rayleigh(3.0)]).fit(x, max_iterations=10, stop_threshold=0.0)

    fast = fit()
    monkeypatch.setattr(FusedEStep, "build", classmethod(lambda cls, *a: None))
    slow = fit()
    for a, b in zip(fast.distributions, slow.distributions):
        assert_allclose(a.parameters, b.parameters, rtol=1e-9)
    assert_allclose(fast.weights, slow.weights, rtol=1e-9)
