"""EM: monotonicity, scikit-learn parity, batching, streaming, options, callbacks, transactional failure."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from genmix import (Callback, ExponentialDistribution, GeneralMixtureModel, IndependentComponentsDistribution,
                    LogNormalDistribution, MultivariateGaussianDistribution, NormalDistribution)

from ._checks import assert_em_monotone


def two_normals():
    return GeneralMixtureModel([NormalDistribution(5, 2), NormalDistribution(1, 1)])


def data_1d(rng, n=300):
    return np.concatenate([rng.normal(0, 1, n // 3), rng.normal(4, 1.5, n - n // 3)])[:, None]


def full_cov_data(rng, n=400):
    a = rng.multivariate_normal([0, 0, 0], [[1, 0.5, 0], [0.5, 1, 0.2], [0, 0.2, 1]], n // 2)
    b = rng.multivariate_normal([3, 1, -2], [[2, -0.4, 0.1], [-0.4, 1, 0], [0.1, 0, 0.5]], n - n // 2)
    return np.vstack([a, b])


def params(model):
    return [np.concatenate([np.ravel(p) for p in c.parameters]) if not isinstance(c, IndependentComponentsDistribution)
            else np.concatenate([np.ravel(ch.parameters) for ch in c.distributions]) for c in model.distributions]


def test_each_iteration_never_decreases_the_log_likelihood(rng):
    X = full_cov_data(rng)
    model = GeneralMixtureModel([MultivariateGaussianDistribution(X[0], np.eye(3)),
                                 MultivariateGaussianDistribution(X[-1], np.eye(3)),
                                 MultivariateGaussianDistribution(X.mean(0), np.eye(3))])
    assert_em_monotone(model, X, 40)


def test_matches_sklearn_full_from_the_same_start(rng):
    from sklearn.mixture import GaussianMixture

    X = full_cov_data(rng)
    means = np.array([X[0], X[-1]])
    covs = np.array([np.eye(3), 2 * np.eye(3)])
    model = GeneralMixtureModel([MultivariateGaussianDistribution(m, c) for m, c in zip(means, covs)],
                                weights=[0.4, 0.6])
    model.fit(X, max_iterations=25, stop_threshold=0.0)
    gm = GaussianMixture(2, covariance_type="full", reg_covar=0.0, max_iter=25, tol=0.0, weights_init=[0.4, 0.6],
                         means_init=means, precisions_init=np.linalg.inv(covs))
    with pytest.warns(Warning):  # sklearn warns that 25 iterations did not converge with tol=0
        gm.fit(X)
    assert_allclose(model.weights, gm.weights_, rtol=1e-8)
    for c, m, cov in zip(model.distributions, gm.means_, gm.covariances_):
        assert_allclose(c.parameters[0], m, rtol=1e-8, atol=1e-10)
        assert_allclose(c.parameters[1], cov, rtol=1e-8, atol=1e-10)
    assert_allclose(model.log_probability(X), gm.score_samples(X), rtol=1e-8)


def test_diagonal_model_matches_sklearn_diag(rng):
    from sklearn.mixture import GaussianMixture

    X = full_cov_data(rng)
    means = np.array([X[0], X[-1]])
    var = np.array([[1.0, 2.0, 0.5], [1.5, 1.0, 1.0]])
    model = GeneralMixtureModel([IndependentComponentsDistribution([NormalDistribution(m, np.sqrt(v))
                                                                    for m, v in zip(mu, vv)])
                                 for mu, vv in zip(means, var)])
    model.fit(X, max_iterations=15, stop_threshold=0.0)
    gm = GaussianMixture(2, covariance_type="diag", reg_covar=0.0, max_iter=15, tol=0.0, weights_init=[0.5, 0.5],
                         means_init=means, precisions_init=1 / var)
    with pytest.warns(Warning):
        gm.fit(X)
    assert_allclose(model.weights, gm.weights_, rtol=1e-8)
    for c, m, v in zip(model.distributions, gm.means_, gm.covariances_):
        assert_allclose([ch.parameters[0] for ch in c.distributions], m, rtol=1e-8)
        assert_allclose([ch.parameters[1] ** 2 for ch in c.distributions], v, rtol=1e-8)


def test_integer_weights_equal_repeated_rows(rng):
    X = data_1d(rng, 60)
    counts = rng.integers(0, 4, 60)
    a = two_normals().fit(X, weights=counts.astype(float), stop_threshold=1e-8)
    b = two_normals().fit(np.repeat(X, counts, axis=0), stop_threshold=1e-8)
    assert_allclose(params(a), params(b), rtol=1e-10)
    assert_allclose(a.weights, b.weights, rtol=1e-10)


def test_summarize_halves_equals_whole(rng):
    X = full_cov_data(rng, 200)
    w = rng.uniform(0.2, 2.0, 200)
    whole = GeneralMixtureModel([MultivariateGaussianDistribution(X[0], np.eye(3)),
                                 MultivariateGaussianDistribution(X[-1], np.eye(3))])
    halves = whole.copy()
    lp = whole.summarize(X, w)
    lp1 = halves.summarize(X[:77], w[:77])
    lp2 = halves.summarize(X[77:], w[77:])
    assert_allclose(lp1 + lp2, lp, rtol=1e-12)
    assert_allclose(halves.summaries, whole.summaries, rtol=1e-12)
    whole.from_summaries()
    halves.from_summaries()
    for a, b in zip(params(whole), params(halves)):
        assert_allclose(a, b, rtol=1e-11)


@pytest.mark.parametrize("batch_size", [1, 7, 64, 1000])
def test_batch_size_equals_full_batch(rng, batch_size):
    X = data_1d(rng, 150)
    full, hist_full = two_normals().fit(X, stop_threshold=1e-6, return_history=True)
    batched, hist_b = two_normals().fit(X, stop_threshold=1e-6, batch_size=batch_size, return_history=True)
    assert hist_full.epochs == hist_b.epochs
    assert_allclose(params(batched), params(full), rtol=1e-10)
    assert_allclose(batched.weights, full.weights, rtol=1e-10)


def test_streaming_minibatches_see_every_row():
    # pomegranate 0.x replays the first 20 rows forever and never learns the cluster at 100
    X = np.concatenate([np.linspace(-1, 1, 50), np.linspace(99, 101, 50)])[:, None]
    model = GeneralMixtureModel([NormalDistribution(0, 5), NormalDistribution(1, 5)])
    model, history = model.fit(X, batch_size=10, batches_per_epoch=2, max_iterations=100, return_history=True)
    means = sorted(c.parameters[0] for c in model.distributions)
    assert abs(means[0]) < 1 and abs(means[1] - 100) < 1
    assert_allclose(model.weights, [0.5, 0.5], atol=0.05)
    # the stop rule compares whole passes (5 epochs of 2 batches): only epochs 9, 14, ... report an improvement
    finite = [e for e, imp in zip(history.epochs, history.improvements) if np.isfinite(imp)]
    assert finite == list(range(9, history.epochs[-1] + 1, 5))
    assert history.n_seen_batches[0] == 2


def test_streaming_reaches_the_full_batch_fixed_point(rng):
    """Incremental EM keeps every batch's latest statistics, so it converges where full-batch EM does."""
    X = data_1d(rng, 300)
    full = two_normals().fit(X, stop_threshold=0.0)  # runs until the likelihood stops rising
    streamed = two_normals().fit(X, batch_size=32, batches_per_epoch=3, stop_threshold=1e-12)
    assert_allclose(params(streamed), params(full), rtol=1e-6)
    assert_allclose(streamed.weights, full.weights, rtol=1e-6)


def test_streaming_does_not_stop_early_on_different_subsets(rng):
    # the first 20 rows score far better than the next 20: a naive epoch-to-epoch difference would stop at once
    X = np.concatenate([rng.normal(0, 0.1, 20), rng.normal(0, 10, 20), rng.normal(0, 0.1, 20)])[:, None]
    model, history = GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(0.5, 2)]).fit(
        X, batch_size=10, batches_per_epoch=2, return_history=True)
    assert len(history.epochs) >= 3


def test_batches_per_epoch_at_least_all_batches_is_full_batch(rng):
    X = data_1d(rng, 100)
    a = two_normals().fit(X, batch_size=10, batches_per_epoch=10)
    b = two_normals().fit(X)
    assert_allclose(params(a), params(b), rtol=1e-10)


def test_lr_decay_step_sizes(rng):
    X = data_1d(rng, 100)
    _, history = two_normals().fit(X, lr_decay=0.5, max_iterations=4, stop_threshold=-0.0, return_history=True)
    assert_allclose(history.learning_rates,
                    [0.42264973081037427, 0.5, 0.5527864045000421, 0.591751709536137], rtol=1e-12)


def test_inertia_blends_components_not_weights(rng):
    X = data_1d(rng, 100)
    plain = two_normals().fit(X, max_iterations=1)
    damped = two_normals().fit(X, max_iterations=1, inertia=0.25)
    start = params(two_normals())
    for s, p, d in zip(start, params(plain), params(damped)):
        assert_allclose(d, 0.25 * s + 0.75 * p, rtol=1e-12)
    assert_allclose(damped.weights, plain.weights, rtol=1e-12)


def test_pseudocount_smooths_weights(rng):
    X = data_1d(rng, 50)
    model = two_normals()
    model.summarize(X)
    mass = model.summaries.copy()
    model.from_summaries(pseudocount=3.0)
    assert_allclose(model.weights, (mass + 3) / (mass + 3).sum(), rtol=1e-12)


def test_frozen_model_and_frozen_component(rng):
    X = data_1d(rng, 80)
    model = two_normals()
    model.freeze()
    model, history = model.fit(X, return_history=True)
    assert history.improvements == [0.0]
    assert params(model)[0].tolist() == [5.0, 2.0] and model.weights.tolist() == [0.5, 0.5]
    model.thaw()
    model.distributions[0].freeze()
    model.fit(X)
    assert model.distributions[0].parameters == [5.0, 2.0]
    assert model.distributions[1].parameters != [1.0, 1.0]
    assert not np.allclose(model.weights, 0.5)


def test_one_component_mixture_is_the_single_fit(rng):
    X = full_cov_data(rng, 100)
    model = GeneralMixtureModel([MultivariateGaussianDistribution(np.zeros(3), np.eye(3))]).fit(X)
    assert_allclose(model.distributions[0].parameters[0], X.mean(axis=0), rtol=1e-12)
    assert_allclose(model.distributions[0].parameters[1], np.cov(X.T, bias=True), rtol=1e-11)
    assert_allclose(model.weights, [1.0])


def test_n_jobs_gives_identical_results(rng):
    X = data_1d(rng, 200)
    ref = two_normals().fit(X)
    for n_jobs in (2, -1):
        assert_allclose(params(two_normals().fit(X, n_jobs=n_jobs)), params(ref), rtol=1e-12)


def test_large_offset_gives_the_shifted_model(rng):
    X = data_1d(rng, 200)
    a = two_normals().fit(X, stop_threshold=1e-9)
    shifted = GeneralMixtureModel([NormalDistribution(5 + 1e6, 2), NormalDistribution(1 + 1e6, 1)]).fit(
        X + 1e6, stop_threshold=1e-9)
    for pa, pb in zip(params(a), params(shifted)):
        assert_allclose(pb[0] - 1e6, pa[0], atol=1e-8 * 1e6 * 1e-2)
        assert_allclose(pb[1], pa[1], rtol=1e-6)


def test_mixed_family_fit_never_decreases(rng):
    X = np.concatenate([rng.normal(-3, 1, 100), rng.exponential(2, 100), rng.lognormal(1, 0.3, 100)])[:, None]
    model = GeneralMixtureModel([NormalDistribution(-1, 2), ExponentialDistribution(1), LogNormalDistribution(0, 1)])
    model, history = model.fit(X, stop_threshold=1e-8, return_history=True)
    assert np.all(np.diff(history.log_probabilities) >= -1e-9)
    assert history.log_probabilities[-1] > history.initial_log_probability
    assert_allclose(history.log_probabilities[-1], model.log_probability(X).sum(), rtol=1e-6)


class Recorder(Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_training_begin(self):
        self.events.append("begin")

    def on_epoch_end(self, logs):
        self.events.append(dict(logs))

    def on_training_end(self, logs):
        self.events.append("end")


def test_callbacks_and_history():
    rec = Recorder()
    model, history = two_normals().fit([[1], [5], [7], [8], [2]], callbacks=[rec], return_history=True)
    assert rec.model is model
    assert rec.events[0] == "begin" and rec.events[-1] == "end" and len(rec.events) == 5
    keys = {"learning_rate", "n_seen_batches", "epoch", "improvement", "total_improvement", "log_probability",
            "last_log_probability", "initial_log_probability", "epoch_start_time", "epoch_end_time", "duration"}
    assert set(rec.events[1]) == keys
    assert [e["epoch"] for e in rec.events[1:4]] == [1, 2, 3]
    assert_allclose(history.total_improvement[-1], 1.8477204863505214 + 0.3238498250670272 + 0.05431464245155482,
                    rtol=1e-9)
    assert_allclose(rec.events[2]["last_log_probability"], history.log_probabilities[0])
    assert all(d >= 0 for d in history.epoch_durations)


def test_verbose_output(capsys):
    two_normals().fit([[1], [5], [7], [8], [2]], verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[1] Improvement: 1.84772048635") and "\tTime (s): " in lines[0]
    assert lines[3].startswith("Total Improvement: 2.22588495386")
    assert lines[4].startswith("Total Time (s): ")


def test_max_iterations_zero_runs_only_the_e_step():
    model, history = two_normals().fit([[1], [5], [7]], max_iterations=0, return_history=True)
    assert history.epochs == [] and model.distributions[0].parameters == [5.0, 2.0]
    assert_allclose(history.initial_log_probability, model.log_probability([1, 5, 7]).sum(), rtol=1e-12)


@pytest.mark.parametrize("threshold", [-np.inf, -1e9, -0.1])
@pytest.mark.parametrize("streaming", [False, True])
def test_a_negative_stop_threshold_runs_exactly_max_iterations(rng, threshold, streaming):
    """pomegranate 0.x accepts any float; its users pass a negative one to run exactly max_iterations."""
    X = data_1d(rng)
    options = {"batch_size": 50, "batches_per_epoch": 2} if streaming else {}
    _, history = two_normals().fit(X, stop_threshold=threshold, max_iterations=7, return_history=True, **options)
    assert history.epochs == list(range(1, 8))


def test_an_infinite_stop_threshold_stops_after_the_first_m_step(rng):
    _, history = two_normals().fit(data_1d(rng), stop_threshold=np.inf, return_history=True)
    assert history.epochs == [1]


@pytest.mark.parametrize("kwargs, error", [
    ({"inertia": 1.5}, ValueError), ({"inertia": "a"}, TypeError), ({"pseudocount": -1}, ValueError),
    ({"stop_threshold": "a"}, TypeError), ({"stop_threshold": float("nan")}, ValueError),
    ({"max_iterations": -1}, ValueError), ({"max_iterations": 2.5}, TypeError), ({"batch_size": 0}, ValueError),
    ({"batches_per_epoch": 0}, ValueError), ({"lr_decay": -1}, ValueError), ({"callbacks": "x"}, TypeError),
    ({"callbacks": [object()]}, TypeError), ({"return_history": 1}, TypeError), ({"verbose": "yes"}, TypeError),
    ({"n_jobs": 0}, ValueError), ({"weights": [1, 2]}, ValueError), ({"weights": [1, -1, 1, 1, 1]}, ValueError),
    ({"weights": [0, 0, 0, 0, 0]}, ValueError), ({"weights": [1, np.nan, 1, 1, 1]}, ValueError),
])
def test_bad_fit_arguments_raise_and_leave_the_model(kwargs, error):
    model = two_normals()
    model.fit([[1], [5], [7], [8], [2]])
    model.summarize([[3.0]])
    before, summaries = model.to_dict(), model.summaries.copy()
    pending = [c.summaries for c in model.distributions]
    with pytest.raises(error):
        model.fit([[1], [5], [7], [8], [2]], **kwargs)
    assert model.to_dict() == before
    assert_array_equal(model.summaries, summaries)
    assert all(c.summaries is p for c, p in zip(model.distributions, pending))


@pytest.mark.parametrize("X", [[[1, 2]], [["a"]], [[np.inf]], [[1], [2, 3]], np.empty((0, 1)), "abc"])
def test_bad_data_raise_and_leave_the_model(X):
    model = two_normals().fit([[1], [5], [7], [8], [2]])
    before = model.to_dict()
    with pytest.raises((ValueError, TypeError)):
        model.fit(X)
    with pytest.raises((ValueError, TypeError)):
        model.summarize(X) if len(np.shape(X)) and np.size(X) else model.summarize(np.ones((1, 3)))
    assert model.to_dict() == before
    assert not model.summaries.any()


def test_failure_mid_fit_restores_everything():
    class Exploding(Callback):
        def on_epoch_end(self, logs):
            if logs["epoch"] == 2:
                raise RuntimeError("boom")

    model = two_normals()
    components = list(model.distributions)
    before = model.to_dict()
    with pytest.raises(RuntimeError, match="boom"):
        model.fit([[1], [5], [7], [8], [2]], callbacks=[Exploding()])
    assert model.to_dict() == before
    assert all(a is b for a, b in zip(model.distributions, components))
    assert all(c.summaries is None for c in model.distributions) and not model.summaries.any()


def test_impossible_rows_are_named_by_their_global_index():
    model = GeneralMixtureModel([ExponentialDistribution(1), ExponentialDistribution(3)])
    X = np.abs(np.random.default_rng(0).normal(size=(50_000, 1)))
    X[40_001] = -1.0
    for kwargs in ({}, {"batch_size": 1000}, {"n_jobs": 2}, {"batch_size": 30_000, "n_jobs": 2}):
        with pytest.raises(ValueError, match=r"rows \[40001\]"):
            model.fit(X, **kwargs)
        with pytest.raises(ValueError, match=r"rows \[40001\]"):
            model.predict(X, **kwargs)


def test_threads_equal_one_thread_to_1e12(rng):
    X = np.concatenate([rng.normal(0, 1, 60_000), rng.normal(4, 1.5, 60_000)])[:, None]
    start = GeneralMixtureModel([NormalDistribution(1, 1), NormalDistribution(3, 1), NormalDistribution(5, 2)])
    one = start.copy().fit(X, max_iterations=10, stop_threshold=0.0)
    for n_jobs in (2, 3, -1):
        many = start.copy().fit(X, max_iterations=10, stop_threshold=0.0, n_jobs=n_jobs)
        assert_allclose(params(many), params(one), rtol=1e-12)
        assert_allclose(many.weights, one.weights, rtol=1e-12)
        assert_allclose(one.predict_proba(X, n_jobs=n_jobs), one.predict_proba(X), rtol=1e-13, atol=1e-300)
        assert_allclose(one.log_probability(X, n_jobs=n_jobs), one.log_probability(X), rtol=1e-14)


def test_streaming_walks_every_row_of_a_large_source_in_order():
    """At scale: 1,000,000 rows in 100 batches, 7 batches per epoch (not a divisor): the batches are read in
    cyclic order across passes, every row is seen, and no pass is replayed from the start (0.x's bug)."""
    from genmix.data import BaseGenerator

    class Counting(BaseGenerator):
        def __init__(self, X, size):
            self.X, self.size, self.n_batches, self.read = X, size, -(-len(X) // size), []

        def batches(self):
            for b in range(self.n_batches):
                self.read.append(b)
                yield self.X[b * self.size:(b + 1) * self.size], None

    rng = np.random.default_rng(1)
    X = np.concatenate([rng.normal(0, 1, 500_000), rng.normal(6, 1, 500_000)])[rng.permutation(1_000_000)][:, None]
    source = Counting(X, 10_000)
    model, history = two_normals().fit(source, batches_per_epoch=7, max_iterations=30, stop_threshold=-np.inf,
                                       return_history=True)
    assert len(history.epochs) == 30
    assert source.read == [i % 100 for i in range(7 * 31)]  # the initial E-step and 30 epochs of 7 batches
    means = sorted(c.parameters[0] for c in model.distributions)
    assert_allclose(means, [0.0, 6.0], atol=0.02)
