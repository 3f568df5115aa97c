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


def test_from_samples_with_a_shuffled_generator(rng):
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


def numbers(document):
    """Every number of a model's ``to_dict()``, in order."""
    if isinstance(document, dict):
        return [x for key in sorted(document) for x in numbers(document[key])]
    if isinstance(document, (list, tuple)):
        return [x for item in document for x in numbers(item)]
    return [float(document)] if isinstance(document, (int, float)) and not isinstance(document, bool) else []


def _sorted_blobs(rng, n=3000):
    """Three Gaussian clusters, the rows sorted by cluster (as in a file written class by class)."""
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 3.5]])
    truth = np.repeat(np.arange(3), n // 3)
    return centres[truth] + rng.normal(0, 1.0, (n, 2)), truth


def test_from_samples_seeds_from_a_sample_of_every_batch(rng):
    from sklearn.metrics import adjusted_rand_score

    # The first batch holds only cluster 0: seeding k-means from it (pomegranate 0.x, and genmix before)
    # puts every centre inside one cluster. The seeding sample is drawn across all batches instead.
    X, truth = _sorted_blobs(rng)
    for seed in range(5):
        model = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, DataGenerator(X, batch_size=500),
                                                 random_state=seed)
        assert adjusted_rand_score(truth, model.predict(X)) >= 0.85, seed


def test_from_samples_gives_the_in_memory_model_from_every_source(rng, tmp_path):
    pd = pytest.importorskip("pandas")
    X, _ = _sorted_blobs(rng, 6000)
    X[::97, 1] = np.nan  # missing values take the same path everywhere
    w = rng.uniform(0.5, 2.0, len(X))
    np.save(tmp_path / "x.npy", X)
    np.savetxt(tmp_path / "x.csv", X, delimiter=",")
    options = dict(max_kmeans_iterations=3, max_iterations=5, random_state=7)
    for init in ("kmeans++", "random", "first-k", "kmeans||"):
        reference = GeneralMixtureModel.from_samples(NormalDistribution, 3, X, init=init, **options)
        sources = {
            "memmap": np.load(tmp_path / "x.npy", mmap_mode="r"),
            "DataFrame": pd.DataFrame(X, columns=["a", "b"]),
            "DataGenerator": DataGenerator(X, batch_size=1000),
            "npy_generator": npy_generator(tmp_path / "x.npy", batch_size=2500),
            "CSVGenerator": CSVGenerator(tmp_path / "x.csv", batch_size=1500),
            "user generator": Recording(X, 800),
        }
        for name, source in sources.items():
            model = GeneralMixtureModel.from_samples(NormalDistribution, 3, source, init=init, **options)
            assert_allclose(numbers(model.to_dict()), numbers(reference.to_dict()), rtol=1e-9, err_msg=f"{init}, {name}")
        # sample weights: the same model from the array and from a generator carrying them
        weighted = GeneralMixtureModel.from_samples(NormalDistribution, 3, X, weights=w, init=init, **options)
        streamed = GeneralMixtureModel.from_samples(NormalDistribution, 3, DataGenerator(X, w, batch_size=1000),
                                                    init=init, **options)
        assert_allclose(numbers(streamed.to_dict()), numbers(weighted.to_dict()), rtol=1e-9, err_msg=f"{init}, weighted")


_PEAK = """
import sys, tracemalloc
import numpy as np
from genmix import GeneralMixtureModel, MultivariateGaussianDistribution

X = np.load(sys.argv[1], mmap_mode="r")
tracemalloc.start()
for init in ("kmeans++", "random", "first-k", "kmeans||"):
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X, init=init, max_iterations=1,
                                     random_state=0)
    print(init, tracemalloc.get_traced_memory()[1] - before)
"""


def _from_samples_peaks(path, rows, d=5):
    """Peak bytes allocated by ``from_samples`` on a memmap of ``rows × d`` float64, for every ``init``.

    Measured with tracemalloc in a fresh interpreter, after the import and the mapping: numpy reports every
    buffer it allocates to tracemalloc, while the memmap's file pages (which the kernel maps in as the file
    is read and may drop again) are not allocations and do not count. The resident set would count them,
    so it cannot tell reading the file from copying it.
    """
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(rows, d))
    centres = rng.normal(0, 4, (3, d))
    for s in range(0, rows, 500_000):  # written in chunks, never held whole
        m = min(500_000, rows - s)
        X[s:s + m] = centres[rng.integers(0, 3, m)] + rng.normal(0, 1, (m, d))
    X.flush()
    del X
    out = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True, check=True)
    return {init: int(peak) for init, peak in (line.split() for line in out.stdout.splitlines())}


def test_from_samples_on_a_memmap_allocates_a_fraction_of_it(tmp_path):
    # 46 MiB of data: every init must stay within half of it (the k-means seeding sample, chunk buffers
    # and EM's blocks are of fixed size; copying the data, or a cluster of it, is not)
    rows = 1_200_000
    peaks = _from_samples_peaks(tmp_path / "x.npy", rows)
    assert set(peaks) == {"kmeans++", "random", "first-k", "kmeans||"}
    for init, peak in peaks.items():
        assert peak <= 0.5 * rows * 5 * 8, (init, peak / 2**20)


@pytest.mark.slow
def test_from_samples_on_a_large_memmap_stays_within_the_em_bound(tmp_path):
    rows = 4_000_000  # 153 MiB
    peaks = _from_samples_peaks(tmp_path / "x.npy", rows)
    for init, peak in peaks.items():
        assert peak <= max(0.5 * rows * 5 * 8, 64 * 2**20), (init, peak / 2**20)


def test_the_seeding_sample_is_uniform_over_all_batches_and_independent_of_them(rng):
    from genmix.init import _Rows, _Survey

    # 150,000 class-sorted rows, more than the 65,536 the seeding looks at: the reservoir keeps each
    # row with the same probability wherever it lies, whatever the batching
    n, size = 150_000, 65_536
    X, truth = _sorted_blobs(rng, n)
    w = np.ones(n)
    w[::10] = 0.0  # never sampled
    whole = _Survey(_Rows(X, w, 2), 3, size)
    batched = _Survey(_Rows(DataGenerator(X, w, batch_size=7_000), None, 2), 3, size)
    assert_array_equal(batched.sample, whole.sample)
    assert whole.n == n and whole.n_pos == n - n // 10 and len(whole.sample) == size
    kept = np.nonzero(np.isin(X[:, 0], whole.sample[:, 0]))[0]
    assert np.all(w[kept] > 0)
    # each class holds 45,000 of the 135,000 rows with weight: hypergeometric counts, sd ≈ 88
    counts = np.bincount(truth[kept], minlength=3)
    sd = np.sqrt(size * (1 / 3) * (2 / 3) * (1 - size / (n - n // 10)))
    assert np.all(np.abs(counts - size / 3) < 5 * sd), counts
    assert_array_equal(np.diff(kept) > 0, True)  # the sample is in row order


def test_from_samples_on_many_batches_gives_the_in_memory_model(rng):
    X, truth = _sorted_blobs(rng, 150_000)
    options = dict(max_kmeans_iterations=2, max_iterations=2, random_state=3)
    reference = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X, **options)
    streamed = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, DataGenerator(X, batch_size=7_000),
                                                **options)
    assert_allclose(numbers(streamed.to_dict()), numbers(reference.to_dict()), rtol=1e-9)
