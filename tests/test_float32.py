"""float32 fits (``fit(dtype=np.float32)``): features, GEMMs and log-sum-exp in float32, sums in float64.

References: one E-step against scipy log densities and centred moments computed in float64 on the same
float32-rounded data (so only the computation's precision differs), and whole fits against
scikit-learn's ``GaussianMixture`` in float64 from the same start. The tolerances are float32's (a few
1e-7 observed, 1e-5 to 1e-4 asserted), far tighter than what a wrong shift, cast or feature would give.
"""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from genmix import (DiscreteDistribution, ExponentialDistribution, GeneralMixtureModel,
                    IndependentComponentsDistribution, LogNormalDistribution, MultivariateGaussianDistribution,
                    NormalDistribution, PoissonDistribution)
from genmix.data import DataGenerator
from genmix._fused import FusedEStep
from genmix.distributions.multivariate_gaussian import _GaussianTerm, _TiedTerm
from tests.test_fused_estep import column_laws, full_model, reference_estep, sample

sklearn_mixture = pytest.importorskip("sklearn.mixture")
pytestmark = pytest.mark.usefixtures("both_paths")  # the compiled kernel and the numpy path


@pytest.fixture
def fused_dtypes(monkeypatch):
    """The dtypes the fused E-step ran in since the last ``clear()`` (a spy on ``FusedEStep.run``): a fit
    that ignored ``dtype`` would still match its reference, so the tests check the path too."""
    seen = []
    run = FusedEStep.run

    def spy(self, *args, **kwargs):
        seen.append(self.dtype)
        return run(self, *args, **kwargs)

    monkeypatch.setattr(FusedEStep, "run", spy)
    return seen


def rounded(X):
    """``(X in float32, the same values in float64)``."""
    X32 = np.asarray(X, dtype=np.float32)
    return X32, X32.astype(np.float64)


def check_float32_estep(model, X, w=None):
    """One fused float32 E-step against scipy in float64 on the rounded data; returns the engine."""
    X32, X64 = rounded(X)
    w = np.ones(X.shape[0]) if w is None else w
    fused = FusedEStep.build(model.distributions, model.log_weights, X32)
    assert fused is not None and fused.dtype == np.float32
    logp, resp, stats = fused.run(X32, w)
    assert isinstance(logp, float) and resp.dtype == np.float64
    ref_logp, R = reference_estep(model.distributions, model.log_weights, X64, w)
    N = R.sum(axis=0)
    assert_allclose(logp, ref_logp, rtol=1e-6)
    assert_allclose(resp, N, rtol=1e-5, atol=1e-7 * N.sum())
    if isinstance(fused.terms[0], _TiedTerm):  # each holds its mass share of the pooled within scatter
        pooled = sum((R[:, j, None] * (X64 - R[:, j] @ X64 / N[j])).T @ (X64 - R[:, j] @ X64 / N[j])
                     for j in range(len(N)))
        assert_allclose(sum(s.m2[0] for s in stats), pooled, rtol=0, atol=1e-4 * np.abs(np.diag(pooled)).max())
        for s, r in zip(stats, R.T):
            assert_allclose(s.mean[0], r @ X64 / r.sum(), rtol=0, atol=1e-4 * np.sqrt(np.diag(pooled) / len(X)).max())
        return fused
    for j, (c, s) in enumerate(zip(model.distributions, stats)):
        if isinstance(fused.terms[0], _GaussianTerm) or isinstance(c, MultivariateGaussianDistribution):
            columns = [(s, X64, R[:, j])]
        else:
            children = s.children if hasattr(s, "children") else [s]
            columns = []
            for i, (cs, (_, transform)) in enumerate(zip(children, column_laws(c, X.shape[1]))):
                seen = ~np.isnan(X64[:, i])
                if isinstance(transform, tuple):  # Σr and Σr·t(x)
                    sums = [R[seen, j] @ t(X64[seen, i]) for t in transform[1]]
                    assert_allclose(np.ravel(cs.sums), sums, rtol=1e-5)
                else:
                    columns.append((cs, transform(X64[seen, i])[:, None], R[seen, j]))
        for cs, T, r in columns:  # centred moments
            mass = r.sum()
            mean = r @ T / mass
            scatter = (r[:, None] * (T - mean)).T @ (T - mean)
            sd = np.sqrt(np.diag(scatter) / mass)
            assert cs.m2.dtype == np.float64
            assert_allclose(np.ravel(cs.mean[0]), mean, rtol=0, atol=1e-4 * sd.max())
            m2 = np.reshape(cs.m2[0], scatter.shape if np.ndim(cs.m2[0]) == 2 else np.diag(scatter).shape)
            expected = scatter if m2.ndim == 2 else np.diag(scatter)
            assert_allclose(m2, expected, rtol=0, atol=1e-4 * np.abs(np.diag(scatter)).max())
    return fused


@pytest.mark.parametrize("d", [1, 3, 12])
def test_full_covariance_estep_in_float32_matches_scipy(rng, d):
    model = full_model(rng, d, 4)
    check_float32_estep(model, sample(model, 20000, rng))


def test_diagonal_tied_and_column_products_in_float32_match_scipy(rng):
    X = sample(full_model(rng, 3, 3), 10000, rng)
    diag = GeneralMixtureModel([MultivariateGaussianDistribution(X[i], rng.uniform(0.5, 2, 3),
                                                                 covariance_type="diag") for i in range(3)])
    check_float32_estep(diag, X)
    tied_cov = np.cov(X.T)
    tied = GeneralMixtureModel([MultivariateGaussianDistribution(X[i], tied_cov, covariance_type="tied")
                                for i in range(3)])
    check_float32_estep(tied, X)
    mixed = GeneralMixtureModel([IndependentComponentsDistribution(
        [NormalDistribution(m, 1.5), ExponentialDistribution(r), LogNormalDistribution(0.2 * m, 0.7),
         PoissonDistribution(3.0 + m)]) for m, r in [(0.0, 1.0), (2.0, 0.3), (-1.0, 2.5)]])
    Y = np.column_stack([rng.normal(0, 2, 8000), rng.exponential(1.0, 8000), rng.lognormal(0, 0.8, 8000),
                         rng.poisson(3.0, 8000)])
    Y[rng.random(Y.shape) < 0.1] = np.nan  # missing values: the masked columns in float32 too
    check_float32_estep(mixed, Y)


def test_float32_guards_take_the_exact_density_and_the_centred_pass(rng):
    """A component of sd 0.05 two units from the data's centre: its expanded log density could lose
    ~3e-3 in float32 (1e-11 in float64), so it is factorised, and its raw scatter would cancel (the
    ratio of raw to centred ~1e3), so its statistics are redone centred in float64; in float64 neither."""
    X = np.vstack([rng.normal(0, 1, (6000, 2)), rng.normal(2.0, 0.05, (1000, 2))])[rng.permutation(7000)]
    model = GeneralMixtureModel([MultivariateGaussianDistribution([0, 0], np.eye(2)),
                                 MultivariateGaussianDistribution([2, 2], 0.0025 * np.eye(2))])
    X32, X64 = rounded(X)
    R = np.exp(model.predict_log_proba(X64)).T
    for data, exact, redo in [(X32, [1], [1]), (X64, [], [])]:
        fused = FusedEStep.build(model.distributions, model.log_weights, data)
        _, shift, needs_exact = fused._prepare(data)
        assert needs_exact.tolist() == exact
        raw = (fused._features(data, slice(0, X.shape[0]), shift) @ R.T.astype(data.dtype)).T
        assert sorted(fused._stats(raw.astype(np.float64), shift)[1]) == redo
    check_float32_estep(model, X)
    # every component factorised: the scores' GEMM is skipped, each row of scores written by its component
    narrow = GeneralMixtureModel([MultivariateGaussianDistribution([-2, -2], 0.0025 * np.eye(2)),
                                  MultivariateGaussianDistribution([2, 2], 0.0025 * np.eye(2))])
    Y = np.vstack([rng.normal(-2.0, 0.05, (3000, 2)), rng.normal(2.0, 0.05, (3000, 2))])[rng.permutation(6000)]
    fused = check_float32_estep(narrow, Y)
    assert fused._prepare(Y.astype(np.float32))[2].tolist() == [0, 1]


def reference_fit(X, start, iterations):
    """scikit-learn's EM in float64 from the same means, precisions and weights."""
    means = np.array([c.parameters[0] for c in start.distributions])
    precisions = np.array([np.linalg.inv(c.parameters[1]) for c in start.distributions])
    gm = sklearn_mixture.GaussianMixture(len(means), covariance_type="full", reg_covar=0.0, tol=0.0,
                                         max_iter=iterations, means_init=means, precisions_init=precisions,
                                         weights_init=start.weights)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it does not converge in 'iterations' steps at tol=0: expected
        return gm.fit(X)


def start_model(X, k, rng):
    idx = rng.choice(X.shape[0], k, replace=False)
    return GeneralMixtureModel([MultivariateGaussianDistribution(X[i], 4.0 * np.eye(X.shape[1])) for i in idx])


def test_float32_fit_matches_scikit_learn_in_float64(rng, fused_dtypes):
    truth = full_model(rng, 6, 5)
    X = sample(truth, 60000, rng)
    start = start_model(X, 5, rng)
    model = start.copy().fit(X, max_iterations=20, stop_threshold=-np.inf, dtype=np.float32)
    assert set(fused_dtypes) == {np.dtype(np.float32)} and len(fused_dtypes) == 21  # every E-step
    gm = reference_fit(X, start, 20)
    mean_ll = model.log_probability(X).mean()  # scored in float64
    assert_allclose(mean_ll, gm.score(X), rtol=1e-6)
    assert_allclose(np.array([c.parameters[0] for c in model.distributions]), gm.means_, atol=1e-3)
    assert_allclose(model.weights, gm.weights_, atol=1e-4)


@pytest.mark.parametrize("source", ["memmap", "generator", "frame", "list"])
def test_float32_reads_every_source_batch_by_batch(rng, tmp_path, source, fused_dtypes):
    truth = full_model(rng, 3, 3)
    X = sample(truth, 20000, rng)
    start = start_model(X, 3, rng)
    if source == "memmap":
        data = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float64, shape=X.shape)
        data[:] = X
        kwargs = {"batch_size": 3000}
    elif source == "generator":
        data, kwargs = DataGenerator(X, batch_size=3000), {}
    elif source == "frame":
        pd = pytest.importorskip("pandas")
        data, kwargs = pd.DataFrame(X, columns=["a", "b", "c"]), {"batch_size": 7000}
    else:
        data, kwargs = X.tolist(), {}
    model = start.copy().fit(data, max_iterations=15, stop_threshold=-np.inf, dtype="float32", **kwargs)
    assert set(fused_dtypes) == {np.dtype(np.float32)}
    gm = reference_fit(X, start, 15)
    assert_allclose(model.log_probability(X).mean(), gm.score(X), rtol=1e-6)


def test_float32_from_samples_and_mixed_families(rng, fused_dtypes):
    X = sample(full_model(rng, 4, 3), 30000, rng)
    m32 = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X, random_state=0,
                                           max_iterations=30, dtype=np.float32)
    assert set(fused_dtypes) == {np.dtype(np.float32)}
    m64 = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X, random_state=0,
                                           max_iterations=30)
    assert_allclose(m32.log_probability(X).mean(), m64.log_probability(X).mean(), rtol=1e-6)
    # mixed rows (a categorical column) are encoded as float64 codes, so the fit is the float64 fit
    cats = rng.choice(["a", "b", "c"], X.shape[0]).astype(object)
    Y = np.column_stack([X[:, :2].astype(object), cats])
    fused_dtypes.clear()
    f32 = GeneralMixtureModel.from_samples([NormalDistribution, NormalDistribution, DiscreteDistribution], 3,
                                           Y, random_state=0, max_iterations=10, dtype=np.float32)
    assert fused_dtypes and set(fused_dtypes) == {np.dtype(np.float64)}  # fused, on the float64 codes
    f64 = GeneralMixtureModel.from_samples([NormalDistribution, NormalDistribution, DiscreteDistribution], 3,
                                           Y, random_state=0, max_iterations=10)
    assert_allclose(f32.log_probability(Y).mean(), f64.log_probability(Y).mean(), rtol=1e-12)


def test_float32_on_the_general_path_reads_float64(rng):
    """Components without a fused term (a Uniform column, a MVN with missing values) score the rounded
    data in float64."""
    X = sample(full_model(rng, 3, 2), 5000, rng)
    X[rng.random(X.shape) < 0.1] = np.nan
    start = start_model(np.nan_to_num(X), 2, rng)
    m32 = start.copy().fit(X, max_iterations=5, stop_threshold=-np.inf, dtype=np.float32)
    m64 = start.copy().fit(X.astype(np.float32).astype(np.float64), max_iterations=5, stop_threshold=-np.inf)
    for a, b in zip(m32.distributions, m64.distributions):
        assert_allclose(a.parameters[0], b.parameters[0], rtol=1e-12)  # the same float64 computation


@pytest.mark.parametrize("dtype, error", [("int32", ValueError), (np.float16, ValueError), ("half-float", TypeError),
                                          (object(), TypeError)])
def test_bad_dtype_is_named_and_leaves_the_model_alone(rng, dtype, error):
    X = sample(full_model(rng, 2, 2), 500, rng)
    model = start_model(X, 2, rng).fit(X, max_iterations=3)
    before = model.to_json()
    with pytest.raises(error, match="'dtype' parameter of GeneralMixtureModel.fit"):
        model.fit(X, dtype=dtype)
    assert model.to_json() == before
    with pytest.raises(error, match="'dtype' parameter of GeneralMixtureModel.from_samples"):
        GeneralMixtureModel.from_samples(NormalDistribution, 2, X, dtype=dtype)


def test_values_beyond_float32_are_refused(rng, tmp_path):
    X = sample(full_model(rng, 2, 2), 500, rng)
    model = start_model(X, 2, rng).fit(X, max_iterations=3)
    before = model.to_json()
    big = X.copy()
    big[7, 1] = 1e39
    mapped = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", dtype=np.float64, shape=big.shape)
    mapped[:] = big  # converted batch by batch
    for data in (big, big.tolist(), mapped):
        with pytest.raises(ValueError, match=r"beyond the float32 range .*rows \[7\]"):
            model.fit(data, dtype=np.float32, batch_size=100)
    assert model.to_json() == before
    assert np.isfinite(model.log_probability(big)[:7]).all()  # float64 reads the same data


def test_float32_weights_threads_labels_and_streaming(rng, fused_dtypes):
    """Integer weights act as replication (scikit-learn on the repeated rows is the reference), in two
    threads too; a labelled fit is the float64 labelled fit (itself tested against its definition) to
    float32's rounding; streaming EM reaches the full-batch optimum."""
    truth = full_model(rng, 3, 3)
    X = sample(truth, 12000, rng)
    w = rng.integers(1, 4, X.shape[0]).astype(float)
    start = start_model(X, 3, rng)
    gm = reference_fit(np.repeat(X, w.astype(int), axis=0), start, 15)
    for n_jobs in (1, 2):
        fused_dtypes.clear()
        model = start.copy().fit(X, weights=w, max_iterations=15, stop_threshold=-np.inf, n_jobs=n_jobs,
                                 dtype=np.float32)
        assert set(fused_dtypes) == {np.dtype(np.float32)}
        assert_allclose(model.log_probability(X) @ w / w.sum(), gm.score(np.repeat(X, w.astype(int), axis=0)),
                        rtol=1e-6)
    labels = np.full(X.shape[0], -1)
    labels[:300] = 2  # a tenth of the rows, whatever their component: they pull component 2
    fused_dtypes.clear()
    model = start.copy().fit(X, labels=labels, max_iterations=10, stop_threshold=-np.inf, dtype=np.float32)
    assert set(fused_dtypes) == {np.dtype(np.float32)}
    labelled = start.copy().fit(X, labels=labels, max_iterations=10, stop_threshold=-np.inf)  # tests/test_labels.py
    unlabelled = start.copy().fit(X, max_iterations=10, stop_threshold=-np.inf)
    means = [np.array([c.parameters[0] for c in m.distributions]) for m in (model, labelled, unlabelled)]
    assert_allclose(means[0], means[1], rtol=0, atol=1e-4)
    assert np.abs(means[1] - means[2]).max() > 1e-2  # the labels matter at this size
    full = reference_fit(X, start, 200)  # converged
    fused_dtypes.clear()
    streamed = start.copy().fit(X, batch_size=2000, batches_per_epoch=2, max_iterations=300, stop_threshold=1e-3,
                                dtype=np.float32)
    assert set(fused_dtypes) == {np.dtype(np.float32)}
    assert_allclose(streamed.log_probability(X).mean(), full.score(X), rtol=1e-5)
