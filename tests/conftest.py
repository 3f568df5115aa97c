import contextlib
import os

import numpy as np
import pytest

from genmix._registry import MIXTURES, REGISTRY


@pytest.fixture
def seed():
    """The seed of a test's random data; override with GENMIX_TEST_SEED to try others."""
    return int(os.environ.get("GENMIX_TEST_SEED", "0"))


@pytest.fixture
def rng(seed):
    return np.random.default_rng(seed)


@contextlib.contextmanager
def registry_restored():
    """Undo, on exit, every class registered (or replaced) inside the block; the dicts stay the same objects."""
    saved = [(registry, dict(registry)) for registry in (REGISTRY, MIXTURES)]
    try:
        yield
    finally:
        for registry, content in saved:
            registry.clear()
            registry.update(content)


@pytest.fixture
def restore_registry():
    """For a test that registers a family (an example's, a user's): the registry is as before afterwards."""
    with registry_restored():
        yield


try:
    from hypothesis import settings

    # Deterministic by default, so that a run of the suite is reproducible; HYPOTHESIS_PROFILE=explore
    # searches new random examples (run it by hand when changing the numerics).
    settings.register_profile("genmix", derandomize=True, database=None, deadline=None)
    settings.register_profile("explore", max_examples=2000, database=None, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "genmix"))
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass


@pytest.fixture(scope="session")
def faithful_selection():
    """``(X, genmix.select(X, range(1, 10), random_state=0))`` on Old Faithful, computed once per
    session (the call takes about half a minute): tests/test_select.py checks it, and the README's
    "Choosing a model" snippet, which makes exactly this call, is given it."""
    from genmix import select
    from genmix.datasets import load_old_faithful

    X, _ = load_old_faithful()
    return X, select(X, range(1, 10), random_state=0)


@pytest.fixture(params=[pytest.param("blas", id="kernels-blas"), pytest.param("registers", id="kernels-registers"),
                        pytest.param(None, id="numpy")])
def both_paths(request, monkeypatch):
    """Run a test on the compiled kernels (:mod:`genmix._kernels`, where numba is installed; at any size,
    with each of its two ways of computing the products, whatever ``MIN_WORK``, ``MIN_EXPS`` and
    ``BLAS_BELOW`` would pick) and on the numpy path:
    ``pytestmark = pytest.mark.usefixtures("both_paths")`` in a module runs all of it on each."""
    from genmix import _kernels

    if request.param and not _kernels.available():
        pytest.skip("numba is not installed: only the numpy path runs here")
    monkeypatch.setattr(_kernels, "BLAS_BELOW", 10 ** 6 if request.param == "blas" else 0)
    monkeypatch.setattr(_kernels, "MIN_WORK", 0)  # the kernel on these small cases too
    monkeypatch.setattr(_kernels, "MIN_EXPS", 0)  # and the compiled log-sum-exp of the other terms
    with _kernels.use(request.param is not None):
        yield request.param
