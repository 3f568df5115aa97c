"""Offset and scale invariance of EM (issue 8, item 3).

A location-scale family fitted to ``a + s·x`` from the correspondingly transformed start must give the
transformed fit of ``x``: means ``a + s·m``, spreads ``s·σ`` (covariances ``s²·Σ``), the same weights, and a
log-likelihood shifted by the Jacobian, ``log L' = log L − n·d·log s``. Statistics accumulated as raw power sums
lose everything at an offset of 1e6 (``Σx²`` cancels), so this is what catches them. Each pair of fits runs a
fixed number of EM iterations (``max_iterations=20``, ``stop_threshold=0``) on data with overlapping components,
so that neither fit stops early, and the comparison is to 1e-8 relative (locations relative to the spread).
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from genmix import (GeneralMixtureModel, IndependentComponentsDistribution, MultivariateGaussianDistribution,
                    NormalDistribution)

RTOL = 1e-8
N = 400


def _data(rng, d):
    """Two overlapping correlated clusters (EM is still moving after 20 iterations)."""
    part = rng.random(N) < 0.4
    X = rng.normal(size=(N, d)) @ np.array([[1.0, 0.3], [0.0, 0.8]])[:d, :d]
    X[part] += np.array([1.5, -1.0])[:d]
    return X


# Each model: (start parameters as plain arrays, builder from parameters, reader of fitted parameters).
# Parameters are (means (k, d), spreads) where a spread is a std (k,) / (k, d) or a covariance (k, d, d).
def _normal(means, spreads):
    return GeneralMixtureModel([NormalDistribution(m[0], s) for m, s in zip(means, spreads)], weights=[0.5, 0.5])


def _read_normal(model):
    return (np.array([[c.parameters[0]] for c in model.distributions]),
            np.array([c.parameters[1] for c in model.distributions]))


def _mvn(means, spreads):
    return GeneralMixtureModel([MultivariateGaussianDistribution(m, s) for m, s in zip(means, spreads)],
                               weights=[0.5, 0.5])


def _read_mvn(model):
    return (np.array([c.parameters[0] for c in model.distributions]),
            np.array([c.parameters[1] for c in model.distributions]))


def _independent(means, spreads):
    return GeneralMixtureModel([IndependentComponentsDistribution([NormalDistribution(mj, sj) for mj, sj in zip(m, s)])
                                for m, s in zip(means, spreads)], weights=[0.5, 0.5])


def _read_independent(model):
    return (np.array([[col.parameters[0] for col in c.distributions] for c in model.distributions]),
            np.array([[col.parameters[1] for col in c.distributions] for c in model.distributions]))


MODELS = {
    "normal": (1, np.array([[-0.5], [2.0]]), np.array([1.2, 0.8]), _normal, _read_normal, 1),
    "multivariate-gaussian": (2, np.array([[-0.5, 0.5], [2.0, -1.5]]),
                              np.array([[[1.5, 0.2], [0.2, 1.0]], [[0.8, 0.0], [0.0, 0.6]]]), _mvn, _read_mvn, 2),
    "independent-normals": (2, np.array([[-0.5, 0.5], [2.0, -1.5]]), np.array([[1.2, 1.0], [0.8, 0.7]]),
                            _independent, _read_independent, 1),
}


def _fit(model, X):
    model, history = model.fit(X, max_iterations=20, stop_threshold=0.0, return_history=True)
    return model, history


@pytest.mark.parametrize("transform", ["shift-1e6", "scale-1e-6"])
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_fit_is_equivariant_under_offset_and_scale(kind, transform, rng):
    d, means, spreads, build, read, spread_power = MODELS[kind]
    offset, scale = {"shift-1e6": (1e6, 1.0), "scale-1e-6": (0.0, 1e-6)}[transform]
    offset = offset * np.array([1.0, -1.0])[:d]  # opposite offsets in the two columns
    X = _data(rng, d)
    Xt = offset + scale * X
    if d == 1:
        X, Xt = X[:, 0], Xt[:, 0]

    a, ha = _fit(build(means, spreads), X)
    b, hb = _fit(build(offset + scale * means, spreads * scale ** spread_power), Xt)
    assert len(ha.log_probabilities) == len(hb.log_probabilities) == 20  # neither fit stopped early

    ma, sa = read(a)
    mb, sb = read(b)
    spread_scale = np.sqrt(np.max(np.abs(sa))) if spread_power == 2 else np.max(sa)
    # locations relative to the spread of the data; spreads and weights relative to themselves
    assert_allclose((mb - offset) / scale, ma, rtol=RTOL, atol=RTOL * spread_scale)
    if spread_power == 2:
        assert_allclose(sb / scale ** 2, sa, rtol=RTOL, atol=RTOL * np.max(np.abs(sa)))
    else:
        assert_allclose(sb / scale, sa, rtol=RTOL)
    assert_allclose(b.weights, a.weights, rtol=RTOL)

    # the log-likelihood moves by the Jacobian of x -> offset + scale·x, n·d·log(scale), at every epoch
    jacobian = N * d * np.log(scale)
    assert_allclose(np.array(hb.log_probabilities) + jacobian, ha.log_probabilities, rtol=RTOL)
    assert_allclose(b.log_probability(Xt).sum() + jacobian, a.log_probability(X).sum(), rtol=RTOL)
    # and the posteriors are the same
    assert_allclose(b.predict_proba(Xt), a.predict_proba(X), rtol=0, atol=1e-8)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_statistics_survive_a_large_offset_in_one_batch_or_many(kind, rng):
    """The same offset data summarised in one batch and in batches of 37 rows give the same model: the
    merge of centred statistics does not cancel either."""
    d, means, spreads, build, read, spread_power = MODELS[kind]
    X = 1e6 + _data(rng, d)
    if d == 1:
        X = X[:, 0]
    start = (1e6 + means, spreads)
    a, _ = _fit(build(*start), X)
    b, _ = build(*start).fit(X, max_iterations=20, stop_threshold=0.0, batch_size=37, return_history=True)
    ma, sa = read(a)
    mb, sb = read(b)
    scale = np.max(np.abs(sa)) ** (0.5 if spread_power == 2 else 1.0)
    assert_allclose(mb - 1e6, ma - 1e6, rtol=0, atol=RTOL * scale)
    assert_allclose(sb, sa, rtol=RTOL, atol=RTOL * np.max(np.abs(sa)))
    assert_allclose(b.weights, a.weights, rtol=RTOL)
