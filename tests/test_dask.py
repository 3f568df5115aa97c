"""The Dask backend on a real ``distributed.LocalCluster`` (two worker processes, started by the tests):
the distributed fit equals the in-memory fit from the same start, predictions are lazy and equal, bad
input fails clearly and leaves the model unchanged, and a worker killed mid-fit does not change the
answer."""
import os
import signal

import numpy as np
import pytest
from numpy.testing import assert_allclose

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")

from genmix import (DiscreteDistribution, ExponentialDistribution, GeneralMixtureModel,  # noqa: E402
                    MultivariateGaussianDistribution as MVN, NormalDistribution)
from genmix.callbacks import Callback  # noqa: E402


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each, with the client as the default scheduler."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                       silence_logs=50)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _blobs(n=3000, d=3, seed=0, missing=0.0):
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 3, n)
    X = rng.normal(size=(n, d)) @ (np.eye(d) + 0.3 * rng.normal(size=(d, d))) + 3.0 * z[:, None] * rng.normal(size=d)
    if missing:
        X[rng.random(X.shape) < missing] = np.nan
        X[np.isnan(X).all(axis=1), 0] = 0.0
    return X


def _params(model):
    return [np.concatenate([np.ravel(np.asarray(p, dtype=float)) for p in c.parameters])
            for c in model.distributions]


def _assert_same_fit(a, b, X, Xd, rtol=1e-10):
    for pa, pb in zip(_params(a), _params(b)):
        assert_allclose(pb, pa, rtol=rtol, atol=1e-12)
    assert_allclose(b.weights, a.weights, rtol=rtol)
    assert_allclose(b.log_probability(Xd).sum().compute(), a.log_probability(X).sum(), rtol=rtol)


@pytest.mark.parametrize("covariance_type, missing", [("full", 0.0), ("diag", 0.0), ("full", 0.2)])
def test_distributed_fit_equals_the_in_memory_fit(client, covariance_type, missing):
    X = _blobs(missing=missing)
    start = GeneralMixtureModel.from_samples(MVN, 3, np.nan_to_num(X), max_iterations=0, random_state=0,
                                             covariance_type=covariance_type)
    a, b = start.copy(), start.copy()
    a.fit(X, stop_threshold=-np.inf, max_iterations=15)
    Xd = da.from_array(X, chunks=(700, 3))  # uneven blocks: 700 × 4 + 200
    _, history = b.fit(Xd, stop_threshold=-np.inf, max_iterations=15, return_history=True)
    _assert_same_fit(a, b, X, Xd)
    assert len(history.epochs) == 15
    # every epoch is one graph whose blocks ran on the workers, not on the client
    assert set(client.run(lambda: os.getpid()).values()) != {os.getpid()}


def test_float32_on_the_cluster_equals_float32_in_memory_in_the_same_blocks(client):
    """``dtype=np.float32`` reaches the workers: each block is read in float32 there, as the in-memory
    fit reads batches of the same rows (the float64 fit differs at float32's rounding)."""
    X = _blobs()
    start = GeneralMixtureModel.from_samples(MVN, 3, X, max_iterations=0, random_state=0)
    a, b, c = start.copy(), start.copy(), start.copy()
    a.fit(X, stop_threshold=-np.inf, max_iterations=10, batch_size=700, dtype=np.float32)
    Xd = da.from_array(X, chunks=(700, 3))
    b.fit(Xd, stop_threshold=-np.inf, max_iterations=10, dtype=np.float32)
    _assert_same_fit(a, b, X, Xd, rtol=1e-9)
    c.fit(X, stop_threshold=-np.inf, max_iterations=10, batch_size=700)
    assert max(np.abs(pa - pc).max() for pa, pc in zip(_params(a), _params(c))) > 1e-9
    assert_allclose(c.log_probability(X).mean(), a.log_probability(X).mean(), rtol=1e-6)


def test_mixed_dataframe_with_categorical_columns_on_the_cluster(client):
    rng = np.random.default_rng(1)
    n = 4000
    z = rng.integers(0, 2, n)
    df = pd.DataFrame({"a": rng.normal(3.0 * z, 1.0), "b": rng.exponential(1.0 + 4.0 * z),
                       "c": pd.Categorical(np.where(rng.random(n) < 0.2 + 0.6 * z, "x", "y"))})
    families = [NormalDistribution, ExponentialDistribution, DiscreteDistribution]
    start = GeneralMixtureModel.from_samples(families, 2, df, max_iterations=0, random_state=0)
    a, b = start.copy(), start.copy()
    a.fit(df, stop_threshold=1e-10, max_iterations=20)
    ddf = dd.from_pandas(df, npartitions=5)
    b.fit(ddf, stop_threshold=1e-10, max_iterations=20)
    for ca, cb in zip(a.distributions, b.distributions):
        for pa, pb in zip(ca.distributions, cb.distributions):
            if isinstance(pa, DiscreteDistribution):
                assert pb.parameters[0] == pytest.approx(pa.parameters[0], rel=1e-10)
            else:
                assert_allclose(pb.parameters, pa.parameters, rtol=1e-10)
    assert b.feature_names == ("a", "b", "c")
    # lazy predictions: a Series / DataFrame per partition, equal to the in-memory ones
    labels, proba = b.predict(ddf), b.predict_proba(ddf)
    assert isinstance(labels, dd.Series) and isinstance(proba, dd.DataFrame)
    assert_allclose(proba.compute().to_numpy(), a.predict_proba(df), rtol=1e-10, atol=1e-14)
    assert np.array_equal(labels.compute().to_numpy(), a.predict(df))
    assert_allclose(b.log_probability(ddf).compute().to_numpy(), a.log_probability(df), rtol=1e-10)
    # weights as a column of the same Dask DataFrame (a Dask Series aligned with X)
    w = rng.random(n) + 0.5
    wdf = dd.from_pandas(df.assign(w=w), npartitions=5)
    a, b = start.copy(), start.copy()
    a.fit(df, w, max_iterations=5)
    b.fit(wdf[["a", "b", "c"]], wdf["w"], max_iterations=5)
    for ca, cb in zip(a.distributions, b.distributions):
        assert_allclose(cb.distributions[0].parameters, ca.distributions[0].parameters, rtol=1e-10)
    assert_allclose(b.weights, a.weights, rtol=1e-10)
    with pytest.raises(TypeError, match="weights must be an array, a Dask array or a Dask Series"):
        b.fit(wdf[["a", "b", "c"]], wdf[["w", "a"]])


def test_predictions_are_lazy_dask_arrays_equal_to_the_in_memory_ones(client):
    X = _blobs(seed=2, missing=0.1)
    model = GeneralMixtureModel.from_samples(MVN, 3, np.nan_to_num(X), max_iterations=5, random_state=0)
    Xd = da.from_array(X, chunks=(1000, 3))
    for method, shape in [("log_probability", (3000,)), ("probability", (3000,)), ("predict", (3000,)),
                          ("predict_proba", (3000, 3)), ("predict_log_proba", (3000, 3)), ("impute", (3000, 3))]:
        lazy = getattr(model, method)(Xd)
        assert isinstance(lazy, da.Array) and lazy.shape == shape, method
        # each chunk's fused scores are expanded about its own first rows, so they round differently by
        # ~eps·|score|: for a log-probability near 0 (log of a responsibility near 1) that is an absolute
        # ~1e-15, not a relative 1e-12
        atol = 1e-13 if method == "predict_log_proba" else 1e-300
        assert_allclose(lazy.compute(), getattr(model, method)(X), rtol=1e-12, atol=atol, err_msg=method)
    assert model.bic(Xd) == pytest.approx(model.bic(X), rel=1e-12)
    assert model.icl(Xd) == pytest.approx(model.icl(X), rel=1e-12)
    w = np.random.default_rng(0).random(3000)
    assert model.aic(Xd, da.from_array(w, chunks=500)) == pytest.approx(model.aic(X, w), rel=1e-12)
    y = model.predict(X)
    y[:300] = (y[:300] + 1) % 3
    assert model.score(Xd, y) == pytest.approx(model.score(X, y), rel=1e-12)
    assert model.score(Xd, da.from_array(y, chunks=800)) == pytest.approx(0.9, abs=1e-12)


def test_weights_labels_summarize_and_streaming_match_in_memory(client):
    X = _blobs(seed=3)
    rng = np.random.default_rng(3)
    w = rng.random(X.shape[0])
    labels = np.full(X.shape[0], -1)
    labels[:50] = 0
    start = GeneralMixtureModel.from_samples(MVN, 3, X, max_iterations=0, random_state=1)
    Xd = da.from_array(X, chunks=(600, 3))
    a, b = start.copy(), start.copy()
    a.fit(X, w, max_iterations=8, labels=labels)
    b.fit(Xd, da.from_array(w, chunks=1000), max_iterations=8, labels=labels)  # weights rechunked to X's blocks
    _assert_same_fit(a, b, X, Xd)
    # summarize adds the same statistics
    a, b = start.copy(), start.copy()
    assert b.summarize(Xd, w) == pytest.approx(a.summarize(X, w), rel=1e-12)
    a.from_summaries()
    b.from_summaries()
    _assert_same_fit(a, b, X, Xd)
    # streaming: the blocks are the batches (incremental EM over 600-row batches, 2 per epoch); an empty
    # block is no batch (it would otherwise shift the passes)
    a, b = start.copy(), start.copy()
    a.fit(X, batch_size=600, batches_per_epoch=2, max_iterations=10)
    with_empty = Xd.rechunk(((600, 600, 0, 600, 600, 600), (3,)))
    assert 0 in with_empty.chunks[0]
    b.fit(with_empty, batches_per_epoch=2, max_iterations=10)
    _assert_same_fit(a, b, X, Xd)


def test_bad_dask_input_is_a_clear_error_and_leaves_the_model_unchanged(client):
    X = _blobs(seed=4)
    model = GeneralMixtureModel.from_samples(MVN, 2, X, max_iterations=2, random_state=0)
    before = model.to_json()
    Xd = da.from_array(X, chunks=(500, 3))
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        model.fit(Xd[Xd[:, 0] > 0])
    with pytest.raises(TypeError, match="dtype complex128"):
        model.fit(Xd.astype(np.complex128))
    with pytest.raises(ValueError, match="rechunk X instead of passing batch_size"):
        model.fit(Xd, batch_size=100)
    with pytest.raises(ValueError, match="has 2 columns; the model has d=3"):
        model.fit(Xd[:, :2])
    bad = X.copy()
    bad[1234, 1] = np.inf
    with pytest.raises(ValueError, match="finite"):  # raised on a worker, reported as in memory
        model.fit(da.from_array(bad, chunks=(500, 3)))
    with pytest.raises(ValueError, match="weights"):
        model.fit(Xd, weights=-np.ones(3000))
    assert model.to_json() == before
    # chunks along the columns are merged once: the same fit as one column chunk
    a, b = model.copy(), model.copy()
    a.fit(da.from_array(X, chunks=(500, 1)), max_iterations=3)
    b.fit(Xd, max_iterations=3)
    _assert_same_fit(b, a, X, Xd, rtol=1e-12)


class _KillAWorker(Callback):
    """Kills one worker process with SIGKILL (its nanny starts a new one) after the given epoch: the
    persisted blocks it held are lost and Dask recomputes them."""

    def __init__(self, client, epoch):
        super().__init__()
        self.client, self.epoch, self.killed = client, epoch, None

    def on_epoch_end(self, logs):
        if logs["epoch"] == self.epoch and self.killed is None:
            self.killed = sorted(self.client.scheduler_info()["workers"])[0]
            pid = self.client.run(os.getpid, workers=[self.killed])[self.killed]
            os.kill(pid, signal.SIGKILL)


def test_a_worker_killed_mid_fit_does_not_change_the_answer(client):
    X = _blobs(n=4000, seed=5)
    start = GeneralMixtureModel.from_samples(MVN, 3, X, max_iterations=0, random_state=0)
    a, b = start.copy(), start.copy()
    a.fit(X, max_iterations=8, stop_threshold=-np.inf)
    Xd = da.from_array(X, chunks=(500, 3))
    killer = _KillAWorker(client, epoch=3)
    b.fit(Xd, max_iterations=8, stop_threshold=-np.inf, callbacks=[killer])
    assert killer.killed is not None
    _assert_same_fit(a, b, X, Xd)
    client.wait_for_workers(2, timeout=60)


@pytest.mark.parametrize("init", ["kmeans++", "first-k", "kmeans||", "random", "hierarchical"])
def test_from_samples_on_a_dask_array_equals_in_memory_and_reads_nothing_on_the_client(client, init, monkeypatch):
    """The survey, every Lloyd iteration and the initial fits' statistics are one graph each, computed
    on the workers (the blocks are never read through the client); the start is the in-memory one (the
    same sample, the same keys), so the whole fit equals the in-memory fit."""
    from genmix.dask import DaskRows

    def no_client_reads(self):
        raise AssertionError("from_samples read the blocks through the client")

    monkeypatch.setattr(DaskRows, "chunks", no_client_reads)
    # nor gathered whole: a Dask collection turned into a numpy array on the client
    for collection in (da.Array, dd.DataFrame):
        monkeypatch.setattr(collection, "__array__", no_client_reads)
    X = _blobs(seed=6)
    w = np.random.default_rng(6).random(X.shape[0])
    a = GeneralMixtureModel.from_samples(MVN, 3, X, w, init=init, random_state=0, max_iterations=10, n_init=2)
    Xd = da.from_array(X, chunks=(800, 3))
    b = GeneralMixtureModel.from_samples(MVN, 3, Xd, da.from_array(w, chunks=1000), init=init, random_state=0,
                                         max_iterations=10, n_init=2)
    _assert_same_fit(a, b, X, Xd)
    if init == "kmeans++":  # partial labels: the labelled clusters start at their rows' means
        labels = np.full(X.shape[0], -1)
        labels[:40] = 2
        a = GeneralMixtureModel.from_samples(MVN, 3, X, init=init, random_state=0, max_iterations=5, labels=labels)
        b = GeneralMixtureModel.from_samples(MVN, 3, Xd, init=init, random_state=0, max_iterations=5, labels=labels)
        _assert_same_fit(a, b, X, Xd)


def _no_client_reads(monkeypatch):
    from genmix.dask import DaskRows

    def no_client_reads(self):
        raise AssertionError("from_samples read the blocks through the client")

    monkeypatch.setattr(DaskRows, "chunks", no_client_reads)
    # nor gathered whole: a Dask collection turned into a numpy array on the client
    for collection in (da.Array, dd.DataFrame):
        monkeypatch.setattr(collection, "__array__", no_client_reads)


def test_from_samples_with_missing_values_on_a_dask_array_equals_in_memory_and_reads_nothing_on_the_client(
        client, monkeypatch):
    """The per-cluster Gaussians of data with 20% NaN are fitted by EM passes over the blocks (every
    cluster at once), on the workers: the same start as in memory, and the same fit."""
    _no_client_reads(monkeypatch)
    X = _blobs(seed=8, missing=0.2)
    a = GeneralMixtureModel.from_samples(MVN, 3, X, random_state=0, max_iterations=5)
    Xd = da.from_array(X, chunks=(700, 3))
    b = GeneralMixtureModel.from_samples(MVN, 3, Xd, random_state=0, max_iterations=5)
    _assert_same_fit(a, b, X, Xd, rtol=1e-9)


@pytest.mark.parametrize("strings", ["category", "string"])
def test_from_samples_on_a_mixed_dask_dataframe_equals_in_memory(client, monkeypatch, strings):
    rng = np.random.default_rng(7)
    n = 3000
    z = rng.integers(0, 2, n)
    df = pd.DataFrame({"a": rng.normal(3.0 * z, 1.0), "c": pd.Series(np.where(rng.random(n) < 0.2 + 0.6 * z,
                                                                              "x", "y"), dtype=strings)})
    families = [NormalDistribution, DiscreteDistribution]
    a = GeneralMixtureModel.from_samples(families, 2, df, random_state=0, max_iterations=10)
    ddf = dd.from_pandas(df, npartitions=3)
    _no_client_reads(monkeypatch)
    b = GeneralMixtureModel.from_samples(families, 2, ddf, random_state=0, max_iterations=10)
    assert_allclose(b.weights, a.weights, rtol=1e-10)
    for ca, cb in zip(a.distributions, b.distributions):
        assert_allclose(cb.distributions[0].parameters, ca.distributions[0].parameters, rtol=1e-10)
        assert cb.distributions[1].parameters[0] == pytest.approx(ca.distributions[1].parameters[0], rel=1e-10)


def test_from_samples_on_a_numeric_dask_dataframe_equals_in_memory(client, monkeypatch):
    """A numeric Dask DataFrame (its row count lazy) is read on the workers like a Dask array."""
    rng = np.random.default_rng(8)
    df = pd.DataFrame(np.vstack([rng.normal(0, 1, (900, 3)), rng.normal(4, 1, (600, 3))]), columns=list("abc"))
    a = GeneralMixtureModel.from_samples(MVN, 2, df, random_state=0, max_iterations=10)
    ddf = dd.from_pandas(df, npartitions=4)
    _no_client_reads(monkeypatch)
    b = GeneralMixtureModel.from_samples(MVN, 2, ddf, random_state=0,
                                         max_iterations=10)
    assert_allclose(b.weights, a.weights, rtol=1e-10)
    for ca, cb in zip(a.distributions, b.distributions):
        assert_allclose(cb.parameters[0], ca.parameters[0], rtol=1e-10)
        assert_allclose(cb.parameters[1], ca.parameters[1], rtol=1e-10)
    assert b.feature_names == ("a", "b", "c")


def test_readme_beyond_one_machine_snippet_runs():
    """The README's "Beyond one machine" snippet, as written (it starts and closes its own cluster)."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    code = re.search(r"## Beyond one machine[^\n]*\n.*?```python\n(.*?)```", readme, re.S).group(1)
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    counts = namespace["counts"]
    assert counts.sum() == 200_000 and (counts > 0).all()


def test_select_on_a_dask_array_equals_in_memory(client):
    """Every candidate's start, fits and criteria on the workers; without the partition-sharing round
    (not done on Dask) the table is the in-memory one."""
    from genmix import select

    X = _blobs(n=1500, seed=8)
    here = select(X, [1, 2, 3], covariance_types=["full", "diag"], random_state=0, share_partitions=False)
    there = select(da.from_array(X, chunks=(400, 3)), [1, 2, 3], covariance_types=["full", "diag"],
                   random_state=0)
    assert there.best_params_ == here.best_params_
    for a, b in zip(here.rows, there.rows):
        assert (a["model"], a["n_components"]) == (b["model"], b["n_components"])  # starts reaching one optimum
        # may be kept in another order (on Dask, equal short log-likelihoods count as one fit)
        for key in ("log_likelihood", "bic", "aic", "icl"):
            assert b[key] == pytest.approx(a[key], rel=1e-9), (a["model"], a["n_components"], key)


def _big_block(rows):
    """A block drawn on a worker: rows × 10 float64 (rows = 4e6 is 320 MB)."""
    return np.random.default_rng(0).standard_normal((rows, 3)).repeat(4, axis=1)[:, :10]


def test_a_worker_out_of_memory_is_a_clear_error_not_a_hang():
    """A worker whose block exceeds its memory limit is killed by its nanny; once distributed gives up on
    the task, the fit fails with a message that names the likely cause, and the model is unchanged."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, memory_limit="200MB",
                                     dashboard_address=":0", silence_logs=50) as cluster, \
            distributed.Client(cluster):
        rows = 4_000_000
        X = da.from_delayed(dask.delayed(_big_block)(rows), shape=(rows, 10), dtype=np.float64)
        model = GeneralMixtureModel([MVN(np.zeros(10), np.eye(10)), MVN(np.ones(10), np.eye(10))])
        before = model.to_json()
        with pytest.raises(RuntimeError, match="out of memory"):
            model.fit(X, max_iterations=2)
        assert model.to_json() == before


class _CloseAfter(Callback):
    def __init__(self, close, epoch):
        super().__init__()
        self.close, self.epoch = close, epoch

    def on_epoch_end(self, logs):
        if logs["epoch"] == self.epoch:
            self.close()


@pytest.mark.parametrize("what", ["client", "cluster"])
def test_a_client_that_disconnects_mid_fit_is_a_clear_error_and_the_model_is_unchanged(what):
    """Without the check, Dask fell back to its local scheduler and failed on a 'Missing dependency'."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                       silence_logs=50)
    client = distributed.Client(cluster)
    try:
        X = da.from_array(_blobs(n=2000, seed=9), chunks=(500, 3))
        model = GeneralMixtureModel([MVN(np.zeros(3), np.eye(3)), MVN(np.ones(3), np.eye(3))])
        before = model.to_json()
        with client.as_current(), pytest.raises(RuntimeError, match="no longer connected to its cluster"):
            model.fit(X, max_iterations=6, stop_threshold=-np.inf,
                      callbacks=[_CloseAfter(client.close if what == "client" else cluster.close, 2)])
        assert model.to_json() == before
    finally:
        client.close()
        cluster.close()


def test_n_jobs_threads_inside_each_worker_do_not_change_the_fit(client):
    X = _blobs(n=80_000, seed=10)
    start = GeneralMixtureModel.from_samples(MVN, 3, X, max_iterations=0, random_state=0)
    Xd = da.from_array(X, chunks=(40_000, 3))  # 40,000-row blocks: two 20,000-row chunks per worker thread
    a, b = start.copy(), start.copy()
    a.fit(Xd, max_iterations=4, stop_threshold=-np.inf)
    b.fit(Xd, max_iterations=4, stop_threshold=-np.inf, n_jobs=2)
    _assert_same_fit(a, b, X, Xd, rtol=1e-11)
