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


# ---------------------------------------------------------------------------------------------------------
# CSVGenerator: every cell is a number or missing, a header is never data, errors name the line
# ---------------------------------------------------------------------------------------------------------

def write(tmp_path, text, name="x.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def read_all(gen):
    return np.vstack([chunk for chunk, _ in gen.batches()])


def test_csv_non_numeric_cell_raises_naming_line_and_column(tmp_path):
    path = write(tmp_path, "1.0,2.0\n3.0,abc\n")
    with pytest.raises(ValueError, match=r"line 2, column 2 .*'abc'"):
        read_all(CSVGenerator(path))
    # in a later batch, the line number counts from the top of the file (skipped lines and header included)
    path = write(tmp_path, "# exported\nx,y\n1,2\n3,4\n5,6\n7,8\n9,1e\n")
    with pytest.raises(ValueError, match=r"line 7, column 2 .*'1e'"):
        read_all(CSVGenerator(path, batch_size=2, skiprows=1))


def test_csv_bad_cell_leaves_a_fitted_model_as_it_was(tmp_path):
    path = write(tmp_path, "".join(f"{v},{v + 1}\n" for v in range(20)) + "3.0,abc\n")
    model = start().fit(data(np.random.default_rng(1), 200), max_iterations=2)
    before = model.to_dict()
    with pytest.raises(ValueError, match=r"line 21, column 2"):
        model.fit(CSVGenerator(path, batch_size=8))
    assert model.to_dict() == before and not model.summaries.any()


def test_csv_is_parsed_batch_by_batch(tmp_path):
    path = write(tmp_path, "1,2\n3,4\n5,oops\n")
    batches = CSVGenerator(path, batch_size=2).batches()
    assert_array_equal(next(batches)[0], [[1, 2], [3, 4]])  # line 3 is not parsed until its batch is read
    with pytest.raises(ValueError, match=r"line 3, column 2"):
        next(batches)


def test_csv_header_is_inferred_and_never_read_as_data(tmp_path):
    path = write(tmp_path, "waiting, eruptions\n79,3.6\n54,1.8\n74,3.333\n")
    gen = CSVGenerator(path, batch_size=2)
    assert (gen.n_rows, gen.n_batches) == (3, 2)
    assert gen.columns == ["waiting", "eruptions"]
    assert_array_equal(read_all(gen), [[79, 3.6], [54, 1.8], [74, 3.333]])
    headerless = CSVGenerator(write(tmp_path, "79,3.6\n54,1.8\n", "y.csv"), batch_size=1)
    assert (headerless.n_rows, headerless.n_batches, headerless.columns) == (2, 2, None)
    assert_array_equal(read_all(headerless), [[79, 3.6], [54, 1.8]])


def test_csv_header_can_be_declared(tmp_path):
    numeric_names = write(tmp_path, "2019,2020\n1,2\n3,4\n")
    gen = CSVGenerator(numeric_names, header=True)
    assert gen.n_rows == 2 and gen.columns == ["2019", "2020"]
    assert_array_equal(read_all(gen), [[1, 2], [3, 4]])
    assert CSVGenerator(numeric_names, header=False).n_rows == 3
    with pytest.raises(ValueError, match=r"line 1, column 1 .*'x'"):
        read_all(CSVGenerator(write(tmp_path, "x,y\n1,2\n", "y.csv"), header=False))
    # a first line mixing numbers and text is data, so the bad cell is reported, not dropped as a header
    with pytest.raises(ValueError, match=r"line 1, column 2 .*'abc'.*header=True"):
        read_all(CSVGenerator(write(tmp_path, "3.0,abc\n1,2\n", "z.csv")))
    with pytest.raises(TypeError, match="header"):
        CSVGenerator(numeric_names, header="yes")
    with pytest.raises(ValueError, match="header"):
        CSVGenerator(write(tmp_path, "x,y\n", "h.csv"))  # a header and no data


def test_csv_empty_fields_and_nan_are_missing(tmp_path):
    path = write(tmp_path, "1.5,\n,2\nnan,NaN\n,\n 4 , -5e-1 \n")
    assert_array_equal(read_all(CSVGenerator(path)),
                       [[1.5, np.nan], [np.nan, 2], [np.nan, np.nan], [np.nan, np.nan], [4, -0.5]])


def test_csv_infinite_cell_raises_naming_line(tmp_path):
    with pytest.raises(ValueError, match=r"line 3, column 1 .*'-inf'"):
        read_all(CSVGenerator(write(tmp_path, "1,2\n3,4\n-inf,5\n")))


def test_csv_ragged_line_raises_naming_the_line(tmp_path):
    with pytest.raises(ValueError, match=r"line 2 has 3 fields .* 2"):
        read_all(CSVGenerator(write(tmp_path, "1,2\n3,4,5\n6,7\n")))
    # across batches, and when usecols would otherwise hide it
    path = write(tmp_path, "1,2\n3,4\n5,6,7\n", "b.csv")
    with pytest.raises(ValueError, match=r"line 3 has 3 fields .* 2"):
        read_all(CSVGenerator(path, batch_size=2))
    with pytest.raises(ValueError, match=r"line 3 has 3 fields .* 2"):
        read_all(CSVGenerator(path, usecols=[0]))
    with pytest.raises(ValueError, match=r"line 2 has 3 fields .*header.* 2"):
        CSVGenerator(write(tmp_path, "a,b\n1,2,3\n", "c.csv"))
    with pytest.raises(ValueError, match=r"line 2 has 2 fields .*header.* 1; skiprows="):
        CSVGenerator(write(tmp_path, "# exported by a tool\nx,y\n1,2\n", "d.csv"))  # a comment taken for a header


def test_csv_usecols_skiprows_and_delimiter(tmp_path):
    text = "exported by a tool\n\nid;name;x;y\n0;alpha;1.5;-2\n1;beta;;7e-3\n\n2;gamma;4;nan\n\n"
    gen = CSVGenerator(write(tmp_path, text), batch_size=2, delimiter=";", skiprows=2, usecols=[2, 3])
    assert (gen.n_rows, gen.n_batches, gen.columns) == (3, 2, ["x", "y"])
    chunks = [chunk for chunk, _ in gen.batches()]
    assert [c.shape for c in chunks] == [(2, 2), (1, 2)]  # blank lines are not rows
    assert_array_equal(np.vstack(chunks), [[1.5, -2], [np.nan, 7e-3], [4, np.nan]])
    assert_array_equal(read_all(CSVGenerator(tmp_path / "x.csv", delimiter=";", skiprows=2, usecols=-1)),
                       [[-2], [7e-3], [np.nan]])
    # a text column that usecols leaves out never counts towards header detection
    assert CSVGenerator(write(tmp_path, "a,1\nb,2\n", "t.csv"), usecols=[1]).n_rows == 2
    spaces = write(tmp_path, "x y\n1   2\n\t3 4\n", "w.txt")
    assert_array_equal(read_all(CSVGenerator(spaces, delimiter=None)), [[1, 2], [3, 4]])
    assert_array_equal(read_all(CSVGenerator(write(tmp_path, "1::2\n3::\n", "m.txt"), delimiter="::")),
                       [[1, 2], [3, np.nan]])
    with pytest.raises(ValueError, match="usecols"):
        CSVGenerator(tmp_path / "x.csv", delimiter=";", skiprows=2, usecols=[4])
    with pytest.raises(TypeError, match="delimiter"):
        CSVGenerator(tmp_path / "x.csv", delimiter=3)
    with pytest.raises(ValueError, match="batch_size"):
        CSVGenerator(tmp_path / "x.csv", batch_size=0)


def test_csv_byte_order_mark_is_not_data(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("1,2\n3,4\n".encode("utf-8-sig"))
    assert_array_equal(read_all(CSVGenerator(path)), [[1, 2], [3, 4]])


def test_csv_with_header_fits_the_in_memory_model(rng, tmp_path):
    X = data(rng, 3000)
    np.savetxt(tmp_path / "x.csv", X, delimiter=",", header="a,b", comments="")
    reference = params(start().fit(X, stop_threshold=1e-6))
    fitted = start().fit(CSVGenerator(tmp_path / "x.csv", batch_size=1000), stop_threshold=1e-6)
    assert_allclose(params(fitted), reference, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predictions_on_a_memmap_are_bounded_without_batch_size(tmp_path, rng, dtype):
    """No (n, k) temporary and no converted copy of the memmap: peak numpy allocations stay within the
    output plus a few MiB of batch temporaries (tracemalloc sees numpy's allocations)."""
    import tracemalloc

    n, d, k = 1_000_000, 4, 8
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=dtype, shape=(n, d))
    for s in range(0, n, 100_000):
        mm[s:s + 100_000] = rng.normal(size=(100_000, d))
    mm.flush()
    X = np.load(tmp_path / "x.npy", mmap_mode="r")
    model = GeneralMixtureModel([MultivariateGaussianDistribution(rng.normal(size=d), np.eye(d) * (1 + i))
                                 for i in range(k)])
    reference = model.predict(np.asarray(X[:5000], dtype=np.float64))
    for method, out_bytes in ((model.predict, 8 * n), (model.log_probability, 8 * n),
                              (model.predict_proba, 8 * n * k)):
        tracemalloc.start()
        try:
            result = method(X)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert result.shape[0] == n
        assert peak < out_bytes + 24 * 2**20, f"{method.__name__}: peak {peak / 2**20:.0f} MiB"
    assert_array_equal(model.predict(X)[:5000], reference)


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
# a warm-up on the first rows, with the compiled kernel (genmix[fast]) forced on: numba's import, and
# loading or compiling the kernel for these argument types (read-only rows), allocate 30-55 MiB of Python
# objects once per process, whatever the data
from genmix import _kernels
work, _kernels.MIN_WORK = _kernels.MIN_WORK, 0
GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X[:2000], max_iterations=1,
                                 random_state=0)
_kernels.MIN_WORK = work
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

    Measured with tracemalloc in a fresh interpreter, after the import, the mapping and a warm-up fit of a
    small copy (the compiled kernel's one-off loading is not the data's): numpy reports every
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
    # the reservoir written out: row i's key is draw i of the fixed stream; the rows with weight and the
    # `size` largest keys, in row order
    from genmix.init import _SAMPLE_SEED

    keys = np.where(w > 0, np.random.Generator(np.random.PCG64(_SAMPLE_SEED)).random(n), -1.0)
    assert_array_equal(whole.sample, X[np.sort(np.argsort(keys)[n - size:])])
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


def test_a_user_source_with_random_access_is_visited_in_its_own_order(rng):
    """The batch-source protocol's optional part: order(), batch(b), start(b). The driver reads the batches
    in the source's order (never through batches()), and the fit equals the in-memory one (exact EM)."""
    X = data(rng, 3000)

    class Reversed(BaseGenerator):
        n_batches = 6

        def __init__(self):
            self.read = []

        def order(self):
            return list(range(self.n_batches))[::-1]

        def start(self, b):
            return 500 * b

        def batch(self, b):
            self.read.append(b)
            return X[500 * b:500 * (b + 1)], None

        def batches(self):  # pragma: no cover - must not be used when random access exists
            raise AssertionError("batches() was used")

    source = Reversed()
    fitted = start().fit(source, max_iterations=3, stop_threshold=-np.inf)
    assert source.read == [5, 4, 3, 2, 1, 0] * 4  # the initial E-step and three epochs
    assert_allclose(params(fitted), params(start().fit(X, max_iterations=3, stop_threshold=-np.inf)), rtol=1e-10)
