"""The EM driver's protocol: the public pure E-step, foreign array types read by slices, row numbering of
impossible rows across batches, and EM options validated once per fit."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from genmix import (ExponentialDistribution, GeneralMixtureModel, IndependentComponentsDistribution,
                    MultivariateGaussianDistribution, NormalDistribution)
from genmix.data import BaseGenerator
from genmix.estep import EStepResult
from tests.test_data_sources import params as numbers, start


class ForeignArray:
    """A 2-D array of another library as genmix sees it (a Dask or HDF5 array): ``shape``, ``dtype``,
    slicing and ``__array__``. Converting more than ``limit`` rows at once fails the test."""

    def __init__(self, data, limit):
        self.data, self.limit, self.largest = data, limit, [0]

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, key):
        out = ForeignArray(self.data[key], self.limit)
        out.largest = self.largest  # slices report to their parent
        return out

    def __array__(self, dtype=None, copy=None):
        rows = self.data.shape[0]
        assert rows <= self.limit, f"{rows} rows converted at once (limit {self.limit})"
        self.largest[0] = max(self.largest[0], rows)
        return np.asarray(self.data, dtype=dtype)


def blobs(rng, n):
    return np.vstack([rng.normal([0, 0], 1.0, (n // 2, 2)), rng.normal([4, 1], [1.5, 0.8], (n - n // 2, 2))])


def test_fit_and_predictions_read_a_foreign_array_by_slices(rng):
    X = blobs(rng, 6000)
    foreign = ForeignArray(X, limit=1000)
    reference = start().fit(X, batch_size=1000, max_iterations=5)
    model = start().fit(foreign, batch_size=1000, max_iterations=5)
    assert_allclose(numbers(model), numbers(reference), rtol=1e-12)
    assert foreign.largest[0] == 1000
    for method in ("log_probability", "predict_proba", "predict_log_proba", "predict"):
        got = getattr(model, method)(foreign, batch_size=1000)
        assert_allclose(got, getattr(reference, method)(X, batch_size=1000), rtol=1e-12, err_msg=method)


def test_from_samples_reads_a_foreign_array_by_slices(rng):
    X = blobs(rng, 150_000)  # larger than the initialisation's 65,536-row chunks
    foreign = ForeignArray(X, limit=65_536)
    options = dict(max_kmeans_iterations=3, max_iterations=3, batch_size=50_000, random_state=3)
    reference = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 2, X, **options)
    model = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 2, foreign, **options)
    assert_allclose(numbers(model), numbers(reference), rtol=1e-10)
    assert 0 < foreign.largest[0] <= 65_536


def test_estep_is_pure_and_its_results_add(rng):
    X = blobs(rng, 3000)
    w = rng.uniform(0.5, 2.0, len(X))
    model = start()
    before = model.to_dict()
    parts = model.estep(X[:1234], w[:1234]) + model.estep(X[1234:], w[1234:])
    assert isinstance(parts, EStepResult)
    assert model.to_dict() == before and not model.summaries.any()
    assert all(c.summaries is None for c in model.distributions)
    # an independent reference for the responsibility mass: the posteriors summed with the weights
    assert_allclose(parts.resp_sum, w @ model.predict_proba(X), rtol=1e-12)
    assert_allclose(parts.log_likelihood, w @ model.log_probability(X), rtol=1e-12)
    summarised = start()
    assert_allclose(summarised.summarize(X, w), parts.log_likelihood, rtol=1e-12)
    summarised.from_summaries()
    assert_allclose(model.add_summaries(parts), parts.log_likelihood, rtol=0)
    model.from_summaries()
    assert_allclose(numbers(model), numbers(summarised), rtol=1e-12)


def test_estep_takes_labels_and_priors(rng):
    X = blobs(rng, 500)
    labels = np.full(len(X), -1)
    labels[:10] = 1
    result = start().estep(X, labels=labels)
    R = start().predict_proba(X)
    R[:10] = [0.0, 1.0]
    assert_allclose(result.resp_sum, R.sum(axis=0), rtol=1e-12)
    with pytest.raises(ValueError, match="priors must have shape"):
        start().estep(X, priors=np.ones((3, 2)))


class UserComponent:
    d = 1

    def log_probability(self, X):
        return -0.5 * np.asarray(X, dtype=float).ravel() ** 2

    def summarize(self, X, weights=None):
        pass

    def from_summaries(self, inertia=0.0, pseudocount=0.0):
        pass

    def clear_summaries(self):
        pass


def test_estep_and_add_summaries_refuse_what_they_cannot_hold(rng):
    model = GeneralMixtureModel([UserComponent(), NormalDistribution(0, 1)])
    with pytest.raises(NotImplementedError, match="summarize"):
        model.estep(rng.normal(size=10))
    other = GeneralMixtureModel([NormalDistribution(0, 1)] * 3)
    result = other.estep(rng.normal(size=10))
    with pytest.raises(ValueError, match="2 components"):
        GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(1, 1)]).add_summaries(result)
    with pytest.raises(TypeError, match="EStepResult"):
        other.add_summaries(3.0)


def test_an_impossible_row_is_named_by_its_index_in_the_whole_data(rng):
    X = np.column_stack([rng.normal(size=5000), rng.exponential(size=5000)])
    X[3210, 1] = -1.0  # outside the exponential's support
    model = GeneralMixtureModel([IndependentComponentsDistribution([NormalDistribution(0, 1),
                                                                    ExponentialDistribution(1.0)])] * 2)
    for kwargs in ({}, {"batch_size": 1000}, {"batch_size": 700, "n_jobs": 2}):
        with pytest.raises(ValueError, match=r"X rows \[3210\].*In row 3210: column 1 holds -1"):
            model.fit(X, max_iterations=2, **kwargs)
    with pytest.raises(ValueError, match=r"X rows \[3210\].*In row 3210: column 1"):
        model.predict(X, batch_size=1000, n_jobs=2)
    with pytest.raises(ValueError, match=r"X rows \[3210\]"):
        model.predict_proba(X[:20_000], batch_size=1000)


class Counting(BaseGenerator):
    def __init__(self, X):
        self.X, self.reads, self.n_batches = X, 0, 1

    def batches(self):
        self.reads += 1
        yield self.X, None


@pytest.mark.parametrize("option, value", [("stop_threshold", "x"), ("max_iterations", -1), ("inertia", 2.0),
                                           ("n_jobs", 0), ("callbacks", "cb"), ("verbose", "yes")])
def test_from_samples_validates_the_em_options_before_reading_the_data(rng, option, value):
    source = Counting(rng.normal(size=(100, 1)))
    with pytest.raises((TypeError, ValueError), match=f"'{option}' parameter of GeneralMixtureModel.from_samples"):
        GeneralMixtureModel.from_samples(NormalDistribution, 2, source, **{option: value})
    assert source.reads == 0


def test_fit_options_are_checked_before_the_model_changes(rng):
    model = start()
    before = model.to_dict()
    with pytest.raises(ValueError, match="'lr_decay' parameter of GeneralMixtureModel.fit"):
        model.fit(blobs(rng, 100), lr_decay=-1.0)
    assert model.to_dict() == before
    assert_array_equal(model.summaries, 0.0)
