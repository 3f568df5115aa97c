"""Covariance types of MultivariateGaussianDistribution against scipy, closed forms and scikit-learn."""
import json
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from genmix import GeneralMixtureModel, MultivariateGaussianDistribution as MVN, NormalDistribution, from_json
from genmix.estep import estep_from_responsibilities

TYPES = ["full", "tied", "diag", "spherical", "EEI", "EII"]
SHAPE = {"full": "matrix", "tied": "matrix", "diag": "vector", "EEI": "vector", "spherical": "scalar",
         "EII": "scalar"}


def data(seed=0, n=400, d=3):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(d, d)) * 0.4 + np.eye(d)
    return np.vstack([rng.normal(0, 1, (n // 2, d)) @ A, rng.normal(3, 0.7, (n - n // 2, d))])


def covariance_of(kind, d, rng):
    if SHAPE[kind] == "matrix":
        A = rng.normal(size=(d, d))
        return A @ A.T + d * np.eye(d)
    if SHAPE[kind] == "vector":
        return rng.uniform(0.5, 2.0, d)
    return float(rng.uniform(0.5, 2.0))


def expanded(cov, d):
    cov = np.asarray(cov, dtype=float)
    return cov if cov.ndim == 2 else np.diag(np.broadcast_to(cov, (d,)))


@pytest.mark.parametrize("kind", TYPES)
def test_log_density_matches_scipy(kind):
    rng = np.random.default_rng(1)
    d = 4
    cov, mean = covariance_of(kind, d, rng), rng.normal(size=d)
    X = rng.normal(size=(50, d)) * 2
    dist = MVN(mean, cov, covariance_type=kind)
    assert_allclose(dist.log_probability(X), stats.multivariate_normal(mean, expanded(cov, d)).logpdf(X), rtol=1e-12)
    Xm = X.copy()
    Xm[::3, 1] = np.nan
    Xm[::5, 2:] = np.nan
    expected = [stats.multivariate_normal(mean[~np.isnan(r)], expanded(cov, d)[np.ix_(~np.isnan(r), ~np.isnan(r))])
                .logpdf(r[~np.isnan(r)]) for r in Xm]
    assert_allclose(dist.log_probability(Xm), expected, rtol=1e-12)


def closed_form_m_step(X, R, kind, reg):
    """scikit-learn's ``_estimate_gaussian_parameters`` written out with numpy (plus EEI, EII)."""
    nk = R.sum(axis=0)
    means = (R.T @ X) / nk[:, None]
    scatter = [(R[:, j:j + 1] * (X - means[j])).T @ (X - means[j]) for j in range(len(nk))]
    d = X.shape[1]
    if kind == "full":
        covs = [s / n + reg * np.eye(d) for s, n in zip(scatter, nk)]
    elif kind == "tied":
        covs = [sum(scatter) / nk.sum() + reg * np.eye(d)] * len(nk)
    elif kind == "diag":
        covs = [np.diag(s) / n + reg for s, n in zip(scatter, nk)]
    elif kind == "spherical":
        covs = [np.mean(np.diag(s) / n) + reg for s, n in zip(scatter, nk)]
    elif kind == "EEI":
        covs = [np.diag(sum(scatter)) / nk.sum() + reg] * len(nk)
    else:
        covs = [np.mean(np.diag(sum(scatter)) / nk.sum()) + reg] * len(nk)
    return nk / nk.sum(), means, covs


@pytest.mark.parametrize("kind", TYPES)
@pytest.mark.parametrize("reg", [0.0, 1e-2])
def test_m_step_from_given_responsibilities_is_the_closed_form(kind, reg):
    X = data()
    rng = np.random.default_rng(2)
    R = rng.dirichlet(np.ones(3), size=len(X))
    model = GeneralMixtureModel([MVN.blank(3, kind) for _ in range(3)])
    for c in model.distributions:
        c.reg_covar = reg
    model.add_summaries(estep_from_responsibilities(model.distributions, X, R))
    model.from_summaries()
    weights, means, covs = closed_form_m_step(X, R, kind, reg)
    assert_allclose(model.weights, weights, rtol=1e-12)
    for c, m, cov in zip(model.distributions, means, covs):
        assert c.covariance_type == kind
        assert_allclose(c.parameters[0], m, rtol=1e-11, atol=1e-13)
        assert_allclose(c.parameters[1], cov, rtol=1e-11)


@pytest.mark.parametrize("kind", ["full", "tied", "diag", "spherical"])
def test_em_equals_scikit_learn_from_the_same_start(kind):
    sk = pytest.importorskip("sklearn.mixture")
    from sklearn.exceptions import ConvergenceWarning

    X = data(3, n=600)
    rng = np.random.default_rng(4)
    k, d, reg, n_iter = 3, X.shape[1], 1e-4, 15
    covs = [covariance_of(kind, d, rng) for _ in range(k)]
    if kind == "tied":
        covs = [covs[0]] * k
    means, weights = X[[0, 300, 599]], np.array([0.3, 0.3, 0.4])
    if kind == "full":
        precisions = np.array([np.linalg.inv(c) for c in covs])
    elif kind == "tied":
        precisions = np.linalg.inv(covs[0])
    else:
        precisions = 1.0 / np.array(covs)
    theirs = sk.GaussianMixture(k, covariance_type=kind, weights_init=weights, means_init=means,
                                precisions_init=precisions, reg_covar=reg, max_iter=n_iter, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X)
    ours = GeneralMixtureModel([MVN(m, c, covariance_type=kind, reg_covar=reg) for m, c in zip(means, covs)], weights)
    ours.fit(X, max_iterations=n_iter, stop_threshold=-np.inf)
    assert_allclose(ours.weights, theirs.weights_, rtol=1e-8)
    assert_allclose([c.parameters[0] for c in ours.distributions], theirs.means_, rtol=1e-8, atol=1e-12)
    got = [c.parameters[1] for c in ours.distributions]
    assert_allclose(got[0] if kind == "tied" else got, theirs.covariances_, rtol=1e-8)
    assert ours.n_parameters == theirs._n_parameters()


@pytest.mark.parametrize("kind", TYPES)
def test_documents_round_trip_and_full_keeps_pomegranates_layout(kind):
    rng = np.random.default_rng(5)
    dist = MVN(rng.normal(size=3), covariance_of(kind, 3, rng), covariance_type=kind, reg_covar=1e-3)
    doc = json.loads(dist.to_json())
    back = from_json(dist.to_json())
    assert back.covariance_type == kind and back.reg_covar == 1e-3
    assert_allclose(back.parameters[1], dist.parameters[1], rtol=0)
    assert ("covariance_type" in doc) == (kind != "full")
    plain = json.loads(MVN(np.zeros(2), np.eye(2)).to_json())
    assert set(plain) == {"class", "name", "parameters", "frozen"}


def test_mclust_names_and_bad_input():
    assert MVN(np.zeros(2), [1.0, 2.0], covariance_type="VVI").covariance_type == "diag"
    assert MVN(np.zeros(2), np.eye(2), covariance_type="EEE").covariance_type == "tied"
    assert MVN(np.zeros(2), 1.0, covariance_type="VII").covariance_type == "spherical"
    with pytest.raises(ValueError, match="'covariance_type' parameter"):
        MVN(np.zeros(2), np.eye(2), covariance_type="banana")
    with pytest.raises(TypeError, match="'covariance_type' parameter"):
        MVN(np.zeros(2), np.eye(2), covariance_type=3)
    with pytest.raises(ValueError, match="'covariance' parameter.*shape"):
        MVN(np.zeros(2), np.eye(2), covariance_type="diag")
    with pytest.raises(ValueError, match="positive variances"):
        MVN(np.zeros(2), [1.0, -1.0], covariance_type="diag")
    with pytest.raises(ValueError, match="'reg_covar' parameter"):
        MVN(np.zeros(2), np.eye(2), reg_covar=-1.0)
    with pytest.raises(ValueError, match="covariance_type"):
        GeneralMixtureModel.from_samples(NormalDistribution, 2, data(), covariance_type="diag")


@pytest.mark.parametrize("kind", TYPES)
def test_from_samples_fits_the_type(kind):
    X = data(6)
    model = GeneralMixtureModel.from_samples(MVN, 2, X, covariance_type=kind, random_state=0, stop_threshold=1e-11,
                                             max_iterations=20_000)
    assert all(c.covariance_type == kind for c in model.distributions)
    if kind in ("tied", "EEI", "EII"):
        assert_allclose(model.distributions[0].parameters[1], model.distributions[1].parameters[1], rtol=0)
    # the fit is a fixed point of the closed-form M-step under its own posteriors
    R = model.predict_proba(X)
    weights, means, covs = closed_form_m_step(X, R, kind, 0.0)
    assert_allclose(model.weights, weights, rtol=1e-5)
    assert_allclose(np.asarray(model.distributions[0].parameters[1]), covs[0], rtol=1e-5, atol=1e-8)


def test_a_frozen_component_takes_no_part_in_a_tied_covariance():
    X = data(7)
    frozen = MVN(np.full(3, 10.0), np.eye(3) * 5, covariance_type="tied", frozen=True)
    model = GeneralMixtureModel([MVN.blank(3, "tied"), MVN(np.full(3, 3.0), np.eye(3), covariance_type="tied"),
                                 frozen])
    model.fit(X, max_iterations=3)
    assert_allclose(frozen.parameters[1], np.eye(3) * 5, rtol=0)
    assert_allclose(model.distributions[0].parameters[1], model.distributions[1].parameters[1], rtol=0)


@pytest.mark.parametrize("kind", ["diag", "spherical", "EEI", "EII"])
@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_diagonal_types_take_the_cheaper_fused_term_and_agree_with_scipy(kind, offset):
    from scipy.special import logsumexp

    from genmix._fused import FusedEStep
    from genmix.distributions.multivariate_gaussian import _DiagonalTerm

    rng = np.random.default_rng(8)
    d, k = 4, 3
    X = data(9, n=3000, d=d) + offset
    comps = [MVN(X[i], covariance_of(kind, d, rng), covariance_type=kind) for i in (0, 1500, 2999)]
    log_weights = np.log([0.2, 0.3, 0.5])
    fused = FusedEStep.build(comps, log_weights, X)
    assert fused is not None and isinstance(fused.terms[0], _DiagonalTerm)
    logp, resp, moments = fused.run(X, np.ones(len(X)))
    scipy_joint = np.column_stack([lw + stats_ref(c, d).logpdf(X) for lw, c in zip(log_weights, comps)])
    R = np.exp(scipy_joint - logsumexp(scipy_joint, axis=1)[:, None])
    assert_allclose(logp, logsumexp(scipy_joint, axis=1).sum(), rtol=1e-10)
    assert_allclose(resp, R.sum(axis=0), rtol=1e-9)
    for j, s in enumerate(moments):  # per-coordinate centred moments under the responsibilities
        mean = R[:, j] @ X / R[:, j].sum()
        assert_allclose(s.mean[0], mean, rtol=1e-12)
        assert_allclose(s.m2[0], R[:, j] @ (X - mean) ** 2, rtol=1e-8)


def stats_ref(component, d):
    return stats.multivariate_normal(component.parameters[0], expanded(component.parameters[1], d))
