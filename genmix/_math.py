"""Numerical kernels shared by the families and the mixture."""
import contextlib

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


class ImpossibleRowsError(ValueError):
    """Rows that no component can produce; ``rows`` holds their indices within the array the kernel saw.

    Numerical code numbers rows from 0; a caller that evaluated a block starting at row ``s`` renumbers
    them with :func:`rows_from` (``shifted``), and the mixture adds which column and value are to blame
    before the error reaches the user as a plain ``ValueError``.
    """

    def __init__(self, rows):
        self.rows = np.asarray(rows)
        more = " and more" if self.rows.size > 10 else ""
        super().__init__(f"X rows {self.rows[:10].tolist()}{more} have probability 0 under every component "
                         "(outside every component's support), so their posterior is undefined.")

    def shifted(self, offset):
        """The same error with every row index increased by ``offset``."""
        return ImpossibleRowsError(self.rows + offset)


@contextlib.contextmanager
def rows_from(offset):
    """Renumber an :class:`ImpossibleRowsError` raised inside from ``offset`` (the block's first row)."""
    try:
        yield
    except ImpossibleRowsError as exc:
        if not offset:
            raise
        raise exc.shifted(offset) from None


def raise_impossible(lse, mask=None):
    """``ImpossibleRowsError`` (a ``ValueError``) naming the rows whose log-sum-exp is ``-inf`` (where
    ``mask``)."""
    bad = np.isneginf(lse) if mask is None else np.isneginf(lse) & mask
    if bad.any():
        raise ImpossibleRowsError(np.nonzero(bad)[0])


#: Per working dtype, the floor of the log-sum-exp: a term whose score is more than ``-floor`` below its
#: row's best gets responsibility 0 (exp(-700) ≈ 1e-304; float32: exp(-70) ≈ 4e-31, below the sums'
#: rounding). This keeps subnormal numbers out of the E-step: numpy's SIMD ``exp`` takes a slow path for
#: results that underflow (float32 3-4x, float64 7x slower per block, measured on a Sapphire Rapids
#: Xeon), and a GEMM over subnormal responsibilities runs ~10x slower on CPUs that handle them in
#: microcode (a whole float32 iteration 2.9x slower); a weight ratio down to 2^-26 times the smallest
#: term kept is still a normal number. Scores of -inf (dead components) give exactly 0, as before.
UNDERFLOW = {np.dtype(np.float64): -700.0, np.dtype(np.float32): -70.0}


def responsibilities_in_place(L, w=None):
    """Turn weighted log scores ``L`` (k, n) into responsibilities times ``w``, in place; return the
    weighted log-likelihood ``Σ_i w_i log Σ_k exp L_ki``.

    The (components, rows) layout makes the reductions run along contiguous rows, and each entry is
    exponentiated once: ``R = exp(L − max) / Σ exp(L − max)``. ``w=None`` means unit weights. A row
    with positive weight that no component can produce raises :class:`ImpossibleRowsError` (rows numbered
    from 0); rows of weight 0 get responsibilities 0 and do not count. Terms far below their row's
    best (:data:`UNDERFLOW`) become 0, so no subnormal number enters the sums.
    """
    mx = L.max(axis=0)
    finite = np.isfinite(mx)  # all -inf (impossible) rows stay finite here
    if not finite.all():
        mx = np.where(finite, mx, 0.0)
    L -= mx
    floor = UNDERFLOW.get(L.dtype, -np.inf)
    with np.errstate(under="ignore", invalid="ignore"):
        if L.min(initial=0.0) < floor:  # terms far below their row's best (or -inf): exactly 0, computed
            low = L < floor  # from the floor, as the exp of the floor itself is fast
            np.maximum(L, floor, out=L)
            np.exp(L, out=L)
            np.copyto(L, 0.0, where=low)
        else:
            np.exp(L, out=L)
    s = L.sum(axis=0)
    with np.errstate(divide="ignore"):
        lse = np.log(s) + mx
    if w is None:
        raise_impossible(lse)
        L *= 1.0 / s
        return float(lse.sum(dtype=np.float64))  # (a float32 block's log-likelihood summed in float64)
    active = w > 0
    raise_impossible(lse, active)
    L *= np.where(active, w / np.where(active, s, 1.0), 0.0)
    return float(w[active] @ lse[active])


def cholesky_lower(cov):
    """Lower Cholesky factor of a symmetric matrix, or ``None`` if it is not numerically positive definite."""
    try:  # numpy's LAPACK: the same thread pool as the E-step's GEMMs
        L = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(L)) or np.any(np.diag(L) <= 0):
        return None
    return L


def precision_cholesky(L):
    """``P = L^{-T}`` for a lower Cholesky factor ``L`` of a covariance, so that ``P P^T = Σ^{-1}``."""
    inverse, info = linalg.lapack.dtrtri(L, lower=1)  # LAPACK's triangular inverse: microseconds for d=32,
    if info != 0:  # where solve_triangular took milliseconds per call inside threadpool limits
        raise np.linalg.LinAlgError(f"singular Cholesky factor (dtrtri info={info})")
    return np.tril(inverse).T


def lower_inverse(L):
    """The inverses of a stack of lower-triangular matrices ``L`` (..., d, d), by forward substitution
    vectorised over the stack: d steps of one batched product each, where ``np.linalg.solve`` on small
    matrices spends its time per matrix (measured 3x slower on 4,500 10 x 10 factors)."""
    d = L.shape[-1]
    out = np.zeros(L.shape)
    for i in range(d):
        row = -(L[..., i:i + 1, :i] @ out[..., :i, :])[..., 0, :] if i else np.zeros(L.shape[:-2] + (d,))
        row[..., i] += 1.0
        out[..., i, :] = row / L[..., i, i:i + 1]
    return out


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


def gamma_shape_mle(s, max_iter=100, rtol=1e-14):
    """Solve ``log k − ψ(k) = s`` for the gamma shape ``k`` (``s = log mean − mean log > 0``), elementwise.

    Newton's method from Minka's (2002) closed-form start, which is within a few percent of the root, so a
    handful of iterations reach machine precision.
    """
    from scipy.special import digamma, polygamma

    s = np.asarray(s, dtype=np.float64)
    k = (3.0 - s + np.sqrt((s - 3.0) ** 2 + 24.0 * s)) / (12.0 * s)
    for _ in range(max_iter):
        f = np.log(k) - digamma(k) - s
        step = f / (1.0 / k - polygamma(1, k))
        k_new = np.where(k - step > 0, k - step, 0.5 * k)
        done = np.all(np.abs(k_new - k) <= rtol * k_new)
        k = k_new
        if done:
            break
    return k


def beta_mle(mean_log_x, mean_log_1mx, a, b, max_iter=200, rtol=1e-14):
    """Solve ``ψ(a) − ψ(a+b) = E[log x]``, ``ψ(b) − ψ(a+b) = E[log(1−x)]`` by Newton's method from (a, b).

    Steps that would leave the positive quadrant are halved.
    """
    from scipy.special import digamma, polygamma

    for _ in range(max_iter):
        t = polygamma(1, a + b)
        g1 = digamma(a) - digamma(a + b) - mean_log_x
        g2 = digamma(b) - digamma(a + b) - mean_log_1mx
        h11, h22, h12 = polygamma(1, a) - t, polygamma(1, b) - t, -t
        det = h11 * h22 - h12 * h12
        da = (h22 * g1 - h12 * g2) / det
        db = (h11 * g2 - h12 * g1) / det
        scale = 1.0
        while a - scale * da <= 0 or b - scale * db <= 0:
            scale *= 0.5
        a_new, b_new = a - scale * da, b - scale * db
        done = abs(a_new - a) <= rtol * a_new and abs(b_new - b) <= rtol * b_new
        a, b = a_new, b_new
        if done:
            break
    return a, b


def inverse_digamma(y, iterations=6):
    """The ``x > 0`` with ``ψ(x) = y``, elementwise (Minka's start, then Newton's method)."""
    from scipy.special import digamma, polygamma

    y = np.asarray(y, dtype=np.float64)
    x = np.where(y >= -2.22, np.exp(y) + 0.5, -1.0 / (y + 0.5772156649015329))
    for _ in range(iterations):
        x = x - (digamma(x) - y) / polygamma(1, x)
    return x


def dirichlet_mle(mean_log, alpha, max_iter=100000, rtol=1e-13):
    """Minka's fixed point ``α_j ← ψ⁻¹(ψ(Σα) + E[log x_j])`` from ``alpha``; converges to the MLE."""
    from scipy.special import digamma

    for _ in range(max_iter):
        new = inverse_digamma(digamma(alpha.sum()) + mean_log)
        if np.all(np.abs(new - alpha) <= rtol * new):
            return new
        alpha = new
    return alpha
