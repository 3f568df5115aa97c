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
