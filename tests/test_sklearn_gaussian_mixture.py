"""genmix.sklearn.GaussianMixture against scikit-learn's own GaussianMixture, from the same start."""
import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

sklearn = pytest.importorskip("sklearn")
from sklearn import mixture  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402

from genmix.sklearn import GaussianMixture  # noqa: E402

TYPES = ["full", "tied", "diag", "spherical"]
INITS = ["kmeans", "k-means++", "random", "random_from_data"]
FITTED = ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]


def blobs(seed=0, n=600, d=3):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0] * d, [4.0] + [1.0] * (d - 1), [-3.0, 5.0] + [0.5] * (d - 2)])
    scales = [1.0, 0.6, 1.4]
    parts = [rng.normal(c, s, (n // 3, d)) for c, s in zip(centres, scales)]
    A = rng.normal(size=(d, d)) * 0.3 + np.eye(d)
    return np.vstack(parts) @ A


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


def assert_same_fit(ours, theirs, X, rtol=1e-8):
    for name in FITTED:
        assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=rtol, atol=1e-12, err_msg=name)
    assert ours.converged_ == theirs.converged_
    assert ours.n_iter_ == theirs.n_iter_
    assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=rtol)
    assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=rtol)
    assert ours.n_features_in_ == theirs.n_features_in_
    assert_array_equal(ours.predict(X), theirs.predict(X))
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-7, atol=1e-10)
    assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=rtol)
    assert_allclose(ours.score(X), theirs.score(X), rtol=rtol)
    assert_allclose(ours.bic(X), theirs.bic(X), rtol=rtol)
    assert_allclose(ours.aic(X), theirs.aic(X), rtol=rtol)
    assert ours._n_parameters() == theirs._n_parameters()


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("init_params", INITS)
def test_same_fit_as_scikit_learn_from_the_same_seed(covariance_type, init_params):
    X = blobs()
    options = dict(n_components=3, covariance_type=covariance_type, init_params=init_params, random_state=1,
                   max_iter=200)
    ours = quiet(GaussianMixture(**options).fit, X)
    theirs = quiet(mixture.GaussianMixture(**options).fit, X)
    assert_same_fit(ours, theirs, X)
    Xs, ys = ours.sample(50)
    Xt, yt = theirs.sample(50)
    assert_array_equal(ys, yt)
    assert_allclose(Xs, Xt, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_given_start_n_init_tol_and_reg_covar(covariance_type):
    X = blobs(seed=3, d=4)
    rng = np.random.default_rng(5)
    k, d = 3, X.shape[1]
    precisions = {"full": np.array([np.eye(d) * s for s in (1.0, 2.0, 0.5)]), "tied": np.eye(d) * 0.7,
                  "diag": rng.uniform(0.5, 2.0, (k, d)), "spherical": np.array([1.0, 2.0, 0.5])}[covariance_type]
    options = dict(n_components=k, covariance_type=covariance_type, weights_init=[0.2, 0.5, 0.3],
                   means_init=X[[0, 250, 500]], precisions_init=precisions, reg_covar=1e-3, tol=1e-6,
                   max_iter=500)
    assert_same_fit(quiet(GaussianMixture(**options).fit, X), quiet(mixture.GaussianMixture(**options).fit, X), X)
    # only some initial parameters given: the rest come from the initial responsibilities
    partial = dict(n_components=k, covariance_type=covariance_type, means_init=X[[0, 250, 500]], random_state=0)
    assert_same_fit(quiet(GaussianMixture(**partial).fit, X), quiet(mixture.GaussianMixture(**partial).fit, X), X)
    restarts = dict(n_components=k, covariance_type=covariance_type, n_init=4, init_params="random",
                    random_state=2, max_iter=30)
    assert_same_fit(quiet(GaussianMixture(**restarts).fit, X), quiet(mixture.GaussianMixture(**restarts).fit, X), X)


def test_warm_start_max_iter_zero_and_fit_predict():
    X = blobs(seed=4)
    for options in (dict(max_iter=0), dict(max_iter=3, warm_start=True), dict(max_iter=1)):
        ours = GaussianMixture(n_components=3, random_state=0, **options)
        theirs = mixture.GaussianMixture(n_components=3, random_state=0, **options)
        for _ in range(3 if options.get("warm_start") else 1):
            labels_ours = quiet(ours.fit_predict, X)
            labels_theirs = quiet(theirs.fit_predict, X)
        assert_array_equal(labels_ours, labels_theirs)
        for name in FITTED[:2]:
            assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-8, err_msg=f"{options} {name}")
        assert ours.n_iter_ == theirs.n_iter_ and ours.converged_ == theirs.converged_
        assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=1e-8)


def test_warnings_and_errors_are_scikit_learns():
    X = blobs()
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        GaussianMixture(n_components=3, max_iter=1, random_state=0).fit(X)
    with pytest.raises(NotFittedError):
        GaussianMixture().predict(X)
    for bad in (dict(n_components=0), dict(covariance_type="bogus"), dict(tol=-1.0), dict(init_params="x"),
                dict(max_iter=1.5), dict(reg_covar=-1.0), dict(n_jobs="all")):
        with pytest.raises(InvalidParameterError, match=next(iter(bad))):
            GaussianMixture(**bad).fit(X)
    # the messages of scikit-learn's own checks, compared with scikit-learn's on the same input
    cases = [dict(weights_init=[0.5, 0.6, -0.1]), dict(weights_init=[0.2, 0.2, 0.2]),
             dict(weights_init=[0.5, 0.5]), dict(means_init=np.zeros((2, 3))),
             dict(precisions_init=-np.ones(3), covariance_type="spherical"),
             dict(precisions_init=np.ones((3, 3)) * -1, covariance_type="diag"),
             dict(precisions_init=np.array([np.eye(3)] * 2 + [-np.eye(3)]), covariance_type="full"),
             dict(precisions_init=np.eye(2), covariance_type="tied")]
    for case in cases:
        with pytest.raises(ValueError) as theirs:
            mixture.GaussianMixture(n_components=3, **case).fit(X)
        with pytest.raises(ValueError) as ours:
            GaussianMixture(n_components=3, **case).fit(X)
        assert str(ours.value) == str(theirs.value), case
    with pytest.raises(ValueError, match="Expected n_samples >= n_components"):
        GaussianMixture(n_components=5).fit(X[:4])
    collapsed = np.vstack([np.zeros((5, 2)), np.ones((5, 2))])
    with pytest.raises(ValueError, match="ill-defined empirical covariance"):
        GaussianMixture(n_components=2, reg_covar=0.0, random_state=0).fit(collapsed)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_degenerate_components_fail_and_succeed_as_in_scikit_learn(covariance_type):
    """scikit-learn's M-step divides by nk + 10 eps: an empty component becomes N(0, reg_covar) and one
    collapsed onto a point away from the origin keeps a variance of order eps instead of 0. The same fits
    fail (a collapse at the origin, reg_covar=0) and succeed as in scikit-learn, with the same parameters."""
    two_points = np.vstack([np.ones((5, 5)), np.zeros((5, 5))])
    for cls in (GaussianMixture, mixture.GaussianMixture):
        gm = cls(n_components=10, reg_covar=0.0, covariance_type=covariance_type, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # scikit-learn's KMeans: 2 distinct points
            with pytest.raises(ValueError, match="ill-defined empirical covariance"):
                gm.fit(two_points)
    options = dict(n_components=10, reg_covar=1e-6, covariance_type=covariance_type, random_state=0, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, theirs = GaussianMixture(**options).fit(two_points), mixture.GaussianMixture(**options).fit(two_points)
    # the empty components sit at the origin with covariance reg_covar, as in scikit-learn
    assert_allclose(ours.means_, theirs.means_, atol=1e-12)
    assert_allclose(ours.covariances_, theirs.covariances_, rtol=1e-8, atol=1e-15)
    assert_allclose(ours.weights_, theirs.weights_, rtol=1e-8, atol=1e-15)


def test_a_component_collapsed_onto_one_point_fits_as_in_scikit_learn():
    """scikit-learn's own non-regression test for its issue 18216 (a diverging spherical start with
    reg_covar=0): fit must not raise and must set every fitted attribute."""
    X = np.random.RandomState(0).uniform(size=(30, 3))
    means = np.array([[0.670637869618158, 0.21038256107384043, 0.12892629765485303],
                      [0.09394051075844147, 0.5759464955561779, 0.929296197576212],
                      [0.5033230372781258, 0.9569852381759425, 0.08654043447295741],
                      [0.18578301420435747, 0.5531158970919143, 0.19388943970532435],
                      [0.4548589928173794, 0.35182513658825276, 0.568146063202464],
                      [0.609279894978321, 0.7929063819678847, 0.9620097270828052]])
    precisions = np.array([999999.999604483, 999999.9990869573, 553.7603944542167, 204.78596008931834,
                           15.867423501783637, 85.4595728389735])
    weights = np.array([1, 1, 2, 2, 21, 3]) / 30.0
    options = dict(covariance_type="spherical", reg_covar=0, means_init=means, weights_init=weights,
                   precisions_init=precisions, n_components=6, max_iter=1, random_state=0)
    ours = quiet(GaussianMixture(**options).fit, X)
    theirs = quiet(mixture.GaussianMixture(**options).fit, X)
    assert not ours.converged_
    for name in ("weights_", "means_"):
        assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-8)
    # two components hold one row each: a variance of the order of eps, rounding-dominated on both sides
    assert np.all((ours.covariances_[:2] > 0) & (ours.covariances_[:2] < 1e-14))
    assert_allclose(ours.covariances_[2:], theirs.covariances_[2:], rtol=1e-8)
    assert ours.n_iter_ == theirs.n_iter_ == 1
    assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=1e-8)


def test_a_failed_fit_leaves_a_fitted_estimator_as_it_was():
    X = blobs()
    gm = GaussianMixture(n_components=3, random_state=0).fit(X)
    before = {k: np.copy(getattr(gm, k)) for k in FITTED}
    with pytest.raises(ValueError):
        gm.fit(np.vstack([X[:, :2]] * 2), sample_weight=-np.ones(2 * len(X)))
    with pytest.raises(ValueError):
        gm.set_params(reg_covar=0.0).fit(np.repeat(np.eye(3) * 5.0, 2, axis=0))
    for k, v in before.items():
        assert_array_equal(getattr(gm, k), v)
    assert gm.n_features_in_ == 3


def test_sample_weight_equals_repeated_rows():
    X = blobs(seed=6)
    counts = np.random.default_rng(0).integers(0, 4, len(X))
    start = dict(n_components=3, weights_init=[0.3, 0.3, 0.4], means_init=X[[0, 250, 500]],
                 precisions_init=np.array([np.eye(3)] * 3), tol=1e-8, max_iter=500)
    ours = quiet(GaussianMixture(**start).fit, X, sample_weight=counts)
    theirs = quiet(mixture.GaussianMixture(**start).fit, np.repeat(X, counts, axis=0))
    for name in FITTED:
        assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-8, err_msg=name)
    assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=1e-8)
    assert_allclose(ours.score(X, sample_weight=counts), theirs.score(np.repeat(X, counts, axis=0)), rtol=1e-10)


def test_missing_values_score_the_observed_coordinates():
    X = blobs(seed=7)
    Xm = X.copy()
    Xm[np.random.default_rng(1).random(X.shape) < 0.1] = np.nan
    Xm[0] = np.nan
    gm = GaussianMixture(n_components=3, random_state=0).fit(Xm)
    assert np.isfinite(gm.lower_bound_)
    expected = np.empty(len(Xm))
    for i, row in enumerate(Xm):  # scipy's marginal density of the observed coordinates
        o = ~np.isnan(row)
        if not o.any():
            expected[i] = 0.0
            continue
        dens = sum(w * stats.multivariate_normal(m[o], c[np.ix_(o, o)]).pdf(row[o])
                   for w, m, c in zip(gm.weights_, gm.means_, gm.covariances_))
        expected[i] = np.log(dens)
    assert_allclose(gm.score_samples(Xm), expected, rtol=1e-10)
    with pytest.raises(ValueError):
        GaussianMixture().fit(np.where(np.isnan(Xm), np.inf, Xm))


def test_works_where_scikit_learn_estimators_live():
    X = blobs(seed=8)
    gm = GaussianMixture(n_components=2, random_state=0)
    assert clone(gm).get_params() == gm.get_params()
    assert gm.set_params(n_components=3).n_components == 3
    ours = make_pipeline(StandardScaler(), GaussianMixture(n_components=3, random_state=0)).fit(X)
    theirs = make_pipeline(StandardScaler(), mixture.GaussianMixture(n_components=3, random_state=0)).fit(X)
    assert_allclose(ours.score(X), theirs.score(X), rtol=1e-8)
    grid = {"n_components": [1, 2, 3, 4], "covariance_type": ["full", "diag"]}
    search_ours = GridSearchCV(GaussianMixture(random_state=0), grid, cv=3).fit(X)
    search_theirs = GridSearchCV(mixture.GaussianMixture(random_state=0), grid, cv=3).fit(X)
    assert search_ours.best_params_ == search_theirs.best_params_
    assert_allclose(search_ours.cv_results_["mean_test_score"], search_theirs.cv_results_["mean_test_score"],
                    rtol=1e-8)
    assert_allclose(cross_val_score(GaussianMixture(3, random_state=0), X, cv=3),
                    cross_val_score(mixture.GaussianMixture(3, random_state=0), X, cv=3), rtol=1e-8)
    fitted = GaussianMixture(n_components=3, random_state=0).fit(X)
    again = pickle.loads(pickle.dumps(fitted))
    assert_allclose(again.score_samples(X), fitted.score_samples(X), rtol=0)


def test_a_scikit_learn_script_runs_unchanged_after_the_import_swap():
    script = """
import numpy as np
from sklearn.mixture import GaussianMixture
rng = np.random.RandomState(0)
X = np.vstack([rng.randn(200, 2), rng.randn(200, 2) * 0.5 + [3, 3]])
bics = []
for k in range(1, 5):
    for ct in ("full", "tied", "diag", "spherical"):
        gm = GaussianMixture(n_components=k, covariance_type=ct, random_state=0).fit(X)
        bics.append(gm.bic(X))
best = GaussianMixture(n_components=2, random_state=0).fit(X)
result = (np.array(bics), best.predict(X), best.predict_proba(X[:5]), best.score(X), best.sample(3)[0])
"""
    ns_theirs, ns_ours = {}, {}
    exec(compile(script, "script", "exec"), ns_theirs)
    exec(compile(script.replace("from sklearn.mixture import", "from genmix.sklearn import"), "script", "exec"),
         ns_ours)
    for a, b in zip(ns_ours["result"], ns_theirs["result"]):
        assert_allclose(a, b, rtol=1e-8, atol=1e-10)
