"""Full-covariance Gaussians with missing values on the fused path (``genmix._fused._PatternRowEStep``).

The reference is written in the covariance form, independently of genmix's precision-form conditioning:
per row and component, ``scipy.stats.multivariate_normal(μ_o, Σ_oo)`` for the marginal log density, and
``E[x_m | x_o] = μ_m + Σ_mo Σ_oo⁻¹ (x_o − μ_o)``, ``Cov = Σ_mm − Σ_mo Σ_oo⁻¹ Σ_om`` for the expected
statistics (Ghahramani & Jordan's exact EM). Cases: common patterns (one coefficient matrix each) and
rare ones (the tail, through the family's own kernels) in one batch, a row with nothing observed,
weights, labels, zero-weight and frozen components, two threads, block boundaries, given
responsibilities, the centred second pass, and the cases the path declines.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats as st
from scipy.special import logsumexp

import genmix._fused as fused_module
from genmix import GeneralMixtureModel, MultivariateGaussianDistribution
from genmix._fused import FusedEStep, _PatternRowEStep
from genmix.data import row_log_priors
from genmix.estep import estep, estep_from_responsibilities

pytestmark = pytest.mark.usefixtures("both_paths")  # the compiled kernels and the numpy path


def model_of(rng, d, k, offset=0.0, scale=3.0):
    comps = []
    for _ in range(k):
        A = rng.normal(size=(d, d)) * 0.6
        comps.append(MultivariateGaussianDistribution(offset + rng.normal(0, scale, d), A @ A.T + 0.3 * np.eye(d)))
    return GeneralMixtureModel(comps, weights=rng.dirichlet(np.full(k, 3.0)))


def params(c):
    """A Gaussian's mean and covariance as float arrays."""
    return tuple(np.asarray(p, dtype=np.float64) for p in c.parameters)


def incomplete(model, n, rng, fraction=0.2):
    X = np.asarray(model.sample(n, random_state=int(rng.integers(2 ** 31)))).reshape(n, -1)
    X[rng.random(X.shape) < fraction] = np.nan
    X[3] = np.nan  # nothing observed: log density 0, posterior = the weights
    return X


def reference(model, X, w=None, log_priors=None):
    """``(logp, R (n, k), [(N, mean, m2)] per component)`` in the covariance form (see the module)."""
    n, d = X.shape
    k = len(model.distributions)
    w = np.ones(n) if w is None else w
    L = np.zeros((n, k))
    filled = np.repeat(X[None], k, axis=0)  # per component: rows with E[x_m | x_o]
    cond = np.zeros((k, n, d, d))  # per component and row: Cov[x | x_o] (at (m, m))
    patterns, inverse = np.unique(np.isnan(X), axis=0, return_inverse=True)
    for p, mask in enumerate(patterns):
        rows = np.nonzero(inverse.ravel() == p)[0]
        o, m = ~mask, mask
        for j, c in enumerate(model.distributions):
            mu, S = params(c)
            if o.any():
                L[rows, j] = st.multivariate_normal(mu[o], S[np.ix_(o, o)]).logpdf(X[np.ix_(rows, o)]).reshape(-1)
            if m.any():
                gain = np.linalg.solve(S[np.ix_(o, o)], S[np.ix_(o, m)]).T if o.any() else np.zeros((m.sum(), 0))
                xo = X[np.ix_(rows, o)] - mu[o]
                filled[j][np.ix_(rows, m)] = mu[m] + xo @ gain.T
                cov = S[np.ix_(m, m)] - gain @ S[np.ix_(o, m)] if o.any() else S[np.ix_(m, m)]
                cond[j][np.ix_(rows, m, m)] = cov
    with np.errstate(divide="ignore"):
        L = L + model.log_weights
    if log_priors is not None:
        L = L + log_priors
    lse = logsumexp(L, axis=1)
    R = np.exp(L - lse[:, None]) * w[:, None]
    active = w > 0
    out = []
    for j in range(k):
        r = R[:, j]
        N = r.sum()
        if N == 0:  # a component of weight 0
            out.append((0.0, np.zeros(d), np.zeros((d, d))))
            continue
        mean = r @ filled[j] / N
        Z = filled[j] - mean
        m2 = (r[:, None] * Z).T @ Z + np.einsum("n,nij->ij", r, cond[j])
        out.append((N, mean, m2))
    return float(w[active] @ lse[active]), R, out


def check(stats, resp, ref, rtol=1e-10):
    _, R, moments = ref
    assert_allclose(resp, R.sum(axis=0), rtol=rtol)
    for s, (N, mean, m2) in zip(stats, moments):
        if s is None:
            continue
        assert_allclose(s.w[0], N, rtol=rtol)
        assert_allclose(s.mean[0], mean, rtol=0, atol=rtol * (1 + np.abs(mean).max()))
        assert_allclose(s.m2[0], m2, rtol=0, atol=rtol * np.abs(m2).max())


def built(model, X):
    fused = FusedEStep.build(model.distributions, model.log_weights, X)
    assert isinstance(fused, _PatternRowEStep)
    return fused


@pytest.mark.parametrize("d, k, n", [(3, 3, 4000), (6, 4, 6000), (1, 2, 500)])
def test_estep_matches_the_covariance_form(rng, d, k, n):
    model = model_of(rng, d, k)
    X = incomplete(model, n, rng)
    fused = built(model, X)
    if d > 3:  # common patterns on coefficient matrices, and a tail of rare ones on the family's kernels
        assert 0 < fused.n_patterns < fused.masks.shape[0] and 0 < fused.tail < n
    logp, resp, stats = fused.run(X, np.ones(n))
    ref = reference(model, X)
    assert_allclose(logp, ref[0], rtol=1e-11)
    check(stats, resp, ref)
    wlp = fused.weighted_log_prob(X)
    lse = logsumexp(wlp, axis=1)
    assert_allclose(np.exp(wlp - lse[:, None]), ref[1], rtol=1e-10, atol=1e-14)
    assert_allclose(lse.sum(), ref[0], rtol=1e-11)
    assert np.array_equal(wlp[3], model.log_weights)  # nothing observed: log density exactly 0
    assert model.log_probability(X[:5])[3] == 0.0 and np.array_equal(model.predict_proba(X[3:4])[0], model.weights)


def test_weights_labels_threads_and_small_blocks(rng, monkeypatch):
    model = model_of(rng, 4, 3)
    X = incomplete(model, 5000, rng)
    w = rng.uniform(0, 2, X.shape[0])
    w[::7] = 0.0
    labels = np.full(X.shape[0], -1)
    labels[:300] = rng.integers(0, 3, 300)
    log_priors = row_log_priors(labels, 3)
    ref = reference(model, X, w, log_priors)
    fused = built(model, X)
    fused.block_rows = 256  # many blocks: patterns cut across block boundaries
    monkeypatch.setattr(fused_module, "_TAIL_ROWS", 100)
    for n_jobs in (1, 2):
        logp, resp, stats = fused.run(X, w, log_priors, n_jobs)
        assert_allclose(logp, ref[0], rtol=1e-11)
        check(stats, resp, ref)


def test_pattern_matrices_within_their_budget(rng, monkeypatch):
    """Past ``_PATTERN_CELLS`` the largest patterns keep their matrices and the others join the tail."""
    model = model_of(rng, 4, 3)
    X = incomplete(model, 6000, rng)
    full = built(model, X)
    monkeypatch.setattr(fused_module, "_PATTERN_CELLS", 5 * 3 * 4 * 4)  # room for five patterns' matrices
    capped = built(model, X)
    assert capped.n_patterns == 5 < full.n_patterns and capped.tail < full.tail  # tail: its first position
    assert capped.tail == full.starts[5]  # the five largest
    logp, resp, stats = capped.run(X, np.ones(X.shape[0]))
    ref = reference(model, X)
    assert_allclose(logp, ref[0], rtol=1e-11)
    check(stats, resp, ref)


def test_zero_weight_and_frozen_components(rng):
    model = model_of(rng, 3, 3)
    X = incomplete(model, 3000, rng)
    model._weights = np.array([0.5, 0.0, 0.5])
    model.distributions[2].freeze()
    logp, resp, stats = built(model, X).run(X, np.ones(X.shape[0]))
    ref = reference(model, X)
    assert_allclose(logp, ref[0], rtol=1e-11)
    assert resp[1] == 0.0 and stats[2] is None
    check(stats, resp, ref)


def test_given_responsibilities(rng):
    model = model_of(rng, 4, 3)
    X = incomplete(model, 4000, rng)
    R = rng.dirichlet(np.ones(3), X.shape[0])
    w = rng.uniform(0.5, 1.5, X.shape[0])
    fused = built(model, X)
    assert 0 < fused.tail < X.shape[0]  # fused patterns and the tail
    result = estep_from_responsibilities(model.distributions, X, R, w, n_jobs=2)
    assert np.isnan(result.log_likelihood)
    ref = reference(model, X)
    moments = []
    for j in range(3):  # the reference's conditional moments, under the given responsibilities
        r = R[:, j] * w
        filled, cond = _conditional(model.distributions[j], X)
        mean = r @ filled / r.sum()
        Z = filled - mean
        moments.append((r.sum(), mean, (r[:, None] * Z).T @ Z + np.einsum("n,nij->ij", r, cond)))
    check(result.stats, result.resp_sum, (ref[0], R * w[:, None], moments))


def _conditional(c, X):
    """``E[x | x_o]`` and ``Cov[x | x_o]`` of every row under one component, row by row."""
    mu, S = params(c)
    filled, cond = X.copy(), np.zeros(X.shape + (X.shape[1],))
    for i, x in enumerate(X):
        o, m = ~np.isnan(x), np.isnan(x)
        if not m.any():
            continue
        if o.any():
            gain = np.linalg.solve(S[np.ix_(o, o)], S[np.ix_(o, m)]).T
            filled[i, m] = mu[m] + gain @ (x[o] - mu[o])
            cond[i][np.ix_(m, m)] = S[np.ix_(m, m)] - gain @ S[np.ix_(o, m)]
        else:
            filled[i] = mu
            cond[i] = S
    return filled, cond


def test_centred_second_pass(rng, monkeypatch):
    """Components 100 standard deviations from the shift: the expansion's scores pass the precision guard,
    its raw sums cancel, and those statistics are recomputed centred by the family's kernels."""
    comps = [MultivariateGaussianDistribution([0.0, 0.0, 0.0], np.eye(3) + 0.2),
             MultivariateGaussianDistribution([200.0, 0.0, 0.0], np.eye(3))]
    model = GeneralMixtureModel(comps)
    X = incomplete(model, 4000, rng)
    fused = built(model, X)
    calls = []
    original = type(fused.term).missing_rows

    def spy(self, X, comps=None, scores=True):
        calls.append(comps)
        return original(self, X, comps, scores)

    monkeypatch.setattr(type(fused.term), "missing_rows", spy)
    logp, resp, stats = fused.run(X, np.ones(X.shape[0]))
    assert [0, 1] in calls  # the second pass
    ref = reference(model, X)
    assert_allclose(logp, ref[0], rtol=1e-11)
    check(stats, resp, ref)


def test_where_the_pattern_path_declines(rng):
    model = model_of(rng, 3, 2)
    X = incomplete(model, 3000, rng)
    assert built(model, X) is not None
    few = X[:10]  # every pattern rarer than _PATTERN_ROWS: the general path conditions
    assert FusedEStep.build(model.distributions, model.log_weights, few) is None
    wide = model_of(rng, 12, 2)  # 12 dimensions, 30% missing: most rows in patterns of their own
    Xw = incomplete(wide, 3000, rng, fraction=0.3)
    assert FusedEStep.build(wide.distributions, wide.log_weights, Xw) is None
    Xw[:1800] = np.asarray(wide.sample(1800, random_state=1))  # now 60% complete rows: one common pattern
    assert isinstance(FusedEStep.build(wide.distributions, wide.log_weights, Xw), _PatternRowEStep)
    # unit-variance components 1e4 apart: the expansion about the data's centre would lose more than the
    # tolerance (the complete-data path scores such components factorised; the pattern path declines)
    shifted = GeneralMixtureModel([MultivariateGaussianDistribution(np.full(3, 1e4 * j), np.eye(3)) for j in (0, 1)])
    far = incomplete(shifted, 3000, rng)
    assert FusedEStep.build(shifted.distributions, shifted.log_weights, far) is None
    assert FusedEStep.build(model.distributions, model.log_weights, X.astype(np.float32)) is None
    tied = GeneralMixtureModel([MultivariateGaussianDistribution(params(c)[0], np.eye(3), covariance_type="tied")
                                for c in model.distributions])
    assert FusedEStep.build(tied.distributions, tied.log_weights, X) is None
    # where it declines, the general path gives the same exact E-step
    ref = reference(shifted, far)
    result = estep(shifted.distributions, shifted.log_weights, far, np.ones(far.shape[0]))
    assert_allclose(result.log_likelihood, ref[0], rtol=1e-11)


def test_one_em_iteration_is_the_exact_m_step_of_the_reference(rng):
    model = model_of(rng, 4, 3)
    X = incomplete(model, 5000, rng)
    _, _, moments = reference(model, X)
    built(model, X)  # the fit's E-steps take the pattern path
    fitted = model.copy().fit(X, max_iterations=1, stop_threshold=-np.inf)
    N = np.array([m[0] for m in moments])
    assert_allclose(fitted.weights, N / N.sum(), rtol=1e-11)
    for c, (n_j, mean, m2) in zip(fitted.distributions, moments):
        assert_allclose(params(c)[0], mean, rtol=1e-10)
        assert_allclose(params(c)[1], m2 / n_j, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cells", [None, 50], ids=["one-chunk", "component-chunks"])
def test_the_family_kernels_match_the_covariance_form(rng, monkeypatch, cells):
    """The general path (the family's conditional kernels, batched over components; here also in chunks of
    components) on the same reference, with many patterns of few rows."""
    import genmix.distributions.multivariate_gaussian as mvn

    if cells is not None:
        monkeypatch.setattr(mvn, "_CONDITION_CELLS", cells)
    monkeypatch.setattr(FusedEStep, "build", classmethod(lambda cls, *a: None))
    model = model_of(rng, 5, 4)
    X = incomplete(model, 400, rng, fraction=0.35)
    w = rng.uniform(0.5, 2.0, X.shape[0])
    result = estep(model.distributions, model.log_weights, X, w)
    ref = reference(model, X, w)
    assert_allclose(result.log_likelihood, ref[0], rtol=1e-11)
    check(result.stats, result.resp_sum, ref)
    for j, c in enumerate(model.distributions):  # a component's own log density: the marginal
        expected = [st.multivariate_normal(params(c)[0][~np.isnan(x)],
                                           params(c)[1][np.ix_(~np.isnan(x), ~np.isnan(x))]).logpdf(x[~np.isnan(x)])
                    if (~np.isnan(x)).any() else 0.0 for x in X[:60]]
        assert_allclose(c.log_probability(X[:60]), expected, rtol=1e-11)


def test_lower_inverse_and_scratch_buffers():
    import threading

    from genmix._fused import _scratch
    from genmix._math import lower_inverse

    rng = np.random.default_rng(5)
    A = rng.normal(size=(7, 3, 6, 6))
    L = np.linalg.cholesky(A @ np.swapaxes(A, -1, -2) + 6 * np.eye(6))
    assert_allclose(lower_inverse(L), np.linalg.inv(L), rtol=0, atol=1e-13)
    a = _scratch("t-a", (3, 4), np.float64)
    assert _scratch("t-a", (2, 5), np.float64).base is a.base  # the same memory, reshaped
    assert _scratch("t-b", (3, 4), np.float64).base is not a.base  # another name, another buffer
    assert _scratch("t-a", (10, 10), np.float64).shape == (10, 10)  # grown on demand
    assert _scratch("t-a", (2, 2), np.float32).dtype == np.float32
    other = []
    thread = threading.Thread(target=lambda: other.append(_scratch("t-a", (2, 2), np.float32)))
    thread.start()
    thread.join()
    assert other[0].base is not _scratch("t-a", (2, 2), np.float32).base  # each thread its own
