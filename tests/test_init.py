"""from_samples and k-means seeding."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from genmix import (ExponentialDistribution, GeneralMixtureModel, IndependentComponentsDistribution,
                    LogNormalDistribution, MultivariateGaussianDistribution, NormalDistribution)
from genmix.datasets import load_old_faithful
from genmix.init import kmeans


def blobs(rng, n=300):
    centres = np.array([[0, 0], [6, 0], [0, 6.0]])
    return np.vstack([rng.normal(c, 0.7, (n // 3, 2)) for c in centres]) + np.array([10.0, 20.0])


def test_lloyd_matches_sklearn_kmeans_from_the_same_seeds(rng):
    from sklearn.cluster import KMeans

    X = blobs(rng)
    X = X[rng.permutation(len(X))]
    centres, labels = kmeans(X, 3, init="first-k", max_iterations=100, tol=0.0)
    km = KMeans(3, init=X[:3], n_init=1, max_iter=100, tol=0.0, algorithm="lloyd").fit(X)
    assert_allclose(centres, km.cluster_centers_, rtol=1e-12)
    assert_array_equal(labels, km.labels_)


def test_lloyd_stops_within_the_tolerance_and_assigns_to_the_final_centres(rng):
    X = np.vstack([blobs(rng, 600), rng.normal(15.0, 3.0, (200, 2))])
    # a tolerance no move exceeds: one Lloyd step, then the assignment to its centres (as one iteration)
    c_tol, l_tol = kmeans(X, 5, init="random", max_iterations=100, tol=1e6, random_state=0)
    c_one, l_one = kmeans(X, 5, init="random", max_iterations=1, tol=0.0, random_state=0)
    assert_allclose(c_tol, c_one, rtol=1e-12)
    assert_array_equal(l_tol, l_one)
    for tol in (0.0, 1e-4, 1e-2):
        centres, labels = kmeans(X, 5, init="random", max_iterations=100, tol=tol, random_state=0)
        nearest = np.argmin(((X[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
        assert_array_equal(labels, nearest)


def test_lloyd_tolerance_is_relative_to_the_spread(rng):
    # the same data in other units stop after the same iterations: the centres scale with them
    X = np.vstack([blobs(rng, 600), rng.normal(15.0, 3.0, (200, 2))])
    early, _ = kmeans(X, 5, init="random", max_iterations=100, tol=1e-2, random_state=0)
    full, _ = kmeans(X, 5, init="random", max_iterations=100, tol=0.0, random_state=0)
    assert not np.allclose(early, full, rtol=1e-9)  # the tolerance stops it before convergence
    for scale in (1e-3, 1e3):
        scaled, _ = kmeans(X * scale, 5, init="random", max_iterations=100, tol=1e-2, random_state=0)
        assert_allclose(scaled, early * scale, rtol=1e-9)


def test_kmeans_tol_is_validated(rng):
    X = blobs(rng, 30)
    with pytest.raises(ValueError, match="'tol'.*range \\[0, inf\\)"):
        kmeans(X, 2, tol=-1.0)
    with pytest.raises(TypeError, match="'tol'"):
        kmeans(X, 2, tol="small")


def test_seeding_is_refined_on_a_sample_smaller_than_the_data(rng):
    # 150,000 rows: the seeding sample (65,536 rows) is a strict subset, so k-means++ on it is followed
    # by Lloyd's algorithm on it; without any pass over all the data the centres are already the blob
    # means (to the sample's error, ~0.7 / sqrt(21,845) = 0.005), not three of its rows
    X = blobs(rng, 150_000)
    centres, _ = kmeans(X, 3, max_iterations=0, random_state=0)
    truth = np.array([X[i * 50_000:(i + 1) * 50_000].mean(axis=0) for i in range(3)])
    gaps = np.sqrt(((truth[:, None, :] - centres[None]) ** 2).sum(axis=2))  # (blob, centre)
    assert_array_equal(np.sort(np.argmin(gaps, axis=1)), [0, 1, 2])  # one centre per blob
    assert gaps.min(axis=1).max() < 0.03, gaps
    # data no larger than the sample: the seeding is the rows themselves
    small = X[::3][:3000]
    centres, _ = kmeans(small, 3, max_iterations=0, random_state=0)
    assert all(np.any(np.all(small == c, axis=1)) for c in centres)


def test_weighted_kmeans_equals_repeated_rows(rng):
    X = blobs(rng, 90)
    counts = rng.integers(1, 3, 90)
    c1, _ = kmeans(X, 3, counts.astype(float), init="first-k", max_iterations=20)
    c2, _ = kmeans(np.repeat(X, counts, axis=0), 3, init="first-k", max_iterations=20)
    assert_allclose(c1, c2, rtol=1e-12)


@pytest.mark.parametrize("init", ["kmeans++", "random", "first-k"])
def test_seeding_finds_separated_clusters(rng, init):
    X = blobs(rng)
    centres, labels = kmeans(X, 3, init=init, n_init=5, max_iterations=50, random_state=1)
    found = sorted(map(tuple, np.round(centres - [10, 20])))
    assert_allclose(found, [(0, 0), (0, 6), (6, 0)], atol=0.5)


def test_kmeans_ignores_missing_coordinates(rng):
    X = blobs(rng)
    X_nan = X.copy()
    X_nan[::7, 1] = np.nan
    centres, _ = kmeans(X_nan, 3, init="kmeans++", n_init=3, max_iterations=50, random_state=0)
    assert np.all(np.isfinite(centres))
    assert_allclose(sorted(map(tuple, np.round(centres - [10, 20]))), [(0, 0), (0, 6), (6, 0)], atol=0.5)


def test_from_samples_full_covariance_on_old_faithful():
    from sklearn.mixture import GaussianMixture

    X, _ = load_old_faithful()
    model = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 2, X, max_kmeans_iterations=10,
                                             stop_threshold=1e-9, random_state=0)
    gm = GaussianMixture(2, covariance_type="full", reg_covar=0.0, tol=1e-12, max_iter=2000, n_init=3,
                         random_state=0).fit(X)
    assert_allclose(model.log_probability(X).sum(), gm.score(X) * len(X), rtol=1e-7)
    ours = sorted((c.parameters[0][0], c.parameters[0][1]) for c in model.distributions)
    assert_allclose(ours, sorted(map(tuple, gm.means_)), rtol=1e-4)


def test_component_specifications(rng):
    X = np.abs(blobs(rng, 90))
    diag = GeneralMixtureModel.from_samples(NormalDistribution, 3, X, random_state=0)
    assert all(isinstance(c, IndependentComponentsDistribution) for c in diag.distributions)
    assert all(isinstance(ch, NormalDistribution) for c in diag.distributions for ch in c.distributions)
    per_column = GeneralMixtureModel.from_samples([NormalDistribution, LogNormalDistribution], 2, X, random_state=0)
    assert [type(ch) for ch in per_column.distributions[0].distributions] == [NormalDistribution,
                                                                             LogNormalDistribution]
    full = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 2, X, random_state=0)
    assert all(isinstance(c, MultivariateGaussianDistribution) for c in full.distributions)
    x = np.abs(rng.normal(3, 1, 100))
    hetero = GeneralMixtureModel.from_samples([NormalDistribution, ExponentialDistribution], None, x[:, None],
                                              random_state=0)
    assert [type(c) for c in hetero.distributions] == [NormalDistribution, ExponentialDistribution]
    one = GeneralMixtureModel.from_samples(NormalDistribution, 1, x[:, None])
    assert_allclose(one.distributions[0].parameters, [x.mean(), x.std()], rtol=1e-12)


def test_bad_specifications(rng):
    X = blobs(rng, 30)
    with pytest.raises(ValueError, match="one distribution per dimension"):
        GeneralMixtureModel.from_samples([NormalDistribution] * 3, 2, X)
    with pytest.raises(ValueError, match="uninitialized"):
        GeneralMixtureModel.from_samples([NormalDistribution(0, 1), NormalDistribution], 2, X)
    with pytest.raises(ValueError, match="class or a list"):
        GeneralMixtureModel.from_samples(NormalDistribution(0, 1), 2, X)
    with pytest.raises(ValueError, match="n_components is required"):
        GeneralMixtureModel.from_samples(NormalDistribution, None, X)
    with pytest.raises(ValueError, match="larger than the number of samples"):
        GeneralMixtureModel.from_samples(NormalDistribution, 31, X)
    with pytest.raises(ValueError, match="initialization must be one of"):
        GeneralMixtureModel.from_samples(NormalDistribution, 2, X, init="kmeans+")
    with pytest.raises(ValueError, match="X is required"):
        GeneralMixtureModel.from_samples(NormalDistribution, 2)


def test_from_samples_is_reproducible_and_leaves_global_rng(rng):
    X = blobs(rng)
    state = np.random.get_state()[1].copy()
    a = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X, random_state=5)
    b = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X, random_state=5)
    assert a.to_dict() == b.to_dict()
    GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X)
    assert_array_equal(np.random.get_state()[1], state)


def test_from_samples_returns_history(rng):
    X = blobs(rng, 60)
    model, history = GeneralMixtureModel.from_samples(NormalDistribution, 2, X, return_history=True, random_state=0)
    assert isinstance(model, GeneralMixtureModel) and len(history.epochs) >= 1


def test_first_k_by_hand():
    X = np.array([[0.0], [10.0], [1.0], [11.0], [2.0], [12.0], [3.0]])
    centres, labels = kmeans(X, 2, init="first-k", max_iterations=0)
    assert_allclose(centres, [[0.0], [10.0]])
    assert_array_equal(labels, [0, 1, 0, 1, 0, 1, 0])
    centres, labels = kmeans(X, 2, init="first-k", max_iterations=1)
    assert_allclose(centres, [[1.5], [11.0]])  # Lloyd: the means of {0,1,2,3} and {10,11,12}


def _blobs_with_truth(seed, k=4, n=400):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-50, 50, (k, 3))
    centres[:, 0] += 40 * np.arange(k)  # well separated
    truth = np.arange(n) % k  # interleaved, so that the first k rows hold one row per blob
    return centres[truth] + rng.normal(0, 1.0, (n, 3)), truth


@pytest.mark.parametrize("init, n_init", [("kmeans++", 1), ("kmeans||", 1), ("random", 10), ("first-k", 1)])
def test_blobs_are_recovered_for_20_seeds(init, n_init):
    from sklearn.metrics import adjusted_rand_score

    for seed in range(20):
        X, truth = _blobs_with_truth(seed)
        model = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 4, X, init=init, n_init=n_init,
                                                 max_kmeans_iterations=10, random_state=seed)
        assert adjusted_rand_score(truth, model.predict(X)) >= 0.99, (init, seed)


def test_kmeans_parallel_is_reproducible_and_weighted(rng):
    X = blobs(rng)
    a, la = kmeans(X, 3, init="kmeans||", random_state=3)
    b, lb = kmeans(X, 3, init="kmeans||", random_state=3)
    assert_array_equal(a, b)
    w = np.ones(len(X))
    w[X[:, 0] > 13] = 0.0  # the blob at x≈16 is absent
    c, labels = kmeans(X, 2, w, init="kmeans||", max_iterations=20, random_state=0)
    assert np.all(c[:, 0] < 13)


def test_list_of_classes_fit_their_clusters_by_closed_form(rng):
    X = np.column_stack([np.concatenate([rng.normal(0, 1, 100), rng.normal(8, 2, 100)]),
                         np.concatenate([rng.exponential(1, 100), rng.exponential(5, 100)])])
    model = GeneralMixtureModel.from_samples([NormalDistribution, ExponentialDistribution], 2, X, max_iterations=0,
                                             max_kmeans_iterations=5, random_state=4)
    _, labels = kmeans(X, 2, init="kmeans++", max_iterations=5, random_state=4)
    for i, comp in enumerate(model.distributions):
        rows = X[labels == i]
        normal, expo = comp.distributions
        assert_allclose(normal.parameters, [rows[:, 0].mean(), rows[:, 0].std()], rtol=1e-12)
        assert_allclose(expo.parameters, [1 / rows[:, 1].mean()], rtol=1e-12)
        assert_allclose(model.weights[i], np.mean(labels == i), rtol=1e-12)


@pytest.mark.parametrize("memmap", [False, True])
def test_gaussians_of_incomplete_clusters_are_each_clusters_own_fit(rng, tmp_path, monkeypatch, memmap):
    """With missing values the initial Gaussians come from EM passes over the data, every cluster at
    once (no cluster's rows gathered): each equals MultivariateGaussianDistribution.fit on its cluster's
    rows, as computed one by one."""
    X = np.vstack([rng.normal(c, s, (400, 3)) for c, s in [(0.0, 1.0), (6.0, 0.5), (-6.0, 2.0)]])
    X[rng.random(X.shape) < 0.2] = np.nan
    X[np.isnan(X).all(axis=1), 0] = 1.0
    X[:400, 2] = np.where(np.isnan(X[:400, 2]), 0.5, X[:400, 2])  # some clusters' columns complete
    if memmap:
        path = tmp_path / "X.npy"
        np.save(path, X)
        X = np.load(path, mmap_mode="r")
    w = rng.random(X.shape[0]) + 0.5
    model = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X, w, max_iterations=0,
                                             max_kmeans_iterations=5, random_state=3)
    _, labels = kmeans(X, 3, w, init="kmeans++", max_iterations=5, random_state=3)
    for i, comp in enumerate(model.distributions):
        rows = labels == i
        alone = MultivariateGaussianDistribution.from_samples(np.asarray(X)[rows], w[rows])
        assert_allclose(comp.parameters[0], alone.parameters[0], rtol=1e-10, atol=1e-12)
        assert_allclose(comp.parameters[1], alone.parameters[1], rtol=1e-9, atol=1e-12)
        assert_allclose(model.weights[i], w[rows].sum() / w.sum(), rtol=1e-12)


def test_duplicates_constant_columns_and_empty_clusters():
    # pomegranate #800: near-duplicate values gave a NaN component
    x = np.full(30, 5.0)
    x[::7] += 1e-9
    model = GeneralMixtureModel.from_samples(NormalDistribution, 2, x[:, None], random_state=0)
    assert all(np.all(np.isfinite(c.parameters)) for c in model.distributions)
    X = np.column_stack([np.random.default_rng(0).normal(0, 1, 50), np.full(50, 3.0)])
    diag = GeneralMixtureModel.from_samples(NormalDistribution, 2, X, random_state=0)
    assert np.all(np.isfinite(diag.log_probability(X)))
    # fewer distinct rows than components: the empty cluster's component is the fit to all rows, weight 0
    few = GeneralMixtureModel.from_samples(NormalDistribution, 3, np.array([[1.0], [1.0], [1.0], [2.0]]),
                                           init="first-k", max_iterations=0)
    assert np.count_nonzero(few.weights == 0) == 1
    empty = few.distributions[int(np.argmax(few.weights == 0))]
    assert_allclose(empty.parameters, [1.25, np.sqrt(0.1875)], rtol=1e-12)


def test_zero_weight_rows_are_absent(rng):
    X = blobs(rng, 90)
    w = rng.uniform(0.5, 2.0, 90)
    w[::4] = 0.0
    a = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X, weights=w, init="first-k",
                                         max_kmeans_iterations=10)
    keep = w > 0
    b = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X[keep], weights=w[keep],
                                         init="first-k", max_kmeans_iterations=10)
    assert_allclose(a.weights, b.weights, rtol=1e-10)
    for ca, cb in zip(a.distributions, b.distributions):
        assert_allclose(ca.parameters[0], cb.parameters[0], rtol=1e-10)
        assert_allclose(ca.parameters[1], cb.parameters[1], rtol=1e-9)


def test_univariate_list_of_classes_fit_their_clusters(rng):
    x = np.concatenate([rng.normal(-5, 1, 80), rng.exponential(2, 120) + 0.01])
    model = GeneralMixtureModel.from_samples([NormalDistribution, ExponentialDistribution], None, x[:, None],
                                             max_iterations=0, max_kmeans_iterations=10, random_state=1)
    _, labels = kmeans(x[:, None], 2, init="kmeans++", max_iterations=10, random_state=1)
    negative = int(np.median(labels[:80]))  # the cluster of the normal values, which only the Normal can fit
    normal, expo = model.distributions
    rows, other = x[labels == negative], x[labels != negative]
    assert_allclose(normal.parameters, [rows.mean(), rows.std()], rtol=1e-12)
    assert_allclose(expo.parameters, [1 / other.mean()], rtol=1e-12)


def _standardised(loader):
    data = loader()
    return (data.data - data.data.mean(axis=0)) / data.data.std(axis=0), data.target


def test_n_init_keeps_the_run_with_the_best_log_likelihood():
    from sklearn.datasets import load_breast_cancer

    # The case: with n_init=10, keeping the best k-means objective scored 0.137 per sample, below
    # the best single seed (0.464). Each run is EM from its own k-means start, drawn one after the other
    # from the same random stream, so the runs are those of ten n_init=1 calls sharing one Generator.
    X, _ = _standardised(load_breast_cancer)
    stream = np.random.default_rng(0)
    runs = [GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 2, X, max_kmeans_iterations=1,
                                             random_state=stream) for _ in range(10)]
    per_sample = [float(np.mean(m.log_probability(X))) for m in runs]
    best = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 2, X, n_init=10, max_kmeans_iterations=1,
                                            random_state=0)
    assert_allclose(np.mean(best.log_probability(X)), max(per_sample), rtol=1e-12)
    assert np.mean(best.log_probability(X)) > 0.4  # the issue: 0.137 when the k-means objective chose


def test_n_init_with_sample_weights_compares_weighted_log_likelihoods(rng):
    X = blobs(rng, 150)
    w = rng.uniform(0.2, 3.0, len(X))
    stream = np.random.default_rng(1)
    runs = [GeneralMixtureModel.from_samples(NormalDistribution, 4, X, weights=w, random_state=stream) for _ in range(4)]
    best = GeneralMixtureModel.from_samples(NormalDistribution, 4, X, weights=w, n_init=4, random_state=1)
    assert_allclose(w @ best.log_probability(X), max(w @ m.log_probability(X) for m in runs), rtol=1e-12)


def test_default_kmeans_iterations_are_as_reliable_as_scikit_learn():
    from sklearn.datasets import load_wine
    from sklearn.metrics import adjusted_rand_score
    from sklearn.mixture import GaussianMixture

    # pomegranate 0.x's single k-means iteration left the seed-to-seed spread on standardised wine at an
    # adjusted Rand index of 0.33-0.93; scikit-learn (k-means to convergence, then EM) is the reference
    X, y = _standardised(load_wine)
    seeds = range(10)
    ours = [adjusted_rand_score(y, GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X,
                                                                    random_state=s).predict(X)) for s in seeds]
    theirs = [adjusted_rand_score(y, GaussianMixture(3, random_state=s).fit(X).predict(X)) for s in seeds]
    assert min(ours) >= min(theirs) - 0.02, (ours, theirs)


def test_initial_weights_are_the_clusters_weighted_shares(rng):
    X = blobs(rng, 300)
    w = rng.uniform(0.1, 5.0, len(X))
    model = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X, weights=w, max_iterations=0,
                                             max_kmeans_iterations=5, random_state=2)
    _, labels = kmeans(X, 3, w, max_iterations=5, random_state=2)
    assert_allclose(model.weights, np.bincount(labels, weights=w, minlength=3) / w.sum(), rtol=1e-12)
    for i, c in enumerate(model.distributions):  # each component the weighted MLE of its cluster
        rows = labels == i
        assert_allclose(c.parameters[0], np.average(X[rows], axis=0, weights=w[rows]), rtol=1e-12)
        assert_allclose(c.parameters[1], np.cov(X[rows].T, aweights=w[rows], bias=True), rtol=1e-10)


def test_a_row_outside_the_support_is_named_by_its_row_in_the_data(rng):
    x = rng.exponential(1.0, 100_000)
    x[70_001] = -1.0  # past the first chunk that initialisation reads
    with pytest.raises(ValueError, match=r"rows \[4465\].*support of ExponentialDistribution.*row 65536"):
        GeneralMixtureModel.from_samples(ExponentialDistribution, 2, x[:, None], random_state=0)


def test_hierarchical_seeding_is_deterministic_and_scale_free():
    """Ward's agglomeration in whitened coordinates: three blobs in columns whose units differ by 800 are
    found (their means, to the sampling error), the same whatever the random_state and n_init; fewer
    distinct rows than clusters still gives k centres."""
    rng = np.random.default_rng(0)
    means = np.array([[0.0, 0.0], [5.0, 4000.0], [-4.0, 9000.0]])
    X = np.vstack([rng.normal(m, [1.0, 800.0], (300, 2)) for m in means])[rng.permutation(900)]
    C1, labels1 = kmeans(X, 3, init="hierarchical", max_iterations=0, random_state=0)
    C2, labels2 = kmeans(X, 3, init="hierarchical", max_iterations=0, random_state=123, n_init=5)
    assert_array_equal(C1, C2)
    assert_array_equal(labels1, labels2)
    found = C1[np.argsort(C1[:, 1])]
    # within 5 standard errors of each blob's mean (a cluster that mixed two blobs would be far off)
    assert np.all(np.abs(found - means) <= 5 * np.array([1.0, 800.0]) / np.sqrt(300)), found
    few = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0]]), 5, axis=0)
    C, _ = kmeans(few, 3, init="hierarchical", random_state=0)
    assert C.shape == (3, 2)


@pytest.mark.parametrize("source", ["array", "memmap", "labels", "missing"])
def test_threaded_passes_give_the_one_thread_start_exactly(rng, tmp_path, monkeypatch, source):
    """``n_jobs`` threads share each k-means pass's chunks (merged in row order): the start is the same
    to the last bit, whatever the source, with labels and with missing values."""
    import genmix.init
    from genmix.init import initial_mixtures

    threaded = []

    def spy(calls, merge, n_jobs):
        threaded.append(n_jobs)
        return genmix.parallel.fold_in_threads(calls, merge, n_jobs)

    monkeypatch.setattr(genmix.init, "fold_in_threads", spy)

    X = np.concatenate([rng.normal(c, 1.0, (60_000, 3)) for c in (-4.0, 0.0, 4.0)])[rng.permutation(180_000)]
    labels = None
    if source == "memmap":
        data = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float64, shape=X.shape)
        data[:] = X
        X = data
    elif source == "labels":
        labels = np.full(X.shape[0], -1)
        labels[:500] = rng.integers(0, 3, 500)
    elif source == "missing":
        X[rng.random(X.shape) < 0.1] = np.nan
    starts = [next(initial_mixtures(GeneralMixtureModel, MultivariateGaussianDistribution, 3, X, None, n_init=1,
                                    init="kmeans++", max_kmeans_iterations=5, random_state=3, labels=labels,
                                    n_jobs=n_jobs)) for n_jobs in (1, 2)]
    assert threaded and set(threaded) == {2}  # the two-thread run's passes went through the threads
    assert_array_equal(starts[0].weights, starts[1].weights)
    for a, b in zip(starts[0].distributions, starts[1].distributions):
        for pa, pb in zip(a.parameters, b.parameters):
            assert_array_equal(np.asarray(pa), np.asarray(pb))


def test_fold_in_threads_merges_in_order_and_bounds_what_is_pending():
    """Calls that finish out of order are merged in their order (a non-commutative merge shows it); the
    iterator is consumed lazily, at most 2·n_jobs calls ahead of the merge; an error surfaces."""
    import threading
    import time

    from genmix.parallel import fold_in_threads

    state = {"made": 0, "merged": 0, "ahead": 0}
    lock = threading.Lock()

    def calls():
        for i in range(20):
            with lock:
                state["made"] += 1
                state["ahead"] = max(state["ahead"], state["made"] - state["merged"])

            def call(i=i):
                time.sleep(0.004 * ((i * 7) % 5))  # out of order
                return [i]
            yield call

    def merge(a, b):
        with lock:
            state["merged"] += 1
        return a + b

    assert fold_in_threads(calls(), merge, 2) == list(range(20))
    assert state["ahead"] <= 2 * 2 + 1
    assert fold_in_threads(iter(()), merge, 2) is None
    assert fold_in_threads((lambda: [i] for i in range(5)), lambda a, b: a + b, 1) == list(range(5))

    def bad():
        raise ValueError("chunk 3 is bad")

    with pytest.raises(ValueError, match="chunk 3 is bad"):
        fold_in_threads(iter([lambda: [0], bad, lambda: [2]]), lambda a, b: a + b, 2)
