"""The compiled kernels (genmix/_kernels.py, genmix/_numba_kernels.py; the optional numba extra).

The fused E-step's own tests (tests/test_fused_estep.py, test_float32.py, test_fused_missing.py) run on
both paths against scipy; here: that each kernel really runs where it should and nowhere else (the
complete rows, float32, the missing-value patterns' rows and coefficients, the other terms' log-sum-exp),
its exponentials against exact values, the switch (``use``, ``GENMIX_KERNELS``), and the fallbacks
(numba absent, numba failing to import, a row no component can produce).
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats as st
from scipy.special import logsumexp

from genmix import GeneralMixtureModel, MultivariateGaussianDistribution, _kernels
from genmix._fused import FusedEStep
from genmix._math import UNDERFLOW, ImpossibleRowsError

needs_numba = pytest.mark.skipif(not _kernels.available(), reason="numba is not installed")


def model_and_rows(rng, d=4, k=5, n=3001, dead=()):
    comps = []
    for _ in range(k):
        A = rng.normal(size=(d, d)) * 0.5
        comps.append(MultivariateGaussianDistribution(rng.normal(0, 3, d), A @ A.T + 0.3 * np.eye(d)))
    weights = rng.dirichlet(np.full(k, 3.0))
    weights[list(dead)] = 0.0
    model = GeneralMixtureModel(comps, weights=weights / weights.sum())
    X = np.asarray(model.sample(n, random_state=int(rng.integers(2 ** 31))))
    return model, X


def reference(model, X, w, log_priors=None):
    """``(logp, R (n, k))`` by scipy log densities and logsumexp (weights times responsibilities)."""
    with np.errstate(divide="ignore"):
        L = np.column_stack([st.multivariate_normal(*c.parameters).logpdf(X) for c in model.distributions])
        L = L + np.log(model.weights)
    if log_priors is not None:
        L = L + log_priors
    lse = logsumexp(L, axis=1)
    return float(w @ lse), np.exp(L - lse[:, None]) * w[:, None]


DEFAULT_MIN_WORK = _kernels.MIN_WORK


@pytest.fixture(autouse=True)
def every_size(monkeypatch):
    """The kernel on these small cases (it runs from ``MIN_WORK`` up by default)."""
    monkeypatch.setattr(_kernels, "MIN_WORK", 0)


@pytest.fixture
def calls(monkeypatch):
    """The number of calls of the compiled E-step (a list of their row counts)."""
    seen = []
    original = _kernels.quadratic_estep

    def spy(X, *args):
        seen.append(X.shape[0])
        return original(X, *args)

    monkeypatch.setattr(_kernels, "quadratic_estep", spy)
    return seen


@needs_numba
@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("products", ["blas", "registers"])
def test_the_kernel_runs_the_full_covariance_step_and_matches_scipy(rng, calls, n_jobs, products, monkeypatch):
    monkeypatch.setattr("genmix.parallel.MIN_ROWS_PER_THREAD", 1000)  # two threads on these rows
    monkeypatch.setattr(_kernels, "BLAS_BELOW", 10 ** 6 if products == "blas" else 0)
    model, X = model_and_rows(rng, dead=[2])
    w = rng.uniform(0, 2, X.shape[0])
    w[::7] = 0.0
    priors = np.where(rng.random((X.shape[0], 5)) < 0.1, -np.inf, 0.0)  # labels: some components ruled out
    priors[:, 0] = 0.0  # every row keeps a possible component
    fused = FusedEStep.build(model.distributions, model.log_weights, X)
    with _kernels.use(True):
        logp, resp, stats = fused.run(X, w, priors, n_jobs)
    assert sum(calls) == X.shape[0] and len(calls) == n_jobs
    ref_logp, R = reference(model, X, w, priors)
    assert_allclose(logp, ref_logp, rtol=1e-12)
    assert_allclose(resp, R.sum(axis=0), rtol=1e-11, atol=1e-12 * w.sum())
    assert resp[2] == 0.0  # a component of weight 0 gets nothing
    for j, s in enumerate(stats):
        r = R[:, j]
        if r.sum() == 0:
            continue
        mean = r @ X / r.sum()
        assert_allclose(np.ravel(s.mean[0]), mean, rtol=1e-10, atol=1e-12)
        scatter = (r[:, None] * (X - mean)).T @ (X - mean)
        assert_allclose(np.reshape(s.m2[0], scatter.shape), scatter, rtol=1e-9, atol=1e-9 * np.abs(scatter).max())


@needs_numba
def test_the_kernel_does_not_run_where_it_does_not_apply(rng, calls):
    model, X = model_and_rows(rng)
    fused = FusedEStep.build(model.distributions, model.log_weights, X)
    w = np.ones(X.shape[0])
    with _kernels.use(False):
        fused.run(X, w)
    fused.run(np.asfortranarray(X), w)  # not C-contiguous: the numpy path reads it as it is
    assert calls == []
    fused.run(X, w)
    assert calls == [X.shape[0]]


@needs_numba
@pytest.mark.parametrize("products", ["blas", "registers"])
def test_float32_rows_are_read_as_they_are_and_computed_in_float32(rng, calls, monkeypatch, products):
    """float32 rows are not copied; a float32 E-step computes in float32 with BLAS products whatever
    ``BLAS_BELOW`` says (sgemm beats the float64 register loops at every size), the statistics summed in
    float64."""
    monkeypatch.setattr(_kernels, "BLAS_BELOW", 10 ** 6 if products == "blas" else 0)
    compiled = _kernels._module()
    seen = []
    original_kernel = compiled.quadratic_estep

    def kernel(X, shift, W, dead, w, unit, priors, block, floor, blas, S, P, z):
        seen.append((X.dtype, W.dtype, P.dtype, blas, floor, S.dtype))
        return original_kernel(X, shift, W, dead, w, unit, priors, block, floor, blas, S, P, z)

    monkeypatch.setattr(compiled, "quadratic_estep", kernel)
    model, X = model_and_rows(rng, n=2000)
    X32 = X.astype(np.float32)
    copies = []
    original = np.ascontiguousarray
    monkeypatch.setattr(np, "ascontiguousarray", lambda a, *args, **kw: copies.append(a) or original(a, *args, **kw))
    fused = FusedEStep.build(model.distributions, model.log_weights, X32)
    logp, resp, _ = fused.run(X32, np.ones(2000))
    assert calls == [2000] and not any(a is X32 or getattr(a, "base", None) is X32 for a in copies)
    f32 = np.dtype(np.float32)
    assert seen == [(f32, f32, f32, True, UNDERFLOW[f32], np.dtype(np.float64))]
    ref_logp, R = reference(model, X32.astype(np.float64), np.ones(2000))
    # float32 coefficients, features, products and exponentials: float32's rounding
    assert_allclose(logp, ref_logp, rtol=1e-6)
    assert_allclose(resp, R.sum(axis=0), rtol=1e-5)


@needs_numba
def test_the_kernel_runs_from_min_work_up(rng, calls, monkeypatch):
    monkeypatch.setattr(_kernels, "MIN_WORK", DEFAULT_MIN_WORK)
    model, X = model_and_rows(rng, d=4, k=5, n=2 ** 24 // (15 * 5) + 1)  # 15 features, 5 components
    fused = FusedEStep.build(model.distributions, model.log_weights, X)
    fused.run(X[:-2], np.ones(X.shape[0] - 2))  # just below
    assert calls == []
    fused.run(X, np.ones(X.shape[0]))
    assert calls == [X.shape[0]]


@needs_numba
def test_an_impossible_row_is_named_as_on_the_numpy_path(rng, calls):
    model, X = model_and_rows(rng, k=3, n=500)
    priors = np.zeros((500, 3))
    priors[[17, 41]] = -np.inf  # labelled rows that no component may produce
    fused = FusedEStep.build(model.distributions, model.log_weights, X)
    with pytest.raises(ImpossibleRowsError) as kernel_error:
        fused.run(X, np.ones(500), priors)
    assert calls  # the kernel met the row first, then the numpy path named every one
    with _kernels.use(False), pytest.raises(ImpossibleRowsError) as numpy_error:
        fused.run(X, np.ones(500), priors)
    assert str(kernel_error.value) == str(numpy_error.value)
    assert "[17, 41]" in str(kernel_error.value)


@needs_numba
def test_the_exponential_is_within_one_ulp_of_numpys():
    from genmix._numba_kernels import _exp_into

    rng = np.random.default_rng(1)
    special = [0.0, -0.0, -1e-300, -1e-17, -0.5 * np.log(2), -np.log(2), -708.3964, -708.4, -709.0, -744.4,
               -745.1, -745.2, -746.0, -800.0, -1e300, -np.inf]
    x = np.concatenate([special, rng.uniform(-750, 0, 200_000), -rng.exponential(1e-3, 50_000)])
    out, t1, t2 = np.empty_like(x), np.empty_like(x), np.empty_like(x)
    _exp_into(x, out, t1, t2, x.size)
    with np.errstate(under="ignore"):
        expected = np.exp(x)
    assert np.all(np.abs(out - expected) <= np.spacing(expected)), x[np.abs(out - expected) > np.spacing(expected)]
    assert out[len(special) - 1] == 0.0 and out[0] == 1.0


@needs_numba
def test_the_float32_exponential_is_within_one_ulp():
    """Against exp in float64 rounded to float32's spacing, from 0 down to -87 (the kernel zeroes terms
    below ``UNDERFLOW[float32]`` = -70 before they matter)."""
    from genmix._numba_kernels import _exp32_into

    rng = np.random.default_rng(2)
    special = [0.0, -0.0, -1e-30, -1e-7, -0.5 * np.log(2), -np.log(2), -0.34657359, -1.0, -69.9, -70.0, -86.9, -87.0]
    x = np.concatenate([special, rng.uniform(-87, 0, 200_000), rng.uniform(-1, 0, 100_000),
                        -rng.exponential(1e-3, 50_000)]).astype(np.float32)
    out, t1 = np.empty_like(x), np.empty_like(x)
    _exp32_into(x, out, t1, x.size)
    exact = np.exp(x.astype(np.float64))
    spacing = np.spacing(exact.astype(np.float32)).astype(np.float64)
    assert out.dtype == np.float32
    assert np.all(np.abs(out - exact) <= spacing), x[np.abs(out - exact) > spacing]
    assert out[0] == 1.0


def test_use_takes_a_bool_and_restores_the_state():
    before = _kernels.enabled()
    with pytest.raises(TypeError, match="on must be a bool"):
        with _kernels.use("no"):
            pass
    with _kernels.use(False):
        assert not _kernels.enabled()
    assert _kernels.enabled() == before


def test_the_environment_variable_turns_the_kernels_off():
    code = "from genmix import _kernels; print(_kernels.enabled())"
    env = dict(os.environ, GENMIX_KERNELS="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_without_numba_the_numpy_path_runs(rng, monkeypatch):
    model, X = model_and_rows(rng, n=800)
    monkeypatch.setitem(_kernels._STATE, "numba", False)
    assert not _kernels.available() and not _kernels.enabled()
    fused = FusedEStep.build(model.distributions, model.log_weights, X)
    logp, resp, _ = fused.run(X, np.ones(800))
    ref_logp, R = reference(model, X, np.ones(800))
    assert_allclose(logp, ref_logp, rtol=1e-12)
    assert_allclose(resp, R.sum(axis=0), rtol=1e-11)


def test_a_numba_that_fails_to_import_warns_once_and_falls_back(rng, monkeypatch):
    model, X = model_and_rows(rng, n=800)
    monkeypatch.setitem(_kernels._STATE, "numba", True)
    monkeypatch.setitem(_kernels._STATE, "module", None)
    monkeypatch.setitem(sys.modules, "genmix._numba_kernels", None)  # its import raises ImportError
    fused = FusedEStep.build(model.distributions, model.log_weights, X)
    with pytest.warns(RuntimeWarning, match="compiled kernels are off"):
        logp, _, _ = fused.run(X, np.ones(800))
    assert not _kernels.available()
    fused.run(X, np.ones(800))  # no second warning (warnings are errors here)
    assert_allclose(logp, reference(model, X, np.ones(800))[0], rtol=1e-12)


@needs_numba
@pytest.mark.parametrize("d, k, fraction", [(1, 2, 0.3), (3, 2, 0.4), (6, 3, 0.5), (10, 5, 0.2)])
def test_the_compiled_marginals_are_the_numpy_ones(rng, d, k, fraction):
    """Per pattern (the complete and the all-missing one included) and component, the same coefficients,
    conditional maps and covariances as the family's numpy code (itself checked against scipy in
    tests/test_fused_missing.py), to rounding."""
    comps = []
    for _ in range(k):
        A = rng.normal(size=(d, d)) * 0.4
        comps.append(MultivariateGaussianDistribution(rng.normal(0, 3, d), A @ A.T + np.eye(d)))
    model = GeneralMixtureModel(comps)
    X = np.asarray(model.sample(4000, random_state=int(rng.integers(2 ** 31)))).reshape(4000, d)
    X[rng.random(X.shape) < fraction] = np.nan
    fused = FusedEStep.build(model.distributions, model.log_weights, X)
    term = fused.term
    masks = np.vstack([fused.masks[:fused.n_patterns], np.zeros(d, bool), np.ones(d, bool)])
    shift, spread = term.set_shift(np.zeros((1, d)))
    W, (T, K) = term.marginals(masks, shift, spread, 10.0, compiled=True), term._conditional
    W0, (T0, K0) = term.marginals(masks, shift, spread, 10.0), term._conditional
    assert_allclose(W, W0, rtol=1e-12, atol=1e-12 * np.abs(W0).max())
    assert_allclose(T, T0, rtol=1e-12, atol=1e-13)
    assert_allclose(K, K0, rtol=1e-12, atol=1e-14)


@needs_numba
def test_the_compiled_marginals_leave_a_block_that_is_not_positive_definite_to_numpy():
    masks = np.array([[True, True]])
    lam = np.array([[[1.0, 2.0], [2.0, 1.0]]])  # indefinite
    W, T, K = np.empty((1, 1, 6)), np.empty((1, 1, 2, 3)), np.empty((1, 1, 2, 2))
    # False: the family's numpy code runs instead (and raises numpy's LinAlgError, as without numba)
    assert _kernels.quadratic_marginals(masks, lam, np.zeros((1, 2)), np.zeros(1), W, T, K) is False


@needs_numba
def test_the_pattern_kernel_runs_the_fused_rows_with_missing_values(rng, monkeypatch):
    """Rows with missing values: the fused patterns' rows through the compiled kernel (in two threads,
    with weights, labels and a component of weight 0), the rarer patterns through the family's kernels,
    against the covariance-form reference of tests/test_fused_missing.py."""
    from tests.test_fused_missing import check, incomplete, reference

    monkeypatch.setattr("genmix.parallel.MIN_ROWS_PER_THREAD", 1000)
    seen = []
    original = _kernels.quadratic_patterns_estep

    def spy(X, order, lo, hi, *args):
        seen.append(hi - lo)
        return original(X, order, lo, hi, *args)

    monkeypatch.setattr(_kernels, "quadratic_patterns_estep", spy)
    model, _ = model_and_rows(rng, d=4, k=3, dead=[1])
    X = incomplete(model, 6000, rng)
    w = rng.uniform(0, 2, X.shape[0])
    w[::5] = 0.0
    priors = np.where(rng.random((X.shape[0], 3)) < 0.1, -np.inf, 0.0)
    priors[:, 0] = 0.0  # every row stays possible
    fused = FusedEStep.build(model.distributions, model.log_weights, X)
    assert fused.compiled and 0 < fused.tail < X.shape[0]
    ref = reference(model, X, w, priors)
    for n_jobs in (1, 2):
        seen.clear()
        logp, resp, stats = fused.run(X, w, priors, n_jobs)
        assert sum(seen) == fused.tail and len(seen) == n_jobs
        assert_allclose(logp, ref[0], rtol=1e-11)
        check(stats, resp, ref)


@needs_numba
def test_an_impossible_row_with_missing_values_is_named_by_the_numpy_path(rng, monkeypatch):
    from tests.test_fused_missing import incomplete

    seen = []
    original = _kernels.quadratic_patterns_estep
    monkeypatch.setattr(_kernels, "quadratic_patterns_estep", lambda *a: seen.append(1) or original(*a))
    model, _ = model_and_rows(rng, d=4, k=3)
    X = incomplete(model, 3000, rng)
    priors = np.zeros((X.shape[0], 3))
    priors[[11, 40]] = -np.inf
    fused = FusedEStep.build(model.distributions, model.log_weights, X)
    with pytest.raises(ImpossibleRowsError, match=r"\[11, 40\]"):
        fused.run(X, np.ones(X.shape[0]), priors)
    assert seen  # the kernel met one first


def test_the_kernels_off_leave_the_missing_values_path_to_numpy(rng, monkeypatch):
    from tests.test_fused_missing import incomplete

    model, _ = model_and_rows(rng, d=4, k=3)
    X = incomplete(model, 3000, rng)
    with _kernels.use(False):
        fused = FusedEStep.build(model.distributions, model.log_weights, X)
    assert not fused.compiled
    monkeypatch.setattr(_kernels, "quadratic_patterns_estep", lambda *a: pytest.fail("the kernel ran"))
    monkeypatch.setattr(_kernels, "quadratic_marginals", lambda *a: pytest.fail("the kernel ran"))
    fused.run(X, np.ones(X.shape[0]))


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_compiled_log_sum_exp_is_numpys(rng, dtype):
    """:func:`genmix._kernels.responsibilities` against scipy's logsumexp: weights (some 0), a component
    of weight 0 (-inf scores), terms far below their row's best, a block that is not contiguous."""
    k, n = 6, 3000
    L = rng.normal(0, 30, (k, n))
    L[2] = -np.inf
    L[0, ::9] -= 900.0  # below UNDERFLOW: exactly 0
    w = rng.uniform(0, 2, n)
    w[::11] = 0.0
    lse = logsumexp(L, axis=0)
    expected_R = np.exp(L - lse) * w
    expected = float(w @ lse)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for weights, R_ref, total in [(w, expected_R, expected), (None, np.exp(L - lse), float(lse.sum()))]:
        block = L.astype(dtype)
        logp = _kernels.responsibilities(block, weights)
        assert block.dtype == dtype
        assert_allclose(logp, total, rtol=tol)
        assert_allclose(block, R_ref, rtol=tol, atol=tol * 1e-3)
        assert np.all(block[2] == 0.0) and np.all(block[0, ::9] == 0.0)
    wide = np.zeros((k, 2 * n), dtype=dtype)
    wide[:, :n] = L
    view = wide[:, :n]  # a block of a longer buffer: not contiguous
    assert_allclose(_kernels.responsibilities(view, w), expected, rtol=tol)
    assert_allclose(view, expected_R, rtol=tol, atol=tol * 1e-3)


@needs_numba
def test_the_compiled_log_sum_exp_names_every_impossible_row(rng):
    L = rng.normal(size=(3, 50))
    L[:, [4, 30]] = -np.inf
    w = np.ones(50)
    with pytest.raises(ImpossibleRowsError, match=r"\[4, 30\]"):
        _kernels.responsibilities(L.copy(), w)
    w[30] = 0.0  # a row of weight 0 does not count
    with pytest.raises(ImpossibleRowsError, match=r"\[4\]"):
        _kernels.responsibilities(L.copy(), w)


@needs_numba
def test_the_compiled_log_sum_exp_runs_from_min_exps_up(rng, monkeypatch):
    seen = []
    original = _kernels.responsibilities
    monkeypatch.setattr(_kernels, "responsibilities", lambda L, w=None: seen.append(L.shape[1]) or original(L, w))
    model = GeneralMixtureModel([MultivariateGaussianDistribution(rng.normal(size=3), np.ones(3) + j,
                                                                  covariance_type="diag") for j in range(4)])
    X = np.asarray(model.sample(2000, random_state=1))
    fused = FusedEStep.build(model.distributions, model.log_weights, X)
    monkeypatch.setattr(_kernels, "MIN_EXPS", 2000 * 4 + 1)
    fused.run(X, np.ones(2000))
    assert seen == []
    monkeypatch.setattr(_kernels, "MIN_EXPS", 2000 * 4)
    logp, resp, _ = fused.run(X, np.ones(2000))
    assert sum(seen) == 2000
    ref_L = np.column_stack([st.norm(c.parameters[0], np.sqrt(c.parameters[1])).logpdf(X).sum(axis=1)
                             for c in model.distributions]) + model.log_weights
    assert_allclose(logp, logsumexp(ref_L, axis=1).sum(), rtol=1e-12)
