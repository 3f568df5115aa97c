r"""Compiled E-step kernels (optional: ``pip install genmix[fast]``, which brings numba).

The fused E-step (:mod:`genmix._fused`) computes, per block of rows, the features ``Φ``, the scores
``W Φ``, the responsibilities and the sums ``R Φᵀ`` with numpy and BLAS. Where numba is installed, a row
term that declares its features' *layout* (:attr:`genmix._fused.RowTerm.layout`) gets the same four steps
compiled into one pass over each thread's rows instead, for two reasons measured on the full-covariance
Gaussian (``benchmarks/RESULTS.md``): BLAS spends much of a ``(k, F) × (F, B)`` product with ``k`` of a
few components packing its operands, where a kernel that keeps a few components and rows in registers
does not (a whole d = 32 iteration at 32-51% of the dgemm peak on one thread, the numpy path at
17-22%); and numpy's float64 ``exp`` is the C library's scalar one on CPUs without AVX-512 (~10 ns per
value), where the kernel's is a polynomial that the compiler vectorises (~1 ns).

The kernels compute exactly the fused formula (the same features about the same shift, the same
coefficients, the precision guards decided before them by the term, the same floor under negligible terms,
:data:`genmix._math.UNDERFLOW`). Below :data:`BLAS_BELOW` features the two products are BLAS calls on
transposed feature blocks (the features written along the rows, so every loop vectorises); from there
up, register-blocked loops. float32 rows (``fit(dtype=np.float32)``) are read as they are, never
copied, and computed in float32 at every number of features: features, both products (sgemm, transposed:
twice the rate of the other orientation with few components), exponentials (a float32 polynomial, 8
values per AVX2 register) and responsibilities, with the log-likelihood and all sums over blocks in
float64. ``GENMIX_KERNELS=0`` in the environment, or :func:`use` (``use(False)``), turns them off: the
numpy path is the reference and the fallback, and the test-suite runs the fused E-step's tests on both.

Rows with missing values (:class:`genmix._fused._PatternRowEStep`) have two kernels of the same layout:
:func:`quadratic_patterns_estep` for the rows of the fused missingness patterns (sorted by pattern, one
BLAS product per pattern segment for the scores and one for the sums) and :func:`quadratic_marginals`
for each pattern's coefficients (the Gaussian's marginal over the observed coordinates, from the
``m × m`` block of each precision); both in float64, both decided once per E-step with the same rule.
Every other fused term's log-sum-exp (the numpy path's :func:`genmix._math.responsibilities_in_place`)
runs through :func:`responsibilities` for E-steps of at least :data:`MIN_EXPS` rows × components.

Layouts
-------
``"quadratic"``
    ``Φ = [1, z, z_i z_j (i ≤ j, row by row)]`` of ``z = x − shift``: ``1 + d + d(d+1)/2`` features.
"""
import contextlib
import importlib
import importlib.util
import os
import warnings

import numpy as np

from ._math import UNDERFLOW, ImpossibleRowsError

__all__ = ["available", "use", "enabled", "quadratic_estep", "quadratic_patterns_estep", "transposed_patterns",
           "quadratic_marginals", "responsibilities", "LAYOUTS"]

#: The feature layouts with a compiled kernel.
LAYOUTS = ("quadratic",)
#: The kernel runs for E-steps of at least this much work, rows × features × components (d = 10,
#: k = 10: from 25,000 rows): below, numpy is nearly as fast and a fresh process would pay 0.4-0.6 s to
#: load numba and the cached kernel for a few milliseconds (d = 2, n = 100,000, k = 3: 4.4 ms per
#: iteration compiled, a first fit of 446 ms in a new process; ``benchmarks/RESULTS.md``).
MIN_WORK = 2 ** 24
#: Below this many features the kernel's two products are BLAS calls on transposed feature blocks;
#: from it up (d ≥ 28), loops that keep 2 rows × 4 components (scores) and 4 rows × 2 components (sums)
#: in registers, which beat BLAS there with few components (d = 32, k = 8: 835 against 1035 ms per 1M
#: rows; d = 24: 644 against 593).
BLAS_BELOW = 400
#: The numpy path's log-sum-exp runs compiled (:func:`responsibilities`) for E-steps of at least this many
#: rows × components: numpy's float64 ``exp`` is the C library's scalar one on CPUs without AVX-512
#: (~10 ns per value, against ~1.6 for the kernels' polynomial), which made it most of an iteration of
#: the column families there (univariate n = 1M, k = 5 on a Zen 3: 66 ms per iteration).
MIN_EXPS = 2 ** 20
# the dtypes the kernel reads rows in as they are, never copied
_READ = (np.dtype(np.float64), np.dtype(np.float32))

_STATE = {"on": os.environ.get("GENMIX_KERNELS", "1").strip().lower() not in ("0", "false", "no", "off"),
          # numba is an optional extra, imported on the kernels' first use ("module")
          "numba": importlib.util.find_spec("numba") is not None, "module": None}


def available():
    """Whether the compiled kernels can run here (numba installed and, once tried, importable)."""
    return _STATE["numba"]


def enabled():
    """Whether the fused E-step uses the compiled kernels (numba installed and not turned off)."""
    return _STATE["numba"] and _STATE["on"]


def _module():
    """:mod:`genmix._numba_kernels`, imported on first use; None (with one warning) where numba is
    installed but fails to import, after which :func:`available` is False."""
    if _STATE["module"] is None and _STATE["numba"]:
        try:
            _numba_kernels = importlib.import_module("genmix._numba_kernels")
        except ImportError as error:  # e.g. a numba built for another numpy
            _STATE["numba"] = False
            warnings.warn(f"genmix's compiled kernels are off (numba failed to import: {error}); the numpy "
                          f"path runs instead", RuntimeWarning, stacklevel=3)
            return None
        _STATE["module"] = _numba_kernels
    return _STATE["module"]


@contextlib.contextmanager
def use(on=True):
    """Turn the compiled kernels on or off inside a ``with`` block (``on=False``: the numpy path)."""
    if not isinstance(on, (bool, np.bool_)):
        raise TypeError(f"on must be a bool, got {type(on).__name__}")
    before = _STATE["on"]
    _STATE["on"] = bool(on)
    try:
        yield
    finally:
        _STATE["on"] = before


def block_rows(n_features, itemsize=8):
    """Rows per block of a compiled kernel: a power of 2 near 128 KiB of features of ``itemsize`` bytes (in
    the level-2 cache with the scores), between 16 and 512."""
    rows = 2 ** round(np.log2(max(128 * 1024 / (n_features * itemsize), 1.0)))
    return int(np.clip(rows, 16, 512))


def quadratic_estep(X, shift, W, dead, w, priors, S):
    """The compiled E-step of the ``"quadratic"`` layout over the rows ``X`` (one thread's chunk):
    ``(log-likelihood, first impossible row or -1)``, adding the feature sums into ``S`` (k, F) float64.

    ``X`` float64 or float32, read as it is. A float32 ``W`` (a float32 E-step) gets float32 features,
    products (sgemm, at every ``F``), exponentials and responsibilities, with the log-likelihood and the
    sums over blocks in float64; float64 ``W`` everything in float64, with BLAS products below
    :data:`BLAS_BELOW` features. ``W`` (k, F) holds the log weights in column 0, ``dead`` (k) bool, ``w``
    (n) the rows' weights or None for unit weights, ``priors`` (n, k) log priors or None. None where
    numba fails to import (see :func:`_module`).
    """
    kernels = _module()
    if kernels is None:
        return None
    n, d = X.shape
    k, F = W.shape
    # float32 E-steps: sgemm runs at twice dgemm's rate, and beats the float64 register loops even at
    # d = 32 (k = 8, 200k rows: 116 against 152 ms; benchmarks/RESULTS.md)
    work = np.dtype(np.float32) if W.dtype == np.float32 else np.dtype(np.float64)
    blas = F < BLAS_BELOW or work == np.float32
    block = block_rows(F, work.itemsize)
    w, unit, priors = _row_inputs(w, priors, k)
    logp, bad = kernels.quadratic_estep(
        X if X.dtype in _READ and X.flags.c_contiguous else np.ascontiguousarray(X, dtype=np.float64),
        np.ascontiguousarray(shift, dtype=np.float64),
        np.ascontiguousarray(W, dtype=work), np.ascontiguousarray(dead, dtype=np.bool_), w, unit, priors,
        block, UNDERFLOW[work], blas, S, np.empty((F, block) if blas else (block, F), dtype=work), np.empty(d))
    return float(logp), int(bad)


def quadratic_marginals(masks, precisions, a, log_norm, W, T, K):
    """The Gaussian's per-pattern marginal coefficients of the ``"quadratic"`` layout, compiled (see
    :func:`genmix._numba_kernels.quadratic_marginals`), written into ``W`` (G, k, F), ``T`` (G, k, d, d + 1)
    and ``K`` (G, k, d, d): True where done; False where a block of a precision is not positive definite
    or numba fails to import (the caller's numpy code then runs, and raises as it would)."""
    kernels = _module()
    if kernels is None:
        return False
    return bool(kernels.quadratic_marginals(
        np.ascontiguousarray(masks, dtype=np.bool_), np.ascontiguousarray(precisions, dtype=np.float64),
        np.ascontiguousarray(a, dtype=np.float64), np.ascontiguousarray(log_norm, dtype=np.float64), W, T, K))


def _row_inputs(w, priors, k):
    """``(w, unit, priors)`` as the kernels read them: float64 weights (a dummy where None: unit weights)
    and float64 log priors (an empty (0, k) array where None)."""
    unit = w is None
    w = np.ones(1) if unit else np.ascontiguousarray(w, dtype=np.float64)
    priors = np.zeros((0, k)) if priors is None else np.ascontiguousarray(priors, dtype=np.float64)
    return w, unit, priors


def quadratic_patterns_estep(X, order, lo, hi, starts, WT, shift, dead, w, priors, S):
    """The compiled E-step of the ``"quadratic"`` layout over rows with missing values, the sorted
    positions ``lo:hi`` (one thread's chunk of the fused patterns, :class:`genmix._fused._PatternRowEStep`):
    ``(log-likelihood, first impossible row of X or -1)``, adding each pattern's sums into ``S`` (G, k, F)
    float64.

    ``X`` (n, d) float64 C-contiguous with NaN where missing, ``order`` (intp) the rows sorted by pattern,
    ``starts`` (G + 1, intp) the patterns' first positions, ``WT`` (G, F, k) float64 C-contiguous their
    coefficients transposed (log weights in feature 0; :func:`transposed_patterns`, once per E-step for
    all the threads), ``dead`` (k) bool, ``w`` (n) the rows' weights or None for unit weights, ``priors``
    (n, k) log priors or None. float64 throughout. None where numba fails to import.
    """
    kernels = _module()
    if kernels is None:
        return None
    F, k = WT.shape[1:]
    block = block_rows(F)
    w, unit, priors = _row_inputs(w, priors, k)
    logp, bad = kernels.quadratic_patterns_estep(
        X, order, int(lo), int(hi), starts, WT, np.ascontiguousarray(shift, dtype=np.float64),
        np.ascontiguousarray(dead, dtype=np.bool_), w, unit, priors, block, UNDERFLOW[np.dtype(np.float64)], S,
        np.empty((block, F)), np.empty(X.shape[1]))
    return float(logp), int(bad)


def transposed_patterns(W):
    """The patterns' coefficients ``W`` (G, k, F) as :func:`quadratic_patterns_estep` reads them: (G, F, k)
    float64, C-contiguous."""
    return np.ascontiguousarray(np.swapaxes(W, 1, 2), dtype=np.float64)


def responsibilities(L, w=None):
    """:func:`genmix._math.responsibilities_in_place` compiled: the block of scores ``L`` (k, B), float64
    or float32, into responsibilities times ``w`` in place; the weighted log-likelihood, or None where
    numba fails to import (``L`` untouched). Raises :class:`genmix._math.ImpossibleRowsError` as the
    numpy function does (rows numbered from 0 in the block)."""
    kernels = _module()
    if kernels is None:
        return None
    contiguous = L if L.flags.c_contiguous and L.dtype in _READ else np.ascontiguousarray(
        L, dtype=L.dtype if L.dtype in _READ else np.float64)
    unit = w is None
    impossible = np.empty(L.shape[1], dtype=np.bool_)
    logp, count = kernels.responsibilities(contiguous, np.ones(1) if unit else np.ascontiguousarray(w, dtype=np.float64),
                                           unit, UNDERFLOW[contiguous.dtype], impossible)
    if contiguous is not L:
        L[...] = contiguous
    if count:
        raise ImpossibleRowsError(np.nonzero(impossible)[0])
    return float(logp)
