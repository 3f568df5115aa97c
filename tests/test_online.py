"""Stepwise (online) EM: partial_fit on the core model and on genmix.sklearn.GaussianMixture."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from genmix import (DiscreteDistribution, ExponentialDistribution, GaussianKernelDensity, GeneralMixtureModel,
                    IndependentComponentsDistribution, MultivariateGaussianDistribution as MVN, NormalDistribution,
                    UniformDistribution)
from genmix.data import DataGenerator
from genmix.estep import estep_from_responsibilities


def test_scaled_statistics_are_those_of_scaled_weights():
    rng = np.random.default_rng(0)
    n = 200
    X = np.empty((n, 1), dtype=object)
    X[:, 0] = list(rng.normal(size=n))
    numeric = np.abs(rng.normal(size=(n, 1))) + 0.1
    categories = np.array(rng.choice(["a", "b"], n), dtype=object)[:, None]
    R = rng.dirichlet(np.ones(2), size=n)
    cases = [
        ([NormalDistribution(0, 1), NormalDistribution(1, 1)], numeric),
        ([ExponentialDistribution(1), ExponentialDistribution(2)], numeric),
        ([UniformDistribution(0, 5), UniformDistribution(0, 6)], numeric),
        ([GaussianKernelDensity([0.0]), GaussianKernelDensity([1.0])], numeric),
        ([DiscreteDistribution({"a": 0.5, "b": 0.5}), DiscreteDistribution({"a": 0.2, "b": 0.8})], categories),
        ([IndependentComponentsDistribution([NormalDistribution(0, 1), ExponentialDistribution(1)])] * 2,
         np.hstack([numeric, numeric])),
        ([MVN.blank(2), MVN.blank(2, "diag")], np.hstack([numeric, numeric ** 2])),
    ]
    for comps, data in cases:
        for c in (0.0, 0.37, 3.0):
            direct = estep_from_responsibilities(comps, data, R * c)
            scaled = estep_from_responsibilities(comps, data, R).scaled(c)
            assert_allclose(scaled.resp_sum, direct.resp_sum, rtol=1e-12)
            for a, b in zip(scaled.stats, direct.stats):
                for field in ("w", "mean", "m2", "sums", "counts", "weights", "lo", "hi"):
                    if hasattr(b, field) and (c > 0 or field not in ("mean", "lo", "hi")):  # undefined at w = 0
                        assert_allclose(getattr(a, field), getattr(b, field), rtol=1e-12, atol=1e-300,
                                        err_msg=f"{type(comps[0]).__name__} {field} c={c}")
        for bad in (-0.5, np.nan, np.inf):
            with pytest.raises(ValueError, match="c must be a finite number >= 0"):
                estep_from_responsibilities(comps, data, R).scaled(bad)


def blobs(n, seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal([0, 0], 1, (n // 2, 2)), rng.normal([3, 1], [0.5, 1.5], (n // 4, 2)),
                   rng.normal([-2, 4], 0.8, (n - n // 2 - n // 4, 2))])
    rng.shuffle(X)
    return X


def start():
    return GeneralMixtureModel([MVN([0.5, 0], np.eye(2)), MVN([2, 2], np.eye(2)), MVN([-1, 3], np.eye(2))])


def test_three_passes_of_small_batches_reach_the_full_batch_fit():
    X = blobs(100_000)
    full = start().fit(X, stop_threshold=1e-6, max_iterations=10_000)
    online = start()
    for _ in range(3):
        for Xb, _ in DataGenerator(X, batch_size=1000).batches():  # a plain loop over a generator
            online.partial_fit(Xb)
    gap = full.log_probability(X).mean() - online.log_probability(X).mean()
    assert -1e-9 < gap < 1e-3
    # a wrong normalisation (summing batches without decay) or no decay at all would stay far off:
    frozen_start = start()
    frozen_start.partial_fit(X[:1000])
    assert full.log_probability(X).mean() - frozen_start.log_probability(X).mean() > 1e-3


def test_the_first_step_is_one_em_step_and_weights_follow_the_running_mass():
    X = blobs(3000, seed=1)
    a, b = start(), start()
    a.partial_fit(X)
    b.fit(X, max_iterations=1)
    assert_allclose(a.weights, b.weights, rtol=1e-12)
    assert_allclose(a.distributions[0].parameters[1], b.distributions[0].parameters[1], rtol=1e-12)
    # the second step with decay 1 and offset 1 (η = 1/2) averages the two batches' normalised statistics
    c = start()
    c.partial_fit(X[:1500], decay=1.0, offset=1.0)
    r1 = start().estep(X[:1500])
    r2 = c.estep(X[1500:])
    c.partial_fit(X[1500:], decay=1.0, offset=1.0)
    reference = start()
    reference.add_summaries(r1.scaled(0.5 / 1500) + r2.scaled(0.5 / 1500))
    reference.from_summaries()
    assert_allclose(c.weights, reference.weights, rtol=1e-12)
    for got, want in zip(c.distributions, reference.distributions):
        assert_allclose(got.parameters[1], want.parameters[1], rtol=1e-10)
    assert c._online[0] == 2 and c._online[2] == pytest.approx(r2.log_likelihood / 1500, rel=1e-12)


def test_bad_options_and_failures_leave_the_model_unchanged():
    X = blobs(2000, seed=2)
    model = start()
    model.partial_fit(X[:1000])
    before, state = model.to_dict(), model._online
    for bad in (dict(decay=0.5), dict(decay=1.5), dict(offset=0.5)):
        with pytest.raises(ValueError, match=next(iter(bad))):
            model.partial_fit(X[1000:], **bad)
    with pytest.raises(ValueError):
        model.partial_fit(X[1000:, :1])
    with pytest.raises(ValueError, match="no weight"):
        model.partial_fit(X[1000:], np.zeros(1000))
    assert model.to_dict() == before and model._online is state
    # copies and pickles continue the schedule; a JSON round trip and fit start a new one
    import pickle
    assert model.copy()._online[0] == pickle.loads(pickle.dumps(model))._online[0] == 1
    assert getattr(GeneralMixtureModel.from_json(model.to_json()), "_online", None) is None
    model.fit(X, max_iterations=1)
    assert model._online is None


def test_gaussian_mixture_partial_fit_initialises_then_steps():
    pytest.importorskip("sklearn")
    from genmix.sklearn import GaussianMixture

    X = blobs(60_000, seed=3)
    full = GaussianMixture(3, random_state=0, tol=1e-8, max_iter=1000).fit(X)
    online = GaussianMixture(3, random_state=0, covariance_type="full")
    for _ in range(3):
        for s in range(0, len(X), 1000):
            online.partial_fit(X[s:s + 1000])
    assert online.n_iter_ == 180 and len(online.lower_bounds_) == 180 and not online.converged_
    assert full.score(X) - online.score(X) < 1e-3
    assert online.means_.shape == (3, 2) and online.precisions_cholesky_.shape == (3, 2, 2)
    with pytest.raises(ValueError, match="features"):
        online.partial_fit(X[:10, :1])
    assert online.n_iter_ == 180


def test_dask_ml_incremental_feeds_partial_fit_block_by_block():
    """``dask_ml.wrappers.Incremental`` calls ``partial_fit`` once per block of a dask array (in a shuffled
    order) and maps ``predict``/``score`` over blocks lazily; the stepwise fit reaches the full-batch fit."""
    pytest.importorskip("sklearn")
    da = pytest.importorskip("dask.array")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    from genmix.sklearn import GaussianMixture

    X = blobs(40_000, seed=4)
    Xd = da.from_array(X, chunks=(1000, 2))
    full = GaussianMixture(3, random_state=0, tol=1e-8, max_iter=1000).fit(X)
    incremental = wrappers.Incremental(GaussianMixture(3, random_state=0), random_state=0)
    for _ in range(3):
        incremental.partial_fit(Xd)
    fitted = incremental.estimator_
    assert isinstance(fitted, GaussianMixture) and fitted.n_iter_ == 3 * Xd.numblocks[0]
    assert full.score(X) - fitted.score(X) < 1e-3
    labels = incremental.predict(Xd)
    assert isinstance(labels, da.Array)
    np.testing.assert_array_equal(labels.compute(), fitted.predict(X))
    assert incremental.score(Xd, None) == pytest.approx(fitted.score(X), rel=1e-12)
