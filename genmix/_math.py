"""Numerical kernels shared by the families and the mixture."""
import numpy as np
from scipy import linalg

LOG_2PI = float(np.log(2.0 * np.pi))


def logsumexp_rows(a):
    """Row-wise log-sum-exp of an ``(n, k)`` array that returns ``-inf`` (not NaN) for all ``-inf`` rows."""
    a = np.asarray(a)
    m = np.max(a, axis=1)
    m_safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(under="ignore", divide="ignore"):
        s = np.sum(np.exp(a - m_safe[:, None]), axis=1)
        out = np.log(s) + m_safe
    return np.where(np.isposinf(m), np.inf, out)


def cholesky_lower(cov):
    """Lower Cholesky factor of a symmetric matrix, or ``None`` if it is not numerically positive definite."""
    try:
        L = linalg.cholesky(cov, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(L)) or np.any(np.diag(L) <= 0):
        return None
    return L


def precision_cholesky(L):
    """``P = L^{-T}`` for a lower Cholesky factor ``L`` of a covariance, so that ``P P^T = Σ^{-1}``."""
    d = L.shape[0]
    return linalg.solve_triangular(L, np.eye(d), lower=True, check_finite=False).T


def floor_eigenvalues(cov, floor):
    """Symmetrise ``cov`` and raise its eigenvalues to at least ``floor`` (the nearest such matrix)."""
    cov = 0.5 * (cov + cov.T)
    vals, vecs = np.linalg.eigh(cov)
    vals = np.maximum(vals, floor)
    return (vecs * vals) @ vecs.T


def spread_floor(mean, min_std):
    """The smallest standard deviation an M-step may return for a location ``mean``.

    ``max(min_std, 4·eps·|mean|, 1e-150)``: below ``4·eps·|mean|`` a spread is rounding noise, and the
    absolute 1e-150 keeps ``log σ`` and ``1/σ²`` finite for data that are exactly constant. Use
    ``min_std`` for a floor with statistical meaning.
    """
    return np.maximum(np.maximum(min_std, 4.0 * np.finfo(np.float64).eps * np.abs(mean)), 1e-150)
