"""Every data source gives the in-memory model; generators are consumed batch by batch."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from genmix import GeneralMixtureModel, MultivariateGaussianDistribution, NormalDistribution
from genmix.data import BaseGenerator, CSVGenerator, DataGenerator, npy_generator


def data(rng, n=6000):
    a = rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]], n // 2)
    b = rng.multivariate_normal([4, 1], [[1.5, -0.2], [-0.2, 0.8]], n - n // 2)
    return np.vstack([a, b])


def start():
    return GeneralMixtureModel([MultivariateGaussianDistribution([1, 0], np.eye(2)),
                                MultivariateGaussianDistribution([3, 1], np.eye(2))])


def params(model):
    return np.concatenate([np.concatenate([np.ravel(p) for p in c.parameters]) for c in model.distributions]
                          + [model.weights])


class Recording(BaseGenerator):
    """A user generator over row blocks that records the largest block it handed out."""

    def __init__(self, X, size):
        self.X, self.size, self.largest = X, size, 0
        self.n_batches = -(-len(X) // size)

    def batches(self):
        for s in range(0, len(self.X), self.size):
            block = self.X[s:s + self.size]
            self.largest = max(self.largest, len(block))
            yield block, None


def test_every_source_gives_the_in_memory_model(rng, tmp_path):
    pd = pytest.importorskip("pandas")
    X = data(rng)
    reference = params(start().fit(X, stop_threshold=1e-6))
    np.save(tmp_path / "x.npy", X)
    np.savetxt(tmp_path / "x.csv", X, delimiter=",")
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    sources = {
        "batched array": (X, {"batch_size": 700}),
        "memmap": (mm, {"batch_size": 1000}),
        "DataFrame": (pd.DataFrame(X, columns=["a", "b"]), {"batch_size": 999}),
        "DataGenerator": (DataGenerator(X, batch_size=512), {}),
        "npy_generator": (npy_generator(tmp_path / "x.npy", batch_size=2048), {}),
        "CSVGenerator": (CSVGenerator(tmp_path / "x.csv", batch_size=1500), {}),
        "user generator": (Recording(X, 800), {}),
    }
    for name, (source, kwargs) in sources.items():
        fitted = start().fit(source, stop_threshold=1e-6, **kwargs)
        assert_allclose(params(fitted), reference, rtol=1e-12, err_msg=name)


def test_generator_is_consumed_batch_by_batch(rng):
    X = data(rng)
    gen = Recording(X, 500)
    model = start().fit(gen, max_iterations=3)
    assert gen.largest == 500
    assert_allclose(model.log_probability(Recording(X, 500)), model.log_probability(X), rtol=1e-14)
    assert_array_equal(model.predict(Recording(X, 500)), model.predict(X))
    lp = start().summarize(Recording(X, 999))
    assert_allclose(lp, start().log_probability(X).sum(), rtol=1e-12)


def test_from_samples_with_a_generator_seeds_from_the_first_batch(rng):
    X = data(rng)[rng.permutation(6000)]
    model = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 2, DataGenerator(X, batch_size=1000),
                                             random_state=0)
    means = sorted(np.asarray(c.parameters[0])[0] for c in model.distributions)
    assert_allclose(means, [0, 4], atol=0.1)


def test_shuffling_is_opt_in_seeded_and_sees_every_row(rng):
    x = np.concatenate([np.linspace(-1, 1, 50), np.linspace(99, 101, 50)])[:, None]
    base = GeneralMixtureModel([NormalDistribution(0, 5), NormalDistribution(1, 5)])
    a = base.copy().fit(x, batch_size=10, batches_per_epoch=2, shuffle=True, random_state=3)
    b = base.copy().fit(x, batch_size=10, batches_per_epoch=2, shuffle=True, random_state=3)
    assert a.to_dict() == b.to_dict()
    assert sorted(round(c.parameters[0]) for c in a.distributions) == [0, 100]


def test_generator_rejects_weights_and_labels(rng):
    X = data(rng, 100)
    with pytest.raises(ValueError, match="generator"):
        start().fit(DataGenerator(X), weights=np.ones(100))
    with pytest.raises(ValueError, match="generator"):
        start().fit(DataGenerator(X), labels=np.zeros(100, int))


def test_bad_batch_in_a_generator_leaves_the_model(rng):
    X = data(rng, 1000)
    bad = X.copy()
    bad[900, 0] = np.inf
    model = start()
    before = model.to_dict()
    with pytest.raises(ValueError, match="infinite"):
        model.fit(DataGenerator(bad, batch_size=100))
    with pytest.raises(ValueError, match="infinite"):
        model.summarize(DataGenerator(bad, batch_size=100))
    assert model.to_dict() == before and not model.summaries.any()
